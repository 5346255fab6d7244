/**
 * One call at a time across attempts: opens a call with fresh auth headers, notices its loss, asks the worker
 * whether the server ended it (then the session closes with that reason) and otherwise reconnects on the
 * backoff schedule; rotates before OpenAI's 60-minute limit. Each attempt has its own `AbortController`, so a
 * superseded or closed attempt cancels its requests and timers.
 */
import { type Call, type CallHandlers, openCall } from "./call.ts";
import type { ResolvedOptions } from "./options.ts";
import { asVoiceError, RealtimeVoiceError } from "./realtime-voice-error.ts";
import { backoffSchedule, serverEndReason } from "./reconnect-policy.ts";
import { callSummary } from "./signaling.ts";
import type { CloseReason } from "./types.ts";

/** The connection, as a discriminated union on `status` that carries its live objects. */
export type ConnectionState =
  | { status: "connecting"; attempt: number }
  | {
      status: "connected";
      attempt: number;
      pc: RTCPeerConnection;
      channel: RTCDataChannel;
      callId: string | null;
    }
  | { status: "reconnecting"; attempt: number; reason: string; retryInMs: number }
  | { status: "closed"; reason: CloseReason }
  | { status: "failed"; error: RealtimeVoiceError };

const SUMMARY_TIMEOUT_MS = 3000;
const ROTATE_FLUSH_MS = 2000;

/** What the session does for the connection. */
export interface ConnectionHooks extends Omit<CallHandlers, "onLost"> {
  state(state: ConnectionState): void;
  /** Something went wrong that the connection recovers from. */
  error(error: RealtimeVoiceError): void;
  /** The connection gave up, or the server ended the call (`reason`): end the session. */
  end(final: { error: RealtimeVoiceError } | { reason: CloseReason }): void;
  /** A call opened: send through its channel. */
  attach(call: Call, reconnected: boolean): void;
  /** The current call is going away: keep what its channel did not send. */
  detach(): void;
  /** Rotation: let the old channel empty first (bounded). */
  flush(waitMs: number): Promise<void>;
  /** The outgoing track in track mode. */
  track(): MediaStreamTrack | null;
}

export class Connection {
  reconnects = 0;
  call: Call | null = null;
  attempt = 0;
  #o: ResolvedOptions;
  #hooks: ConnectionHooks;
  #abort = new AbortController();
  #headers: Record<string, string> = {};
  #timers = new Set<ReturnType<typeof setTimeout>>();

  constructor(options: ResolvedOptions, hooks: ConnectionHooks) {
    this.#o = options;
    this.#hooks = hooks;
  }

  /** A new attempt: aborts the previous one and returns the new one's signal. */
  next(): AbortSignal {
    this.#abort.abort(new RealtimeVoiceError("connection_failed", "superseded or closed"));
    this.#abort = new AbortController();
    this.attempt++;
    return this.#abort.signal;
  }

  /** Opens a call for the attempt of `signal`, with the headers of this attempt (`getToken` is called each time). */
  async open(signal: AbortSignal): Promise<Call> {
    const { getToken, callHeaders } = this.#o;
    let headers: Record<string, string>;
    try {
      headers = { ...this.#o.headers, ...(await callHeaders?.()) };
      if (getToken) headers.authorization = `Bearer ${await getToken()}`;
    } catch (error) {
      const message = `no token for the call: ${String(error)}`;
      throw new RealtimeVoiceError("authentication_required", message, { cause: error });
    }
    signal.throwIfAborted();
    this.#headers = headers;
    return openCall({ ...this.#o, headers }, this.#hooks.track(), signal, {
      ...this.#hooks,
      onLost: (reason) => void this.#lost(signal, reason),
    });
  }

  /** `call` is open: it becomes the current one, and its rotation is scheduled. */
  connected(call: Call): void {
    const reconnected = this.call !== null;
    this.call = call;
    const attempt = this.attempt;
    this.#hooks.state({
      status: "connected",
      attempt,
      pc: call.pc,
      channel: call.channel,
      callId: call.callId,
    });
    this.#hooks.attach(call, reconnected);
    const { attempts, rotateAfterMs } = this.#o.reconnect;
    // OpenAI ends a session after 60 minutes with no resume: start the next call before that.
    if (attempts > 0 && rotateAfterMs > 0) this.#later(rotateAfterMs, () => void this.#rotate(attempt));
  }

  /** Cancels the attempt in flight and every timer, and closes the current call. */
  close(): void {
    this.#abort.abort(
      new RealtimeVoiceError("connection_failed", "close() was called before the call opened"),
    );
    for (const timer of this.#timers) clearTimeout(timer);
    this.call?.close();
  }

  async #lost(signal: AbortSignal, reason: string): Promise<void> {
    const call = this.call;
    if (signal.aborted || !call) return;
    this.#hooks.detach();
    call.close();
    const timeout = AbortSignal.any([signal, AbortSignal.timeout(SUMMARY_TIMEOUT_MS)]);
    const summary = call.callId ? await callSummary(this.#o.url, call.callId, this.#headers, timeout) : null;
    if (signal.aborted) return;
    const ended = serverEndReason(summary);
    const error = new RealtimeVoiceError("channel_closed", reason);
    if (ended) this.#hooks.end({ reason: ended });
    else if (this.#o.reconnect.attempts === 0) this.#hooks.end({ error });
    else {
      this.#hooks.error(error);
      this.#reconnect(0, reason);
    }
  }

  /** Opens a new call after the schedule's wait; capture and queueing go on meanwhile. */
  #reconnect(tries: number, reason: string): void {
    const retryInMs = backoffSchedule(this.#o.reconnect)[tries];
    if (retryInMs === undefined) {
      const message = `gave up reconnecting after ${tries} attempts: ${reason}`;
      this.#hooks.end({ error: new RealtimeVoiceError("connection_failed", message) });
      return;
    }
    const signal = this.next();
    const attempt = this.attempt;
    this.#hooks.state({ status: "reconnecting", attempt, reason, retryInMs });
    this.#later(retryInMs, async () => {
      if (signal.aborted) return;
      this.#hooks.state({ status: "connecting", attempt });
      try {
        const call = await this.open(signal);
        this.reconnects++;
        this.connected(call);
      } catch (error) {
        if (signal.aborted) return;
        this.#hooks.error(asVoiceError(error));
        this.#reconnect(tries + 1, reason);
      }
    });
  }

  async #rotate(attempt: number): Promise<void> {
    const call = this.call;
    if (attempt !== this.attempt || !call) return;
    // Frames keep queueing while the old channel empties; the new call receives them in order.
    this.#hooks.state({ status: "reconnecting", attempt, reason: "session rotation", retryInMs: 0 });
    await this.#hooks.flush(ROTATE_FLUSH_MS);
    if (attempt !== this.attempt) return;
    this.#hooks.detach();
    call.close();
    this.#reconnect(0, "session rotation");
  }

  #later(ms: number, run: () => void): void {
    const timer = setTimeout(() => {
      this.#timers.delete(timer);
      run();
    }, ms);
    this.#timers.add(timer);
  }
}

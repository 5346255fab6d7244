/**
 * `RealtimeVoiceSession`, the public facade of a voice session: it wires capture (`capture.ts`), the uplink
 * (`uplink.ts`), turns (`turns.ts`) and one call per attempt (`call.ts`), and owns the state. Each attempt has
 * an `AbortController` (a superseded or closed attempt cancels its requests); each resource is released by a
 * disposer pushed when it was acquired, run in reverse order on close.
 */
import type { FrameMessage, ProcessorMessage } from "../processor/messages.ts";
import { type Call, openCall, webRtcSupported } from "./call.ts";
import { type Capture, createAudioContext, startCapture } from "./capture.ts";
import { Emitter } from "./emitter.ts";
import {
  type ConnectOptions,
  type EntryDefaults,
  type ResolvedOptions,
  resolveOptions,
  resolveVad,
} from "./options.ts";
import { Playback } from "./playback.ts";
import { asVoiceError, RealtimeVoiceError } from "./realtime-voice-error.ts";
import { backoffSchedule, serverEndReason } from "./reconnect-policy.ts";
import { callSummary } from "./signaling.ts";
import { Turns } from "./turns.ts";
import type { CloseReason, ServerEvent, SessionEvents, SessionStats } from "./types.ts";
import { Uplink } from "./uplink.ts";

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

/** Events of a {@link RealtimeVoiceSession} and their payloads. */
export interface SessionEventMap extends SessionEvents {
  state: ConnectionState;
}

const LEVEL_INTERVAL_MS = 33;
const FLUSH_WAIT_MS = 200;
const CLOSE_LINGER_MS = 150;
const DROP_REPORT_MS = 1000;
/** No frame this long after `connected` means capture is stuck: say so rather than sit silent. */
const STALL_MS = 2000;
const SUMMARY_TIMEOUT_MS = 3000;

type Disposer = () => unknown;

/** A live voice session. Create it with `connect()`. */
export class RealtimeVoiceSession extends Emitter<SessionEventMap> {
  /** Resolves when the data channel is open; rejects with a `RealtimeVoiceError` if the first attempt fails or `close()` comes first. */
  readonly ready: Promise<void>;
  #o: ResolvedOptions;
  #state: ConnectionState = { status: "connecting", attempt: 0 };
  #attempt = 0;
  #abort = new AbortController();
  #closed = false;
  #disposers: Disposer[] = [];
  #context: AudioContext | null = null;
  #contextError: RealtimeVoiceError | null = null;
  #capture: Capture | null = null;
  #call: Call | null = null;
  #headers: Record<string, string> = {};
  #playback: Playback;
  #uplink: Uplink;
  #turns: Turns;
  #flushed: (() => void) | null = null;
  #lastLevel = 0;
  #lastDropReport = 0;
  #stats = {
    framesCaptured: 0,
    framesDropped: 0,
    speechFramesDropped: 0,
    reconnects: 0,
    clipped: 0,
    nonFinite: 0,
  };

  /** @throws RealtimeVoiceError `invalid_options` */
  constructor(options: ConnectOptions, defaults: EntryDefaults) {
    super();
    const o = resolveOptions(options, defaults);
    this.#o = o;
    this.#playback = new Playback(o.output);
    this.#defer(() => this.#playback.dispose());
    const turns = new Turns({
      clientTurns: o.turns === "client",
      threshold: o.vad.onsetThreshold,
      bargeInMs: o.bargeInMs,
      frameMs: o.frameMs,
      send: (text) => this.#uplink.event(text),
      interrupt: () => this.#interrupt(),
      unmute: () => this.#playback.mute(false),
    });
    this.#turns = turns;
    this.#uplink = new Uplink({
      gate: o.gate,
      // The ring reaches back over the prefix padding plus the speech the segmenter needs before it decides.
      holdFrames: Math.ceil((o.vad.prefixPaddingMs + o.vad.minSpeechMs) / o.frameMs) + 2,
      // Server turn detection needs `silence_duration_ms` after speech; the hangover supplies most of it.
      trailFrames:
        o.turns === "client"
          ? 0
          : Math.ceil(Math.max(0, o.silenceDurationMs + 100 - o.vad.hangoverMs) / o.frameMs),
      maxFrames: Math.max(1, Math.ceil(o.maxQueueMs / o.frameMs)),
      highWaterMark: o.highWaterMark,
      onDrop: (frame) => this.#onDrop(frame),
      onAppend: (samples) => turns.appended(samples),
    });
    this.#defer(() => this.#uplink.clear());
    // The AudioContext is created now, inside the caller's gesture; WebKit would not let it start later.
    if (webRtcSupported()) {
      try {
        const { context, release } = createAudioContext();
        this.#context = context;
        this.#defer(() => (context.state === "closed" ? undefined : context.close()));
        this.#defer(release);
      } catch (error) {
        this.#contextError = asVoiceError(error, "audio_failed");
      }
    }
    // Started on the next microtask so that listeners attached right after connect() see "connecting".
    this.ready = Promise.resolve().then(() => this.#start());
    // The promise is also observable through `state` and `error`; an unobserved rejection is not a bug here.
    this.ready.catch(() => {});
  }

  get state(): ConnectionState {
    return this.#state;
  }

  /** A snapshot of the counters. */
  get stats(): SessionStats {
    return {
      ...this.#stats,
      framesSent: this.#uplink.framesSent,
      bytesSent: this.#uplink.bytesSent,
      framesQueued: this.#uplink.queued,
      framesWithheld: this.#uplink.withheld,
      commits: this.#turns.commits,
      bargeIns: this.#turns.bargeIns,
      bufferedAmount: this.#call?.channel.bufferedAmount ?? 0,
      inputRate: this.#capture ? (this.#context?.sampleRate ?? 0) : 0,
    };
  }

  /** The capture `AudioContext` (owned by the session). */
  get audioContext(): AudioContext | null {
    return this.#context;
  }

  /** Sends a client event on `oai-events`, in order behind the queued audio (it waits while the channel is not open). */
  send(event: { type: string; [key: string]: unknown }): void {
    this.#uplink.event(JSON.stringify(event));
  }

  /** Changes the local VAD settings while running. @throws RealtimeVoiceError `invalid_options` */
  configure(vad: NonNullable<ConnectOptions["vad"]>): void {
    this.#capture?.post({ type: "configure", options: { vad: resolveVad(vad) } });
  }

  /**
   * Ends the session: sends the last partial frame and what is queued (bounded waits), then releases capture, the
   * call and the audio output; the state becomes `closed` with reason `"client"`. Every release runs even when
   * an earlier one throws; the first error is rethrown as `cleanup_failed`. A no-op once closed.
   */
  close(): Promise<void> {
    return this.#teardown({ status: "closed", reason: "client" });
  }

  async #start(): Promise<void> {
    if (this.#closed)
      throw new RealtimeVoiceError("connection_failed", "close() was called before the call opened");
    const signal = this.#next();
    this.#setState({ status: "connecting", attempt: this.#attempt });
    try {
      if (!webRtcSupported())
        throw new RealtimeVoiceError("webrtc_unsupported", "this browser has no RTCPeerConnection (WebRTC)");
      const context = this.#context;
      if (!context) throw this.#contextError;
      // Capture and signalling run in parallel; frames captured before the channel opens wait in the queue.
      // Track mode needs the rendered track for the offer, so there the call waits for capture.
      const capture = startCapture(
        {
          context,
          mediaStream: this.#o.mediaStream,
          audioConstraints: this.#o.audioConstraints,
          workletUrl: this.#o.workletUrl,
          processorOptions: { frameMs: this.#o.frameMs, vad: this.#o.vad },
          track: this.#o.audio === "track",
          onMessage: (message) => this.#onProcessorMessage(message),
        },
        signal,
      ).then((capture) => {
        this.#capture = capture;
        this.#defer(() => capture.dispose());
        return capture;
      });
      capture.catch(() => {});
      const outgoing = this.#o.audio === "track" ? ((await capture).outgoing?.track ?? null) : null;
      const call = await this.#open(signal, outgoing);
      await capture;
      this.#connected(call);
      // Capture that delivers nothing (a suspended context, a dead device) must not pass for a quiet room.
      const stall = setTimeout(() => this.#checkStall(context), STALL_MS);
      this.#defer(() => clearTimeout(stall));
    } catch (error) {
      const typed = asVoiceError(error);
      if (!signal.aborted) this.#fail(typed);
      throw typed;
    }
  }

  /** A new attempt: aborts the previous one's requests and returns the new one's signal. */
  #next(): AbortSignal {
    this.#abort.abort(new RealtimeVoiceError("connection_failed", "superseded or closed"));
    this.#abort = new AbortController();
    this.#attempt++;
    return this.#abort.signal;
  }

  async #open(signal: AbortSignal, track: MediaStreamTrack | null): Promise<Call> {
    const { getToken, callHeaders } = this.#o;
    let headers: Record<string, string>;
    try {
      headers = { ...this.#o.headers, ...(await callHeaders?.()) };
      if (getToken) headers.authorization = `Bearer ${await getToken()}`;
    } catch (error) {
      throw new RealtimeVoiceError("authentication_required", `no token for the call: ${String(error)}`, {
        cause: error,
      });
    }
    signal.throwIfAborted();
    this.#headers = headers;
    return openCall({ ...this.#o, headers }, track, signal, {
      onMessage: (data) => this.#onServerMessage(data),
      onTrack: (stream) => this.#playback.play(stream),
      onBufferedAmountLow: this.#uplink.drain,
      onLost: (reason) => void this.#onLost(signal, reason),
    });
  }

  #connected(call: Call): void {
    if (!this.#call) this.#defer(() => this.#call?.close());
    this.#call = call;
    const attempt = this.#attempt;
    this.#setState({ status: "connected", attempt, pc: call.pc, channel: call.channel, callId: call.callId });
    this.#uplink.attach(call.channel);
    const rotateAfterMs = this.#o.reconnect.attempts > 0 ? this.#o.reconnect.rotateAfterMs : 0;
    // OpenAI ends a session after 60 minutes with no resume: start the next call before that.
    if (rotateAfterMs > 0) {
      const timer = setTimeout(() => void this.#rotate(attempt), rotateAfterMs);
      this.#defer(() => clearTimeout(timer));
    }
  }

  #checkStall(context: AudioContext): void {
    if (this.#closed || this.#stats.framesCaptured > 0) return;
    const message =
      context.state === "running"
        ? "no audio from the microphone for 2 s: check that the input device works and is not muted"
        : "the AudioContext is suspended: call connect() from a click or tap; on Firefox a sound server (PulseAudio or PipeWire) is needed";
    this.emit("error", new RealtimeVoiceError("capture_stalled", message));
  }

  /** The call was lost: closed for good when the server ended it (its summary says why), else reconnect. */
  async #onLost(signal: AbortSignal, reason: string): Promise<void> {
    const call = this.#call;
    if (signal.aborted || this.#closed || !call) return;
    this.#uplink.detach();
    call.close();
    const summary = call.callId
      ? await callSummary(
          this.#o.url,
          call.callId,
          this.#headers,
          AbortSignal.any([signal, AbortSignal.timeout(SUMMARY_TIMEOUT_MS)]),
        )
      : null;
    if (signal.aborted) return;
    const ended = serverEndReason(summary);
    if (ended) return void this.#teardown({ status: "closed", reason: ended }).catch(() => {});
    const error = new RealtimeVoiceError("channel_closed", reason);
    if (this.#o.reconnect.attempts === 0) {
      this.#fail(error);
      return;
    }
    this.emit("error", error);
    this.#reconnect(0, reason);
  }

  /** Opens a new call after the schedule's wait; capture and queueing go on meanwhile. */
  #reconnect(tries: number, reason: string): void {
    const retryInMs = backoffSchedule(this.#o.reconnect)[tries];
    if (retryInMs === undefined) {
      const message = `gave up reconnecting after ${tries} attempts: ${reason}`;
      this.#fail(new RealtimeVoiceError("connection_failed", message));
      return;
    }
    const signal = this.#next();
    const attempt = this.#attempt;
    this.#setState({ status: "reconnecting", attempt, reason, retryInMs });
    const timer = setTimeout(async () => {
      if (signal.aborted) return;
      this.#setState({ status: "connecting", attempt });
      try {
        const call = await this.#open(signal, this.#capture?.outgoing?.track ?? null);
        this.#stats.reconnects++;
        this.#turns.newCall();
        this.#connected(call);
      } catch (error) {
        if (signal.aborted) return;
        this.emit("error", asVoiceError(error));
        this.#reconnect(tries + 1, reason);
      }
    }, retryInMs);
    this.#defer(() => clearTimeout(timer));
  }

  async #rotate(attempt: number): Promise<void> {
    const call = this.#call;
    if (attempt !== this.#attempt || this.#state.status !== "connected" || !call) return;
    // Frames keep queueing while the old channel empties; the new call receives them in order.
    this.#setState({ status: "reconnecting", attempt, reason: "session rotation", retryInMs: 0 });
    await this.#uplink.flush(2000);
    if (attempt !== this.#attempt) return;
    this.#uplink.detach();
    call.close();
    this.#reconnect(0, "session rotation");
  }

  #onProcessorMessage(message: ProcessorMessage): void {
    switch (message.type) {
      case "frame":
        this.#onFrame(message);
        break;
      case "speechstart":
        this.#uplink.speechStart(message.sample);
        this.emit("speechstart", { sample: message.sample });
        break;
      case "speechend": {
        this.#uplink.speechEnd();
        const samples = this.#turns.speechEnd();
        if (samples > 0) this.emit("commit", { samples });
        this.emit("speechend", { sample: message.sample });
        break;
      }
      case "stats":
        this.#stats.clipped = message.clipped;
        this.#stats.nonFinite = message.nonFinite;
        break;
      case "error":
        this.emit("error", new RealtimeVoiceError("worklet_error", `${message.code}: ${message.message}`));
        break;
      case "flushed":
        this.#flushed?.();
        break;
    }
  }

  #onFrame(frame: FrameMessage): void {
    this.#stats.framesCaptured++;
    const now = performance.now();
    if (now - this.#lastLevel >= LEVEL_INTERVAL_MS) {
      this.#lastLevel = now;
      this.emit("level", { dbfs: frame.level, probability: frame.probability, speech: frame.speech });
    }
    if (this.#turns.frame(frame.probability)) this.emit("bargein", { sample: frame.timestamp });
    const fate = this.#uplink.frame(frame, performance.timeOrigin + now);
    const { seq, timestamp, probability, speech, level } = frame;
    const bufferedAmount = this.#call?.channel.bufferedAmount ?? 0;
    this.emit("frame", {
      seq,
      timestamp,
      bytes: frame.pcm.byteLength,
      probability,
      speech,
      level,
      fate,
      bufferedAmount,
    });
  }

  #onDrop(frame: FrameMessage): void {
    this.#stats.framesDropped++;
    if (frame.speech) this.#stats.speechFramesDropped++;
    this.emit("drop", { seq: frame.seq, speech: frame.speech, total: this.#stats.framesDropped });
    const now = performance.now();
    // One error per second at most, with the running count, rather than one per frame.
    if (!frame.speech || now - this.#lastDropReport < DROP_REPORT_MS) return;
    this.#lastDropReport = now;
    const message = `the send queue is full: ${this.#stats.speechFramesDropped} speech frame(s) dropped so far (last seq ${frame.seq})`;
    this.emit("error", new RealtimeVoiceError("frames_dropped", message));
  }

  /** Barge-in: stop the model now, locally first (muting is instant), then on the server ahead of queued audio. */
  #interrupt(): void {
    this.#playback.mute(true);
    const channel = this.#state.status === "connected" ? this.#state.channel : null;
    if (channel?.readyState !== "open") return;
    channel.send('{"type":"response.cancel"}');
    channel.send('{"type":"output_audio_buffer.clear"}');
  }

  #onServerMessage(data: unknown): void {
    let event: ServerEvent;
    try {
      event = JSON.parse(String(data));
    } catch {
      return;
    }
    if (typeof event?.type !== "string") return;
    this.#turns.server(event);
    this.emit("server", event);
    if (event.type !== "error") return;
    const detail = (event.error ?? {}) as { message?: unknown; code?: unknown };
    const serverCode = typeof detail.code === "string" ? detail.code : undefined;
    this.emit(
      "error",
      new RealtimeVoiceError("server_error", String(detail.message ?? "server error"), { serverCode }),
    );
  }

  /** Registers the release of a resource just acquired; once closed, releases it at once. */
  #defer(disposer: Disposer): void {
    if (this.#closed)
      void Promise.resolve()
        .then(disposer)
        .catch(() => {});
    else this.#disposers.push(disposer);
  }

  #setState(state: ConnectionState): void {
    this.#state = state;
    this.emit("state", state);
  }

  #fail(error: RealtimeVoiceError): void {
    if (this.#closed) return;
    this.emit("error", error);
    void this.#teardown({ status: "failed", error }).catch(() => {});
  }

  async #teardown(final: ConnectionState & { status: "closed" | "failed" }): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#abort.abort(
      new RealtimeVoiceError("connection_failed", "close() was called before the call opened"),
    );
    if (final.status === "closed" && final.reason === "client") await this.#flush();
    let first: unknown;
    for (const dispose of this.#disposers.reverse()) {
      try {
        await dispose();
      } catch (error) {
        first ??= error;
      }
    }
    this.#disposers = [];
    this.#setState(final);
    if (first !== undefined)
      throw new RealtimeVoiceError("cleanup_failed", `close() failed: ${String(first)}`, { cause: first });
  }

  /** Sends the partial last frame and everything queued, lets the channel empty, then closes it (bounded waits). */
  async #flush(): Promise<void> {
    const capture = this.#capture;
    const channel = this.#state.status === "connected" ? this.#state.channel : null;
    if (!capture || !channel || channel.readyState !== "open") return;
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, FLUSH_WAIT_MS);
      this.#flushed = () => {
        clearTimeout(timer);
        resolve();
      };
      capture.post({ type: "flush" });
    });
    this.#flushed = null;
    // The flushed tail is the last frame: nothing captured after it would ever be sent.
    capture.disconnect();
    await this.#uplink.flush(FLUSH_WAIT_MS * 5);
    // `bufferedAmount` 0 means handed to SCTP, not received: a peer that ends the call as soon as the channel
    // closes can drop messages still in flight. Linger one beat, then close the channel before the connection.
    await new Promise((resolve) => setTimeout(resolve, CLOSE_LINGER_MS));
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, FLUSH_WAIT_MS * 2);
      channel.addEventListener("close", () => {
        clearTimeout(timer);
        resolve();
      });
      channel.close();
    });
  }
}

/**
 * Starts a voice session: microphone, capture worklet, WebRTC call, and frame streaming. Returns at once; watch
 * `state`/`error` events or await `session.ready`. Call it from a user gesture (a click) so the `AudioContext`
 * may start. @throws RealtimeVoiceError `invalid_options`
 */
export function connect(options: ConnectOptions = {}, defaults: EntryDefaults = {}): RealtimeVoiceSession {
  return new RealtimeVoiceSession(options, defaults);
}

/**
 * `RealtimeVoiceSession`, the public facade of a voice session: it wires capture (`capture.ts`,
 * `capture-events.ts`), the uplink (`uplink.ts`), turns (`turns.ts`) and the calls (`connection.ts`), and owns
 * the state. Each resource is released by a disposer pushed when it was acquired, run in reverse on close.
 */
import { webRtcSupported } from "./call.ts";
import { type Capture, createAudioContext, startCapture } from "./capture.ts";
import { CaptureEvents } from "./capture-events.ts";
import { Connection, type ConnectionState } from "./connection.ts";
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
import { Turns } from "./turns.ts";
import type { ServerEvent, SessionEvents, SessionStats } from "./types.ts";
import { Uplink } from "./uplink.ts";

export type { ConnectionState } from "./connection.ts";

/** Events of a {@link RealtimeVoiceSession} and their payloads. */
export interface SessionEventMap extends SessionEvents {
  state: ConnectionState;
}

const FLUSH_WAIT_MS = 200;
const CLOSE_LINGER_MS = 150;
/** No frame this long after `connected` means capture is stuck: say so rather than sit silent. */
const STALL_MS = 2000;

/** A live voice session. Create it with `connect()`. */
export class RealtimeVoiceSession extends Emitter<SessionEventMap> {
  /** Resolves when the data channel is open; rejects with a `RealtimeVoiceError` if the first attempt fails or `close()` comes first. */
  readonly ready: Promise<void>;
  #o: ResolvedOptions;
  #state: ConnectionState = { status: "connecting", attempt: 0 };
  #closed = false;
  #disposers: Array<() => unknown> = [];
  #context: AudioContext | null = null;
  #contextError: RealtimeVoiceError | null = null;
  #capture: Capture | null = null;
  #playback: Playback;
  #uplink: Uplink;
  #turns: Turns;
  #events: CaptureEvents;
  #connection: Connection;

  /** @throws RealtimeVoiceError `invalid_options` */
  constructor(options: ConnectOptions, defaults: EntryDefaults) {
    super();
    const o = resolveOptions(options, defaults);
    this.#o = o;
    const playback = new Playback(o.output);
    this.#playback = playback;
    this.#defer(() => playback.dispose());
    const turns = new Turns({
      clientTurns: o.turns === "client",
      threshold: o.vad.onsetThreshold,
      bargeInMs: o.bargeInMs,
      frameMs: o.frameMs,
      send: (text) => this.#uplink.event(text),
      interrupt: () => this.#interrupt(),
      unmute: () => playback.mute(false),
    });
    this.#turns = turns;
    const bufferedAmount = () => this.#connection.call?.channel.bufferedAmount ?? 0;
    this.#events = new CaptureEvents(
      (type, payload) => this.emit(type, payload as SessionEventMap[typeof type]),
      () => this.#uplink,
      turns,
      bufferedAmount,
    );
    const uplink = new Uplink({
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
      onDrop: (frame) => this.#events.drop(frame),
      onAppend: (samples) => turns.appended(samples),
    });
    this.#uplink = uplink;
    this.#defer(() => uplink.clear());
    this.#connection = new Connection(o, {
      state: (state) => this.#setState(state),
      error: (error) => this.emit("error", error),
      end: (final) =>
        "error" in final ? this.#fail(final.error) : this.#teardown({ status: "closed", ...final }),
      attach: (call, reconnected) => {
        if (reconnected) turns.newCall();
        uplink.attach(call.channel);
      },
      detach: () => uplink.detach(),
      flush: (ms) => uplink.flush(ms),
      track: () => this.#capture?.outgoing?.track ?? null,
      onMessage: (data) => this.#onServerMessage(data),
      onTrack: (stream) => playback.play(stream),
      onBufferedAmountLow: uplink.drain,
    });
    this.#defer(() => this.#connection.close());
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
    const { framesCaptured, framesDropped, speechFramesDropped, clipped, nonFinite } = this.#events;
    const uplink = this.#uplink;
    return {
      framesCaptured,
      framesSent: uplink.framesSent,
      bytesSent: uplink.bytesSent,
      framesQueued: uplink.queued,
      framesDropped,
      speechFramesDropped,
      framesWithheld: uplink.withheld,
      commits: this.#turns.commits,
      bargeIns: this.#turns.bargeIns,
      reconnects: this.#connection.reconnects,
      bufferedAmount: this.#connection.call?.channel.bufferedAmount ?? 0,
      inputRate: this.#capture ? (this.#context?.sampleRate ?? 0) : 0,
      clipped,
      nonFinite,
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
    const connection = this.#connection;
    const signal = connection.next();
    this.#setState({ status: "connecting", attempt: connection.attempt });
    try {
      if (!webRtcSupported())
        throw new RealtimeVoiceError("webrtc_unsupported", "this browser has no RTCPeerConnection (WebRTC)");
      const context = this.#context;
      if (!context) throw this.#contextError;
      const setup = {
        context,
        mediaStream: this.#o.mediaStream,
        audioConstraints: this.#o.audioConstraints,
        workletUrl: this.#o.workletUrl,
        processorOptions: { frameMs: this.#o.frameMs, vad: this.#o.vad },
        track: this.#o.audio === "track",
        onMessage: this.#events.message.bind(this.#events),
      };
      // Capture and signalling run in parallel; frames captured before the channel opens wait in the queue.
      // Track mode needs the rendered track for the offer, so there the call waits for capture.
      const capture = startCapture(setup, signal).then((capture) => {
        this.#capture = capture;
        this.#uplink.render = capture.outgoing?.render ?? null;
        this.#defer(() => capture.dispose());
      });
      capture.catch(() => {});
      if (setup.track) await capture;
      const call = await connection.open(signal);
      await capture;
      connection.connected(call);
      // Capture that delivers nothing (a suspended context, a dead device) must not pass for a quiet room.
      const stall = setTimeout(() => this.#checkStall(context), STALL_MS);
      this.#defer(() => clearTimeout(stall));
    } catch (error) {
      const typed = asVoiceError(error);
      if (!signal.aborted) this.#fail(typed);
      throw typed;
    }
  }

  #checkStall(context: AudioContext): void {
    if (this.#closed || this.#events.framesCaptured > 0) return;
    const message =
      context.state === "running"
        ? "no audio from the microphone for 2 s: check that the input device works and is not muted"
        : "the AudioContext is suspended: call connect() from a click or tap; on Firefox a sound server (PulseAudio or PipeWire) is needed";
    this.emit("error", new RealtimeVoiceError("capture_stalled", message));
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
  #defer(disposer: () => unknown): void {
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
    if (!capture || channel?.readyState !== "open") return;
    await this.#events.flush(capture, FLUSH_WAIT_MS);
    // The flushed tail is the last frame: nothing captured after it would ever be sent.
    capture.disconnect();
    await this.#uplink.flush(FLUSH_WAIT_MS * 5);
    await this.#uplink.close(CLOSE_LINGER_MS, FLUSH_WAIT_MS * 2);
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

/**
 * `connect()`: the browser side of a voice session. Captures the microphone through the capture AudioWorklet
 * (24 kHz mono PCM16 frames with a local VAD), opens a WebRTC call through the worker, and streams frames as
 * `input_audio_buffer.append` on the `oai-events` data channel; the model's voice plays from the call's audio
 * track. Local turn-taking (`turns: "client"`), silence gating, barge-in and reconnects build on the local VAD.
 * See OpenAI "Realtime API with WebRTC" and `RealtimeClientEventInputAudioBufferAppend`.
 */
import { BargeInDetector } from "./barge-in.ts";
import { SEGMENTER_DEFAULTS } from "./dsp/segmenter.ts";
import { FrameGate } from "./frame-gate.ts";
import type { CaptureOptions, ControlMessage, FrameMessage, ProcessorMessage } from "./messages.ts";
import { CAPTURE_PROCESSOR_NAME, OUTPUT_SAMPLE_RATE, parseCaptureOptions } from "./messages.ts";
import { RealtimeVoiceError } from "./realtime-voice-error.ts";
import { type QueueItem, SendQueue } from "./send-queue.ts";
import { exchangeSdp } from "./signaling.ts";

export { type ErrorCode, RealtimeVoiceError } from "./realtime-voice-error.ts";

/** Local VAD tuning: `SegmenterOptions` of `dsp/segmenter.ts` (thresholds, minimum speech, padding, hangover). */
export type SegmenterOptions = NonNullable<CaptureOptions["vad"]>;

/** How the SDP offer reaches the realtime API. */
export type Signaling = "proxy" | "ephemeral";

/** Options of {@link connect}. Every field is optional. */
export interface ConnectOptions {
  /** The worker's base URL (its origin, or a path prefix). Default: the origin the script was loaded from. */
  url?: string;
  /**
   * `"proxy"` (default): the offer goes to the worker's `/v1/realtime/calls`, which adds the server key; no key
   * ever reaches the browser. `"ephemeral"`: mint an `ek_…` secret at the worker's `/v1/realtime/client_secrets`,
   * then post the offer to `upstreamUrl`/realtime/calls with it.
   */
  signaling?: Signaling;
  /** Base URL of the realtime API for `"ephemeral"` signalling. Default `https://api.openai.com/v1`. */
  upstreamUrl?: string;
  /** The requested GA session (`{type: "realtime", …}`); the worker applies its policy on top. */
  session?: Record<string, unknown>;
  /**
   * `"server"` (default): the session keeps its `server_vad`/`semantic_vad`. `"client"`: the session is requested
   * with `turn_detection: null`, and at each local speech end the client sends `input_audio_buffer.commit` (when
   * ≥ 100 ms were appended since the last one) and `response.create`.
   */
  turns?: "server" | "client";
  /**
   * Send only speech: frames inside a local speech segment (hangover included) plus the prefix padding before
   * it; silence is withheld and not billed. With server turns, enough silence follows each segment for the
   * server's `silence_duration_ms` to elapse, so its turn detection never stalls. Default false.
   */
  gate?: boolean;
  /** Interrupt the model when local speech holds this long while it speaks (ms, default 200); `0` disables. */
  bargeInMs?: number;
  /** Frame length in ms, 10..40 and a whole number of 24 kHz samples (default 20). One frame, one `append`. */
  frameMs?: number;
  /** Local VAD thresholds, prefix padding and hangover (see `SegmenterOptions`). */
  vad?: SegmenterOptions;
  /**
   * A microphone stream your application owns. It stays yours: `close()` disconnects from it but never stops its
   * tracks. Without it `connect()` calls `getUserMedia` and stops the tracks it created on `close()`.
   */
  mediaStream?: MediaStream;
  /**
   * Constraints for `getUserMedia` (ignored with `mediaStream`). Default: echo cancellation, noise suppression
   * and automatic gain control on, which keeps the model from hearing itself. Turn them off only for
   * measurements.
   */
  audioConstraints?: MediaTrackConstraints;
  /**
   * How the microphone audio travels. `"datachannel"` (default): PCM16 frames as `input_audio_buffer.append` on
   * `oai-events`. `"track"`: the same processed (and gated) 24 kHz audio rendered into a `MediaStreamTrack` and
   * sent as the call's WebRTC audio track, for peers that only read media; the data channel then carries only
   * events. Same VAD, same events.
   */
  audio?: "datachannel" | "track";
  /** URL of the capture worklet module. Default: `capture-processor.js` beside the script, then a `blob:` copy. */
  workletUrl?: string;
  /** Element that plays the model's voice. Default: a detached `<audio autoplay>`; `false` plays nothing. */
  output?: HTMLAudioElement | false;
  /**
   * Audio kept while the channel is congested, not yet open, or reconnecting, in ms (default 10 000). Beyond it
   * the oldest silence is dropped first, then the oldest speech, each reported (`drop`, and `error`
   * `frames_dropped` for speech).
   */
  maxQueueMs?: number;
  /** `bufferedAmount` above which frames wait in the queue (bytes, default 256 KiB). */
  highWaterMark?: number;
  /**
   * Reconnect after a lost call (data channel closed, ICE failed) and before the 60-minute session limit:
   * `attempts` (default 5) with exponential backoff from `graceMs` (default 500) up to 8 s; `rotateAfterMs`
   * (default 55 min) starts a new call in time. `false` ends the session on the first loss.
   */
  reconnect?: false | { attempts?: number; graceMs?: number; rotateAfterMs?: number };
  /** Extra headers on requests to the worker (for example your own auth). */
  headers?: Record<string, string>;
}

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
  | { status: "closed"; reason: string }
  | { status: "failed"; error: RealtimeVoiceError };

/** A server event from `oai-events`: at least a `type`; unknown types are delivered too. */
export interface ServerEvent {
  type: string;
  [key: string]: unknown;
}

/** What happened to one captured frame. */
export interface FrameStats {
  seq: number;
  /** Index at 24 kHz of the frame's first sample since capture started. */
  timestamp: number;
  /** PCM16 bytes in the frame. */
  bytes: number;
  probability: number;
  speech: boolean;
  /** dBFS of the frame. */
  level: number;
  /**
   * `"sent"` on the channel now; `"queued"` behind congestion, a closed or reconnecting channel; `"held"` by the
   * gate (sent later as prefix padding, or withheld).
   */
  fate: "sent" | "queued" | "held";
  bufferedAmount: number;
}

/** Cumulative counters of a session. */
export interface SessionStats {
  framesCaptured: number;
  framesSent: number;
  bytesSent: number;
  framesQueued: number;
  framesDropped: number;
  speechFramesDropped: number;
  /** Frames the gate kept back for good (silence not sent, not billed). */
  framesWithheld: number;
  /** Turns committed by the client (`turns: "client"`). */
  commits: number;
  /** Times the model was interrupted. */
  bargeIns: number;
  /** Calls opened after the first (reconnects and rotations). */
  reconnects: number;
  bufferedAmount: number;
  /** Sample rate of the capture `AudioContext` (the device's own), 0 before capture starts. */
  inputRate: number;
}

/** Events of a {@link RealtimeVoiceSession} and their payloads. */
export interface SessionEventMap {
  state: ConnectionState;
  /** `sample`: index at 24 kHz where speech starts, prefix padding included. */
  speechstart: { sample: number };
  /** `sample`: index at 24 kHz where speech ends, hangover included. */
  speechend: { sample: number };
  /** Input level in dBFS, about 30 times a second. */
  level: { dbfs: number; probability: number; speech: boolean };
  frame: FrameStats;
  /** Frames the bounded queue had to give up (oldest silence first, then oldest speech). */
  drop: { seq: number; speech: boolean; total: number };
  /** The client committed a turn (`turns: "client"`); `samples` appended since the previous commit. */
  commit: { samples: number };
  /** The model was interrupted: `response.cancel` and `output_audio_buffer.clear` were sent, playback muted. */
  bargein: { sample: number };
  server: ServerEvent;
  error: RealtimeVoiceError;
}

type Listener<T> = (payload: T) => void;

/** Defaults an entry point supplies: where the script came from. */
export interface EntryDefaults {
  url?: string;
  workletUrl?: string;
}

declare const __REALTIME_VOICE_WORKLET_SOURCE__: string;

const LEVEL_INTERVAL_MS = 33;
const ICE_GATHER_MS = 500;
const FLUSH_WAIT_MS = 200;
const CLOSE_LINGER_MS = 150;
/** OpenAI refuses `input_audio_buffer.commit` with less than 100 ms buffered (`input_audio_buffer_commit_empty`). */
const MIN_COMMIT_SAMPLES = OUTPUT_SAMPLE_RATE / 10;
const MAX_BACKOFF_MS = 8000;
const DROP_REPORT_MS = 1000;
/** Track mode schedules each frame this far ahead of the audio clock, so late main-thread delivery stays gapless. */
const TRACK_LEAD_S = 0.15;

/** A live voice session. Create it with {@link connect}. */
export class RealtimeVoiceSession {
  #options: ConnectOptions;
  #defaults: EntryDefaults;
  #listeners = new Map<keyof SessionEventMap, Set<Listener<never>>>();
  #state: ConnectionState = { status: "connecting", attempt: 0 };
  #attempt = 0;
  #closed = false;
  #stream: MediaStream | null = null;
  #ownsStream = false;
  #context: AudioContext | null = null;
  #source: MediaStreamAudioSourceNode | null = null;
  #node: AudioWorkletNode | null = null;
  #output: HTMLAudioElement | null = null;
  #ownsOutput = false;
  #queue: SendQueue;
  #gate: FrameGate<QueueItem>;
  #bargeIn: BargeInDetector | null;
  #capture: CaptureOptions;
  #frameMs: number;
  #session: Record<string, unknown> | undefined;
  #appendedSinceCommit = 0;
  #track: { destination: MediaStreamAudioDestinationNode; track: MediaStreamTrack } | null = null;
  #trackTime = 0;
  #responseActive = false;
  #lastLevel = 0;
  #lastDropReport = 0;
  #flushed: (() => void) | null = null;
  #rotateTimer: ReturnType<typeof setTimeout> | undefined;
  #retryTimer: ReturnType<typeof setTimeout> | undefined;
  #stats: SessionStats = {
    framesCaptured: 0,
    framesSent: 0,
    bytesSent: 0,
    framesQueued: 0,
    framesDropped: 0,
    speechFramesDropped: 0,
    framesWithheld: 0,
    commits: 0,
    bargeIns: 0,
    reconnects: 0,
    bufferedAmount: 0,
    inputRate: 0,
  };
  #resumeOnGesture = () => void this.#context?.resume().catch(() => {});
  /** Settles when the data channel is open (resolves) or the first attempt fails (rejects). */
  readonly ready: Promise<void>;

  constructor(options: ConnectOptions, defaults: EntryDefaults) {
    this.#options = options;
    this.#defaults = defaults;
    const frameMs = options.frameMs ?? 20;
    const parsed = parseCaptureOptions({ frameMs, ...(options.vad ? { vad: options.vad } : {}) });
    if (!parsed.ok) throw new RangeError(`${parsed.message} (${parsed.field})`);
    if (options.audio !== undefined && options.audio !== "datachannel" && options.audio !== "track")
      throw new RangeError(`audio must be "datachannel" or "track", got ${String(options.audio)}`);
    if (options.turns !== undefined && options.turns !== "server" && options.turns !== "client")
      throw new RangeError(`turns must be "server" or "client", got ${String(options.turns)}`);
    this.#capture = parsed.options;
    this.#frameMs = frameMs;
    const vad = { ...SEGMENTER_DEFAULTS, ...options.vad };
    this.#session = requestedSession(options);
    this.#queue = new SendQueue(
      Math.max(1, Math.ceil((options.maxQueueMs ?? 10_000) / frameMs)),
      (frame) => this.#onDrop(frame),
      (item) => this.#onSent(item),
    );
    // The ring must reach back over the prefix padding plus the speech the segmenter needs before it decides.
    const holdFrames = Math.ceil((vad.prefixPaddingMs + vad.minSpeechMs) / frameMs) + 2;
    // Server turn detection needs `silence_duration_ms` of silence after speech; the hangover supplies most of it.
    const trailMs = options.turns === "client" ? 0 : silenceDurationMs(this.#session) + 100 - vad.hangoverMs;
    this.#gate = new FrameGate(options.gate === true, holdFrames, Math.ceil(Math.max(0, trailMs) / frameMs));
    const bargeInMs = options.bargeInMs ?? 200;
    this.#bargeIn = bargeInMs > 0 ? new BargeInDetector(vad.onsetThreshold, bargeInMs) : null;
    // Started on the next microtask so that listeners attached right after connect() see "connecting".
    this.ready = Promise.resolve().then(() => this.#start());
    // The promise is also observable through `state` and `error`; an unobserved rejection is not a bug here.
    this.ready.catch(() => {});
  }

  /** The current connection state. */
  get state(): ConnectionState {
    return this.#state;
  }

  /** A snapshot of the counters. */
  get stats(): SessionStats {
    const channel = this.#state.status === "connected" ? this.#state.channel : null;
    return {
      ...this.#stats,
      framesQueued: this.#queue.frames,
      framesWithheld: this.#gate.withheld,
      bufferedAmount: channel?.bufferedAmount ?? 0,
    };
  }

  /** The capture `AudioContext` once capture runs (owned by the session). */
  get audioContext(): AudioContext | null {
    return this.#context;
  }

  /** Subscribes to an event; returns the function that unsubscribes. */
  on<K extends keyof SessionEventMap>(type: K, listener: Listener<SessionEventMap[K]>): () => void {
    const set = this.#listeners.get(type) ?? new Set();
    this.#listeners.set(type, set);
    set.add(listener as Listener<never>);
    return () => this.off(type, listener);
  }

  off<K extends keyof SessionEventMap>(type: K, listener: Listener<SessionEventMap[K]>): void {
    this.#listeners.get(type)?.delete(listener as Listener<never>);
  }

  /**
   * Sends a client event on `oai-events` (for example `response.create`) in order behind the queued audio; it
   * waits in the queue while the channel is not open.
   */
  send(event: { type: string; [key: string]: unknown }): void {
    this.#queue.push({ kind: "event", text: JSON.stringify(event) });
    this.#drain();
  }

  /** Changes the local VAD settings while running. Throws `RangeError` for invalid values. */
  configure(vad: SegmenterOptions): void {
    const parsed = parseCaptureOptions({ vad });
    if (!parsed.ok) throw new RangeError(`${parsed.message} (${parsed.field})`);
    const message: ControlMessage = { type: "configure", options: parsed.options };
    this.#node?.port.postMessage(message);
  }

  /**
   * Ends the session: sends the last partial frame and what is queued (bounded waits), then stops capture,
   * closes the call and the audio output. Every step runs even when an earlier one throws; the first error is
   * rethrown afterwards as `cleanup_failed`. Tracks of an application-owned `mediaStream` are left running.
   * Calling it again is a no-op.
   */
  close(reason = "closed by the application"): Promise<void> {
    return this.#teardown({ status: "closed", reason });
  }

  async #teardown(final: ConnectionState & { status: "closed" | "failed" }): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#attempt++;
    clearTimeout(this.#rotateTimer);
    clearTimeout(this.#retryTimer);
    if (final.status === "closed") await this.#flush();
    const open = this.#state.status === "connected" ? this.#state.channel : null;
    if (final.status === "closed" && open?.readyState === "open") {
      // `bufferedAmount` 0 means handed to SCTP, not received: a peer that ends the call as soon as the channel
      // closes can drop messages still in flight. Linger one beat, then close the channel before the connection.
      await new Promise((resolve) => setTimeout(resolve, CLOSE_LINGER_MS));
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, FLUSH_WAIT_MS * 2);
        open.addEventListener("close", () => {
          clearTimeout(timer);
          resolve();
        });
        open.close();
      });
    }
    let first: unknown;
    const step = (fn: () => void) => {
      try {
        fn();
      } catch (error) {
        first ??= error;
      }
    };
    const connection = this.#state.status === "connected" ? this.#state : null;
    step(() => document.removeEventListener("pointerdown", this.#resumeOnGesture, true));
    step(() => document.removeEventListener("keydown", this.#resumeOnGesture, true));
    step(() => {
      if (this.#node) this.#node.port.onmessage = null;
    });
    step(() => this.#node?.port.close());
    step(() => this.#node?.disconnect());
    step(() => this.#source?.disconnect());
    step(() => this.#track?.track.stop());
    step(() => {
      if (this.#ownsStream) for (const track of this.#stream?.getTracks() ?? []) track.stop();
    });
    step(() => connection?.channel.close());
    step(() => connection?.pc.close());
    step(() => {
      if (!this.#output) return;
      this.#output.pause();
      this.#output.srcObject = null;
      if (this.#ownsOutput) this.#output.remove();
    });
    step(() => this.#queue.clear());
    const context = this.#context;
    this.#node = null;
    this.#source = null;
    this.#stream = null;
    this.#context = null;
    if (context && context.state !== "closed") {
      try {
        await context.close();
      } catch (error) {
        first ??= error;
      }
    }
    this.#setState(final);
    if (first !== undefined) {
      throw new RealtimeVoiceError("cleanup_failed", `close() failed: ${String(first)}`, { cause: first });
    }
  }

  /** Sends the partial last frame and everything queued, and lets the channel empty (bounded waits). */
  async #flush(): Promise<void> {
    const node = this.#node;
    const connection = this.#state.status === "connected" ? this.#state : null;
    if (!node || !connection || connection.channel.readyState !== "open") return;
    try {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, FLUSH_WAIT_MS);
        this.#flushed = () => {
          clearTimeout(timer);
          resolve();
        };
        const message: ControlMessage = { type: "flush" };
        node.port.postMessage(message);
      });
      // The flushed tail is the last frame: nothing captured after it would ever be sent.
      node.port.onmessage = null;
      this.#source?.disconnect();
      await this.#waitForChannel(connection.channel, FLUSH_WAIT_MS * 5, Number.POSITIVE_INFINITY);
    } catch {
      // Best effort: close() goes on to release everything regardless.
    } finally {
      this.#flushed = null;
    }
  }

  /** Drains the queue into `channel` (ignoring the high-water mark when `highWaterMark` is ∞) until it is empty. */
  async #waitForChannel(channel: RTCDataChannel, waitMs: number, highWaterMark: number): Promise<void> {
    const deadline = performance.now() + waitMs;
    do {
      this.#queue.drain(channel, highWaterMark);
      if (this.#queue.frames === 0 && channel.bufferedAmount === 0) return;
      await new Promise((resolve) => setTimeout(resolve, 10));
    } while (performance.now() < deadline && channel.readyState === "open");
  }

  #emit<K extends keyof SessionEventMap>(type: K, payload: SessionEventMap[K]): void {
    for (const listener of this.#listeners.get(type) ?? []) {
      try {
        (listener as Listener<SessionEventMap[K]>)(payload);
      } catch (error) {
        // A throwing listener must not break capture; report it asynchronously like an event handler would.
        queueMicrotask(() => {
          throw error;
        });
      }
    }
  }

  #setState(state: ConnectionState): void {
    this.#state = state;
    this.#emit("state", state);
  }

  #fail(error: RealtimeVoiceError): void {
    if (this.#closed) return;
    this.#emit("error", error);
    void this.#teardown({ status: "failed", error }).catch(() => {});
  }

  async #start(): Promise<void> {
    if (this.#closed) return;
    const attempt = ++this.#attempt;
    this.#setState({ status: "connecting", attempt });
    try {
      // Capture and signalling run in parallel; frames captured before the channel opens wait in the queue.
      const capture = this.#startCapture(attempt);
      const call = this.#openCall(attempt);
      const [, connection] = await Promise.all([capture, call]);
      this.#connected(attempt, connection);
    } catch (error) {
      const typed =
        error instanceof RealtimeVoiceError
          ? error
          : new RealtimeVoiceError("connection_failed", String(error), { cause: error });
      if (attempt === this.#attempt) this.#fail(typed);
      throw typed;
    }
  }

  #connected(
    attempt: number,
    connection: { pc: RTCPeerConnection; channel: RTCDataChannel; callId: string | null },
  ) {
    if (attempt !== this.#attempt) {
      connection.pc.close();
      return;
    }
    this.#setState({ status: "connected", attempt, ...connection });
    this.#drain();
    const rotateAfterMs =
      this.#options.reconnect === false ? 0 : (this.#options.reconnect?.rotateAfterMs ?? 3_300_000);
    clearTimeout(this.#rotateTimer);
    // OpenAI ends a session after 60 minutes with no resume: start the next call before that.
    if (rotateAfterMs > 0) this.#rotateTimer = setTimeout(() => void this.#rotate(attempt), rotateAfterMs);
  }

  async #rotate(attempt: number): Promise<void> {
    if (attempt !== this.#attempt || this.#state.status !== "connected") return;
    const { pc, channel } = this.#state;
    // Frames keep queueing while the old channel empties; the new call receives them in order.
    this.#setState({ status: "reconnecting", attempt, reason: "session rotation", retryInMs: 0 });
    await this.#waitForChannel(channel, 2000, this.#options.highWaterMark ?? 262_144);
    if (attempt !== this.#attempt) return;
    this.#queue.requeueUnsent(channel.bufferedAmount);
    pc.close();
    this.#reconnect(0, "session rotation");
  }

  async #startCapture(attempt: number): Promise<void> {
    const options = this.#options;
    let stream = options.mediaStream;
    if (!stream) {
      try {
        stream = await navigator.mediaDevices.getUserMedia({
          audio: options.audioConstraints ?? {
            echoCancellation: true,
            noiseSuppression: true,
            autoGainControl: true,
          },
        });
      } catch (error) {
        const name = error instanceof DOMException ? error.name : "";
        const denied = name === "NotAllowedError" || name === "SecurityError";
        throw new RealtimeVoiceError(
          denied ? "microphone_denied" : "microphone_unavailable",
          `getUserMedia failed: ${String(error)}`,
          { cause: error },
        );
      }
      if (attempt !== this.#attempt) {
        for (const track of stream.getTracks()) track.stop();
        throw new RealtimeVoiceError("connection_failed", "closed while opening the microphone");
      }
      this.#ownsStream = true;
    }
    this.#stream = stream;
    // The device's own rate: Firefox refuses to connect a mic to a context at another rate, and iOS ignores a
    // requested rate anyway. The worklet resamples to 24 kHz itself.
    const deviceRate = stream.getAudioTracks()[0]?.getSettings().sampleRate;
    let context: AudioContext;
    try {
      context = deviceRate ? new AudioContext({ sampleRate: deviceRate }) : new AudioContext();
    } catch (error) {
      throw new RealtimeVoiceError("audio_failed", `AudioContext failed: ${String(error)}`, { cause: error });
    }
    this.#context = context;
    this.#stats.inputRate = context.sampleRate;
    // Autoplay policy: a context created outside a user gesture starts suspended. resume() stays pending until
    // the page gets one, so it is not awaited; the next click or key press resumes it.
    if (context.state !== "running") {
      void context.resume().catch(() => {});
      document.addEventListener("pointerdown", this.#resumeOnGesture, true);
      document.addEventListener("keydown", this.#resumeOnGesture, true);
    }
    await this.#loadWorklet(context);
    if (attempt !== this.#attempt) throw new RealtimeVoiceError("connection_failed", "closed while loading");
    const node = new AudioWorkletNode(context, CAPTURE_PROCESSOR_NAME, {
      numberOfInputs: 1,
      numberOfOutputs: 0,
      channelCount: 1,
      channelCountMode: "explicit",
      channelInterpretation: "speakers",
      processorOptions: this.#capture,
    });
    node.port.onmessage = (event: MessageEvent<ProcessorMessage>) => this.#onProcessorMessage(event.data);
    node.onprocessorerror = () =>
      this.#emit("error", new RealtimeVoiceError("worklet_error", "the capture processor stopped"));
    this.#node = node;
    if (options.audio === "track") {
      const destination = context.createMediaStreamDestination();
      destination.channelCount = 1;
      const [track] = destination.stream.getAudioTracks();
      if (track) this.#track = { destination, track };
    }
    this.#source = context.createMediaStreamSource(stream);
    this.#source.connect(node);
  }

  async #loadWorklet(context: AudioContext): Promise<void> {
    const url = this.#options.workletUrl ?? this.#defaults.workletUrl;
    let firstError: unknown;
    if (url) {
      try {
        await context.audioWorklet.addModule(url);
        return;
      } catch (error) {
        firstError = error;
      }
    }
    // Fallback for bundlers that drop the file next to the script: the same module inlined at build time, loaded
    // from a blob: URL (needs `blob:` in CSP `script-src`).
    if (typeof __REALTIME_VOICE_WORKLET_SOURCE__ === "string") {
      const blobUrl = URL.createObjectURL(
        new Blob([__REALTIME_VOICE_WORKLET_SOURCE__], { type: "text/javascript" }),
      );
      try {
        await context.audioWorklet.addModule(blobUrl);
        return;
      } catch (error) {
        firstError ??= error;
      } finally {
        URL.revokeObjectURL(blobUrl);
      }
    }
    throw new RealtimeVoiceError(
      "worklet_load_failed",
      `cannot load the capture worklet from ${url ?? "(no URL)"} nor a blob: URL; check CSP script-src: ${String(firstError)}`,
      { cause: firstError },
    );
  }

  #onProcessorMessage(message: ProcessorMessage): void {
    switch (message.type) {
      case "frame":
        this.#onFrame(message);
        break;
      case "speechstart":
        for (const item of this.#gate.speechStart(message.sample)) this.#queueItem(item);
        this.#emit("speechstart", { sample: message.sample });
        break;
      case "speechend":
        this.#gate.speechEnd();
        if (this.#options.turns === "client") this.#commit();
        this.#emit("speechend", { sample: message.sample });
        break;
      case "error":
        this.#emit("error", new RealtimeVoiceError("worklet_error", `${message.code}: ${message.message}`));
        break;
      case "flushed":
        this.#flushed?.();
        break;
      default:
        break;
    }
  }

  #onFrame(frame: FrameMessage): void {
    this.#stats.framesCaptured++;
    const now = performance.now();
    if (now - this.#lastLevel >= LEVEL_INTERVAL_MS) {
      this.#lastLevel = now;
      this.#emit("level", { dbfs: frame.level, probability: frame.probability, speech: frame.speech });
    }
    if (this.#bargeIn?.frame(frame.probability, this.#frameMs)) this.#interrupt(frame.timestamp);
    const item: QueueItem = { kind: "frame", frame, capturedAt: performance.timeOrigin + now };
    const sentBefore = this.#stats.framesSent;
    let fate: FrameStats["fate"] = "held";
    if (this.#gate.admit(frame, item)) {
      this.#queueItem(item);
      fate = this.#stats.framesSent > sentBefore ? "sent" : "queued";
    }
    const channel = this.#state.status === "connected" ? this.#state.channel : null;
    this.#emit("frame", {
      seq: frame.seq,
      timestamp: frame.timestamp,
      bytes: frame.pcm.byteLength,
      probability: frame.probability,
      speech: frame.speech,
      level: frame.level,
      fate,
      bufferedAmount: channel?.bufferedAmount ?? 0,
    });
  }

  #queueItem(item: QueueItem): void {
    if (item.kind === "frame") {
      this.#appendedSinceCommit += item.frame.pcm.byteLength / 2;
      if (this.#track) {
        this.#render(item.frame);
        this.#onSent(item);
        return;
      }
    }
    this.#queue.push(item);
    this.#drain();
  }

  /** Track mode: plays `frame` into the outgoing track, right after the previous one (24 kHz buffers). */
  #render(frame: FrameMessage): void {
    const context = this.#context;
    if (!context || !this.#track) return;
    const pcm = new Int16Array(frame.pcm);
    const buffer = context.createBuffer(1, pcm.length, OUTPUT_SAMPLE_RATE);
    const channel = buffer.getChannelData(0);
    for (let i = 0; i < pcm.length; i++) channel[i] = (pcm[i] as number) / 32768;
    const source = context.createBufferSource();
    source.buffer = buffer;
    source.connect(this.#track.destination);
    // Contiguous unless the gate left a gap (then silence) or rendering fell behind (then restart with margin).
    const at = Math.max(this.#trackTime, context.currentTime + TRACK_LEAD_S);
    source.start(at);
    this.#trackTime = at + pcm.length / OUTPUT_SAMPLE_RATE;
  }

  /** Client turns: commit what was appended since the last commit (≥ 100 ms) and ask for a response. */
  #commit(): void {
    const samples = this.#appendedSinceCommit;
    if (samples < MIN_COMMIT_SAMPLES) return;
    this.#appendedSinceCommit = 0;
    // A new turn supersedes an answer still being generated; OpenAI refuses a second response.create while one
    // is active (`conversation_already_has_active_response`).
    if (this.#responseActive) this.#queue.push({ kind: "event", text: '{"type":"response.cancel"}' });
    this.#queue.push({ kind: "event", text: '{"type":"input_audio_buffer.commit"}' });
    this.#queue.push({ kind: "event", text: '{"type":"response.create"}' });
    this.#stats.commits++;
    this.#drain();
    this.#emit("commit", { samples });
  }

  /** Barge-in: stop the model now, locally first (muting is instant), then on the server. */
  #interrupt(sample: number): void {
    if (this.#output) this.#output.muted = true;
    const channel = this.#state.status === "connected" ? this.#state.channel : null;
    // Straight to the channel, ahead of queued audio: the point is to stop the voice without delay.
    if (channel?.readyState === "open") {
      channel.send('{"type":"response.cancel"}');
      channel.send('{"type":"output_audio_buffer.clear"}');
    }
    this.#stats.bargeIns++;
    this.#emit("bargein", { sample });
  }

  #onSent(item: QueueItem): void {
    if (item.kind !== "frame") return;
    this.#stats.framesSent++;
    this.#stats.bytesSent += item.frame.pcm.byteLength;
  }

  #onDrop(frame: FrameMessage): void {
    this.#stats.framesDropped++;
    if (frame.speech) this.#stats.speechFramesDropped++;
    this.#emit("drop", { seq: frame.seq, speech: frame.speech, total: this.#stats.framesDropped });
    const now = performance.now();
    // One error per second at most, with the running count, rather than one per frame.
    if (frame.speech && now - this.#lastDropReport >= DROP_REPORT_MS) {
      this.#lastDropReport = now;
      this.#emit(
        "error",
        new RealtimeVoiceError(
          "frames_dropped",
          `the send queue is full: ${this.#stats.speechFramesDropped} speech frame(s) dropped so far (last seq ${frame.seq})`,
        ),
      );
    }
  }

  #drain = (): void => {
    if (this.#state.status !== "connected") return;
    this.#queue.drain(this.#state.channel, this.#options.highWaterMark ?? 262_144);
  };

  async #openCall(
    attempt: number,
  ): Promise<{ pc: RTCPeerConnection; channel: RTCDataChannel; callId: string | null }> {
    const pc = new RTCPeerConnection();
    try {
      // OpenAI rejects an offer without an audio m-section (`invalid_offer`). Receive-only when the mic audio
      // travels as PCM16 frames on the data channel; in track mode it carries the rendered capture instead.
      const track = await this.#outgoingTrack(attempt);
      if (track) pc.addTransceiver(track, { direction: "sendrecv" });
      else pc.addTransceiver("audio", { direction: "recvonly" });
      pc.ontrack = (event) => this.#play(event.streams[0] ?? new MediaStream([event.track]));
      const channel = pc.createDataChannel("oai-events");
      const highWaterMark = this.#options.highWaterMark ?? 262_144;
      channel.bufferedAmountLowThreshold = Math.floor(highWaterMark / 4);
      channel.onbufferedamountlow = this.#drain;
      channel.onmessage = (event: MessageEvent) => this.#onServerMessage(event.data);
      const opened = new Promise<void>((resolve, reject) => {
        channel.onopen = () => resolve();
        channel.onclose = () =>
          reject(new RealtimeVoiceError("channel_closed", "oai-events closed before opening"));
        pc.onconnectionstatechange = () => {
          if (pc.connectionState === "failed")
            reject(new RealtimeVoiceError("connection_failed", "ICE/DTLS connection failed"));
        };
      });
      opened.catch(() => {});
      await pc.setLocalDescription(await pc.createOffer());
      await gatherCandidates(pc);
      this.#check(attempt);
      const options = this.#options;
      const { sdp, callId } = await exchangeSdp(
        pc.localDescription?.sdp ?? "",
        {
          base: (options.url ?? this.#defaults.url ?? location.origin).replace(/\/+$/, ""),
          signaling: options.signaling ?? "proxy",
          upstream: (options.upstreamUrl ?? "https://api.openai.com/v1").replace(/\/+$/, ""),
          session: this.#session,
          headers: options.headers ?? {},
        },
        () => this.#check(attempt),
      );
      this.#check(attempt);
      await pc.setRemoteDescription({ type: "answer", sdp });
      this.#check(attempt);
      await opened;
      this.#check(attempt);
      channel.onclose = () => this.#onCallLost(attempt, "the oai-events data channel closed");
      pc.onconnectionstatechange = () => {
        if (pc.connectionState === "failed") this.#onCallLost(attempt, "the WebRTC connection failed");
      };
      return { pc, channel, callId };
    } catch (error) {
      pc.close();
      throw error;
    }
  }

  /** Track mode: the rendered capture track, once capture has created it (capture and signalling run in parallel). */
  async #outgoingTrack(attempt: number): Promise<MediaStreamTrack | null> {
    if (this.#options.audio !== "track") return null;
    while (!this.#track) {
      await new Promise((resolve) => setTimeout(resolve, 10));
      this.#check(attempt);
    }
    return this.#track.track;
  }

  #check(attempt: number): void {
    if (attempt !== this.#attempt) throw new RealtimeVoiceError("connection_failed", "superseded or closed");
  }

  #onCallLost(attempt: number, reason: string): void {
    if (attempt !== this.#attempt || this.#closed || this.#state.status !== "connected") return;
    const { pc, channel } = this.#state;
    // What was still in the send buffer never left this browser: the next call gets it.
    this.#queue.requeueUnsent(channel.bufferedAmount);
    pc.close();
    this.#emit("error", new RealtimeVoiceError("channel_closed", reason));
    if (this.#options.reconnect === false) {
      this.#fail(new RealtimeVoiceError("channel_closed", reason));
      return;
    }
    this.#reconnect(0, reason);
  }

  /** Opens a new call after a grace period with exponential backoff; capture and queueing go on meanwhile. */
  #reconnect(tries: number, reason: string): void {
    const settings = this.#options.reconnect || {};
    if (tries >= (settings.attempts ?? 5)) {
      this.#fail(
        new RealtimeVoiceError(
          "connection_failed",
          `gave up reconnecting after ${tries} attempts: ${reason}`,
        ),
      );
      return;
    }
    const attempt = ++this.#attempt;
    const retryInMs = Math.min(MAX_BACKOFF_MS, (settings.graceMs ?? 500) * 2 ** tries);
    this.#setState({ status: "reconnecting", attempt, reason, retryInMs });
    this.#retryTimer = setTimeout(async () => {
      if (attempt !== this.#attempt) return;
      this.#setState({ status: "connecting", attempt });
      try {
        const connection = await this.#openCall(attempt);
        this.#stats.reconnects++;
        // A new call has an empty input buffer and no response.
        this.#appendedSinceCommit = 0;
        this.#responseActive = false;
        this.#connected(attempt, connection);
      } catch (error) {
        if (attempt !== this.#attempt) return;
        this.#emit(
          "error",
          error instanceof RealtimeVoiceError
            ? error
            : new RealtimeVoiceError("connection_failed", String(error)),
        );
        this.#reconnect(tries + 1, reason);
      }
    }, retryInMs);
  }

  #onServerMessage(data: unknown): void {
    if (typeof data !== "string") return;
    let event: ServerEvent;
    try {
      event = JSON.parse(data) as ServerEvent;
    } catch {
      return;
    }
    if (typeof event?.type !== "string") return;
    if (event.type === "response.created") this.#responseActive = true;
    else if (event.type === "response.done") this.#responseActive = false;
    if (event.type === "output_audio_buffer.started") {
      this.#bargeIn?.setModelSpeaking(true);
      if (this.#output) this.#output.muted = false;
    } else if (event.type === "output_audio_buffer.stopped" || event.type === "output_audio_buffer.cleared") {
      this.#bargeIn?.setModelSpeaking(false);
    }
    this.#emit("server", event);
    if (event.type === "error") {
      const detail = (event.error ?? {}) as { message?: unknown; code?: unknown };
      this.#emit(
        "error",
        new RealtimeVoiceError("server_error", String(detail.message ?? "server error"), {
          serverCode: typeof detail.code === "string" ? detail.code : undefined,
        }),
      );
    }
  }

  #play(stream: MediaStream): void {
    if (this.#options.output === false) return;
    if (!this.#output) {
      this.#ownsOutput = !this.#options.output;
      this.#output = this.#options.output ?? document.createElement("audio");
      this.#output.autoplay = true;
    }
    this.#output.srcObject = stream;
    void this.#output.play().catch(() => {});
  }
}

/**
 * Starts a voice session: microphone, capture worklet, WebRTC call, and frame streaming. Returns at once; watch
 * `state`/`error` events or await `session.ready` (rejects with {@link RealtimeVoiceError}). Call it from a user
 * gesture (a click) so the `AudioContext` may start. Throws `RangeError` for out-of-range options.
 */
export function connect(options: ConnectOptions = {}, defaults: EntryDefaults = {}): RealtimeVoiceSession {
  return new RealtimeVoiceSession(options, defaults);
}

/** The session to request: the caller's, with `turn_detection: null` for client turns. */
function requestedSession(options: ConnectOptions): Record<string, unknown> | undefined {
  if (options.turns !== "client") return options.session;
  const session = options.session ?? { type: "realtime" };
  const audio = (session.audio ?? {}) as Record<string, unknown>;
  const input = (audio.input ?? {}) as Record<string, unknown>;
  return { ...session, audio: { ...audio, input: { ...input, turn_detection: null } } };
}

/** The server VAD's `silence_duration_ms` of the requested session, or OpenAI's documented default (500). */
function silenceDurationMs(session: Record<string, unknown> | undefined): number {
  const audio = session?.audio as
    | { input?: { turn_detection?: { silence_duration_ms?: unknown } } }
    | undefined;
  const value = audio?.input?.turn_detection?.silence_duration_ms;
  return typeof value === "number" ? value : 500;
}

async function gatherCandidates(pc: RTCPeerConnection): Promise<void> {
  if (pc.iceGatheringState === "complete") return;
  // Host candidates gather in a few ms; the cap keeps a slow STUN/TURN server from delaying the call.
  await new Promise<void>((resolve) => {
    const timer = setTimeout(resolve, ICE_GATHER_MS);
    pc.addEventListener("icegatheringstatechange", () => {
      if (pc.iceGatheringState === "complete") {
        clearTimeout(timer);
        resolve();
      }
    });
  });
}

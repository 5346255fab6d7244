/**
 * `connect()`: the browser side of a voice session. Captures the microphone through the capture AudioWorklet
 * (24 kHz mono PCM16 frames with a local VAD), opens a WebRTC call through the worker, and streams every frame
 * as `input_audio_buffer.append` on the `oai-events` data channel. The model's voice plays from the call's audio
 * track. See OpenAI "Realtime API with WebRTC" and `RealtimeClientEventInputAudioBufferAppend`.
 */

import type { CaptureOptions, ControlMessage, FrameMessage, ProcessorMessage } from "./messages.ts";
import { CAPTURE_PROCESSOR_NAME, parseCaptureOptions } from "./messages.ts";

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
  audio?: MediaTrackConstraints;
  /** URL of the capture worklet module. Default: `capture-processor.js` beside the script, then a `blob:` copy. */
  workletUrl?: string;
  /** Element that plays the model's voice. Default: a detached `<audio autoplay>`; `false` plays nothing. */
  output?: HTMLAudioElement | false;
  /** Frames kept while the data channel is congested or not yet open, in ms of audio (default 10 000). */
  maxQueueMs?: number;
  /** `bufferedAmount` above which frames wait in the queue (bytes, default 256 KiB). */
  highWaterMark?: number;
  /** Extra headers on requests to the worker (for example your own auth). */
  headers?: Record<string, string>;
}

/** Stable error codes carried by {@link RealtimeVoiceError}. */
export type ErrorCode =
  | "invalid_options"
  | "microphone_denied"
  | "microphone_unavailable"
  | "audio_failed"
  | "worklet_load_failed"
  | "worklet_error"
  | "signaling_failed"
  | "network_error"
  | "invalid_answer"
  | "connection_failed"
  | "channel_closed"
  | "frames_dropped"
  | "server_error"
  | "cleanup_failed";

/**
 * Every failure of a session. `code` is stable; `status` is the HTTP status and `serverCode` the server's own
 * code (problem details `code`, or OpenAI `error.code`) for `signaling_failed`; `message` carries the server's
 * message (problem details `detail`, or OpenAI `error.message`).
 */
export class RealtimeVoiceError extends Error {
  readonly code: ErrorCode;
  readonly status: number | undefined;
  readonly serverCode: string | undefined;
  constructor(
    code: ErrorCode,
    message: string,
    extra: { status?: number; serverCode?: string; cause?: unknown } = {},
  ) {
    super(message, { cause: extra.cause });
    this.name = "RealtimeVoiceError";
    this.code = code;
    this.status = extra.status;
    this.serverCode = extra.serverCode;
  }
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
  /** `"sent"` on the channel now, `"queued"` behind congestion or a closed channel. */
  fate: "sent" | "queued";
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
  drop: { count: number; speech: number; total: number };
  server: ServerEvent;
  error: RealtimeVoiceError;
}

type Listener<T> = (payload: T) => void;

/** A frame waiting for the channel, with the wall time (ms since the epoch) it became available. */
interface Outgoing {
  frame: FrameMessage;
  capturedAt: number;
}

/** Defaults an entry point supplies: where the script came from. */
export interface EntryDefaults {
  url?: string;
  workletUrl?: string;
}

declare const __REALTIME_VOICE_WORKLET_SOURCE__: string;

const APPEND_PREFIX = '{"type":"input_audio_buffer.append","event_id":"';
const LEVEL_INTERVAL_MS = 33;
const ICE_GATHER_MS = 500;
const FLUSH_WAIT_MS = 200;

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
  #queue: Outgoing[] = [];
  #maxQueue: number;
  #capture: CaptureOptions;
  #lastLevel = 0;
  #flushed: (() => void) | null = null;
  #stats: SessionStats = {
    framesCaptured: 0,
    framesSent: 0,
    bytesSent: 0,
    framesQueued: 0,
    framesDropped: 0,
    speechFramesDropped: 0,
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
    this.#capture = parsed.options;
    this.#maxQueue = Math.max(1, Math.ceil((options.maxQueueMs ?? 10_000) / frameMs));
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
    return { ...this.#stats, framesQueued: this.#queue.length, bufferedAmount: channel?.bufferedAmount ?? 0 };
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

  /** Sends a client event on `oai-events` (for example `response.create`); false when the channel is not open. */
  send(event: { type: string; [key: string]: unknown }): boolean {
    if (this.#state.status !== "connected" || this.#state.channel.readyState !== "open") return false;
    this.#state.channel.send(JSON.stringify(event));
    return true;
  }

  /** Changes the local VAD settings while running. */
  configure(vad: SegmenterOptions): void {
    const parsed = parseCaptureOptions({ vad });
    if (!parsed.ok) throw new RangeError(`${parsed.message} (${parsed.field})`);
    const message: ControlMessage = { type: "configure", options: parsed.options };
    this.#node?.port.postMessage(message);
  }

  /**
   * Ends the session: stops capture, closes the call and the audio output. Every step runs even when an earlier
   * one throws; the first error is rethrown afterwards as `cleanup_failed`. Tracks of an application-owned
   * `mediaStream` are left running. Calling it again is a no-op.
   */
  close(reason = "closed by the application"): Promise<void> {
    return this.#teardown({ status: "closed", reason });
  }

  async #teardown(final: ConnectionState & { status: "closed" | "failed" }): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#attempt++;
    if (final.status === "closed") await this.#flush();
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
    step(() => {
      this.#queue.length = 0;
    });
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
      for (const outgoing of this.#queue.splice(0)) this.#sendFrame(connection.channel, outgoing);
      const deadline = performance.now() + FLUSH_WAIT_MS * 5;
      while (connection.channel.bufferedAmount > 0 && performance.now() < deadline) {
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
    } catch {
      // Best effort: close() goes on to release everything regardless.
    } finally {
      this.#flushed = null;
    }
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
      if (attempt !== this.#attempt) {
        connection.pc.close();
        return;
      }
      this.#setState({ status: "connected", attempt, ...connection });
      this.#drain();
    } catch (error) {
      const typed =
        error instanceof RealtimeVoiceError
          ? error
          : new RealtimeVoiceError("connection_failed", String(error), { cause: error });
      if (attempt === this.#attempt) this.#fail(typed);
      throw typed;
    }
  }

  async #startCapture(attempt: number): Promise<void> {
    const options = this.#options;
    let stream = options.mediaStream;
    if (!stream) {
      try {
        stream = await navigator.mediaDevices.getUserMedia({
          audio: options.audio ?? { echoCancellation: true, noiseSuppression: true, autoGainControl: true },
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
        this.#emit("speechstart", { sample: message.sample });
        break;
      case "speechend":
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
    // Stamp the wall time the frame became available (ms since the epoch, sub-ms resolution) into the event id,
    // so a peer on the same clock can measure capture → receive latency; the id also carries the sequence number.
    const outgoing: Outgoing = { frame, capturedAt: performance.timeOrigin + now };
    const channel = this.#state.status === "connected" ? this.#state.channel : null;
    let fate: FrameStats["fate"] = "queued";
    if (channel && this.#queue.length === 0 && this.#canSend(channel)) {
      this.#sendFrame(channel, outgoing);
      fate = "sent";
    } else {
      this.#enqueue(outgoing);
    }
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

  #canSend(channel: RTCDataChannel): boolean {
    return channel.readyState === "open" && channel.bufferedAmount < (this.#options.highWaterMark ?? 262_144);
  }

  #sendFrame(channel: RTCDataChannel, { frame, capturedAt }: Outgoing): void {
    const id = `rv_${frame.seq}_${capturedAt.toFixed(1)}`;
    channel.send(`${APPEND_PREFIX}${id}","audio":"${toBase64(new Uint8Array(frame.pcm))}"}`);
    this.#stats.framesSent++;
    this.#stats.bytesSent += frame.pcm.byteLength;
  }

  #enqueue(outgoing: Outgoing): void {
    this.#queue.push(outgoing);
    if (this.#queue.length <= this.#maxQueue) return;
    // Full: give up the oldest silence first; speech goes only when nothing else is left, and is reported.
    let index = this.#queue.findIndex((queued) => !queued.frame.speech);
    if (index < 0) index = 0;
    const dropped = this.#queue.splice(index, 1)[0]?.frame;
    const speech = dropped?.speech ? 1 : 0;
    this.#stats.framesDropped++;
    this.#stats.speechFramesDropped += speech;
    this.#emit("drop", { count: 1, speech, total: this.#stats.framesDropped });
    if (speech) {
      this.#emit(
        "error",
        new RealtimeVoiceError(
          "frames_dropped",
          `the send queue is full: dropped speech frame ${dropped?.seq} (${this.#stats.speechFramesDropped} so far)`,
        ),
      );
    }
  }

  #drain = (): void => {
    if (this.#state.status !== "connected") return;
    const channel = this.#state.channel;
    while (this.#queue.length > 0 && this.#canSend(channel)) {
      this.#sendFrame(channel, this.#queue.shift() as Outgoing);
    }
  };

  async #openCall(
    attempt: number,
  ): Promise<{ pc: RTCPeerConnection; channel: RTCDataChannel; callId: string | null }> {
    const pc = new RTCPeerConnection();
    try {
      // OpenAI rejects an offer without an audio m-section (`invalid_offer`); receive-only because the mic
      // audio travels as PCM16 frames on the data channel.
      pc.addTransceiver("audio", { direction: "recvonly" });
      pc.ontrack = (event) => this.#play(event.streams[0] ?? new MediaStream([event.track]));
      const channel = pc.createDataChannel("oai-events");
      channel.bufferedAmountLowThreshold = 65_536;
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
      const { sdp, callId } = await this.#signal(pc.localDescription?.sdp ?? "", attempt);
      this.#check(attempt);
      await pc.setRemoteDescription({ type: "answer", sdp });
      this.#check(attempt);
      await opened;
      this.#check(attempt);
      channel.onclose = () => this.#onChannelLost(attempt, "the oai-events data channel closed");
      pc.onconnectionstatechange = () => {
        if (pc.connectionState === "failed") this.#onChannelLost(attempt, "the WebRTC connection failed");
      };
      return { pc, channel, callId };
    } catch (error) {
      pc.close();
      throw error;
    }
  }

  #check(attempt: number): void {
    if (attempt !== this.#attempt) throw new RealtimeVoiceError("connection_failed", "superseded or closed");
  }

  #onChannelLost(attempt: number, message: string): void {
    if (attempt !== this.#attempt || this.#closed) return;
    this.#fail(new RealtimeVoiceError("channel_closed", message));
  }

  async #signal(offer: string, attempt: number): Promise<{ sdp: string; callId: string | null }> {
    const options = this.#options;
    const base = (options.url ?? this.#defaults.url ?? location.origin).replace(/\/+$/, "");
    const headers = options.headers ?? {};
    let response: Response;
    if ((options.signaling ?? "proxy") === "ephemeral") {
      const minted = await request(`${base}/v1/realtime/client_secrets`, {
        method: "POST",
        headers: { ...headers, "content-type": "application/json" },
        body: JSON.stringify(options.session ? { session: options.session } : {}),
      });
      const secret = (await minted.json().catch(() => null)) as { value?: unknown } | null;
      if (typeof secret?.value !== "string") {
        throw new RealtimeVoiceError("signaling_failed", "the client_secrets answer has no `value`", {
          status: minted.status,
        });
      }
      this.#check(attempt);
      const upstream = (options.upstreamUrl ?? "https://api.openai.com/v1").replace(/\/+$/, "");
      response = await request(`${upstream}/realtime/calls`, {
        method: "POST",
        headers: { authorization: `Bearer ${secret.value}`, "content-type": "application/sdp" },
        body: offer,
      });
    } else if (options.session) {
      const form = new FormData();
      form.set("sdp", new Blob([offer], { type: "application/sdp" }));
      form.set("session", new Blob([JSON.stringify(options.session)], { type: "application/json" }));
      response = await request(`${base}/v1/realtime/calls`, { method: "POST", headers, body: form });
    } else {
      response = await request(`${base}/v1/realtime/calls`, {
        method: "POST",
        headers: { ...headers, "content-type": "application/sdp" },
        body: offer,
      });
    }
    const sdp = await response.text();
    // Without this check an error body or an HTML page would reach setRemoteDescription and surface as an opaque
    // "Failed to parse SessionDescription".
    if (!sdp.startsWith("v=0")) {
      throw new RealtimeVoiceError(
        "invalid_answer",
        `the calls endpoint answered ${response.status} without SDP`,
        {
          status: response.status,
        },
      );
    }
    const callUrl = response.headers.get("location");
    return { sdp, callId: callUrl?.split("/").pop() ?? null };
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

async function request(url: string, init: RequestInit): Promise<Response> {
  let response: Response;
  try {
    response = await fetch(url, init);
  } catch (error) {
    throw new RealtimeVoiceError("network_error", `request to ${url} failed: ${String(error)}`, {
      cause: error,
    });
  }
  if (response.ok) return response;
  throw await httpError(response);
}

/** Maps a non-2xx answer to an error with the server's own message: problem details or OpenAI's `error`. */
async function httpError(response: Response): Promise<RealtimeVoiceError> {
  const text = await response.text().catch(() => "");
  let message = text.slice(0, 300) || response.statusText;
  let serverCode: string | undefined;
  try {
    const body = JSON.parse(text) as {
      detail?: unknown;
      title?: unknown;
      code?: unknown;
      error?: { message?: unknown; code?: unknown };
    };
    if (body.error && typeof body.error === "object") {
      message = String(body.error.message ?? message);
      if (typeof body.error.code === "string") serverCode = body.error.code;
    } else {
      message = String(body.detail ?? body.title ?? message);
      if (typeof body.code === "string") serverCode = body.code;
    }
  } catch {
    // Not JSON: keep the text.
  }
  return new RealtimeVoiceError("signaling_failed", `${response.status}: ${message}`, {
    status: response.status,
    serverCode,
  });
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

type Base64Bytes = Uint8Array & { toBase64?: () => string };

function toBase64(bytes: Uint8Array): string {
  const native = (bytes as Base64Bytes).toBase64;
  if (native) return native.call(bytes);
  let binary = "";
  for (let i = 0; i < bytes.length; i += 0x8000) {
    binary += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  }
  return btoa(binary);
}

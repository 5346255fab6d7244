/**
 * The options of `connect()`: their one table of defaults and their one validation. Invalid options throw a
 * {@link RealtimeVoiceError} `invalid_options` naming the field, before anything starts.
 */
import { SEGMENTER_DEFAULTS, type SegmenterOptions } from "../dsp/segmenter.ts";
import { parseCaptureOptions } from "../processor/messages.ts";
import { RealtimeVoiceError } from "./realtime-voice-error.ts";
import { requestedSession, silenceDurationMs } from "./requested-session.ts";

export type { SegmenterOptions };

/** How the SDP offer reaches the realtime API. */
export type Signaling = "proxy" | "ephemeral";

/** Options of `connect()`. Every field is optional; the README's table lists them with their defaults. */
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
   * Send only speech plus prefix padding and hangover; silence is withheld and not billed. With server turns,
   * enough silence follows each segment for the server's `silence_duration_ms` to elapse. Default false.
   */
  gate?: boolean;
  /** Interrupt the model when local speech holds this long while it speaks (ms, default 200); `0` disables. */
  bargeInMs?: number;
  /** Frame length in ms, 10..40 and a whole number of 24 kHz samples (default 20). One frame, one `append`. */
  frameMs?: number;
  /** Local VAD thresholds, prefix padding and hangover (see `SegmenterOptions`). */
  vad?: SegmenterOptions;
  /** A microphone stream your application owns: `close()` disconnects from it but never stops its tracks. */
  mediaStream?: MediaStream;
  /** `getUserMedia` constraints (ignored with `mediaStream`). Default: echo cancellation, noise suppression, AGC. */
  audioConstraints?: MediaTrackConstraints;
  /** `"datachannel"` (default): PCM16 `append` events. `"track"`: the same processed audio as the WebRTC track. */
  audio?: "datachannel" | "track";
  /** URL of the capture worklet module. Default: `capture-processor.js` beside the script, then a `blob:` copy. */
  workletUrl?: string;
  /** Element that plays the model's voice. Default: a detached `<audio autoplay>`; `false` plays nothing. */
  output?: HTMLAudioElement | false;
  /** Audio kept while the channel is congested, opening or reconnecting, in ms (default 10 000). */
  maxQueueMs?: number;
  /** `bufferedAmount` above which frames wait in the queue (bytes, default 256 KiB). */
  highWaterMark?: number;
  /**
   * Reconnect after a lost call: `attempts` (default 5) with exponential backoff from `graceMs` (default 500) up
   * to 8 s; `rotateAfterMs` (default 55 min) starts a new call before the 60-minute limit. `false`: never.
   */
  reconnect?: false | { attempts?: number; graceMs?: number; rotateAfterMs?: number };
  /** Extra headers on requests to the worker. */
  headers?: Record<string, string>;
  /**
   * Called before each call (every attempt, so short-lived tokens work); its result is sent to the worker as
   * `Authorization: Bearer <token>`, for example a JWT your backend signs for the signed-in user.
   */
  getToken?: () => string | Promise<string>;
}

/** Defaults an entry point supplies (where the script came from), and request headers per call (Turnstile). */
export interface EntryDefaults {
  url?: string;
  workletUrl?: string;
  /** Extra headers computed before each call, e.g. `CF-Turnstile-Response`. */
  callHeaders?: () => Promise<Record<string, string>>;
}

/** The reconnect settings in effect (`attempts: 0` when reconnecting is off). */
export interface ReconnectSettings {
  attempts: number;
  graceMs: number;
  rotateAfterMs: number;
}

/** Options after defaults and validation. */
export interface ResolvedOptions
  extends Required<
    Pick<
      ConnectOptions,
      | "signaling"
      | "turns"
      | "gate"
      | "bargeInMs"
      | "frameMs"
      | "audio"
      | "maxQueueMs"
      | "highWaterMark"
      | "headers"
    >
  > {
  /** Base URL of the worker, without a trailing slash. */
  url: string;
  upstreamUrl: string;
  vad: Required<SegmenterOptions>;
  /** The session to request: the caller's, with `turn_detection: null` for client turns. */
  session: Record<string, unknown> | undefined;
  /** The server's `silence_duration_ms` the gate must leave room for. */
  silenceDurationMs: number;
  reconnect: ReconnectSettings;
  mediaStream: MediaStream | undefined;
  audioConstraints: MediaTrackConstraints;
  output: HTMLAudioElement | false | undefined;
  workletUrl: string | undefined;
  getToken: ConnectOptions["getToken"];
  callHeaders: EntryDefaults["callHeaders"];
}

/** Every default in one place. */
export const DEFAULTS = {
  signaling: "proxy",
  upstreamUrl: "https://api.openai.com/v1",
  turns: "server",
  gate: false,
  bargeInMs: 200,
  frameMs: 20,
  audio: "datachannel",
  maxQueueMs: 10_000,
  highWaterMark: 262_144,
  reconnect: { attempts: 5, graceMs: 500, rotateAfterMs: 3_300_000 },
  // Echo cancellation keeps the model from hearing itself; it applies because the voice plays from the call's
  // <audio> element (see playback.ts).
  audioConstraints: { echoCancellation: true, noiseSuppression: true, autoGainControl: true },
} as const;

const invalid = (field: string, message: string) =>
  new RealtimeVoiceError("invalid_options", `${field}: ${message}`);

function oneOf<T extends string>(field: string, value: T | undefined, allowed: readonly T[], fallback: T): T {
  if (value === undefined) return fallback;
  if (!allowed.includes(value)) throw invalid(field, `must be ${allowed.map((a) => `"${a}"`).join(" or ")}`);
  return value;
}

function count(field: string, value: number | undefined, fallback: number, min: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== "number" || !(value >= min) || !Number.isFinite(value))
    throw invalid(field, `must be a number ≥ ${min}`);
  return value;
}

/**
 * Applies {@link DEFAULTS} and the entry point's defaults to `options`.
 * @throws RealtimeVoiceError `invalid_options` for the first invalid field.
 */
export function resolveOptions(options: ConnectOptions, entry: EntryDefaults = {}): ResolvedOptions {
  if (typeof options !== "object" || options === null) throw invalid("options", "must be an object");
  const frameMs = options.frameMs ?? DEFAULTS.frameMs;
  const parsed = parseCaptureOptions({ frameMs, ...(options.vad ? { vad: options.vad } : {}) });
  if (!parsed.ok) throw invalid(parsed.field, parsed.message);
  if (options.getToken !== undefined && typeof options.getToken !== "function")
    throw invalid("getToken", "must be a function");
  const url = options.url ?? entry.url ?? globalThis.location?.origin;
  if (typeof url !== "string") throw invalid("url", "must be the worker's URL");
  const turns = oneOf("turns", options.turns, ["server", "client"], DEFAULTS.turns);
  const reconnect = options.reconnect === false ? { attempts: 0 } : (options.reconnect ?? {});
  const session = requestedSession(options.session, turns);
  return {
    url: url.replace(/\/+$/, ""),
    signaling: oneOf("signaling", options.signaling, ["proxy", "ephemeral"], DEFAULTS.signaling),
    upstreamUrl: (options.upstreamUrl ?? DEFAULTS.upstreamUrl).replace(/\/+$/, ""),
    session,
    turns,
    gate: options.gate === true,
    bargeInMs: count("bargeInMs", options.bargeInMs, DEFAULTS.bargeInMs, 0),
    frameMs,
    vad: { ...SEGMENTER_DEFAULTS, ...parsed.options.vad } as Required<SegmenterOptions>,
    audio: oneOf("audio", options.audio, ["datachannel", "track"], DEFAULTS.audio),
    maxQueueMs: count("maxQueueMs", options.maxQueueMs, DEFAULTS.maxQueueMs, 1),
    highWaterMark: count("highWaterMark", options.highWaterMark, DEFAULTS.highWaterMark, 1),
    reconnect: {
      attempts: count("reconnect.attempts", reconnect.attempts, DEFAULTS.reconnect.attempts, 0),
      graceMs: count("reconnect.graceMs", reconnect.graceMs, DEFAULTS.reconnect.graceMs, 0),
      rotateAfterMs: count(
        "reconnect.rotateAfterMs",
        reconnect.rotateAfterMs,
        DEFAULTS.reconnect.rotateAfterMs,
        0,
      ),
    },
    silenceDurationMs: silenceDurationMs(session),
    mediaStream: options.mediaStream,
    audioConstraints: options.audioConstraints ?? { ...DEFAULTS.audioConstraints },
    output: options.output,
    workletUrl: options.workletUrl ?? entry.workletUrl,
    headers: { ...options.headers },
    getToken: options.getToken,
    callHeaders: entry.callHeaders,
  };
}

/** Validates local VAD settings (`configure()`). @throws RealtimeVoiceError `invalid_options` */
export function resolveVad(vad: SegmenterOptions): SegmenterOptions {
  const parsed = parseCaptureOptions({ vad });
  if (!parsed.ok) throw invalid(parsed.field, parsed.message);
  return parsed.options.vad ?? {};
}

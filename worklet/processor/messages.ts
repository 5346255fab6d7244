/**
 * The one protocol between the capture AudioWorkletProcessor (`capture-processor.ts`) and the main thread
 * (`../client/capture.ts`): what the processor posts on its `MessagePort`, what the main thread may post back, and the
 * `processorOptions` it is constructed with. Both sides import these types; nothing else crosses the port.
 */
import { PCM_RATE } from "../../worker/schema/protocol.ts";
import type { SegmenterOptions } from "../dsp/segmenter.ts";

/** The name the processor registers under: `new AudioWorkletNode(context, CAPTURE_PROCESSOR_NAME, …)`. */
export const CAPTURE_PROCESSOR_NAME = "realtime-voice-capture";

/** Bounds of `frameMs`: the VAD scores frames of 10–40 ms, and one frame is one `input_audio_buffer.append`. */
export const MIN_FRAME_MS = 10;
export const MAX_FRAME_MS = 40;

/**
 * Options of the capture processor, passed as `processorOptions` and changeable later with a `configure`
 * message. Every field is optional; a `configure` message changes only the fields it names.
 */
export interface CaptureOptions {
  /** Frame length in ms, 10–40, and `frameMs × 24` must be a whole number of samples. Default 20 (480 samples). */
  frameMs?: number;
  /** Segmenter tuning (thresholds, minimum speech, prefix padding, hangover); see `dsp/segmenter.ts`. */
  vad?: SegmenterOptions;
  /** Interval of `stats` messages in ms, 0 disables them. Default 1000. */
  statsIntervalMs?: number;
}

/** Processor → main: one frame of captured audio, posted for every frame (speech or not). */
export interface FrameMessage {
  type: "frame";
  /** 0, 1, 2, … in emission order; a gap means the main thread lost a message. */
  seq: number;
  /** Index of the frame's first sample in the 24 kHz output stream since the processor started. */
  timestamp: number;
  /** Mono 24 kHz PCM16, little-endian, `frameMs × 24` samples (shorter only at a `flush` or a `frameMs` change). Transferred. */
  pcm: ArrayBuffer;
  /** VAD speech probability of this frame, in [0, 1]. */
  probability: number;
  /** Whether the segmenter is inside a speech segment (incl. hangover) after this frame. */
  speech: boolean;
  /** RMS level of the frame in dBFS (1.0 RMS = 0 dB, so a full-scale sine reads −3 dB); silence reads −120. */
  level: number;
}

/** Processor → main: the segmenter entered speech; `sample` already reaches back by the prefix padding. */
export interface SpeechStartMessage {
  type: "speechstart";
  /** Sample index in the 24 kHz output stream, comparable with `FrameMessage.timestamp`; never < 0. */
  sample: number;
}

/** Processor → main: the segmenter left speech; `sample` includes the hangover. */
export interface SpeechEndMessage {
  type: "speechend";
  /** Sample index in the 24 kHz output stream. */
  sample: number;
}

/** Processor → main: running counters, every `statsIntervalMs` and after a `flush`. */
export interface StatsMessage {
  type: "stats";
  /** The AudioContext's sample rate, the resampler's input rate, in Hz. */
  inputRate: number;
  /** Channel count of the last render quantum that had input. */
  channels: number;
  /** Render quanta processed. */
  quanta: number;
  /** Frames posted. */
  frames: number;
  /** Input samples that were NaN or ±Infinity and were replaced by 0. */
  nonFinite: number;
  /** Output samples clamped to the PCM16 range. */
  clipped: number;
  /** Resampler group delay, in 24 kHz samples: `timestamp`s lag the microphone by this much. */
  delaySamples: number;
}

/** Machine-readable reasons of an `error` message. */
export type CaptureErrorCode =
  | "invalid-options"
  | "invalid-message"
  | "unsupported-sample-rate"
  /** An unexpected exception while processing audio; reported once, capture continues. */
  | "processing-failed";

/**
 * Processor → main: something was refused. The processor keeps running with its previous settings; it never
 * throws on the audio thread.
 */
export interface ErrorMessage {
  type: "error";
  code: CaptureErrorCode;
  message: string;
  /** JSON pointer to the offending field of the options or message, e.g. `/frameMs`, when there is one. */
  field?: string;
}

/** Processor → main: answer to `flush`, after the flushed tail frame (if any) was posted. */
export interface FlushedMessage {
  type: "flushed";
  /** `seq` of the last frame posted before this message, −1 when none was. */
  lastSeq: number;
}

/** Everything the processor posts. */
export type ProcessorMessage =
  | FrameMessage
  | SpeechStartMessage
  | SpeechEndMessage
  | StatsMessage
  | ErrorMessage
  | FlushedMessage;

/** Main → processor: change options; invalid options are answered with an `error` and change nothing. */
export interface ConfigureMessage {
  type: "configure";
  options: CaptureOptions;
}

/**
 * Main → processor: post the partial frame now (shorter than `frameMs`, if it holds any samples), then a `stats`
 * and a `flushed` message. Use before stopping so the last few milliseconds are not lost.
 */
export interface FlushMessage {
  type: "flush";
}

/** Everything the main thread may post. */
export type ControlMessage = ConfigureMessage | FlushMessage;

/** Result of {@link parseCaptureOptions}. */
export type ParsedOptions =
  | { ok: true; options: CaptureOptions }
  | { ok: false; field: string; message: string };

const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === "object" && value !== null && !Array.isArray(value);

/** Inclusive bounds of every numeric option, by JSON pointer. */
const BOUNDS: Record<string, [min: number, max: number]> = {
  "/frameMs": [MIN_FRAME_MS, MAX_FRAME_MS],
  "/statsIntervalMs": [0, 60000],
  "/vad/sampleRate": [PCM_RATE, PCM_RATE],
  "/vad/onsetThreshold": [0, 1],
  "/vad/offsetThreshold": [0, 1],
  "/vad/minSpeechMs": [0, 2000],
  "/vad/prefixPaddingMs": [0, 2000],
  "/vad/hangoverMs": [0, 10000],
};

/**
 * Validates untrusted capture options (from `processorOptions` or a `configure` message) without throwing.
 * Shared by both sides so that the client can reject bad options before they reach the audio thread.
 * Returns the options (known keys only, unknown keys are an error) or the first problem, with a JSON pointer
 * to the field.
 */
export function parseCaptureOptions(value: unknown): ParsedOptions {
  if (value === undefined || value === null) return { ok: true, options: {} };
  const fail = (field: string, message: string): ParsedOptions => ({ ok: false, field, message });
  /** Copies the numeric fields of `record` under `prefix`, or returns the first problem. */
  const numbers = (record: unknown, prefix: string, out: Record<string, number>): ParsedOptions | null => {
    if (!isRecord(record)) return fail(prefix, `${prefix || "options"} must be an object`);
    for (const key of Object.keys(record)) {
      const field = `${prefix}/${key}`;
      const bounds = BOUNDS[field];
      const n = record[key];
      if (key === "vad" && prefix === "") continue;
      if (!bounds) return fail(field, `unknown option ${field}`);
      if (typeof n !== "number" || !(n >= bounds[0] && n <= bounds[1])) {
        return fail(field, `${field} must be a number from ${bounds[0]} to ${bounds[1]}`);
      }
      out[key] = n;
    }
    return null;
  };
  const top: Record<string, number> = {};
  const problem = numbers(value, "", top);
  if (problem) return problem;
  const options: CaptureOptions = top;
  if (options.frameMs !== undefined && !Number.isInteger(options.frameMs * 24)) {
    return fail("/frameMs", "/frameMs must be a whole number of 24 kHz samples (a multiple of 1/24 ms)");
  }
  const vadValue = (value as Record<string, unknown>).vad;
  if (vadValue !== undefined) {
    const vad: Record<string, number> = {};
    const vadProblem = numbers(vadValue, "/vad", vad);
    if (vadProblem) return vadProblem;
    if ((vad.offsetThreshold ?? 0) > (vad.onsetThreshold ?? 1)) {
      return fail("/vad/offsetThreshold", "/vad/offsetThreshold must not exceed /vad/onsetThreshold");
    }
    options.vad = vad;
  }
  return { ok: true, options };
}

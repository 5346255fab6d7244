/**
 * The protocol between `recognizer.ts` (the peer's thread) and `recognizer-worker.ts` (the decoder's thread):
 * one discriminated union each way. Audio crosses as 24 kHz PCM16 in transferred buffers; the worker resamples.
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

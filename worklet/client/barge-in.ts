/**
 * Barge-in debouncing: while the model is speaking, local speech must hold for `bargeInMs` of consecutive frames
 * whose VAD probability reaches `threshold` before the model is interrupted, so echo, coughs and clicks shorter
 * than that do not cut it off. Fires at most once per model utterance.
 */
export class BargeInDetector {
  #threshold: number;
  #bargeInMs: number;
  #runMs = 0;
  #modelSpeaking = false;
  #fired = false;

  constructor(threshold: number, bargeInMs: number) {
    this.#threshold = threshold;
    this.#bargeInMs = bargeInMs;
  }

  get modelSpeaking(): boolean {
    return this.#modelSpeaking;
  }

  /** From server events: `output_audio_buffer.started` (true), `…stopped` / `…cleared` (false). */
  setModelSpeaking(speaking: boolean): void {
    if (speaking && !this.#modelSpeaking) this.#fired = false;
    this.#modelSpeaking = speaking;
  }

  /** One frame of `frameMs` with VAD `probability`; true exactly when the model should be interrupted now. */
  frame(probability: number, frameMs: number): boolean {
    this.#runMs = probability >= this.#threshold ? this.#runMs + frameMs : 0;
    if (!this.#modelSpeaking || this.#fired || this.#runMs < this.#bargeInMs) return false;
    this.#fired = true;
    return true;
  }
}

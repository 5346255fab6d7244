/**
 * Turns per-frame speech probabilities into speech segments: hysteresis between an onset and an offset
 * threshold, a minimum speech duration, prefix padding (pre-roll) and hangover, with sample-accurate
 * timestamps. Pure state machine, no allocation per frame except the returned event.
 */

/** Tuning of {@link Segmenter}; every field is optional and falls back to {@link SEGMENTER_DEFAULTS}. */
export interface SegmenterOptions {
  /** Sample rate of the sample indices, in Hz (default 24000). */
  sampleRate?: number;
  /** Probability in [0, 1] at or above which a frame counts as speech onset (default 0.5). */
  onsetThreshold?: number;
  /** Probability in [0, 1], ≤ `onsetThreshold`, below which a frame counts as non-speech (default 0.3). */
  offsetThreshold?: number;
  /** Speech must hold this long, in ms, before `speechstart` is emitted (default 60). */
  minSpeechMs?: number;
  /** `speechstart` reaches back this far before the first speech frame, in ms (default 300, like OpenAI's `prefix_padding_ms`). */
  prefixPaddingMs?: number;
  /** Speech lasts this long after the last speech frame, in ms (default 600, ≥ OpenAI's `silence_duration_ms` of 500). */
  hangoverMs?: number;
}

/** Segment boundary events; `sample` is an index at `sampleRate` Hz. */
export type SegmentEvent =
  /** Speech began; `sample` includes the prefix padding, is never < 0 and never before the previous `speechend`. */
  | { type: "speechstart"; sample: number }
  /** Speech ended; `sample` is the end of the last speech frame plus the hangover. */
  | { type: "speechend"; sample: number };

/** Defaults of every {@link SegmenterOptions} field. */
export const SEGMENTER_DEFAULTS: Readonly<Required<SegmenterOptions>> = {
  sampleRate: 24000,
  onsetThreshold: 0.5,
  offsetThreshold: 0.3,
  minSpeechMs: 60,
  prefixPaddingMs: 300,
  hangoverMs: 600,
};

/**
 * Speech segmenter over VAD probabilities. Feed every frame in order with `process(probability, frameStart,
 * frameLength)` (frameStart and frameLength in samples at `sampleRate`); it returns a `speechstart` or
 * `speechend` event, or null.
 *
 * - Not in speech: a frame with probability ≥ `onsetThreshold` opens a candidate; the candidate survives frames
 *   ≥ `offsetThreshold` and dies on a frame below it. Once the candidate spans `minSpeechMs`, `speechstart` is
 *   emitted with `sample` = candidate start − prefix padding (clamped to ≥ 0 and ≥ the last `speechend`).
 * - In speech: frames ≥ `offsetThreshold` extend it; once `hangoverMs` have passed since the end of the last
 *   such frame, `speechend` is emitted with `sample` = that end + hangover.
 * A non-finite probability reads as 0.
 *
 * @throws RangeError from the constructor and `configure` on invalid options (non-finite, negative, thresholds
 * outside [0, 1], `offsetThreshold` > `onsetThreshold`, sample rate not a positive integer).
 */
export class Segmenter {
  #options: Required<SegmenterOptions> = { ...SEGMENTER_DEFAULTS };
  #minSpeech = 0;
  #prefix = 0;
  #hangover = 0;
  #speech = false;
  #candidate = false;
  #candidateStart = 0;
  #lastSpeechEnd = 0;
  #lastEnd = 0;

  constructor(options: SegmenterOptions = {}) {
    this.configure(options);
  }

  /** Inside a segment (including its hangover) after the last frame. */
  get speech(): boolean {
    return this.#speech;
  }

  /** The options in force (defaults filled in). */
  get options(): Readonly<Required<SegmenterOptions>> {
    return this.#options;
  }

  /**
   * Changes options (unspecified fields keep their current value); takes effect from the next frame and keeps
   * the current segment. Throws RangeError on invalid values and then changes nothing.
   */
  configure(options: SegmenterOptions): void {
    const next = { ...this.#options };
    for (const [key, value] of Object.entries(options) as Array<
      [keyof SegmenterOptions, number | undefined]
    >) {
      if (value === undefined) continue;
      if (!(key in SEGMENTER_DEFAULTS)) throw new RangeError(`unknown segmenter option ${key}`);
      if (typeof value !== "number" || !Number.isFinite(value) || value < 0)
        throw new RangeError(`${key} must be a finite number ≥ 0, got ${String(value)}`);
      next[key] = value;
    }
    if (!Number.isInteger(next.sampleRate) || next.sampleRate <= 0)
      throw new RangeError(`sampleRate must be a positive integer, got ${next.sampleRate}`);
    if (next.onsetThreshold > 1 || next.offsetThreshold > 1)
      throw new RangeError("onsetThreshold and offsetThreshold must be in [0, 1]");
    if (next.offsetThreshold > next.onsetThreshold)
      throw new RangeError(
        `offsetThreshold (${next.offsetThreshold}) must not exceed onsetThreshold (${next.onsetThreshold})`,
      );
    this.#options = next;
    const perMs = next.sampleRate / 1000;
    this.#minSpeech = Math.round(next.minSpeechMs * perMs);
    this.#prefix = Math.round(next.prefixPaddingMs * perMs);
    this.#hangover = Math.round(next.hangoverMs * perMs);
  }

  /** Forgets the current segment and candidate (options stay). */
  reset(): void {
    this.#speech = false;
    this.#candidate = false;
    this.#candidateStart = 0;
    this.#lastSpeechEnd = 0;
    this.#lastEnd = 0;
  }

  /**
   * Feeds one frame: `probability` in [0, 1] for the samples [frameStart, frameStart + frameLength). Returns the
   * event this frame caused, or null.
   */
  process(probability: number, frameStart: number, frameLength: number): SegmentEvent | null {
    const p = Number.isFinite(probability) ? probability : 0;
    const end = frameStart + frameLength;
    const { onsetThreshold, offsetThreshold } = this.#options;
    if (this.#speech) {
      if (p >= offsetThreshold) {
        this.#lastSpeechEnd = end;
        return null;
      }
      if (end - this.#lastSpeechEnd >= this.#hangover) {
        this.#speech = false;
        this.#candidate = false;
        this.#lastEnd = this.#lastSpeechEnd + this.#hangover;
        return { type: "speechend", sample: this.#lastEnd };
      }
      return null;
    }
    if (this.#candidate ? p < offsetThreshold : p < onsetThreshold) {
      this.#candidate = false;
      return null;
    }
    if (!this.#candidate) {
      this.#candidate = true;
      this.#candidateStart = frameStart;
    }
    if (end - this.#candidateStart < this.#minSpeech) return null;
    this.#speech = true;
    this.#candidate = false;
    this.#lastSpeechEnd = end;
    const start = Math.max(0, this.#lastEnd, this.#candidateStart - this.#prefix);
    return { type: "speechstart", sample: start };
  }
}

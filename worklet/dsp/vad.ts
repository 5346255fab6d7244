/**
 * A voice activity detector small enough for the audio thread. Every 20 ms: box-car decimation to 12–24 kHz, a
 * Hann-windowed real FFT (`vad/real-fft.ts`), per-band noise floors by windowed minimum statistics
 * (`vad/noise-floor.ts`), the named features of `vad/features.ts` (band SNRs, a harmonic comb for an 80–400 Hz
 * pitch, spectral shape, short and long trends, cepstra of the spectrum above the floor, and the persistence of
 * spectral peaks and pitch that tells a ringtone from a voice), and a small network (`vad/classifier.ts`: one tanh
 * layer, then a GRU that carries context from hop to hop) whose int8 weights live in `vad-weights.ts` (trained
 * by `scripts/train-vad.ts`). No model download, no
 * allocation after construction.
 */
import { Classifier } from "./vad/classifier.ts";
import { FEATURE_COUNT, FeatureExtractor } from "./vad/features.ts";
import { BandNoiseFloor, bandLayout } from "./vad/noise-floor.ts";
import { RealFft } from "./vad/real-fft.ts";
import { VAD_WEIGHTS } from "./vad-weights.ts";

export { FEATURES, type FeatureName } from "./vad/features.ts";

/** Options of {@link VoiceActivityDetector}. */
export interface VoiceActivityDetectorOptions {
  /** Sample rate of the frames, in Hz: an integer from 8000 to 192000. Default 24000 (OpenAI Realtime PCM16). */
  sampleRate?: number;
}

/** Number of features the classifier reads; `VAD_WEIGHTS.inputs` must match. */
export const VAD_FEATURE_COUNT = FEATURE_COUNT;

const EPS = 1e-12;
/**
 * Window levels (dBFS, mean square of the 12 kHz analysis signal) over which the probability fades in. At
 * −80 dBFS a sound is under a quiet room's floor and a microphone's self-noise, so nothing there is speech the
 * server should hear; a step in such faint noise (a device settling, a gain change) otherwise looks like an onset
 * until the minimum-statistics floor catches up. The fade ends at −72 dBFS, below the quietest syllables that the
 * usual energy labelling (peak − 35 dB) counts as speech in a recording at −32 dBFS or louder.
 */
const QUIET_DB = -80;
const AUDIBLE_DB = -72;

// Built once per module: the weights are read-only, so every detector shares them and keeps its own state.
let classifier: Classifier | undefined;

/**
 * Frame-level speech probability for mono audio.
 *
 * `process(frame)` takes a Float32Array of mono samples in [−1, 1] at `sampleRate` Hz, of any length (10–40 ms
 * is typical; 240–960 samples at 24 kHz), and returns the speech probability in [0, 1] of the newest audio: the
 * maximum over the 20 ms analysis hops completed inside this frame (the previous value when none completed).
 * NaN, ±Infinity and denormals are read as 0; the result is always finite. The detector keeps state across
 * calls (the analysis window, the noise floors and the classifier's recurrent state); `reset()` forgets it.
 *
 * @throws RangeError from the constructor when `sampleRate` is not an integer from 8000 to 192000.
 */
export class VoiceActivityDetector {
  /** Sample rate in Hz. */
  readonly sampleRate: number;
  /** Analysis hop in input samples (20 ms). */
  readonly hopSize: number;
  /** The latest feature vector, in `FEATURES` order (diagnostics and training); overwritten on every hop. */
  readonly features = new Float32Array(VAD_FEATURE_COUNT);

  #probability = 0;
  readonly #decimation: number;
  readonly #invDecimation: number;
  #acc = 0;
  #accCount = 0;
  readonly #window: Float64Array;
  #filled = 0;
  readonly #fft: RealFft;
  readonly #floor: BandNoiseFloor;
  readonly #extractor: FeatureExtractor;
  readonly #classifier: Classifier;
  readonly #state: Float64Array;

  constructor(options: VoiceActivityDetectorOptions = {}) {
    const sampleRate = options.sampleRate ?? 24000;
    if (!Number.isInteger(sampleRate) || sampleRate < 8000 || sampleRate > 192000)
      throw new RangeError(`sampleRate must be an integer from 8000 to 192000 Hz, got ${sampleRate}`);
    // The tests check that the weights match FEATURES.
    classifier ??= new Classifier(VAD_WEIGHTS);
    this.#classifier = classifier;
    this.#state = classifier.state();
    this.sampleRate = sampleRate;
    // Box-car decimation to 12–24 kHz: VAD features need nothing above 6 kHz, and halving the rate halves the FFT.
    const decimation = Math.max(1, Math.floor(sampleRate / 12000));
    this.#decimation = decimation;
    this.#invDecimation = 1 / decimation;
    const rate = sampleRate / decimation;
    const hop = Math.round(rate / 50);
    this.hopSize = hop * decimation;
    this.#window = new Float64Array(hop);
    this.#fft = new RealFft(hop);
    this.#floor = new BandNoiseFloor(bandLayout(rate, this.#fft.size));
    this.#extractor = new FeatureExtractor(rate, this.#fft.power, this.#floor);
    this.reset();
  }

  /** Speech probability of the latest analysis hop, in [0, 1]. */
  get probability(): number {
    return this.#probability;
  }

  /** Forgets all audio: the analysis window, noise floors, smoothed features and the last probability. */
  reset(): void {
    this.#window.fill(0);
    this.#filled = 0;
    this.#acc = 0;
    this.#accCount = 0;
    this.#probability = 0;
    this.#floor.reset();
    this.#extractor.reset();
    this.#state.fill(0);
    this.features.fill(0);
  }

  /**
   * Feeds one frame (Float32Array of mono samples in [−1, 1] at `sampleRate` Hz, any length) and returns the
   * speech probability in [0, 1]: the highest of the 20 ms hops completed in this frame, or the previous value
   * when the frame completed none. Never throws on sample values.
   */
  process(frame: Float32Array): number {
    const win = this.#window;
    const size = win.length;
    const d = this.#decimation;
    const inv = this.#invDecimation;
    const length = frame.length;
    let filled = this.#filled;
    let acc = this.#acc;
    let count = this.#accCount;
    let best = -1;
    let i = 0;
    while (i < length) {
      if (count === 0 && i + d <= length) {
        // Whole decimation groups up to the end of the frame or of the window. Samples are stored unchecked;
        // the FFT input stage replaces NaN, ±Infinity and denormals.
        const groups = Math.min(size - filled, Math.floor((length - i) / d));
        if (d === 1) {
          for (let g = 0; g < groups; g++) win[filled++] = frame[i++] as number;
        } else if (d === 2) {
          for (let g = 0; g < groups; g++, i += 2)
            win[filled++] = ((frame[i] as number) + (frame[i + 1] as number)) * 0.5;
        } else {
          for (let g = 0; g < groups; g++) {
            let sum = 0;
            for (let j = 0; j < d; j++) sum += frame[i++] as number;
            win[filled++] = sum * inv;
          }
        }
      } else {
        // A group split across calls: one sample at a time.
        acc += frame[i++] as number;
        if (++count < d) continue;
        win[filled++] = acc * inv;
        acc = 0;
        count = 0;
      }
      if (filled === size) {
        filled = 0;
        const p = this.#analyse();
        if (p > best) best = p;
      }
    }
    this.#filled = filled;
    this.#acc = acc;
    this.#accCount = count;
    if (best >= 0) this.#probability = best;
    return this.#probability;
  }

  #analyse(): number {
    const fft = this.#fft;
    fft.analyse(this.#window);
    this.#floor.update(fft.power, fft.meanSquare);
    this.#extractor.extract(this.features);
    const db = 10 * Math.log10(fft.meanSquare + EPS * EPS);
    const gate = db >= AUDIBLE_DB ? 1 : db <= QUIET_DB ? 0 : (db - QUIET_DB) / (AUDIBLE_DB - QUIET_DB);
    return this.#classifier.predict(this.features, this.#state) * gate;
  }
}

/**
 * A voice activity detector small enough for the audio thread. Every 20 ms: box-car decimation to 12–24 kHz,
 * a Hann-windowed real FFT (256 points at 24 kHz input), per-band noise floors tracked by windowed minimum
 * statistics, 35 features (band SNRs, long-term spectral divergence, a harmonic comb for an 80–400 Hz pitch and
 * how many harmonics stand out, tonality, sparsity, flatness, flux, band shares, eight cepstral coefficients of
 * the spectrum above the floor, short/long averages of some of them, and the persistence of the spectral peaks
 * and the pitch over 40–120 ms, which tells a ringtone from a voice), and a 35 → 24 → 1 perceptron whose
 * int8 weights live in `vad-weights.ts` (trained by `scripts/train-vad.ts`). No model download, no allocation
 * after construction, ~6 KB minified and gzipped including the weights.
 */
import { VAD_WEIGHTS } from "./vad-weights.ts";

/** Options of {@link VoiceActivityDetector}. */
export interface VoiceActivityDetectorOptions {
  /** Sample rate of the frames, in Hz: an integer from 8000 to 192000. Default 24000 (OpenAI Realtime PCM16). */
  sampleRate?: number;
}

/** Number of features the classifier reads; `VAD_WEIGHTS.inputs` must match. */
export const VAD_FEATURE_COUNT = 35;
/** Cepstral coefficients (c1…c8) of the log band spectrum above the noise floor: the spectral envelope. */
const CEPSTRA = 8;

/** Band edges in Hz (roughly critical bands); bands above min(8 kHz, Nyquist) are dropped. */
const BAND_EDGES = [
  80, 200, 300, 400, 510, 630, 770, 920, 1080, 1270, 1480, 1720, 2000, 2320, 2700, 3150, 3700, 4400, 5300,
  6400, 8000,
];
/**
 * Minimum-statistics noise floor: the minimum of the smoothed band energy over FLOOR_BLOCKS blocks of
 * FLOOR_BLOCK_HOPS hops (1.2–1.4 s). Speech always dips between syllables within that span, while a stationary
 * sound that starts suddenly (a fan, an alarm, a hum) becomes the floor after ~1.3 s instead of being speech.
 */
const FLOOR_BLOCKS = 6;
const FLOOR_BLOCK_HOPS = 10;
const EPS = 1e-12;
/**
 * Mean square of the analysis window below which it counts as digital silence (about −110 dBFS). Capture often
 * starts with exact zeros (a device warming up, a muted track); a noise floor learnt from them would make the
 * first faint noise look like speech for a whole floor window, so such hops leave the floors alone.
 */
const DIGITAL_SILENCE = 1e-11;
/**
 * Window levels (dBFS, mean square of the 12 kHz analysis signal) over which the probability fades in. At
 * −80 dBFS a sound is under a quiet room's floor and a microphone's self-noise, so nothing there is speech the
 * server should hear; a step in such faint noise (a device settling, a gain change) otherwise looks like an onset
 * until the minimum-statistics floor catches up. The fade ends at −72 dBFS, below the quietest syllables that the
 * usual energy labelling (peak − 35 dB) counts as speech in a recording at −32 dBFS or louder.
 */
const QUIET_DB = -80;
const AUDIBLE_DB = -72;
/** F0 candidates of the harmonic comb: 32 log-spaced values from 80 to 400 Hz, harmonics up to 2 kHz. */
const F0_MIN = 80;
const F0_MAX = 400;
const F0_COUNT = 32;
const COMB_MAX_HZ = 2000;
const LTSD_HOPS = 5;
/**
 * Spectral persistence: the log-SNR spectrum below 4 kHz of the last PERSIST_HOPS hops, compared with the
 * current one at lags of 2 and 6 hops (40 and 120 ms). Bells, beeps and ringtones hold a fixed set of partials
 * for hundreds of ms; speech moves its harmonics (pitch wanders) and formants (syllables every 120–250 ms).
 */
const PERSIST_HOPS = 6;

/** Bytes of a base64 string (RFC 4648 §4) as signed int8; the weights ship this way, ~30 % smaller gzipped. */
function int8FromBase64(text: string): Int8Array {
  const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  const out = new Int8Array((text.replace(/=+$/, "").length * 3) >> 2);
  let acc = 0;
  let bits = 0;
  let o = 0;
  for (let i = 0; o < out.length; i++) {
    acc = ((acc << 6) | alphabet.indexOf(text.charAt(i))) & 0xffff;
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out[o++] = acc >> bits;
    }
  }
  return out;
}

// The classifier's first layer, built once per module: int8 weights times their per-unit scale and the
// feature standardisation scale (the mean is already folded into the bias), so that a hop costs one
// multiply-add per weight.
const HIDDEN = VAD_WEIGHTS.hidden;
const W1 = new Float64Array(HIDDEN * VAD_WEIGHTS.inputs);
const B1 = Float32Array.from(VAD_WEIGHTS.b1);
const W2 = Float32Array.from(VAD_WEIGHTS.w2);
{
  const q = int8FromBase64(VAD_WEIGHTS.w1);
  for (let j = 0; j < HIDDEN; j++)
    for (let i = 0; i < VAD_WEIGHTS.inputs; i++)
      W1[j * VAD_WEIGHTS.inputs + i] =
        (q[j * VAD_WEIGHTS.inputs + i] as number) *
        (VAD_WEIGHTS.w1Scale[j] as number) *
        (VAD_WEIGHTS.scale[i] as number);
}

const TANH_RANGE = 8;
const TANH_STEPS_PER_UNIT = 64;
const TANH = new Float64Array(2 * TANH_RANGE * TANH_STEPS_PER_UNIT + 2);
for (let k = 0; k < TANH.length; k++) TANH[k] = Math.tanh(k / TANH_STEPS_PER_UNIT - TANH_RANGE);

// Bit-level log2 (IEEE-754 exponent plus linear mantissa, error < 0.09): a full Math.log per FFT bin would
// cost more than the FFT itself.
const logBits = new Float32Array(1);
const logInt = new Int32Array(logBits.buffer);
function fastLog2(x: number): number {
  logBits[0] = x;
  return ((logInt[0] as number) - 1064866805) * 1.1920928955078125e-7;
}

/**
 * Frame-level speech probability for mono audio.
 *
 * `process(frame)` takes a Float32Array of mono samples in [−1, 1] at `sampleRate` Hz, of any length (10–40 ms
 * is typical; 240–960 samples at 24 kHz), and returns the speech probability in [0, 1] of the newest audio: the
 * maximum over the 20 ms analysis hops completed inside this frame (the previous value when none completed).
 * NaN, ±Infinity and denormals are read as 0; the result is always finite. The detector keeps state across
 * calls (the analysis window and the noise floors); `reset()` forgets it.
 *
 * @throws RangeError from the constructor when `sampleRate` is not an integer from 8000 to 192000.
 */
export class VoiceActivityDetector {
  /** Sample rate in Hz. */
  readonly sampleRate: number;
  /** Analysis hop in input samples (20 ms). */
  readonly hopSize: number;
  /** The latest feature vector (diagnostics and training); overwritten on every hop. */
  readonly features = new Float32Array(VAD_FEATURE_COUNT);

  #probability = 0;
  readonly #decimation: number;
  readonly #invDecimation: number;
  #acc = 0;
  #accCount = 0;
  readonly #window: Float64Array;
  readonly #taper: Float64Array;
  #filled = 0;
  readonly #re: Float64Array;
  readonly #im: Float64Array;
  readonly #cos: Float64Array;
  readonly #sin: Float64Array;
  readonly #cosN: Float32Array;
  readonly #sinN: Float32Array;
  readonly #bitrev: Uint16Array;
  readonly #power: Float64Array;
  readonly #excess: Float64Array;
  readonly #logSnr: Float64Array;
  readonly #scale: number;
  readonly #bandLo: Uint16Array;
  readonly #bandHi: Uint16Array;
  readonly #bandCount: number;
  readonly #speechBand: Uint8Array;
  readonly #energy: Float32Array;
  readonly #smooth: Float32Array;
  readonly #floor: Float32Array;
  readonly #prevSnr: Float32Array;
  readonly #history: Float32Array;
  #historyAt = 0;
  #started = false;
  /** Consecutive hops whose window was audible: floors learn only from windows with no digital silence. */
  #audibleHops = 0;
  #windowPower = 0;
  readonly #blockMin: Float32Array;
  readonly #currentMin: Float32Array;
  #blockHops = 0;
  #blockAt = 0;
  readonly #combPos: Uint16Array;
  readonly #pairPeak: Uint16Array;
  readonly #pairValley: Uint16Array;
  readonly #pairContrast: Float32Array;
  readonly #pairClipped: Float32Array;
  readonly #pastMin: Float32Array;
  readonly #combStart: Uint16Array;
  readonly #combCount: Uint8Array;
  readonly #combInv: Float64Array;
  readonly #binLo200: number;
  readonly #bin300: number;
  readonly #bin4000: number;
  readonly #binMax: number;
  #emaSnr = 0;
  #emaHarm = 0;
  #emaFlux = 0;
  #slowSnr = 0;
  #slowHarm = 0;
  #emaCoverage = 0;
  readonly #logBand: Float32Array;
  readonly #dct: Float32Array;
  readonly #harmHold: Float32Array;
  readonly #persist: Float32Array;
  #persistAt = 0;
  #lastF0 = 0;
  #lastPeak = 0;
  #pitchJitter = 0;
  #peakJitter = 0;
  #emaSim = 0;
  #steadyHops = 0;

  constructor(options: VoiceActivityDetectorOptions = {}) {
    const sampleRate = options.sampleRate ?? 24000;
    if (!Number.isInteger(sampleRate) || sampleRate < 8000 || sampleRate > 192000)
      throw new RangeError(`sampleRate must be an integer from 8000 to 192000 Hz, got ${sampleRate}`);
    if (VAD_WEIGHTS.inputs !== VAD_FEATURE_COUNT)
      throw new RangeError("VAD weights do not match the features");
    this.sampleRate = sampleRate;
    // Box-car decimation to 12–24 kHz: VAD features need nothing above 6 kHz, and halving the rate halves the FFT.
    const decimation = Math.max(1, Math.floor(sampleRate / 12000));
    this.#decimation = decimation;
    this.#invDecimation = 1 / decimation;
    const rate = sampleRate / decimation;
    const hop = Math.round(rate / 50);
    this.hopSize = hop * decimation;
    const win = hop;
    let n = 64;
    while (n < win) n *= 2;
    this.#window = new Float64Array(win);
    this.#taper = new Float64Array(win);
    let sumW2 = 0;
    for (let i = 0; i < win; i++) {
      const w = 0.5 - 0.5 * Math.cos((2 * Math.PI * (i + 0.5)) / win);
      this.#taper[i] = w;
      sumW2 += w * w;
    }
    // One-sided power normalised so that a band's energy is its share of the mean square.
    this.#scale = 2 / (n * sumW2);
    const m = n / 2;
    this.#re = new Float64Array(m);
    this.#im = new Float64Array(m);
    // Twiddles of every radix-2 stage, concatenated: the stage of half-length h starts at index h − 1.
    this.#cos = new Float64Array(m);
    this.#sin = new Float64Array(m);
    for (let h = 1; h < m; h <<= 1) {
      for (let k = 0; k < h; k++) {
        this.#cos[h - 1 + k] = Math.cos((Math.PI * k) / h);
        this.#sin[h - 1 + k] = Math.sin((Math.PI * k) / h);
      }
    }
    this.#cosN = new Float32Array(m + 1);
    this.#sinN = new Float32Array(m + 1);
    for (let k = 0; k <= m; k++) {
      this.#cosN[k] = Math.cos((2 * Math.PI * k) / n);
      this.#sinN[k] = Math.sin((2 * Math.PI * k) / n);
    }
    this.#bitrev = new Uint16Array(m);
    const bits = Math.log2(m);
    for (let i = 0; i < m; i++) {
      let r = 0;
      for (let b = 0; b < bits; b++) r |= ((i >> b) & 1) << (bits - 1 - b);
      this.#bitrev[i] = r;
    }
    this.#power = new Float64Array(m + 1);
    this.#excess = new Float64Array(m + 1);
    this.#logSnr = new Float64Array(m + 2);

    const df = rate / n;
    const top = Math.min(8000, rate / 2 - df);
    const lo: number[] = [];
    const hi: number[] = [];
    const speech: number[] = [];
    for (let b = 0; b + 1 < BAND_EDGES.length; b++) {
      const a = BAND_EDGES[b] as number;
      const z = Math.min(BAND_EDGES[b + 1] as number, top);
      if (z - a < df) break;
      const kLo = Math.max(1, Math.round(a / df));
      const kHi = Math.max(kLo + 1, Math.round(z / df));
      if (kHi > m) break;
      lo.push(kLo);
      hi.push(kHi);
      speech.push(a >= 200 && z <= 4000 ? 1 : 0);
    }
    this.#bandCount = lo.length;
    this.#bandLo = Uint16Array.from(lo);
    this.#bandHi = Uint16Array.from(hi);
    this.#speechBand = Uint8Array.from(speech);
    const bands = this.#bandCount;
    this.#energy = new Float32Array(bands);
    this.#smooth = new Float32Array(bands);
    this.#floor = new Float32Array(bands);
    this.#prevSnr = new Float32Array(bands);
    this.#history = new Float32Array(bands * LTSD_HOPS);
    this.#blockMin = new Float32Array(bands * FLOOR_BLOCKS);
    this.#pastMin = new Float32Array(bands);
    this.#currentMin = new Float32Array(bands);
    this.#logBand = new Float32Array(bands);
    this.#dct = new Float32Array(CEPSTRA * bands);
    for (let c = 0; c < CEPSTRA; c++)
      for (let b = 0; b < bands; b++)
        this.#dct[c * bands + b] = Math.cos((Math.PI * (c + 1) * (b + 0.5)) / bands) * Math.sqrt(2 / bands);
    this.#binLo200 = Math.max(1, Math.round(200 / df));
    this.#bin300 = Math.max(1, Math.round(300 / df));
    this.#bin4000 = Math.min(m - 1, Math.round(4000 / df));
    this.#binMax = hi[hi.length - 1] ?? m;

    // Harmonic comb: for each F0, fractional bin positions of harmonics h·F0 and of valleys (h + ½)·F0.
    const pos: number[] = [];
    const start: number[] = [];
    const count: number[] = [];
    const combTop = Math.min(COMB_MAX_HZ, rate / 2 - 2 * df);
    for (let c = 0; c < F0_COUNT; c++) {
      const f0 = F0_MIN * (F0_MAX / F0_MIN) ** (c / (F0_COUNT - 1));
      start.push(pos.length);
      let h = 1;
      for (; (h + 0.5) * f0 <= combTop; h++) pos.push((h * f0) / df, ((h + 0.5) * f0) / df);
      count.push(h - 1);
    }
    // Candidates share many (harmonic, valley) bin pairs once rounded: each distinct pair is evaluated once per
    // hop and the candidates index into the results.
    const pairIndex = new Map<number, number>();
    const peaks: number[] = [];
    const valleys: number[] = [];
    const refs: number[] = [];
    for (let u = 0; u < pos.length; u += 2) {
      const a = Math.round(pos[u] as number);
      const z = Math.round(pos[u + 1] as number);
      const key = a * 65536 + z;
      let r = pairIndex.get(key);
      if (r === undefined) {
        r = peaks.length;
        pairIndex.set(key, r);
        peaks.push(a);
        valleys.push(z);
      }
      refs.push(r);
    }
    this.#combPos = Uint16Array.from(refs);
    this.#pairPeak = Uint16Array.from(peaks);
    this.#pairValley = Uint16Array.from(valleys);
    this.#pairContrast = new Float32Array(peaks.length);
    this.#pairClipped = new Float32Array(peaks.length);
    for (let c = 0; c < start.length; c++) start[c] = (start[c] as number) / 2;
    this.#combStart = Uint16Array.from(start);
    this.#combCount = Uint8Array.from(count);
    this.#combInv = Float64Array.from(count, (n) => (n > 0 ? 1 / n : 0));
    this.#harmHold = new Float32Array(10);
    this.#persist = new Float32Array(PERSIST_HOPS * (this.#bin4000 + 1));
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
    this.#started = false;
    this.#audibleHops = 0;
    this.#blockMin.fill(Number.POSITIVE_INFINITY);
    this.#pastMin.fill(Number.POSITIVE_INFINITY);
    this.#currentMin.fill(Number.POSITIVE_INFINITY);
    this.#blockHops = 0;
    this.#blockAt = 0;
    this.#probability = 0;
    this.#prevSnr.fill(0);
    this.#history.fill(0);
    this.#historyAt = 0;
    this.#emaSnr = 0;
    this.#emaHarm = 0;
    this.#emaFlux = 0;
    this.#slowSnr = 0;
    this.#slowHarm = 0;
    this.#emaCoverage = 0;
    this.#harmHold.fill(0);
    this.#persist.fill(0);
    this.#persistAt = 0;
    this.#lastF0 = 0;
    this.#lastPeak = 0;
    this.#pitchJitter = 0;
    this.#peakJitter = 0;
    this.#emaSim = 0;
    this.#steadyHops = 0;
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
    this.#spectrum();
    this.#bandsAndFloor();
    this.#extract();
    const db = 10 * Math.log10(this.#windowPower + EPS * EPS);
    const gate = db >= AUDIBLE_DB ? 1 : db <= QUIET_DB ? 0 : (db - QUIET_DB) / (AUDIBLE_DB - QUIET_DB);
    return this.#classify() * gate;
  }

  /** Windowed real FFT of the analysis window into `#power` (bins 0..N/2), via an N/2-point complex FFT. */
  #spectrum(): void {
    const re = this.#re;
    const im = this.#im;
    const w = this.#window;
    const t = this.#taper;
    const m = re.length;
    const rev = this.#bitrev;
    const size = w.length;
    // NaN or ±Infinity anywhere makes the sum of squares non-finite, and absurd values make it huge: only then
    // is the window cleaned sample by sample (NaN → 0, clamp to ±1e4). Float32 denormals are normal doubles in
    // the arithmetic below, so they cost nothing.
    let sq = 0;
    for (let i = 0; i < size; i++) {
      const x = w[i] as number;
      sq += x * x;
    }
    this.#windowPower = sq / size;
    if (!(sq < 1e8)) {
      for (let i = 0; i < size; i++) {
        const x = w[i] as number;
        w[i] = x > 1e4 ? 1e4 : x < -1e4 ? -1e4 : Number.isNaN(x) ? 0 : x;
      }
    }
    // Pack even samples into the real part, odd ones into the imaginary part (the N/2-point trick), in
    // bit-reversed order, zero-padding past the window. No typed-array read goes out of bounds: V8 turns
    // those into slow generic loads.
    const pairs = size >> 1;
    for (let i = 0; i < pairs; i++) {
      const a = 2 * i;
      const j = rev[i] as number;
      re[j] = (w[a] as number) * (t[a] as number);
      im[j] = (w[a + 1] as number) * (t[a + 1] as number);
    }
    if (size & 1) {
      const j = rev[pairs] as number;
      re[j] = (w[size - 1] as number) * (t[size - 1] as number);
      im[j] = 0;
    }
    for (let i = (size + 1) >> 1; i < m; i++) {
      const j = rev[i] as number;
      re[j] = 0;
      im[j] = 0;
    }
    const cos = this.#cos;
    const sin = this.#sin;
    for (let p = 0; p < m; p += 2) {
      const ar = re[p] as number;
      const ai = im[p] as number;
      const br = re[p + 1] as number;
      const bi = im[p + 1] as number;
      re[p] = ar + br;
      im[p] = ai + bi;
      re[p + 1] = ar - br;
      im[p + 1] = ai - bi;
    }
    for (let half = 2; half < m; half <<= 1) {
      const len = half << 1;
      for (let k = 0; k < half; k++) {
        const c = cos[half - 1 + k] as number;
        const sn = sin[half - 1 + k] as number;
        for (let p = k; p < m; p += len) {
          const q = p + half;
          const qr = re[q] as number;
          const qi = im[q] as number;
          const tr = c * qr + sn * qi;
          const ti = c * qi - sn * qr;
          const pr = re[p] as number;
          const pi = im[p] as number;
          re[q] = pr - tr;
          im[q] = pi - ti;
          re[p] = pr + tr;
          im[p] = pi + ti;
        }
      }
    }
    const power = this.#power;
    const scale = this.#scale;
    const cn = this.#cosN;
    const sn = this.#sinN;
    for (let k = 0; k <= m; k++) {
      const ar = re[k === m ? 0 : k] as number;
      const ai = im[k === m ? 0 : k] as number;
      const br = re[k === 0 ? 0 : m - k] as number;
      const bi = im[k === 0 ? 0 : m - k] as number;
      const er = 0.5 * (ar + br);
      const ei = 0.5 * (ai - bi);
      const or = 0.5 * (ai + bi);
      const oi = -0.5 * (ar - br);
      const c = cn[k] as number;
      const s = sn[k] as number;
      const xr = er + c * or + s * oi;
      const xi = ei + c * oi - s * or;
      power[k] = (xr * xr + xi * xi) * scale;
    }
  }

  /** Band energies, their minimum-statistics noise floors, and the per-bin SNR spectrum for the comb. */
  #bandsAndFloor(): void {
    const power = this.#power;
    const energy = this.#energy;
    const smooth = this.#smooth;
    const floor = this.#floor;
    const bands = this.#bandCount;
    const lo = this.#bandLo;
    const hi = this.#bandHi;
    const blockMin = this.#blockMin;
    const pastMin = this.#pastMin;
    const currentMin = this.#currentMin;
    // The window spans about one hop, so the hop after the first audible one is the first without zeros in it.
    this.#audibleHops = this.#windowPower > DIGITAL_SILENCE ? this.#audibleHops + 1 : 0;
    const learn = this.#audibleHops >= 2;
    for (let b = 0; b < bands; b++) {
      let e = EPS;
      for (let k = lo[b] as number; k < (hi[b] as number); k++) e += power[k] as number;
      energy[b] = e;
      const s = this.#started ? 0.6 * (smooth[b] as number) + 0.4 * e : e;
      smooth[b] = s;
      if (learn) {
        let f = Math.min(currentMin[b] as number, s);
        currentMin[b] = f;
        if ((pastMin[b] as number) < f) f = pastMin[b] as number;
        floor[b] = f;
      } else if (!this.#started) {
        floor[b] = s;
      }
    }
    if (learn) this.#started = true;
    if (learn && ++this.#blockHops === FLOOR_BLOCK_HOPS) {
      blockMin.set(currentMin, this.#blockAt * bands);
      this.#blockAt = (this.#blockAt + 1) % FLOOR_BLOCKS;
      currentMin.fill(Number.POSITIVE_INFINITY);
      for (let b = 0; b < bands; b++) {
        let f = Number.POSITIVE_INFINITY;
        for (let u = 0; u < FLOOR_BLOCKS; u++) f = Math.min(f, blockMin[u * bands + b] as number);
        pastMin[b] = f;
      }
      this.#blockHops = 0;
    }
    const excess = this.#excess;
    const logSnr = this.#logSnr;
    // The bands tile [first band's low bin, last band's high bin) without gaps: every bin there is written
    // below, and the bins outside stay 0 from construction.
    for (let b = 0; b < bands; b++) {
      const kHi = hi[b] as number;
      const kLo = lo[b] as number;
      const perBin = (floor[b] as number) / (kHi - kLo);
      const inv = 1 / perBin;
      for (let k = kLo; k < kHi; k++) {
        const p = power[k] as number;
        if (p > perBin) {
          excess[k] = p - perBin;
          logSnr[k] = fastLog2(p * inv);
        } else {
          excess[k] = 0;
          logSnr[k] = 0;
        }
      }
    }
  }

  #extract(): void {
    const energy = this.#energy;
    const floor = this.#floor;
    const bands = this.#bandCount;
    const history = this.#history;
    const prev = this.#prevSnr;
    const at = this.#historyAt * bands;
    const speechBand = this.#speechBand;
    let snrSpeech = 0;
    let nSpeech = 0;
    let snrAll = 0;
    let snrMax = 0;
    let sumE = 0;
    let sumN = 0;
    let flux = 0;
    for (let b = 0; b < bands; b++) {
      const e = energy[b] as number;
      const n = floor[b] as number;
      history[at + b] = e;
      sumE += e;
      sumN += n;
      let snr = 3.0103 * fastLog2(e / n);
      if (snr < 0) snr = 0;
      else if (snr > 60) snr = 60;
      snrAll += snr;
      if (speechBand[b]) {
        snrSpeech += snr;
        nSpeech++;
        if (snr > snrMax) snrMax = snr;
      }
      flux += Math.abs(snr - (prev[b] as number));
      prev[b] = snr;
    }
    this.#historyAt = (this.#historyAt + 1) % LTSD_HOPS;
    snrSpeech /= Math.max(1, nSpeech);
    snrAll /= Math.max(1, bands);
    flux /= Math.max(1, bands);
    let ltsd = 0;
    for (let b = 0; b < bands; b++) {
      let mx = 0;
      for (let h = 0; h < LTSD_HOPS; h++) {
        const v = history[h * bands + b] as number;
        if (v > mx) mx = v;
      }
      ltsd += mx / (floor[b] as number);
    }
    ltsd = 10 * Math.log10(ltsd / Math.max(1, bands) + EPS);
    const snrTotal = Math.max(0, 10 * Math.log10(sumE / sumN));

    // Harmonic comb on the log-SNR spectrum: mean peak-minus-valley contrast of the best F0 candidate.
    const logSnr = this.#logSnr;
    const pos = this.#combPos;
    const combStart = this.#combStart;
    const combCount = this.#combCount;
    const combInv = this.#combInv;
    // The clipped variant counts how many harmonics stand out (up to 10 dB each), so that one loud pure tone
    // that happens to sit on a comb tooth cannot look like a voice.
    let harm = 0;
    let f0 = 0;
    let coverage = 0;
    const pairPeak = this.#pairPeak;
    const pairValley = this.#pairValley;
    const pairContrast = this.#pairContrast;
    const pairClipped = this.#pairClipped;
    for (let u = 0; u < pairPeak.length; u++) {
      const contrast =
        (logSnr[pairPeak[u] as number] as number) - (logSnr[pairValley[u] as number] as number);
      pairContrast[u] = contrast;
      pairClipped[u] = contrast > 0 ? Math.min(contrast, 3.32) : 0;
    }
    for (let c = 0; c < F0_COUNT; c++) {
      const s0 = combStart[c] as number;
      const count = combCount[c] as number;
      let acc = 0;
      let clipped = 0;
      for (let h = s0; h < s0 + count; h++) {
        const r = pos[h] as number;
        acc += pairContrast[r] as number;
        clipped += pairClipped[r] as number;
      }
      const v = acc * (combInv[c] as number);
      if (v > harm) {
        harm = v;
        f0 = c;
      }
      const w = clipped * (combInv[c] as number);
      if (w > coverage) coverage = w;
    }

    // Tonality, flatness and band shares on the power above the floor.
    const excess = this.#excess;
    const power = this.#power;
    let total = EPS;
    let speech = EPS;
    let low = 0;
    let high = 0;
    let peak3 = 0;
    let peakBin = 0;
    let inBand = EPS;
    let squares = 0;
    let logSum = 0;
    let linSum = 0;
    const bin300 = this.#bin300;
    const bin4000 = this.#bin4000;
    const binLo200 = this.#binLo200;
    const binMax = this.#binMax;
    for (let k = 1; k < binMax; k++) {
      const x = excess[k] as number;
      total += x;
      if (k < bin300) low += x;
      else if (k <= bin4000) speech += x;
      else high += x;
    }
    for (let k = binLo200; k <= bin4000; k++) {
      const trio = (excess[k - 1] as number) + (excess[k] as number) + (excess[k + 1] as number);
      if (trio > peak3) {
        peak3 = trio;
        peakBin = k;
      }
      const x = excess[k] as number;
      inBand += x;
      squares += x * x;
      const p = (power[k] as number) + EPS;
      linSum += p;
      logSum += fastLog2(p);
    }
    const nFlat = bin4000 - binLo200 + 1;
    const flatness = logSum / nFlat - fastLog2(linSum / nFlat);
    const tonality = peak3 / inBand;
    // Participation ratio of the excess spectrum (log2): 0 when flat, −log2(bins) for a single bin.
    const sparsity = squares > 0 ? fastLog2((inBand * inBand) / (nFlat * squares) + EPS) : 0;

    this.#emaSnr += 0.25 * (snrSpeech - this.#emaSnr);
    this.#emaHarm += 0.25 * (harm - this.#emaHarm);
    this.#emaFlux += 0.25 * (flux - this.#emaFlux);
    this.#slowSnr += 0.06 * (snrSpeech - this.#slowSnr);
    this.#slowHarm += 0.06 * (harm - this.#slowHarm);
    const hold = this.#harmHold;
    hold.copyWithin(0, 1);
    hold[hold.length - 1] = harm;
    let harmMax = 0;
    for (let i = 0; i < hold.length; i++) if ((hold[i] as number) > harmMax) harmMax = hold[i] as number;

    const f = this.features;
    f[0] = snrSpeech;
    f[1] = snrAll;
    f[2] = snrMax;
    f[3] = snrTotal;
    f[4] = ltsd;
    f[5] = flux;
    f[6] = harm;
    f[7] = tonality;
    f[8] = flatness;
    f[9] = speech / total;
    f[10] = low / total;
    f[11] = high / total;
    f[12] = this.#emaSnr;
    f[13] = this.#emaHarm;
    f[14] = this.#emaFlux;
    f[15] = this.#slowSnr;
    f[16] = this.#slowHarm;
    f[17] = harmMax;
    f[18] = coverage;
    f[19] = sparsity;
    this.#emaCoverage += 0.25 * (coverage - this.#emaCoverage);
    f[20] = this.#emaCoverage;

    // Spectral envelope of what rises above the floor: DCT-II of log band excess (c0, the level, left out).
    const logBand = this.#logBand;
    for (let b = 0; b < bands; b++) {
      const e = energy[b] as number;
      const n = floor[b] as number;
      logBand[b] = fastLog2((e > 1.01 * n ? e - n : 0.01 * n) + EPS);
    }
    const dct = this.#dct;
    for (let c = 0; c < CEPSTRA; c++) {
      let acc = 0;
      for (let b = 0; b < bands; b++) acc += (dct[c * bands + b] as number) * (logBand[b] as number);
      f[21 + c] = acc;
    }

    // Persistence of the spectral peaks and stability of the pitch: what tells a ringtone from a voice.
    const nb = this.#bin4000 + 1;
    const ring = this.#persist;
    const now = this.#persistAt;
    const lag2 = ((now + PERSIST_HOPS - 2) % PERSIST_HOPS) * nb;
    const lag6 = now * nb;
    let dot2 = 0;
    let dot6 = 0;
    let n0 = 0;
    let n2 = 0;
    let n6 = 0;
    for (let k = 1; k < nb; k++) {
      const x = logSnr[k] as number;
      const a = ring[lag2 + k] as number;
      const b = ring[lag6 + k] as number;
      dot2 += x * a;
      dot6 += x * b;
      n0 += x * x;
      n2 += a * a;
      n6 += b * b;
      ring[lag6 + k] = x;
    }
    this.#persistAt = (now + 1) % PERSIST_HOPS;
    const sim2 = dot2 / Math.sqrt(n0 * n2 + 1e-6);
    const sim6 = dot6 / Math.sqrt(n0 * n6 + 1e-6);
    this.#emaSim += 0.1 * (sim2 - this.#emaSim);
    this.#steadyHops = sim2 > 0.8 ? Math.min(50, this.#steadyHops + 1) : 0;
    const df0 = Math.min(8, Math.abs(f0 - this.#lastF0));
    const dPeak = Math.min(8, Math.abs(peakBin - this.#lastPeak));
    this.#lastF0 = f0;
    this.#lastPeak = peakBin;
    this.#pitchJitter += 0.2 * (df0 - this.#pitchJitter);
    this.#peakJitter += 0.2 * (dPeak - this.#peakJitter);
    f[29] = sim2;
    f[30] = sim6;
    f[31] = this.#emaSim;
    f[32] = this.#steadyHops * 0.02;
    f[33] = this.#pitchJitter;
    f[34] = this.#peakJitter;
  }

  #classify(): number {
    const f = this.features;
    let out = VAD_WEIGHTS.b2;
    for (let j = 0; j < HIDDEN; j++) {
      let a = B1[j] as number;
      const row = j * VAD_FEATURE_COUNT;
      for (let i = 0; i < VAD_FEATURE_COUNT; i++) a += (W1[row + i] as number) * (f[i] as number);
      // tanh from a table with linear interpolation (error < 3e-5): an exp per unit cost more than the layer.
      let t: number;
      if (a >= TANH_RANGE) t = 1;
      else if (a <= -TANH_RANGE) t = -1;
      else {
        const x = (a + TANH_RANGE) * TANH_STEPS_PER_UNIT;
        const k = x | 0;
        const lo = TANH[k] as number;
        t = lo + (x - k) * ((TANH[k + 1] as number) - lo);
      }
      out += (W2[j] as number) * t;
    }
    const p = 1 / (1 + Math.exp(-out));
    return p >= 0 && p <= 1 ? p : 0;
  }
}

/**
 * The VAD's features, one 20 ms hop at a time, from the hop's power spectrum and its band noise floors. The
 * order of {@link FEATURES} is the classifier's input order: the weights in `vad-weights.ts` and the training
 * script (`scripts/train-vad.ts`) both follow it. Each group below writes its own slice of a preallocated
 * Float32Array. Allocation-free after construction.
 */
import type { BandNoiseFloor } from "./noise-floor.ts";

/** Feature names in classifier input order, grouped as the functions below write them. */
export const FEATURES = [
  // levels: band SNRs above the noise floor (dB), long-term spectral divergence, spectral flux
  "snrSpeech",
  "snrAll",
  "snrMax",
  "snrTotal",
  "ltsd",
  "flux",
  // harmonicity: harmonic comb for an 80–400 Hz pitch on the log-SNR spectrum
  "harmonicity",
  "harmonicCoverage",
  "harmonicityMax200ms",
  // shape: how the power above the floor is spread
  "tonality",
  "flatness",
  "sparsity",
  "shareSpeech",
  "shareLow",
  "shareHigh",
  // trends: short (≈ 80 ms) and long (≈ 330 ms) averages
  "snrSpeech80ms",
  "harmonicity80ms",
  "flux80ms",
  "snrSpeech330ms",
  "harmonicity330ms",
  "harmonicCoverage80ms",
  // envelope: cepstral coefficients c1…c8 of the log band spectrum above the floor
  "cepstrum1",
  "cepstrum2",
  "cepstrum3",
  "cepstrum4",
  "cepstrum5",
  "cepstrum6",
  "cepstrum7",
  "cepstrum8",
  // persistence: spectral peaks and pitch held over 40–120 ms tell a ringtone from a voice
  "similarity40ms",
  "similarity120ms",
  "similarityTrend",
  "steadyHops",
  "pitchJitter",
  "peakJitter",
] as const;

/** One feature's name. */
export type FeatureName = (typeof FEATURES)[number];
/** Number of features the classifier reads; the weights' `inputs` must match. */
export const FEATURE_COUNT = 35;

// Where each group's slice starts in FEATURES. Numbers rather than FEATURES.indexOf(…), so that the names stay
// out of the worklet bundle; the tests check that they agree with FEATURES.
const LEVELS = 0;
const HARMONICITY = 6;
const SHAPE = 9;
const TRENDS = 15;
const ENVELOPE = 21;
const PERSISTENCE = 29;
/** The first feature of each group, by the name of its first feature (for tests and diagnostics). */
export const FEATURE_GROUPS = {
  snrSpeech: LEVELS,
  harmonicity: HARMONICITY,
  tonality: SHAPE,
  snrSpeech80ms: TRENDS,
  cepstrum1: ENVELOPE,
  similarity40ms: PERSISTENCE,
} as const satisfies Partial<Record<FeatureName, number>>;

/** Cepstral coefficients (c1…c8) of the log band spectrum above the noise floor: the spectral envelope. */
const CEPSTRA = 8;
const EPS = 1e-12;
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

// Bit-level log2 (IEEE-754 exponent plus linear mantissa, error < 0.09): a full Math.log per FFT bin would
// cost more than the FFT itself.
const logBits = new Float32Array(1);
const logInt = new Int32Array(logBits.buffer);
function fastLog2(x: number): number {
  logBits[0] = x;
  return ((logInt[0] as number) - 1064866805) * 1.1920928955078125e-7;
}

/**
 * Computes {@link FEATURES} for consecutive hops of one stream; keeps the state the trends, the long-term
 * divergence and the persistence need.
 */
export class FeatureExtractor {
  readonly #floor: BandNoiseFloor;
  readonly #power: Float64Array;
  readonly #excess: Float64Array;
  readonly #logSnr: Float64Array;
  readonly #prevSnr: Float32Array;
  readonly #history: Float32Array;
  #historyAt = 0;
  readonly #combPos: Uint16Array;
  readonly #pairPeak: Uint16Array;
  readonly #pairValley: Uint16Array;
  readonly #pairContrast: Float32Array;
  readonly #pairClipped: Float32Array;
  readonly #combStart: Uint16Array;
  readonly #combCount: Uint8Array;
  readonly #combInv: Float64Array;
  readonly #binLo200: number;
  readonly #bin300: number;
  readonly #bin4000: number;
  readonly #binMax: number;
  readonly #logBand: Float32Array;
  readonly #dct: Float32Array;
  readonly #harmHold: Float32Array;
  readonly #persist: Float32Array;
  #persistAt = 0;
  #f0 = 0;
  #peakBin = 0;
  // This hop's level and harmonicity at full precision, and their averages (snrSpeech80ms … in FEATURES order).
  #snrSpeech = 0;
  #flux = 0;
  #harm = 0;
  #coverage = 0;
  readonly #trend = new Float64Array(6);
  #lastF0 = 0;
  #lastPeak = 0;
  #pitchJitter = 0;
  #peakJitter = 0;
  #emaSim = 0;
  #steadyHops = 0;

  /**
   * @param rate sample rate of the analysed signal, Hz
   * @param power the FFT's power spectrum (bins 0…N/2), read on every `extract`
   * @param floor the band noise floors of the same spectrum, updated before every `extract`
   */
  constructor(rate: number, power: Float64Array, floor: BandNoiseFloor) {
    this.#floor = floor;
    this.#power = power;
    const m = power.length - 1;
    const n = 2 * m;
    const df = rate / n;
    const bands = floor.bands.lo.length;
    this.#excess = new Float64Array(m + 1);
    this.#logSnr = new Float64Array(m + 2);
    this.#prevSnr = new Float32Array(bands);
    this.#history = new Float32Array(bands * LTSD_HOPS);
    this.#logBand = new Float32Array(bands);
    this.#dct = new Float32Array(CEPSTRA * bands);
    for (let c = 0; c < CEPSTRA; c++)
      for (let b = 0; b < bands; b++)
        this.#dct[c * bands + b] = Math.cos((Math.PI * (c + 1) * (b + 0.5)) / bands) * Math.sqrt(2 / bands);
    this.#binLo200 = Math.max(1, Math.round(200 / df));
    this.#bin300 = Math.max(1, Math.round(300 / df));
    this.#bin4000 = Math.min(m - 1, Math.round(4000 / df));
    this.#binMax = floor.bands.hi[bands - 1] ?? m;

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

  /** Forgets the stream: trends, histories and persistence. */
  reset(): void {
    this.#prevSnr.fill(0);
    this.#history.fill(0);
    this.#historyAt = 0;
    this.#harmHold.fill(0);
    this.#persist.fill(0);
    this.#persistAt = 0;
    this.#lastF0 = 0;
    this.#lastPeak = 0;
    this.#pitchJitter = 0;
    this.#peakJitter = 0;
    this.#emaSim = 0;
    this.#steadyHops = 0;
    this.#trend.fill(0);
  }

  /** Writes all {@link FEATURES} of the current hop into `f` (length ≥ {@link FEATURE_COUNT}). */
  extract(f: Float32Array): void {
    this.#binSnr();
    this.#levels(f);
    this.#harmonicity(f);
    this.#shape(f);
    this.#trends(f);
    this.#envelope(f);
    this.#persistence(f);
  }

  /** Per-bin power above the band floor (`excess`) and log2 SNR (`logSnr`, 0 at or below the floor). */
  #binSnr(): void {
    const power = this.#power;
    const floor = this.#floor.floor;
    const lo = this.#floor.bands.lo;
    const hi = this.#floor.bands.hi;
    const excess = this.#excess;
    const logSnr = this.#logSnr;
    // The bands tile [first band's low bin, last band's high bin) without gaps: every bin there is written
    // below, and the bins outside stay 0 from construction.
    for (let b = 0; b < lo.length; b++) {
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

  /** snrSpeech … flux: band SNRs (0–60 dB), long-term spectral divergence and flux of the band SNRs. */
  #levels(f: Float32Array): void {
    const energy = this.#floor.energy;
    const floor = this.#floor.floor;
    const speechBand = this.#floor.bands.speech;
    const bands = energy.length;
    const history = this.#history;
    const prev = this.#prevSnr;
    const at = this.#historyAt * bands;
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
    let ltsd = 0;
    for (let b = 0; b < bands; b++) {
      let mx = 0;
      for (let h = 0; h < LTSD_HOPS; h++) {
        const v = history[h * bands + b] as number;
        if (v > mx) mx = v;
      }
      ltsd += mx / (floor[b] as number);
    }
    this.#snrSpeech = snrSpeech / Math.max(1, nSpeech);
    this.#flux = flux / Math.max(1, bands);
    f[LEVELS] = this.#snrSpeech;
    f[LEVELS + 1] = snrAll / Math.max(1, bands);
    f[LEVELS + 2] = snrMax;
    f[LEVELS + 3] = Math.max(0, 10 * Math.log10(sumE / sumN));
    f[LEVELS + 4] = 10 * Math.log10(ltsd / Math.max(1, bands) + EPS);
    f[LEVELS + 5] = this.#flux;
  }

  /**
   * harmonicity, harmonicCoverage, harmonicityMax200ms: mean peak-minus-valley contrast of the best F0 candidate
   * on the log-SNR spectrum; how many harmonics stand out (each clipped at 10 dB), so that one loud pure tone on
   * a comb tooth cannot look like a voice; the maximum harmonicity of the last 10 hops.
   */
  #harmonicity(f: Float32Array): void {
    const logSnr = this.#logSnr;
    const pos = this.#combPos;
    const combStart = this.#combStart;
    const combCount = this.#combCount;
    const combInv = this.#combInv;
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
    this.#f0 = f0;
    this.#harm = harm;
    this.#coverage = coverage;
    const hold = this.#harmHold;
    hold.copyWithin(0, 1);
    hold[hold.length - 1] = harm;
    let harmMax = 0;
    for (let i = 0; i < hold.length; i++) if ((hold[i] as number) > harmMax) harmMax = hold[i] as number;
    f[HARMONICITY] = harm;
    f[HARMONICITY + 1] = coverage;
    f[HARMONICITY + 2] = harmMax;
  }

  /** tonality … shareHigh: peakiness, flatness and sparsity in 200 Hz–4 kHz, band shares of the excess power. */
  #shape(f: Float32Array): void {
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
    this.#peakBin = peakBin;
    const nFlat = bin4000 - binLo200 + 1;
    f[SHAPE] = peak3 / inBand;
    f[SHAPE + 1] = logSum / nFlat - fastLog2(linSum / nFlat);
    // Participation ratio of the excess spectrum (log2): 0 when flat, −log2(bins) for a single bin.
    f[SHAPE + 2] = squares > 0 ? fastLog2((inBand * inBand) / (nFlat * squares) + EPS) : 0;
    f[SHAPE + 3] = speech / total;
    f[SHAPE + 4] = low / total;
    f[SHAPE + 5] = high / total;
  }

  /** snrSpeech80ms … harmonicCoverage80ms: exponential averages of the level and harmonicity features. */
  #trends(f: Float32Array): void {
    const m = this.#trend;
    m[0] += 0.25 * (this.#snrSpeech - (m[0] as number));
    m[1] += 0.25 * (this.#harm - (m[1] as number));
    m[2] += 0.25 * (this.#flux - (m[2] as number));
    m[3] += 0.06 * (this.#snrSpeech - (m[3] as number));
    m[4] += 0.06 * (this.#harm - (m[4] as number));
    m[5] += 0.25 * (this.#coverage - (m[5] as number));
    for (let i = 0; i < m.length; i++) f[TRENDS + i] = m[i] as number;
  }

  /** cepstrum1 … cepstrum8: DCT-II of the log band power above the floor (c0, the level, left out). */
  #envelope(f: Float32Array): void {
    const energy = this.#floor.energy;
    const floor = this.#floor.floor;
    const bands = energy.length;
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
      f[ENVELOPE + c] = acc;
    }
  }

  /**
   * similarity40ms … peakJitter: cosine similarity of the log-SNR spectrum below 4 kHz with itself 40 and 120 ms
   * ago, its trend, how long it has stayed similar, and how much the pitch and the strongest peak wander.
   */
  #persistence(f: Float32Array): void {
    const logSnr = this.#logSnr;
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
    const df0 = Math.min(8, Math.abs(this.#f0 - this.#lastF0));
    const dPeak = Math.min(8, Math.abs(this.#peakBin - this.#lastPeak));
    this.#lastF0 = this.#f0;
    this.#lastPeak = this.#peakBin;
    this.#pitchJitter += 0.2 * (df0 - this.#pitchJitter);
    this.#peakJitter += 0.2 * (dPeak - this.#peakJitter);
    f[PERSISTENCE] = sim2;
    f[PERSISTENCE + 1] = sim6;
    f[PERSISTENCE + 2] = this.#emaSim;
    f[PERSISTENCE + 3] = this.#steadyHops * 0.02;
    f[PERSISTENCE + 4] = this.#pitchJitter;
    f[PERSISTENCE + 5] = this.#peakJitter;
  }
}

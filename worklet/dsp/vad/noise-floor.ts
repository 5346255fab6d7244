/**
 * Band energies of a power spectrum and their noise floors, tracked by windowed minimum statistics.
 * Allocation-free after construction.
 */

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
 * How fast a floor may rise while its band is not stationary (RISE_DB_PER_S). In clean speech without pauses
 * longer than ~100 ms, the minimum of 1.3 s of speech sits 20–30 dB above the room's real floor (the dips
 * between syllables never reach it); following it made the band SNRs of a long phrase drop from ~50 to ~20 dB,
 * while noise hid the problem by filling the dips. The floor now drops at once but rises at most this fast,
 * unless the minima of the window's six blocks lie within STATIONARY_DB of each other: a fan or a hum that
 * switches on fills every block and still becomes the floor after ~1.3 s, as before, while speech leaves some
 * blocks (the pauses) far lower than others.
 */
const RISE_DB_PER_S = 10;
const RISE = 10 ** (RISE_DB_PER_S / 10 / 50);
const STATIONARY_DB = 8;
const STATIONARY = 10 ** (STATIONARY_DB / 10);

/** Bands of an FFT: bins [lo[b], hi[b]) of band b, tiling the spectrum from ~80 Hz up without gaps. */
export interface BandLayout {
  lo: Uint16Array;
  hi: Uint16Array;
  /** 1 for the bands inside 200 Hz–4 kHz, where voiced speech carries its energy. */
  speech: Uint8Array;
}

/** The bands of an `fftSize`-point FFT at `rate` Hz. */
export function bandLayout(rate: number, fftSize: number): BandLayout {
  const m = fftSize / 2;
  const df = rate / fftSize;
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
  return { lo: Uint16Array.from(lo), hi: Uint16Array.from(hi), speech: Uint8Array.from(speech) };
}

/**
 * Per-band energy (`energy`, the hop's power) and noise floor (`floor`, the minimum of the smoothed energy over
 * the last 1.2–1.4 s), in units of mean square. Hops of digital silence, and the hop right after them, leave the
 * floors alone.
 */
export class BandNoiseFloor {
  readonly bands: BandLayout;
  /** Energy of each band in the latest hop (≥ 1e-12). */
  readonly energy: Float32Array;
  /** Noise floor of each band. */
  readonly floor: Float32Array;

  readonly #smooth: Float32Array;
  readonly #blockMin: Float32Array;
  readonly #pastMin: Float32Array;
  readonly #currentMin: Float32Array;
  readonly #pastTop: Float32Array;
  #started = false;
  /** Consecutive hops whose window was audible: floors learn only from windows with no digital silence. */
  #audibleHops = 0;
  #blockHops = 0;
  #blockAt = 0;

  constructor(bands: BandLayout) {
    this.bands = bands;
    const n = bands.lo.length;
    this.energy = new Float32Array(n);
    this.floor = new Float32Array(n);
    this.#smooth = new Float32Array(n);
    this.#blockMin = new Float32Array(n * FLOOR_BLOCKS);
    this.#pastMin = new Float32Array(n);
    this.#currentMin = new Float32Array(n);
    this.#pastTop = new Float32Array(n);
    this.reset();
  }

  /** Forgets the floors. */
  reset(): void {
    this.#started = false;
    this.#audibleHops = 0;
    this.#blockMin.fill(Number.POSITIVE_INFINITY);
    this.#pastMin.fill(Number.POSITIVE_INFINITY);
    this.#currentMin.fill(Number.POSITIVE_INFINITY);
    this.#pastTop.fill(0);
    this.#blockHops = 0;
    this.#blockAt = 0;
  }

  /** Reads the band energies of `power` (one-sided FFT power) and updates the floors; `meanSquare` of the window. */
  update(power: Float64Array, meanSquare: number): void {
    const energy = this.energy;
    const smooth = this.#smooth;
    const floor = this.floor;
    const bands = energy.length;
    const lo = this.bands.lo;
    const hi = this.bands.hi;
    const blockMin = this.#blockMin;
    const pastMin = this.#pastMin;
    const currentMin = this.#currentMin;
    const pastTop = this.#pastTop;
    // The window spans about one hop, so the hop after the first audible one is the first without zeros in it.
    this.#audibleHops = meanSquare > DIGITAL_SILENCE ? this.#audibleHops + 1 : 0;
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
        const was = floor[b] as number;
        floor[b] = f <= was || (pastTop[b] as number) < STATIONARY * f ? f : Math.min(f, was * RISE);
      } else if (!this.#started) {
        floor[b] = s;
      }
    }
    if (learn) this.#started = true;
    if (learn && ++this.#blockHops === FLOOR_BLOCK_HOPS) {
      blockMin.set(currentMin, this.#blockAt * bands);
      this.#blockAt = (this.#blockAt + 1) % FLOOR_BLOCKS;
      currentMin.fill(Number.POSITIVE_INFINITY);
      const pastTop = this.#pastTop;
      for (let b = 0; b < bands; b++) {
        let f = Number.POSITIVE_INFINITY;
        let top = 0;
        for (let u = 0; u < FLOOR_BLOCKS; u++) {
          f = Math.min(f, blockMin[u * bands + b] as number);
          top = Math.max(top, blockMin[u * bands + b] as number);
        }
        pastMin[b] = f;
        pastTop[b] = top;
      }
      this.#blockHops = 0;
    }
  }
}

/**
 * Hann-windowed power spectrum of a short real window, via an N/2-point complex radix-2 FFT (the even samples
 * in the real part, the odd ones in the imaginary part). Allocation-free after construction.
 */
export class RealFft {
  /** FFT length N: the smallest power of two ≥ the window length (at least 64). */
  readonly size: number;
  /**
   * One-sided power of the last window, bins 0…N/2, normalised so that the sum over a band is that band's share
   * of the window's mean square.
   */
  readonly power: Float64Array;
  /** Mean square of the last window before tapering (after non-finite cleanup only when it was needed). */
  meanSquare = 0;

  readonly #taper: Float64Array;
  readonly #scale: number;
  readonly #re: Float64Array;
  readonly #im: Float64Array;
  readonly #cos: Float64Array;
  readonly #sin: Float64Array;
  readonly #cosN: Float32Array;
  readonly #sinN: Float32Array;
  readonly #bitrev: Uint16Array;

  /** `windowLength` samples per analysis window (a positive integer). */
  constructor(windowLength: number) {
    let n = 64;
    while (n < windowLength) n *= 2;
    this.size = n;
    this.#taper = new Float64Array(windowLength);
    let sumW2 = 0;
    for (let i = 0; i < windowLength; i++) {
      const w = 0.5 - 0.5 * Math.cos((2 * Math.PI * (i + 0.5)) / windowLength);
      this.#taper[i] = w;
      sumW2 += w * w;
    }
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
    this.power = new Float64Array(m + 1);
  }

  /**
   * Transforms `window` (exactly the constructor's window length) into `power` and sets `meanSquare`. Cleans
   * the window in place when it holds NaN, ±Infinity or absurd values (NaN → 0, clamp to ±1e4).
   */
  analyse(w: Float64Array): void {
    const re = this.#re;
    const im = this.#im;
    const t = this.#taper;
    const m = re.length;
    const rev = this.#bitrev;
    const size = t.length;
    // NaN or ±Infinity anywhere makes the sum of squares non-finite, and absurd values make it huge: only then
    // is the window cleaned sample by sample. Float32 denormals are normal doubles in the arithmetic below, so
    // they cost nothing.
    let sq = 0;
    for (let i = 0; i < size; i++) {
      const x = w[i] as number;
      sq += x * x;
    }
    this.meanSquare = sq / size;
    if (!(sq < 1e8)) {
      for (let i = 0; i < size; i++) {
        const x = w[i] as number;
        w[i] = x > 1e4 ? 1e4 : x < -1e4 ? -1e4 : Number.isNaN(x) ? 0 : x;
      }
    }
    // Pack even samples into the real part, odd ones into the imaginary part, in bit-reversed order,
    // zero-padding past the window. No typed-array read goes out of bounds: V8 turns those into slow generic
    // loads.
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
    // Split the N/2-point result into the N-point spectrum of the real signal.
    const power = this.power;
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
}

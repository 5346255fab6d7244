/**
 * Linear-phase low-pass FIR design for the resampler: Kaiser-windowed sinc (any length, closed form) and
 * equiripple (Parks–McClellan / Remez exchange, for the short filters where every tap costs CPU). Frequencies
 * are fractions of the sampling rate (0 … 0.5). Pure functions, run once per resampler construction.
 */

/** Zeroth-order modified Bessel function of the first kind (power series). */
export function besselI0(x: number): number {
  let sum = 1;
  let term = 1;
  const q = (x * x) / 4;
  for (let k = 1; k < 500; k++) {
    term *= q / (k * k);
    sum += term;
    if (term < sum * 1e-17) break;
  }
  return sum;
}

/** Kaiser's β for a stopband attenuation of `db` dB (> 50). */
export const kaiserBeta = (db: number): number => 0.1102 * (db - 8.7);

/**
 * Kaiser's length estimate: taps for `db` dB of attenuation over a transition of `width` (fraction of the rate).
 */
export const kaiserLength = (db: number, width: number): number =>
  (db - 7.95) / (2.285 * 2 * Math.PI * width);

/**
 * Kaiser-windowed sinc low-pass of length `n` (odd for an integer delay), cutoff `fc` (fraction of the rate, the
 * −6 dB point), normalised to a DC gain of `gain`.
 */
export function kaiserLowpass(n: number, fc: number, beta: number, gain = 1): Float64Array {
  const h = new Float64Array(n);
  const c = (n - 1) / 2;
  const i0b = besselI0(beta);
  let sum = 0;
  for (let i = 0; i < n; i++) {
    const t = i - c;
    const r = c === 0 ? 0 : t / c;
    const w = besselI0(beta * Math.sqrt(Math.max(0, 1 - r * r))) / i0b;
    h[i] = (t === 0 ? 2 * fc : Math.sin(2 * Math.PI * fc * t) / (Math.PI * t)) * w;
    sum += h[i];
  }
  for (let i = 0; i < n; i++) h[i] *= gain / sum;
  return h;
}

/** One band of an equiripple specification: `[from, to]` (fractions of the rate), desired gain, error weight. */
export interface Band {
  from: number;
  to: number;
  gain: number;
  weight: number;
}

/** Result of {@link equirippleLowpass}: taps and the weighted peak error (the error is `error / weight` per band). */
export interface EquirippleDesign {
  taps: Float64Array;
  error: number;
}

/**
 * Minimax (equiripple) linear-phase FIR of odd length `n` for the given bands, by the Remez exchange algorithm
 * on a dense grid (16 points per extremum) with barycentric Lagrange interpolation.
 * @throws RangeError when `n` is even or < 3.
 */
export function equirippleLowpass(n: number, bands: Band[]): EquirippleDesign {
  if (n < 3 || n % 2 === 0) throw new RangeError(`equiripple length must be odd and ≥ 3, got ${n}`);
  const r = (n + 1) / 2; // cosine terms; the exchange keeps r + 1 extremal frequencies
  const step = 0.5 / (16 * r);
  const gx: number[] = [];
  const gd: number[] = [];
  const gw: number[] = [];
  for (const band of bands) {
    const count = Math.max(2, Math.ceil((band.to - band.from) / step) + 1);
    for (let i = 0; i < count; i++) {
      const f = band.from + ((band.to - band.from) * i) / (count - 1);
      gx.push(Math.cos(2 * Math.PI * f));
      gd.push(band.gain);
      gw.push(band.weight);
    }
  }
  const m = gx.length;
  let ext = Array.from({ length: r + 1 }, (_, j) => Math.round((j * (m - 1)) / r));
  const xe = new Float64Array(r + 1);
  const ad = new Float64Array(r + 1);
  const ye = new Float64Array(r);
  const err = new Float64Array(m);
  let delta = 0;

  const interpolate = (x: number): number => {
    let num = 0;
    let den = 0;
    for (let j = 0; j < r; j++) {
      const dx = x - xe[j];
      if (dx === 0) return ye[j];
      const t = (ad[j] * 2 * (xe[j] - xe[r])) / dx; // weights of the first r points from those of all r + 1
      num += t * ye[j];
      den += t;
    }
    return num / den;
  };

  for (let iteration = 0; iteration < 60; iteration++) {
    for (let j = 0; j <= r; j++) xe[j] = gx[ext[j]];
    for (let j = 0; j <= r; j++) {
      let p = 1;
      for (let k = 0; k <= r; k++) if (k !== j) p *= 2 * (xe[j] - xe[k]);
      ad[j] = 1 / p;
    }
    let num = 0;
    let den = 0;
    for (let j = 0; j <= r; j++) {
      num += ad[j] * gd[ext[j]];
      den += ((j % 2 === 0 ? 1 : -1) * ad[j]) / gw[ext[j]];
    }
    delta = num / den;
    for (let j = 0; j < r; j++) ye[j] = gd[ext[j]] - ((j % 2 === 0 ? 1 : -1) * delta) / gw[ext[j]];
    for (let i = 0; i < m; i++) err[i] = gw[i] * (interpolate(gx[i]) - gd[i]);

    // New extremal set: local extrema of the error at least |δ|, alternating in sign.
    const found: number[] = [];
    const bound = Math.abs(delta) * (1 - 1e-9);
    for (let i = 0; i < m; i++) {
      const e = err[i];
      if (Math.abs(e) < bound) continue;
      const left = i === 0 ? -Infinity : e > 0 ? err[i - 1] : -err[i - 1];
      const right = i === m - 1 ? -Infinity : e > 0 ? err[i + 1] : -err[i + 1];
      if (Math.abs(e) >= left && Math.abs(e) >= right) found.push(i);
    }
    const alternating: number[] = [];
    for (const i of found) {
      const last = alternating[alternating.length - 1];
      if (last !== undefined && Math.sign(err[last]) === Math.sign(err[i])) {
        if (Math.abs(err[i]) > Math.abs(err[last])) alternating[alternating.length - 1] = i;
      } else alternating.push(i);
    }
    while (alternating.length > r + 1) {
      if (Math.abs(err[alternating[0]]) < Math.abs(err[alternating[alternating.length - 1]]))
        alternating.shift();
      else alternating.pop();
    }
    if (alternating.length < r + 1) {
      // Too few new extrema (a band junction or a flat error): move each old extremum uphill instead, which
      // always keeps r + 1 points of alternating sign since the error alternates ±δ on the old set.
      alternating.length = 0;
      for (let j = 0; j <= r; j++) {
        const sign = err[ext[j]] >= 0 ? 1 : -1;
        const lo = j > 0 ? alternating[j - 1] + 1 : 0;
        const hi = j < r ? ext[j + 1] - 1 : m - 1;
        let i = ext[j];
        while (i + 1 <= hi && sign * err[i + 1] > sign * err[i]) i++;
        while (i - 1 >= lo && sign * err[i - 1] > sign * err[i]) i--;
        alternating.push(i);
      }
    }
    let peak = 0;
    for (const i of alternating) peak = Math.max(peak, Math.abs(err[i]));
    const converged = (peak - Math.abs(delta)) / peak < 1e-6;
    ext = alternating;
    if (converged) break;
  }

  // Taps from the amplitude response sampled at n points (an inverse DFT of a real, even spectrum).
  const half = (n - 1) / 2;
  const amp = new Float64Array(half + 1);
  for (let k = 0; k <= half; k++) amp[k] = interpolate(Math.cos((2 * Math.PI * k) / n));
  const taps = new Float64Array(n);
  for (let d = 0; d <= half; d++) {
    let s = amp[0];
    for (let k = 1; k <= half; k++) s += 2 * amp[k] * Math.cos((2 * Math.PI * k * d) / n);
    taps[half + d] = s / n;
    taps[half - d] = s / n;
  }
  return { taps, error: Math.abs(delta) };
}

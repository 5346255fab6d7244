/**
 * The VAD's classifier and its weight format, both directions: standardised features → `hidden` tanh units → a
 * GRU of `recurrent` units over them → sigmoid of both layers' outputs. The GRU carries 20 ms hops of context
 * forward (Silero's VADs carry an LSTM state the same way): onsets of steady tones, rings and jingles look like
 * speech to any single hop, not over 100–300 ms. The weight matrices ship as int8 (row-major, base64, RFC 4648
 * §4) with one scale per row, the feature standardisation as a per-feature `scale` with the mean folded into
 * `b1`: ~30 % smaller gzipped than decimal floats. `packWeights` writes the format (used by
 * `scripts/train-vad.ts`); `Classifier` reads it.
 */
import { bytesToBase64 } from "../base64.ts";

/** Classifier weights as `vad-weights.ts` stores them. */
export interface VadWeights {
  /** Number of features (the length of `scale`). */
  readonly inputs: number;
  /** Number of hidden tanh units of the input layer. */
  readonly hidden: number;
  /** 1 / standard deviation of each feature over the training set. */
  readonly scale: readonly number[];
  /** Scale of each hidden unit's int8 weights. */
  readonly w1Scale: readonly number[];
  /** First-layer int8 weights, row-major hidden × inputs, as base64. */
  readonly w1: string;
  /** First-layer biases with the feature mean folded in. */
  readonly b1: readonly number[];
  /** Output weights, one per hidden unit. */
  readonly w2: readonly number[];
  /** Output bias. */
  readonly b2: number;
  /** Number of GRU units (the recurrent layer over the hidden units). */
  readonly recurrent: number;
  /** GRU input weights, int8 row-major (3 × recurrent) × hidden as base64: reset, update, candidate rows. */
  readonly wx: string;
  /** GRU recurrent weights, int8 row-major (3 × recurrent) × recurrent as base64, same row order. */
  readonly wg: string;
  /** Scale of each of the 3 × recurrent rows of `wx` and of `wg` (int8 × scale = weight). */
  readonly wxScale: readonly number[];
  readonly wgScale: readonly number[];
  /** GRU input biases (3 × recurrent) and the candidate's recurrent bias (recurrent). */
  readonly bx: readonly number[];
  readonly bg: readonly number[];
  /** Output weights, one per GRU unit. */
  readonly v: readonly number[];
}

/**
 * A trained model in standardised feature space. `w1` is row-major hidden × inputs; `wx` (3R × hidden) and `wg`
 * (3R × R) hold the GRU's reset, update and candidate rows in that order (PyTorch's convention: the reset gate
 * multiplies the candidate's recurrent term including its bias `bg`).
 */
export interface FloatModel {
  w1: Float64Array;
  b1: Float64Array;
  w2: Float64Array;
  b2: number;
  wx: Float64Array;
  wg: Float64Array;
  bx: Float64Array;
  bg: Float64Array;
  v: Float64Array;
}

const ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/** Int8 values as base64 of their bytes. */
export function int8ToBase64(values: Int8Array): string {
  return bytesToBase64(new Uint8Array(values.buffer, values.byteOffset, values.byteLength));
}

/** Bytes of a base64 string (RFC 4648 §4, padding optional) as signed int8. */
export function int8FromBase64(text: string): Int8Array {
  const out = new Int8Array((text.replace(/=+$/, "").length * 3) >> 2);
  let acc = 0;
  let bits = 0;
  let o = 0;
  for (let i = 0; o < out.length; i++) {
    acc = ((acc << 6) | ALPHABET.indexOf(text.charAt(i))) & 0xffff;
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out[o++] = acc >> bits;
    }
  }
  return out;
}

/** Int8 rows with one scale per row (max |w| → 127). */
function quantiseRows(w: Float64Array, rows: number): { q: Int8Array; scale: Float64Array } {
  const cols = w.length / rows;
  const q = new Int8Array(w.length);
  const scale = new Float64Array(rows);
  for (let j = 0; j < rows; j++) {
    let max = 1e-9;
    for (let i = 0; i < cols; i++) max = Math.max(max, Math.abs(w[j * cols + i] as number));
    scale[j] = max / 127;
    for (let i = 0; i < cols; i++) q[j * cols + i] = Math.round(((w[j * cols + i] as number) / max) * 127);
  }
  return { q, scale };
}

/**
 * Quantises a model to the shipped format: int8 weight matrices with one scale per row (max |w| → 127), the
 * standardisation (`mean`, `std` per feature) folded in exactly, with the quantised weights. Values are rounded
 * to 4 significant digits, as they are printed (a fifth digit cost ~60 bytes gzipped in the worklet).
 */
export function packWeights(model: FloatModel, mean: Float64Array, std: Float64Array): VadWeights {
  const inputs = mean.length;
  const hidden = model.b1.length;
  const recurrent = model.v.length;
  const first = quantiseRows(model.w1, hidden);
  const w1 = first.q;
  const b1 = Float64Array.from(model.b1, (b, j) => {
    let s = 0;
    for (let i = 0; i < inputs; i++)
      s += ((w1[j * inputs + i] as number) * (mean[i] as number)) / (std[i] as number);
    return b - (first.scale[j] as number) * s;
  });
  const wx = quantiseRows(model.wx, 3 * recurrent);
  const wg = quantiseRows(model.wg, 3 * recurrent);
  const round = (a: ArrayLike<number>) => Array.from(a, (v) => Number(v.toPrecision(4)));
  return {
    inputs,
    hidden,
    scale: round(std.map((v) => 1 / v)),
    w1Scale: round(first.scale),
    w1: int8ToBase64(w1),
    b1: round(b1),
    w2: round(model.w2),
    b2: Number(model.b2.toPrecision(4)),
    recurrent,
    wx: int8ToBase64(wx.q),
    wg: int8ToBase64(wg.q),
    wxScale: round(wx.scale),
    wgScale: round(wg.scale),
    bx: round(model.bx),
    bg: round(model.bg),
    v: round(model.v),
  };
}

const TANH_RANGE = 8;
const TANH_STEPS_PER_UNIT = 64;
const TANH = new Float64Array(2 * TANH_RANGE * TANH_STEPS_PER_UNIT + 2);
for (let k = 0; k < TANH.length; k++) TANH[k] = Math.tanh(k / TANH_STEPS_PER_UNIT - TANH_RANGE);

// tanh from a table with linear interpolation (error < 3e-5): an exp per unit cost more than the layer.
function tanh(a: number): number {
  if (a >= TANH_RANGE) return 1;
  if (a <= -TANH_RANGE) return -1;
  const x = (a + TANH_RANGE) * TANH_STEPS_PER_UNIT;
  const k = x | 0;
  const lo = TANH[k] as number;
  return lo + (x - k) * ((TANH[k + 1] as number) - lo);
}

/** Unpacks int8 rows × row scale (× a per-column scale when given) into floats. */
function unpack(text: string, rowScale: readonly number[], columnScale?: readonly number[]): Float64Array {
  const q = int8FromBase64(text);
  const cols = q.length / rowScale.length;
  return Float64Array.from(
    q,
    (v, k) =>
      v * (rowScale[Math.floor(k / cols)] as number) * (columnScale ? (columnScale[k % cols] as number) : 1),
  );
}

/**
 * The shipped classifier: standardised features → `hidden` tanh units → a GRU of `recurrent` units over them →
 * sigmoid of both layers. Construction unpacks the int8 weights once (a hop then costs one multiply-add per
 * weight); the weights are read-only, so one instance serves every detector, each with its own `state()`.
 */
export class Classifier {
  readonly inputs: number;
  readonly #hidden: number;
  readonly #recurrent: number;
  readonly #w1: Float64Array;
  readonly #b1: Float64Array;
  readonly #w2: Float64Array;
  readonly #b2: number;
  readonly #wx: Float64Array;
  readonly #wg: Float64Array;
  readonly #bx: Float64Array;
  readonly #bg: Float64Array;
  readonly #v: Float64Array;
  // Scratch for one hop: the hidden units, the GRU's three input sums and its candidate's recurrent sum.
  readonly #u: Float64Array;
  readonly #gx: Float64Array;
  readonly #gg: Float64Array;

  /** `weights` as `packWeights` writes them (the tests check that the shipped ones are consistent). */
  constructor(weights: VadWeights) {
    const { inputs, hidden, recurrent } = weights;
    this.inputs = inputs;
    this.#hidden = hidden;
    this.#recurrent = recurrent;
    this.#w1 = unpack(weights.w1, weights.w1Scale, weights.scale);
    this.#b1 = Float64Array.from(weights.b1);
    this.#w2 = Float64Array.from(weights.w2);
    this.#b2 = weights.b2;
    this.#wx = unpack(weights.wx, weights.wxScale);
    this.#wg = unpack(weights.wg, weights.wgScale);
    this.#bx = Float64Array.from(weights.bx);
    this.#bg = Float64Array.from(weights.bg);
    this.#v = Float64Array.from(weights.v);
    this.#u = new Float64Array(hidden);
    this.#gx = new Float64Array(3 * recurrent);
    this.#gg = new Float64Array(3 * recurrent);
  }

  /** A zeroed recurrent state for one stream (`recurrent` values in [−1, 1]); pass it to every `predict`. */
  state(): Float64Array {
    return new Float64Array(this.#recurrent);
  }

  /**
   * Speech probability in [0, 1] of a feature vector (raw features, `inputs` long) given the stream's recurrent
   * `state`, which it advances by one hop; never NaN (a non-finite state is zeroed).
   */
  predict(f: Float32Array, state: Float64Array): number {
    const n = this.inputs;
    const h = this.#hidden;
    const r = this.#recurrent;
    const w1 = this.#w1;
    const b1 = this.#b1;
    const u = this.#u;
    let out = this.#b2;
    for (let j = 0; j < h; j++) {
      let a = b1[j] as number;
      const row = j * n;
      for (let i = 0; i < n; i++) a += (w1[row + i] as number) * (f[i] as number);
      const t = tanh(a);
      u[j] = t;
      out += (this.#w2[j] as number) * t;
    }
    const wx = this.#wx;
    const wg = this.#wg;
    const gx = this.#gx;
    const gg = this.#gg;
    for (let k = 0; k < 3 * r; k++) {
      let a = this.#bx[k] as number;
      const row = k * h;
      for (let j = 0; j < h; j++) a += (wx[row + j] as number) * (u[j] as number);
      gx[k] = a;
      let b = k >= 2 * r ? (this.#bg[k - 2 * r] as number) : 0;
      const grow = k * r;
      for (let j = 0; j < r; j++) b += (wg[grow + j] as number) * (state[j] as number);
      gg[k] = b;
    }
    for (let j = 0; j < r; j++) {
      // σ(x) = (1 + tanh(x/2)) / 2 through the same table.
      const reset = 0.5 + 0.5 * tanh(0.5 * ((gx[j] as number) + (gg[j] as number)));
      const update = 0.5 + 0.5 * tanh(0.5 * ((gx[r + j] as number) + (gg[r + j] as number)));
      const candidate = tanh((gx[2 * r + j] as number) + reset * (gg[2 * r + j] as number));
      const g = (1 - update) * candidate + update * (state[j] as number);
      state[j] = g >= -1 && g <= 1 ? g : 0;
      out += (this.#v[j] as number) * (state[j] as number);
    }
    const p = 1 / (1 + Math.exp(-out));
    return p >= 0 && p <= 1 ? p : 0;
  }
}

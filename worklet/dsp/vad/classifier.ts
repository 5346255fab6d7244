/**
 * The VAD's classifier and its weight format, both directions: standardised features → `hidden` tanh units →
 * sigmoid. The first layer ships as int8 (row-major hidden × inputs, base64, RFC 4648 §4) with one scale per
 * unit, the feature standardisation as a per-feature `scale` with the mean folded into `b1`: ~30 % smaller
 * gzipped than decimal floats. `packWeights` writes the format (used by `scripts/train-vad.ts`);
 * `Classifier` reads it.
 */
import { bytesToBase64 } from "../base64.ts";

/** Classifier weights as `vad-weights.ts` stores them. */
export interface VadWeights {
  /** Number of features (the length of `scale`). */
  readonly inputs: number;
  /** Number of hidden tanh units. */
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
}

/** A trained model in standardised feature space: `w1` row-major hidden × inputs. */
export interface FloatModel {
  w1: Float64Array;
  b1: Float64Array;
  w2: Float64Array;
  b2: number;
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

/**
 * Quantises a model to the shipped format: int8 first layer with one scale per hidden unit (max |w| → 127), the
 * standardisation (`mean`, `std` per feature) folded in exactly, with the quantised weights. Values are rounded
 * to 4 significant digits, as they are printed (a fifth digit cost ~60 bytes gzipped in the worklet).
 */
export function packWeights(model: FloatModel, mean: Float64Array, std: Float64Array): VadWeights {
  const inputs = mean.length;
  const hidden = model.b1.length;
  const w1Scale = new Float64Array(hidden);
  const w1 = new Int8Array(hidden * inputs);
  for (let j = 0; j < hidden; j++) {
    let max = 1e-9;
    for (let i = 0; i < inputs; i++) max = Math.max(max, Math.abs(model.w1[j * inputs + i] as number));
    w1Scale[j] = max / 127;
    for (let i = 0; i < inputs; i++)
      w1[j * inputs + i] = Math.round((model.w1[j * inputs + i] as number) / (w1Scale[j] as number));
  }
  const b1 = Float64Array.from(model.b1, (b, j) => {
    let s = 0;
    for (let i = 0; i < inputs; i++)
      s += ((w1[j * inputs + i] as number) * (mean[i] as number)) / (std[i] as number);
    return b - (w1Scale[j] as number) * s;
  });
  const round = (a: ArrayLike<number>) => Array.from(a, (v) => Number(v.toPrecision(4)));
  return {
    inputs,
    hidden,
    scale: round(std.map((v) => 1 / v)),
    w1Scale: round(w1Scale),
    w1: int8ToBase64(w1),
    b1: round(b1),
    w2: round(model.w2),
    b2: Number(model.b2.toPrecision(4)),
  };
}

const TANH_RANGE = 8;
const TANH_STEPS_PER_UNIT = 64;
const TANH = new Float64Array(2 * TANH_RANGE * TANH_STEPS_PER_UNIT + 2);
for (let k = 0; k < TANH.length; k++) TANH[k] = Math.tanh(k / TANH_STEPS_PER_UNIT - TANH_RANGE);

/**
 * The shipped classifier. Construction unpacks the first layer once (int8 × unit scale × feature scale, so that
 * a hop costs one multiply-add per weight); `predict` is allocation-free and stateless, so one instance can
 * serve every detector.
 */
export class Classifier {
  readonly inputs: number;
  readonly #hidden: number;
  readonly #w1: Float64Array;
  readonly #b1: Float32Array;
  readonly #w2: Float32Array;
  readonly #b2: number;

  /** `weights` as `packWeights` writes them (the tests check that the shipped ones are consistent). */
  constructor(weights: VadWeights) {
    const { inputs, hidden } = weights;
    const q = int8FromBase64(weights.w1);
    this.inputs = inputs;
    this.#hidden = hidden;
    this.#w1 = new Float64Array(hidden * inputs);
    for (let j = 0; j < hidden; j++)
      for (let i = 0; i < inputs; i++)
        this.#w1[j * inputs + i] =
          (q[j * inputs + i] as number) * (weights.w1Scale[j] as number) * (weights.scale[i] as number);
    this.#b1 = Float32Array.from(weights.b1);
    this.#w2 = Float32Array.from(weights.w2);
    this.#b2 = weights.b2;
  }

  /** Speech probability in [0, 1] of a feature vector (raw features, `inputs` long); never NaN. */
  predict(f: Float32Array): number {
    const n = this.inputs;
    const w1 = this.#w1;
    const b1 = this.#b1;
    const w2 = this.#w2;
    let out = this.#b2;
    for (let j = 0; j < this.#hidden; j++) {
      let a = b1[j] as number;
      const row = j * n;
      for (let i = 0; i < n; i++) a += (w1[row + i] as number) * (f[i] as number);
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
      out += (w2[j] as number) * t;
    }
    const p = 1 / (1 + Math.exp(-out));
    return p >= 0 && p <= 1 ? p : 0;
  }
}

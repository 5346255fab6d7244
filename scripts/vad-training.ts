/**
 * Trains the VAD's classifier (`worklet/dsp/vad/classifier.ts`) by truncated backpropagation through time:
 * standardised features → `hidden` tanh units → a GRU of `recurrent` units → sigmoid of both layers, on
 * cross-entropy against the share of labelled speech in each 20 ms hop, with a per-hop weight. Adam, seeded.
 * Used by `scripts/train-vad.ts`; {@link lossAndGradient} is exported for the gradient check.
 */

import { random } from "../test/fixtures/speech-corpus.ts";
import type { FloatModel } from "../worklet/dsp/vad/classifier.ts";

/** Training data: hops × inputs standardised features, targets in [0, 1] and weights, cut into streams. */
export interface Sequences {
  /** Row-major hops × inputs. */
  x: Float32Array;
  y: Float32Array;
  w: Float32Array;
  /** Start hop of each stream, then the total: a chunk never crosses a stream boundary. */
  bounds: number[];
}

/** Sizes and schedule of one training run. */
export interface TrainingOptions {
  inputs: number;
  hidden: number;
  recurrent: number;
  epochs: number;
  seed: number;
  /** Hops per chunk (gradients flow through all of them) and hops at its start left out of the loss. */
  chunk?: number;
  burnIn?: number;
  /** Chunks per Adam step. */
  batch?: number;
  learningRate?: number;
}

/** The parameters of a model as one flat vector, with views for each matrix (Adam runs over the flat vector). */
function layout(inputs: number, hidden: number, recurrent: number) {
  const sizes = {
    w1: hidden * inputs,
    b1: hidden,
    w2: hidden,
    b2: 1,
    wx: 3 * recurrent * hidden,
    wg: 3 * recurrent * recurrent,
    bx: 3 * recurrent,
    bg: recurrent,
    v: recurrent,
  };
  const total = Object.values(sizes).reduce((s, n) => s + n, 0);
  const views = (flat: Float64Array) => {
    let at = 0;
    const take = (n: number) => {
      const view = flat.subarray(at, at + n);
      at += n;
      return view;
    };
    return {
      w1: take(sizes.w1),
      b1: take(sizes.b1),
      w2: take(sizes.w2),
      b2: take(sizes.b2),
      wx: take(sizes.wx),
      wg: take(sizes.wg),
      bx: take(sizes.bx),
      bg: take(sizes.bg),
      v: take(sizes.v),
    };
  };
  return { total, views };
}

type Views = ReturnType<ReturnType<typeof layout>["views"]>;

/** Scratch for one chunk's forward pass, kept for the backward pass. */
interface Tape {
  u: Float64Array; // hops × hidden
  g: Float64Array; // (hops + 1) × recurrent, g[0] the initial state
  reset: Float64Array;
  update: Float64Array;
  cand: Float64Array;
  hn: Float64Array; // the candidate's recurrent term (before the reset gate)
  p: Float64Array;
}

function tapeFor(hops: number, hidden: number, recurrent: number): Tape {
  return {
    u: new Float64Array(hops * hidden),
    g: new Float64Array((hops + 1) * recurrent),
    reset: new Float64Array(hops * recurrent),
    update: new Float64Array(hops * recurrent),
    cand: new Float64Array(hops * recurrent),
    hn: new Float64Array(hops * recurrent),
    p: new Float64Array(hops),
  };
}

const sigmoid = (a: number) => 1 / (1 + Math.exp(-a));

/**
 * Loss of one chunk (hops `from`…`from + hops − 1` of `data`, zero initial state, the first `burnIn` hops out of
 * the loss) and its gradient added into `grad` (same layout as `params`). Returns [weighted loss, weight sum].
 */
export function lossAndGradient(
  m: Views,
  grad: Views,
  data: Sequences,
  from: number,
  hops: number,
  burnIn: number,
  sizes: { inputs: number; hidden: number; recurrent: number },
  tape: Tape = tapeFor(hops, sizes.hidden, sizes.recurrent),
): [number, number] {
  const { inputs: F, hidden: H, recurrent: R } = sizes;
  const { x, y, w } = data;
  tape.g.fill(0, 0, R);
  let loss = 0;
  let wsum = 0;
  for (let t = 0; t < hops; t++) {
    const xo = (from + t) * F;
    let out = m.b2[0] as number;
    for (let j = 0; j < H; j++) {
      let a = m.b1[j] as number;
      for (let i = 0; i < F; i++) a += (m.w1[j * F + i] as number) * (x[xo + i] as number);
      const u = Math.tanh(a);
      tape.u[t * H + j] = u;
      out += (m.w2[j] as number) * u;
    }
    for (let j = 0; j < R; j++) {
      let ar = m.bx[j] as number;
      let az = m.bx[R + j] as number;
      let an = m.bx[2 * R + j] as number;
      let hr = 0;
      let hz = 0;
      let hn = m.bg[j] as number;
      for (let k = 0; k < H; k++) {
        const u = tape.u[t * H + k] as number;
        ar += (m.wx[j * H + k] as number) * u;
        az += (m.wx[(R + j) * H + k] as number) * u;
        an += (m.wx[(2 * R + j) * H + k] as number) * u;
      }
      for (let k = 0; k < R; k++) {
        const g = tape.g[t * R + k] as number;
        hr += (m.wg[j * R + k] as number) * g;
        hz += (m.wg[(R + j) * R + k] as number) * g;
        hn += (m.wg[(2 * R + j) * R + k] as number) * g;
      }
      const r = sigmoid(ar + hr);
      const z = sigmoid(az + hz);
      const n = Math.tanh(an + r * hn);
      const prev = tape.g[t * R + j] as number;
      const g = (1 - z) * n + z * prev;
      tape.reset[t * R + j] = r;
      tape.update[t * R + j] = z;
      tape.cand[t * R + j] = n;
      tape.hn[t * R + j] = hn;
      tape.g[(t + 1) * R + j] = g;
    }
    for (let j = 0; j < R; j++) out += (m.v[j] as number) * (tape.g[(t + 1) * R + j] as number);
    const p = sigmoid(out);
    tape.p[t] = p;
    if (t >= burnIn) {
      const target = y[from + t] as number;
      const weight = w[from + t] as number;
      loss -= weight * (target * Math.log(p + 1e-9) + (1 - target) * Math.log(1 - p + 1e-9));
      wsum += weight;
    }
  }
  // Backward through time.
  const dg = new Float64Array(R);
  const dgPrev = new Float64Array(R);
  const du = new Float64Array(H);
  const dPre = new Float64Array(3 * R); // reset, update, candidate pre-activations
  const dhn = new Float64Array(R);
  for (let t = hops - 1; t >= 0; t--) {
    const dOut =
      t >= burnIn ? (w[from + t] as number) * ((tape.p[t] as number) - (y[from + t] as number)) : 0;
    grad.b2[0] = (grad.b2[0] as number) + dOut;
    for (let j = 0; j < H; j++) {
      grad.w2[j] = (grad.w2[j] as number) + dOut * (tape.u[t * H + j] as number);
      du[j] = dOut * (m.w2[j] as number);
    }
    dgPrev.fill(0);
    for (let j = 0; j < R; j++) {
      const g = tape.g[(t + 1) * R + j] as number;
      grad.v[j] = (grad.v[j] as number) + dOut * g;
      const d = (dg[j] as number) + dOut * (m.v[j] as number);
      const r = tape.reset[t * R + j] as number;
      const z = tape.update[t * R + j] as number;
      const n = tape.cand[t * R + j] as number;
      const prev = tape.g[t * R + j] as number;
      const hn = tape.hn[t * R + j] as number;
      const dn = d * (1 - z) * (1 - n * n);
      const dz = d * (prev - n) * z * (1 - z);
      const dr = dn * hn * r * (1 - r);
      dPre[j] = dr;
      dPre[R + j] = dz;
      dPre[2 * R + j] = dn;
      dhn[j] = dn * r;
      dgPrev[j] = (dgPrev[j] as number) + d * z;
    }
    for (let j = 0; j < R; j++) {
      grad.bg[j] = (grad.bg[j] as number) + (dhn[j] as number);
      for (let q = 0; q < 3; q++) {
        const row = q * R + j;
        const dp = dPre[row] as number;
        grad.bx[row] = (grad.bx[row] as number) + dp;
        for (let k = 0; k < H; k++) {
          grad.wx[row * H + k] = (grad.wx[row * H + k] as number) + dp * (tape.u[t * H + k] as number);
          du[k] = (du[k] as number) + dp * (m.wx[row * H + k] as number);
        }
        // The candidate's recurrent term is multiplied by the reset gate.
        const dh = q === 2 ? (dhn[j] as number) : dp;
        for (let k = 0; k < R; k++) {
          grad.wg[row * R + k] = (grad.wg[row * R + k] as number) + dh * (tape.g[t * R + k] as number);
          dgPrev[k] = (dgPrev[k] as number) + dh * (m.wg[row * R + k] as number);
        }
      }
    }
    dg.set(dgPrev);
    const xo = (from + t) * F;
    for (let j = 0; j < H; j++) {
      const u = tape.u[t * H + j] as number;
      const da = (du[j] as number) * (1 - u * u);
      grad.b1[j] = (grad.b1[j] as number) + da;
      for (let i = 0; i < F; i++)
        grad.w1[j * F + i] = (grad.w1[j * F + i] as number) + da * (x[xo + i] as number);
    }
  }
  return [loss, wsum];
}

/** A fresh model of the given sizes: Gaussian weights scaled by fan-in, the update gate biased to remember. */
export function initialModel(inputs: number, hidden: number, recurrent: number, seed: number): Float64Array {
  const { total, views } = layout(inputs, hidden, recurrent);
  const flat = new Float64Array(total);
  const m = views(flat);
  const rand = random(seed);
  const gauss = () => Math.sqrt(-2 * Math.log(rand() + 1e-12)) * Math.cos(2 * Math.PI * rand());
  for (let i = 0; i < m.w1.length; i++) m.w1[i] = gauss() / Math.sqrt(inputs);
  for (let i = 0; i < m.w2.length; i++) m.w2[i] = gauss() / Math.sqrt(hidden);
  for (let i = 0; i < m.wx.length; i++) m.wx[i] = gauss() / Math.sqrt(hidden);
  for (let i = 0; i < m.wg.length; i++) m.wg[i] = gauss() / Math.sqrt(recurrent);
  for (let i = 0; i < m.v.length; i++) m.v[i] = gauss() / Math.sqrt(recurrent);
  // An update gate that starts half-open lets gradients reach ~10 hops back from the first epoch.
  m.bx.fill(1, recurrent, 2 * recurrent);
  return flat;
}

/** The flat parameters as a {@link FloatModel} (copies). */
export function toFloatModel(
  flat: Float64Array,
  inputs: number,
  hidden: number,
  recurrent: number,
): FloatModel {
  const m = layout(inputs, hidden, recurrent).views(flat);
  return {
    w1: m.w1.slice(),
    b1: m.b1.slice(),
    w2: m.w2.slice(),
    b2: m.b2[0] as number,
    wx: m.wx.slice(),
    wg: m.wg.slice(),
    bx: m.bx.slice(),
    bg: m.bg.slice(),
    v: m.v.slice(),
  };
}

/** Views of a flat parameter vector (for the gradient check). */
export function viewsOf(flat: Float64Array, inputs: number, hidden: number, recurrent: number): Views {
  return layout(inputs, hidden, recurrent).views(flat);
}

/**
 * Trains a model on `data`; progress on stderr every 5 epochs. Each chunk starts from a zero state and its first
 * `burnIn` hops settle it outside the loss; chunks overlap by the burn-in. Carrying the state from chunk to chunk
 * (stateful training over 3–60 s pieces) scored the same on speech but fired on 21–45 % of the event-sound hops
 * heard from a fresh start (8.7 % this way); what a stateful run is for, staying put through minutes of steady
 * noise, the 40 s noise-only streams of `train-vad.ts` teach as well (pink noise: 5 % of hops ≥ 0.5 after 20 s).
 */
export function train(data: Sequences, options: TrainingOptions): FloatModel {
  const { inputs, hidden, recurrent, epochs, seed } = options;
  const chunk = options.chunk ?? 150;
  const burnIn = options.burnIn ?? 25;
  const batch = options.batch ?? 8;
  const lr = options.learningRate ?? 3e-3;
  const sizes = { inputs, hidden, recurrent };
  const { total, views } = layout(inputs, hidden, recurrent);
  const flat = initialModel(inputs, hidden, recurrent, seed);
  const m = views(flat);
  const gradFlat = new Float64Array(total);
  const grad = views(gradFlat);
  const mom = new Float64Array(total);
  const vel = new Float64Array(total);
  // Chunks overlap by the burn-in so that every hop after a stream's first `burnIn` is in the loss once.
  const starts: number[] = [];
  for (let s = 0; s + 1 < data.bounds.length; s++) {
    const end = data.bounds[s + 1] as number;
    for (let at = data.bounds[s] as number; at + burnIn + 1 < end; at += chunk - burnIn) starts.push(at);
  }
  const rand = random(seed + 1);
  const tape = tapeFor(chunk, hidden, recurrent);
  let step = 0;
  // Polyak averaging over the last third: the exported weights are an exponential average of the iterates
  // (time constant ~500 steps), which varied less from seed to seed than the last iterate.
  const average = new Float64Array(total);
  let averaging = false;
  for (let epoch = 0; epoch < epochs; epoch++) {
    for (let i = starts.length - 1; i > 0; i--) {
      const j = Math.floor(rand() * (i + 1));
      [starts[i], starts[j]] = [starts[j] as number, starts[i] as number];
    }
    // Step decay over the last third: the int8 export wants weights that have settled.
    const late = epoch >= (2 * epochs) / 3;
    const rate = late ? lr / 3 : lr;
    if (late && !averaging) {
      average.set(flat);
      averaging = true;
    }
    let loss = 0;
    let weight = 0;
    for (let b = 0; b < starts.length; b += batch) {
      gradFlat.fill(0);
      let wsum = 0;
      for (let k = b; k < Math.min(starts.length, b + batch); k++) {
        const from = starts[k] as number;
        const end = data.bounds.find((e) => e > from) as number;
        const hops = Math.min(chunk, end - from);
        const [l, ws] = lossAndGradient(m, grad, data, from, hops, burnIn, sizes, tape);
        loss += l;
        wsum += ws;
      }
      weight += wsum;
      if (wsum === 0) continue;
      step++;
      const c1 = 1 - 0.9 ** step;
      const c2 = 1 - 0.999 ** step;
      for (let i = 0; i < total; i++) {
        // Gradients clipped per element: a rare exploding chunk must not throw the recurrent weights away.
        const gi = Math.max(-5, Math.min(5, (gradFlat[i] as number) / wsum)) + 1e-5 * (flat[i] as number);
        mom[i] = 0.9 * (mom[i] as number) + 0.1 * gi;
        vel[i] = 0.999 * (vel[i] as number) + 0.001 * gi * gi;
        flat[i] =
          (flat[i] as number) -
          (rate * ((mom[i] as number) / c1)) / (Math.sqrt((vel[i] as number) / c2) + 1e-8);
        if (averaging) average[i] = 0.998 * (average[i] as number) + 0.002 * (flat[i] as number);
      }
    }
    if (epoch % 5 === 4 || epoch === epochs - 1)
      console.error(`epoch ${epoch + 1}: loss ${(loss / Math.max(weight, 1e-9)).toFixed(4)}`);
  }
  return toFloatModel(averaging ? average : flat, inputs, hidden, recurrent);
}

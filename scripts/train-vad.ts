/**
 * Trains the VAD's tiny classifier and writes `worklet/dsp/vad-weights.ts`: `node scripts/train-vad.ts`.
 *
 * Data (all built at run time from installed Debian packages, see test/fixtures/speech-corpus.ts):
 * - isolated speech: 4 × 120 s of KLettres letters and syllables in the *tune* languages only (cs, da, de, es,
 *   fr, hu, it, nl, pt_BR, ru), with 0.3–1.5 s pauses, labelled by energy on the clean source;
 * - continuous speech: 4 × 120 s of conversational streams (`continuousSet`): the tune split of the Asterisk
 *   prompts (whole sentences) and the KLettres tune languages, in phrases with 80–600 ms pauses, labelled on
 *   each clean prompt; also through sox `reverb`;
 * - every speech set clean and mixed with sox white, pink and brown noise at 20, 10, 5 and 0 dB SNR;
 * - non-speech: the Asterisk tone prompts (beeps, tone sweeps) and synthetic beeps, dual tones, bells, chords,
 *   buzzers, chimes, chirps, warbles, clicks and noise bursts, plus patterned sounds that change at a
 *   syllable-like rate but hold fixed partials within each piece (telephone cadences, DTMF digits, melodic
 *   jingles, repeated alarm sweeps, beep trains), generated here (not the freedesktop event sounds, which stay
 *   a held-out test of false alarms).
 * The held-out languages (ar, en, en_GB, he, lt, nb, nds, tn, uk), the held-out Asterisk prompts and the ALSA
 * prompts are only scored, never trained on; the script prints AUC per condition on both splits, for isolated
 * and continuous speech, and event-sound false alarms.
 *
 * Model: standardised features → HIDDEN tanh units → sigmoid, trained with Adam (mini-batches of 256) on
 * cross-entropy, non-speech weighted NEG_WEIGHT×; the first layer is then quantised to int8 per unit and
 * written as base64, with the standardisation mean folded into the bias (`packWeights`). Everything is seeded,
 * so a rerun reproduces the committed weights (about 5 minutes on one busy core). `HIDDEN`, `EPOCHS`,
 * `NEG_WEIGHT`, `CONTINUOUS_WEIGHT` and `NEG_SECONDS` (480 s of synthetic non-speech) environment variables
 * override the defaults for experiments; `--score` only scores the current weights.
 * The output is byte-identical to the committed file after `npx biome check --write worklet/dsp/vad-weights.ts`.
 */
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import {
  asteriskPrompts,
  continuousSet,
  decodeAudio,
  eventSounds,
  NOISE_CONDITIONS,
  noisyVadSet,
  random,
  reverberate,
  type VadSet,
  vadSet,
} from "../test/fixtures/speech-corpus.ts";
import { labelGrid, onGrid, rocAuc, runDetector } from "../test/fixtures/vad-metrics.ts";
import { type FloatModel, packWeights } from "../worklet/dsp/vad/classifier.ts";
import { VAD_FEATURE_COUNT, VoiceActivityDetector } from "../worklet/dsp/vad.ts";

const RATE = 24000;
const HIDDEN = Number(process.env.HIDDEN ?? 20);
const F = VAD_FEATURE_COUNT;

/** Features of every 20 ms hop of `signal`, with the share of labelled speech in the hop as the target. */
function extract(signal: Float32Array, grid: Uint8Array | null): { x: Float32Array; y: Float32Array } {
  const vad = new VoiceActivityDetector({ sampleRate: RATE });
  const hop = vad.hopSize;
  const hops = Math.floor(signal.length / hop);
  const x = new Float32Array(hops * F);
  const y = new Float32Array(hops);
  const per = hop / (RATE / 100);
  for (let i = 0; i < hops; i++) {
    vad.process(signal.subarray(i * hop, (i + 1) * hop));
    x.set(vad.features, i * F);
    if (grid) {
      let s = 0;
      for (let j = 0; j < per; j++) s += grid[i * per + j] ?? 0;
      y[i] = s / per;
    }
  }
  return { x, y };
}

function concatFloats(parts: Float32Array[]): Float32Array {
  const out = new Float32Array(parts.reduce((s, p) => s + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/** Synthetic non-speech events (tones, bells, chirps, warbles, clicks) over a faint noise floor. */
function syntheticEvents(seconds: number, seed: number): Float32Array {
  const rand = random(seed);
  const out = new Float32Array(seconds * RATE);
  for (let i = 0; i < out.length; i++)
    out[i] = (rand() * 2 - 1) * 10 ** ((-62 + 10 * Math.sin(i / 96000)) / 20);
  let at = RATE;
  while (at < out.length - RATE) {
    const kind = Math.floor(rand() * 8);
    const dur = Math.floor((0.08 + rand() * 1.4) * RATE);
    const amp = 10 ** ((-36 + 28 * rand()) / 20);
    // Fundamentals from 80 Hz (buzzers, thumps) to 3.6 kHz (beeps), log-uniform.
    const f1 = 80 * 45 ** rand();
    const partials: Array<[freq: number, gain: number, decay: number]> = [];
    if (kind === 0) partials.push([f1, 1, rand() < 0.5 ? 0 : 2 + rand() * 10]);
    else if (kind === 1) partials.push([f1, 1, 0], [f1 * (1.05 + rand() * 0.6), 1, 0]);
    else if (kind === 2)
      for (const r of [1, 2.76, 5.4, 8.93]) partials.push([f1 * r, 1 / r, 3 + rand() * 12]);
    else if (kind === 3 || kind === 6) {
      // Harmonic complexes: chimes, marimbas, buzzers (square-ish or sawtooth-ish spectra, steady pitch). Kept
      // above 200 Hz: a steady 80–200 Hz harmonic complex is what a hummed "mmm" or a held vowel looks like, and
      // teaching the classifier to reject it cost real syllables.
      const f0 = 200 + rand() * 1000;
      const n = 2 + Math.floor(rand() * 12);
      const slope = 0.5 + rand() * 1.5;
      const decay = rand() < 0.5 ? 0 : 1 + rand() * 8;
      for (let h = 1; h <= n; h++)
        if (f0 * h < RATE / 2 - 200) partials.push([f0 * h, h ** -slope, decay * h ** 0.5]);
    } else if (kind === 7) {
      // Chords of two to four decaying notes (bells, notification jingles).
      const notes = 2 + Math.floor(rand() * 3);
      for (let k = 0; k < notes; k++) {
        const f = f1 * 2 ** (Math.floor(rand() * 12) / 12);
        partials.push([f, 1, 2 + rand() * 6], [2 * f, 0.3, 4 + rand() * 8]);
      }
    }
    const sweep = kind === 4 ? (rand() < 0.5 ? 3 : 1 / 3) : 1;
    const warble = kind === 5 ? [15 + rand() * 15, 0.05 + rand() * 0.1] : [0, 0];
    if (kind === 4 || kind === 5) partials.push([f1, 1, 0]);
    const end = Math.min(out.length, at + dur);
    if (rand() < 0.35) {
      at = patterned(out, at, amp, rand);
      continue;
    }
    if (rand() < 0.3) {
      // Noise that starts abruptly (a fan, a hiss, rustling, crunching): white, pink-ish or brown-ish, steady
      // or chopped at 5–30 Hz, 0.1–3 s long. The floor tracker needs ~1.3 s to absorb it, so the classifier
      // must learn that a sudden broadband sound without harmonics is not a voice.
      const n = Math.min(out.length - at, Math.floor((0.1 + rand() * 2.9) * RATE));
      const colour = Math.floor(rand() * 3);
      // Down to −60 dBFS: room tone that switches on and off between utterances is as common as loud noise.
      const burstAmp = 10 ** ((-60 + 50 * rand()) / 20);
      const chop = rand() < 0.5 ? 5 + rand() * 25 : 0;
      let lp = 0;
      let lp2 = 0;
      for (let i = 0; i < n; i++) {
        const w = rand() * 2 - 1;
        lp += 0.1 * (w - lp);
        lp2 = 0.995 * lp2 + 0.02 * w;
        const v = colour === 0 ? w : colour === 1 ? 0.6 * w + 2.5 * lp : 4 * lp2;
        const gate = chop ? (Math.sin((2 * Math.PI * chop * i) / RATE) > 0.3 * (rand() - 0.5) ? 1 : 0.1) : 1;
        out[at + i] = (out[at + i] as number) + burstAmp * gate * v * Math.min(1, i / 48);
      }
      at += n + Math.floor((0.1 + rand()) * RATE);
      continue;
    }
    if (rand() < 0.2) {
      // Click or shutter: a short noise burst.
      const n = Math.floor((0.005 + rand() * 0.08) * RATE);
      for (let i = 0; i < n && at + i < out.length; i++)
        out[at + i] = (out[at + i] as number) + amp * (rand() * 2 - 1) * Math.exp(-i / (n / 4));
    } else {
      const phase = partials.map(() => 0);
      for (let i = at; i < end; i++) {
        const t = (i - at) / RATE;
        const env = Math.min(1, t / 0.005) * Math.min(1, (end - i) / (0.01 * RATE));
        let v = 0;
        for (let p = 0; p < partials.length; p++) {
          const [freq, gain, decay] = partials[p] as [number, number, number];
          const f =
            freq *
            sweep ** (t / (dur / RATE)) *
            (1 + (warble[1] as number) * Math.sin(2 * Math.PI * (warble[0] as number) * t));
          phase[p] =
            ((phase[p] as number) + (2 * Math.PI * Math.min(f, RATE / 2 - 100)) / RATE) % (2 * Math.PI);
          v += gain * Math.exp(-decay * t) * Math.sin(phase[p] as number);
        }
        out[i] = (out[i] as number) + amp * env * v;
      }
    }
    at = end + Math.floor((0.1 + rand()) * RATE);
  }
  return out;
}

/** Adds a tone of `partials` ([Hz, gain, decay per s]) from `at` for `dur` samples, 5 ms attack, 10 ms release. */
function addTone(
  out: Float32Array,
  at: number,
  dur: number,
  partials: Array<[freq: number, gain: number, decay: number]>,
  amp: number,
  sweep = 1,
): void {
  const end = Math.min(out.length, at + dur);
  const phase = partials.map(() => 0);
  for (let i = at; i < end; i++) {
    const t = (i - at) / RATE;
    const env = Math.min(1, t / 0.005) * Math.min(1, (end - i) / (0.01 * RATE));
    let v = 0;
    for (let p = 0; p < partials.length; p++) {
      const [freq, gain, decay] = partials[p] as [number, number, number];
      const f = Math.min(freq * sweep ** (t / (dur / RATE)), RATE / 2 - 100);
      phase[p] = ((phase[p] as number) + (2 * Math.PI * f) / RATE) % (2 * Math.PI);
      v += gain * Math.exp(-decay * t) * Math.sin(phase[p] as number);
    }
    out[i] = (out[i] as number) + amp * env * v;
  }
}

/**
 * Patterned non-speech that changes at a syllable-like rate but holds fixed partials within each piece:
 * telephone cadences (dual tones on/off), DTMF digits, melodic jingles of harmonic or bell-like notes, repeated
 * alarm sweeps and beep trains. Returns where the pattern ends.
 */
function patterned(out: Float32Array, at: number, amp: number, rand: () => number): number {
  const kind = Math.floor(rand() * 5);
  const pieces = 2 + Math.floor(rand() * 8);
  const gap = Math.floor((0.02 + rand() * 0.5) * RATE);
  const base = 150 + rand() * 1500;
  for (let p = 0; p < pieces && at < out.length - RATE; p++) {
    const dur = Math.floor((kind === 1 ? 0.05 + rand() * 0.15 : 0.08 + rand() * 0.6) * RATE);
    const partials: Array<[number, number, number]> = [];
    let sweep = 1;
    if (kind === 0) {
      // Telephone tones: one or two fixed frequencies (350–950 Hz), the same every burst.
      const pair = [
        [350, 440],
        [440, 480],
        [480, 620],
        [425, 0],
        [400, 450],
        [950, 0],
      ][Math.floor(((base - 150) / 1500) * 6)] as [number, number];
      partials.push([pair[0], 1, 0]);
      if (pair[1]) partials.push([pair[1], 1, 0]);
    } else if (kind === 1) {
      const lowTones = [697, 770, 852, 941];
      const highTones = [1209, 1336, 1477, 1633];
      partials.push([lowTones[Math.floor(rand() * 4)] as number, 1, 0]);
      partials.push([highTones[Math.floor(rand() * 4)] as number, 0.8, 0]);
    } else if (kind === 2) {
      // A jingle: notes on a scale, harmonic (marimba, organ) or inharmonic (glass, bell) timbre.
      const f = base * 2 ** (Math.floor(rand() * 15) / 12);
      const bell = rand() < 0.5;
      const ratios = bell ? [1, 2.76, 5.4] : [1, 2, 3, 4, 5];
      const decay = rand() < 0.5 ? 0 : 2 + rand() * 10;
      for (const r of ratios) if (f * r < RATE / 2 - 200) partials.push([f * r, 1 / r, decay * r ** 0.5]);
    } else if (kind === 3) {
      sweep = rand() < 0.5 ? 1.5 + rand() * 2 : 1 / (1.5 + rand() * 2);
      partials.push([base, 1, 0]);
      if (rand() < 0.5) partials.push([3 * base, 0.3, 0]);
    } else {
      partials.push([base, 1, 0]);
      if (rand() < 0.5) partials.push([2 * base, 0.5, 0], [3 * base, 0.25, 0]);
    }
    addTone(out, at, dur, partials, amp, sweep);
    at += dur + (kind === 2 && rand() < 0.5 ? 0 : gap);
  }
  return at + Math.floor((0.1 + rand()) * RATE);
}

function forward(m: FloatModel, x: Float32Array, o: number, h: Float64Array): number {
  let out = m.b2;
  for (let j = 0; j < HIDDEN; j++) {
    let a = m.b1[j] as number;
    for (let i = 0; i < F; i++) a += (m.w1[j * F + i] as number) * (x[o + i] as number);
    const t = Math.tanh(a);
    h[j] = t;
    out += (m.w2[j] as number) * t;
  }
  return 1 / (1 + Math.exp(-out));
}

function train(
  x: Float32Array,
  y: Float32Array,
  weight: Float32Array,
  epochs: number,
  seed: number,
): FloatModel {
  const n = y.length;
  const rand = random(seed);
  const gauss = () => Math.sqrt(-2 * Math.log(rand() + 1e-12)) * Math.cos(2 * Math.PI * rand());
  const m: FloatModel = {
    w1: Float64Array.from({ length: HIDDEN * F }, () => gauss() / Math.sqrt(F)),
    b1: new Float64Array(HIDDEN),
    w2: Float64Array.from({ length: HIDDEN }, () => gauss() / Math.sqrt(HIDDEN)),
    b2: 0,
  };
  const params = [m.w1, m.b1, m.w2];
  const grads = params.map((p) => new Float64Array(p.length));
  const mom = params.map((p) => new Float64Array(p.length));
  const vel = params.map((p) => new Float64Array(p.length));
  let gb2 = 0;
  let mb2 = 0;
  let vb2 = 0;
  const order = Uint32Array.from({ length: n }, (_, i) => i);
  const h = new Float64Array(HIDDEN);
  const batch = 256;
  let step = 0;
  const lr = 3e-3;
  for (let epoch = 0; epoch < epochs; epoch++) {
    for (let i = n - 1; i > 0; i--) {
      const j = Math.floor(rand() * (i + 1));
      [order[i], order[j]] = [order[j] as number, order[i] as number];
    }
    let loss = 0;
    for (let b = 0; b < n; b += batch) {
      for (const g of grads) g.fill(0);
      gb2 = 0;
      let wsum = 0;
      for (let k = b; k < Math.min(n, b + batch); k++) {
        const s = order[k] as number;
        const p = forward(m, x, s * F, h);
        const t = y[s] as number;
        const w = weight[s] as number;
        wsum += w;
        loss -= w * (t * Math.log(p + 1e-9) + (1 - t) * Math.log(1 - p + 1e-9));
        const d = w * (p - t);
        gb2 += d;
        for (let j = 0; j < HIDDEN; j++) {
          const hj = h[j] as number;
          (grads[2] as Float64Array)[j] += d * hj;
          const dh = d * (m.w2[j] as number) * (1 - hj * hj);
          (grads[1] as Float64Array)[j] += dh;
          const g1 = grads[0] as Float64Array;
          for (let i = 0; i < F; i++) g1[j * F + i] += dh * (x[s * F + i] as number);
        }
      }
      step++;
      const c1 = 1 - 0.9 ** step;
      const c2 = 1 - 0.999 ** step;
      for (let q = 0; q < params.length; q++) {
        const p = params[q] as Float64Array;
        const g = grads[q] as Float64Array;
        const mq = mom[q] as Float64Array;
        const vq = vel[q] as Float64Array;
        for (let i = 0; i < p.length; i++) {
          const gi = (g[i] as number) / wsum + (q === 0 ? 1e-4 * (p[i] as number) : 0);
          mq[i] = 0.9 * (mq[i] as number) + 0.1 * gi;
          vq[i] = 0.999 * (vq[i] as number) + 0.001 * gi * gi;
          p[i] =
            (p[i] as number) - (lr * ((mq[i] as number) / c1)) / (Math.sqrt((vq[i] as number) / c2) + 1e-8);
        }
      }
      const g = gb2 / wsum;
      mb2 = 0.9 * mb2 + 0.1 * g;
      vb2 = 0.999 * vb2 + 0.001 * g * g;
      m.b2 -= (lr * (mb2 / c1)) / (Math.sqrt(vb2 / c2) + 1e-8);
    }
    if (epoch % 5 === 4 || epoch === epochs - 1)
      console.error(`epoch ${epoch + 1}: loss ${(loss / n).toFixed(4)}`);
  }
  return m;
}

async function conditionsOf(set: VadSet): Promise<Array<{ name: string; signal: Float32Array }>> {
  const out: Array<{ name: string; signal: Float32Array }> = [];
  let seed = 0;
  for (const c of NOISE_CONDITIONS)
    out.push({ name: c.name, signal: await noisyVadSet(set, c.kind, c.snrDb, seed++) });
  return out;
}

/** Conditions of a continuous set: clean, reverberant, and white/pink/brown noise at 20/10/5/0 dB SNR. */
async function continuousConditions(
  set: VadSet,
  seed: number,
): Promise<Array<{ name: string; signal: Float32Array }>> {
  const out = await conditionsOf(set);
  out.splice(1, 0, { name: "reverb", signal: reverberate(set.clean, RATE, seed) });
  return out;
}

/** AUC per condition on both splits and event-sound false alarms, with the weights the VAD module loaded. */
async function score(): Promise<void> {
  const rows: string[] = ["| condition | tune AUC | held-out AUC |", "|---|---|---|"];
  const splits = [await vadSet({ split: "tune", seed: 7 }), await vadSet({ split: "heldout", seed: 7 })];
  const results = new Map<string, number[]>();
  for (const set of splits) {
    const grid = labelGrid(set.speech, RATE, set.clean.length);
    for (const { name, signal } of await conditionsOf(set)) {
      const vad = new VoiceActivityDetector({ sampleRate: RATE });
      const track = runDetector(signal, 480, (f) => vad.process(f));
      const auc = rocAuc(onGrid(track, RATE, grid.length), grid);
      results.set(name, [...(results.get(name) ?? []), auc]);
    }
  }
  for (const [name, [a, b]] of results) rows.push(`| ${name} | ${a?.toFixed(3)} | ${b?.toFixed(3)} |`);
  rows.push("", "| continuous speech | tune AUC (seed 11) | held-out AUC (seed 7) |", "|---|---|---|");
  const continuous = new Map<string, number[]>();
  for (const set of [
    await continuousSet({ split: "tune", seed: 11 }),
    await continuousSet({ split: "heldout", seed: 7 }),
  ]) {
    const grid = labelGrid(set.speech, RATE, set.clean.length);
    for (const { name, signal } of await continuousConditions(set, 1)) {
      const vad = new VoiceActivityDetector({ sampleRate: RATE });
      const track = runDetector(signal, 480, (f) => vad.process(f));
      const auc = rocAuc(onGrid(track, RATE, grid.length), grid);
      continuous.set(name, [...(continuous.get(name) ?? []), auc]);
    }
  }
  for (const [name, [a, b]] of continuous) rows.push(`| ${name} | ${a?.toFixed(3)} | ${b?.toFixed(3)} |`);
  let alarms = 0;
  let frames = 0;
  for (const { samples } of await eventSounds(RATE)) {
    const vad = new VoiceActivityDetector({ sampleRate: RATE });
    const lead = new Float32Array(RATE / 2);
    const r = random(5);
    for (let i = 0; i < lead.length; i++) lead[i] = (r() * 2 - 1) * 5.5e-4;
    vad.process(lead);
    const track = runDetector(samples, 480, (f) => vad.process(f));
    for (const p of track.probabilities) if (p >= 0.5) alarms++;
    frames += track.probabilities.length;
  }
  console.log(rows.join("\n"));
  console.log(`event-sound false alarms at 0.5: ${((100 * alarms) / frames).toFixed(1)} %`);
}

if (process.argv.includes("--score")) {
  await score();
  process.exit(0);
}

const tuneSets = await Promise.all([7, 8, 9, 10].map((seed) => vadSet({ split: "tune", seed })));
const xs: Float32Array[] = [];
const ys: Float32Array[] = [];
const ws: Float32Array[] = [];
for (const set of tuneSets) {
  const grid = labelGrid(set.speech, RATE, set.clean.length);
  for (const { signal } of await conditionsOf(set)) {
    const { x, y } = extract(signal, grid);
    xs.push(x);
    ys.push(y);
    ws.push(new Float32Array(y.length).fill(1));
  }
}
// Conversational streams of the tune split (Asterisk prompts, KLettres tune languages): phrases with
// 80–600 ms pauses, clean, reverberant and noisy, so that the classifier learns long phrases and short pauses.
const continuousSets = await Promise.all([7, 8, 9, 10].map((seed) => continuousSet({ split: "tune", seed })));
for (const [k, set] of continuousSets.entries()) {
  const grid = labelGrid(set.speech, RATE, set.clean.length);
  for (const { signal } of await continuousConditions(set, 20 + k)) {
    const { x, y } = extract(signal, grid);
    xs.push(x);
    ys.push(y);
    ws.push(new Float32Array(y.length).fill(Number(process.env.CONTINUOUS_WEIGHT ?? 1)));
  }
}
{
  // Real non-speech: the Asterisk package's tone prompts (beeps, tone sweeps, monkeys), after faint noise.
  const tones = await Promise.all(asteriskPrompts("all").nonSpeech.map((p) => decodeAudio(p, RATE)));
  const parts: Float32Array[] = [];
  const r = random(17);
  for (const t of tones) {
    const lead = Float32Array.from({ length: RATE / 2 }, () => (r() * 2 - 1) * 5.5e-4);
    parts.push(lead, t);
  }
  const { x, y } = extract(concatFloats(parts), null);
  xs.push(x);
  ys.push(y);
  ws.push(new Float32Array(y.length).fill(Number(process.env.NEG_WEIGHT ?? 12)));
}
{
  const { x, y } = extract(syntheticEvents(Number(process.env.NEG_SECONDS ?? 480), 3), null);
  xs.push(x);
  ys.push(y);
  // The synthetic events are few next to the speech pauses; weigh them so they shape the boundary.
  ws.push(new Float32Array(y.length).fill(Number(process.env.NEG_WEIGHT ?? 12)));
}
const X = concatFloats(xs);
const Y = concatFloats(ys);
const W = concatFloats(ws);
const n = Y.length;
const mean = new Float64Array(F);
const std = new Float64Array(F);
for (let s = 0; s < n; s++)
  for (let i = 0; i < F; i++) mean[i] = (mean[i] as number) + (X[s * F + i] as number) / n;
for (let s = 0; s < n; s++)
  for (let i = 0; i < F; i++)
    std[i] = (std[i] as number) + ((X[s * F + i] as number) - (mean[i] as number)) ** 2 / n;
for (let i = 0; i < F; i++) std[i] = Math.sqrt(std[i] as number) || 1;
for (let s = 0; s < n; s++)
  for (let i = 0; i < F; i++)
    X[s * F + i] = ((X[s * F + i] as number) - (mean[i] as number)) / (std[i] as number);
console.error(`training on ${n} hops (${(n / 50 / 60).toFixed(1)} min of audio)`);
const model = train(X, Y, W, Number(process.env.EPOCHS ?? 15), 11);

const weights = packWeights(model, mean, std);
const fmt = (a: readonly number[]) => `[${a.join(", ")}]`;
const source = `/**
 * Classifier weights of the voice activity detector (\`vad.ts\`, format in \`vad/classifier.ts\`): ${F}
 * features in \`FEATURES\` order (\`vad/features.ts\`), scaled by \`scale\` → ${HIDDEN} tanh units (int8 weights,
 * row-major ${HIDDEN} × ${F} as base64, × w1Scale per unit; the feature mean is folded into b1) → sigmoid.
 * Generated by \`node scripts/train-vad.ts\` (see that script for the training data). Do not edit by hand.
 */
import type { VadWeights } from "./vad/classifier.ts";

export const VAD_WEIGHTS = {
  inputs: ${weights.inputs},
  hidden: ${weights.hidden},
  scale: ${fmt(weights.scale)},
  w1Scale: ${fmt(weights.w1Scale)},
  w1: "${weights.w1}",
  b1: ${fmt(weights.b1)},
  w2: ${fmt(weights.w2)},
  b2: ${weights.b2},
} as const satisfies VadWeights;
`;
writeFileSync(join(import.meta.dirname, "../worklet/dsp/vad-weights.ts"), source);
console.error("wrote worklet/dsp/vad-weights.ts");

// Score with the freshly written weights in a child process (this process still holds the old module).
const { spawnSync } = await import("node:child_process");
spawnSync(process.execPath, [join(import.meta.dirname, "train-vad.ts"), "--score"], { stdio: "inherit" });

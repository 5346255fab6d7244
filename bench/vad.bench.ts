/**
 * VAD benchmark (`node bench/vad.bench.ts`, also run by `npm run bench`): our worklet VAD next to Silero v4 and
 * v5 (the ONNX files shipped in @ricky0123/vad-web, run with onnxruntime-node) and WebRTC VAD
 * (@echogarden/fvad-wasm), all in one process, on the held-out split of the speech corpus (languages and the
 * ALSA prompts never used to train or tune our VAD), clean and with white/pink/brown noise at 20/10/5/0 dB SNR.
 * The references take 16 kHz: their input is resampled from the same 24 kHz signals with sox `rate -v`.
 * Prints markdown tables: frame ROC-AUC, TPR at 5 % FPR, F1 at the deployed threshold (next to the trivial
 * all-speech F1), false alarms on the freedesktop event sounds, median onset latency, CPU per second of audio,
 * and the gating table (speech kept / non-speech withheld by the segmenter with its defaults).
 */
import { join } from "node:path";
import * as ort from "onnxruntime-node";
import {
  continuousSet,
  eventSounds,
  NOISE_CONDITIONS,
  noisyVadSet,
  random,
  resampleWithSox,
  reverberate,
  type VadSet,
  vadSet,
} from "../test/fixtures/speech-corpus.ts";
import {
  alarmRate,
  allSpeechF1,
  type DetectorTrack,
  f1At,
  labelGrid,
  median,
  onGrid,
  onsetLatencies,
  rocAuc,
  tprAtFpr,
} from "../test/fixtures/vad-metrics.ts";
import { SEGMENTER_DEFAULTS, Segmenter } from "../worklet/dsp/segmenter.ts";
import { VoiceActivityDetector } from "../worklet/dsp/vad.ts";

const RATE = 24000;
const REF_RATE = 16000;
const MODELS = join(import.meta.dirname, "../node_modules/@ricky0123/vad-web/dist");

/** A detector under test: a fresh instance per signal, its input rate, frame size and deployed threshold. */
interface Detector {
  name: string;
  rate: number;
  frame: number;
  threshold: number;
  create(): Promise<(frame: Float32Array) => Promise<number> | number>;
}

const ours: Detector = {
  name: "this VAD (24 kHz, 20 ms)",
  rate: RATE,
  frame: 480,
  threshold: SEGMENTER_DEFAULTS.onsetThreshold,
  async create() {
    const vad = new VoiceActivityDetector({ sampleRate: RATE });
    return (f) => vad.process(f);
  },
};

async function sileroV4(): Promise<Detector> {
  const session = await ort.InferenceSession.create(join(MODELS, "silero_vad_legacy.onnx"));
  const sr = new ort.Tensor("int64", BigInt64Array.from([BigInt(REF_RATE)]), []);
  return {
    name: "Silero v4 (16 kHz, 32 ms)",
    rate: REF_RATE,
    frame: 512,
    threshold: 0.5,
    async create() {
      let h: ort.Tensor = new ort.Tensor("float32", new Float32Array(128), [2, 1, 64]);
      let c: ort.Tensor = new ort.Tensor("float32", new Float32Array(128), [2, 1, 64]);
      return async (frame) => {
        const input = new ort.Tensor("float32", Float32Array.from(frame), [1, frame.length]);
        const r = await session.run({ input, sr, h, c });
        h = r.hn as ort.Tensor;
        c = r.cn as ort.Tensor;
        return (r.output as ort.Tensor).data[0] as number;
      };
    },
  };
}

async function sileroV5(): Promise<Detector> {
  const session = await ort.InferenceSession.create(join(MODELS, "silero_vad_v5.onnx"));
  const sr = new ort.Tensor("int64", BigInt64Array.from([BigInt(REF_RATE)]), []);
  return {
    name: "Silero v5 (16 kHz, 32 ms)",
    rate: REF_RATE,
    frame: 512,
    threshold: 0.5,
    async create() {
      let state: ort.Tensor = new ort.Tensor("float32", new Float32Array(256), [2, 1, 128]);
      // Silero's own wrapper prepends the previous window's last 64 samples as context.
      const input = new Float32Array(64 + 512);
      return async (frame) => {
        input.copyWithin(0, 512);
        input.set(frame, 64);
        const r = await session.run({
          input: new ort.Tensor("float32", Float32Array.from(input), [1, input.length]),
          state,
          sr,
        });
        state = r.stateN as ort.Tensor;
        return (r.output as ort.Tensor).data[0] as number;
      };
    },
  };
}

interface FvadModule {
  _fvad_new(): number;
  _fvad_free(inst: number): void;
  _fvad_set_mode(inst: number, mode: number): number;
  _fvad_set_sample_rate(inst: number, rate: number): number;
  _fvad_process(inst: number, frame: number, length: number): number;
  _malloc(bytes: number): number;
  HEAP16: Int16Array;
}

async function webrtc(mode: number): Promise<Detector> {
  // The package ships no type declarations: load it by a computed specifier and type the Emscripten module here.
  const specifier = "@echogarden/fvad-wasm";
  const factory = (await import(specifier)).default as () => Promise<FvadModule>;
  const m = await factory();
  const frame = 480; // 30 ms at 16 kHz
  const buffer = m._malloc(frame * 2);
  return {
    name: `WebRTC VAD mode ${mode} (16 kHz, 30 ms)`,
    rate: REF_RATE,
    frame,
    threshold: 0.5,
    async create() {
      const inst = m._fvad_new();
      m._fvad_set_mode(inst, mode);
      m._fvad_set_sample_rate(inst, REF_RATE);
      return (f) => {
        const heap = m.HEAP16;
        for (let i = 0; i < frame; i++)
          heap[(buffer >> 1) + i] = Math.max(-32768, Math.min(32767, Math.round((f[i] as number) * 32768)));
        return m._fvad_process(inst, buffer, frame) === 1 ? 1 : 0;
      };
    },
  };
}

async function track(d: Detector, signal: Float32Array): Promise<{ track: DetectorTrack; ms: number }> {
  const score = await d.create();
  const count = Math.floor(signal.length / d.frame);
  const t: DetectorTrack = {
    starts: new Float64Array(count),
    lengths: new Float64Array(count).fill(d.frame),
    probabilities: new Float64Array(count),
  };
  const begin = performance.now();
  for (let i = 0; i < count; i++) {
    t.starts[i] = i * d.frame;
    const r = score(signal.subarray(i * d.frame, (i + 1) * d.frame));
    // Synchronous detectors are not awaited: a microtask per frame would be charged to their CPU time.
    t.probabilities[i] = typeof r === "number" ? r : await r;
  }
  return { track: t, ms: performance.now() - begin };
}

/**
 * Gating: runs the default segmenter over a detector track (24 kHz sample indices) and returns the share of
 * labelled speech frames inside the emitted segments and the share of non-speech frames outside them.
 */
function gate(t: DetectorTrack, labels: Uint8Array): [kept: number, withheld: number] {
  const seg = new Segmenter({ sampleRate: RATE });
  const inside = new Uint8Array(labels.length);
  const per = RATE / 100;
  let open = -1;
  for (let i = 0; i < t.starts.length; i++) {
    const e = seg.process(t.probabilities[i] as number, t.starts[i] as number, t.lengths[i] as number);
    if (e?.type === "speechstart") open = e.sample;
    else if (e?.type === "speechend" && open >= 0) {
      inside.fill(1, Math.floor(open / per), Math.ceil(e.sample / per));
      open = -1;
    }
  }
  if (open >= 0) inside.fill(1, Math.floor(open / per));
  let speech = 0;
  let kept = 0;
  let quiet = 0;
  let withheld = 0;
  for (let j = 0; j < labels.length; j++) {
    if (labels[j]) {
      speech++;
      kept += inside[j] as number;
    } else {
      quiet++;
      withheld += 1 - (inside[j] as number);
    }
  }
  return [kept / speech, withheld / quiet];
}

/** The labels themselves as a 20 ms track (a perfect VAD): the ceiling that padding and hangover leave. */
function oracle(labels: Uint8Array): DetectorTrack {
  const n = Math.floor(labels.length / 2);
  return {
    starts: Float64Array.from({ length: n }, (_, i) => i * 480),
    lengths: new Float64Array(n).fill(480),
    probabilities: Float64Array.from({ length: n }, (_, i) =>
      Math.max(labels[2 * i] ?? 0, labels[2 * i + 1] ?? 0),
    ),
  };
}

const fmt = (v: number, digits = 3) => (Number.isFinite(v) ? v.toFixed(digits) : "—");
const pct = (v: number) => (Number.isFinite(v) ? `${(100 * v).toFixed(1)} %` : "—");

const started = performance.now();
const set: VadSet = await vadSet({ split: "heldout", seed: 7 });
const grid = labelGrid(set.speech, RATE, set.clean.length);
const detectors = [ours, await sileroV4(), await sileroV5(), await webrtc(3)];
const conditions: Array<{ name: string; signal24: Float32Array; signal16: Float32Array }> = [];
let noiseSeed = 100;
for (const c of NOISE_CONDITIONS) {
  const signal24 = await noisyVadSet(set, c.kind, c.snrDb, noiseSeed++);
  conditions.push({ name: c.name, signal24, signal16: resampleWithSox(signal24, RATE, REF_RATE) });
}

const auc = new Map<string, string[]>();
const tpr = new Map<string, string[]>();
const f1 = new Map<string, string[]>();
const onsets = new Map<string, { all: number[]; clean: number[]; missed: number; total: number }>();
const cpu = new Map<string, { ms: number; seconds: number }>();
const gating: string[] = [];
for (const d of detectors) {
  auc.set(d.name, []);
  tpr.set(d.name, []);
  f1.set(d.name, []);
  onsets.set(d.name, { all: [], clean: [], missed: 0, total: 0 });
  cpu.set(d.name, { ms: 0, seconds: 0 });
}
const trivial: string[] = [];
for (const c of conditions) {
  trivial.push(fmt(allSpeechF1(grid)));
  for (const d of detectors) {
    const signal = d.rate === RATE ? c.signal24 : c.signal16;
    const { track: t } = await track(d, signal);
    const scores = onGrid(t, d.rate, grid.length);
    auc.get(d.name)?.push(fmt(rocAuc(scores, grid), 4));
    tpr.get(d.name)?.push(pct(tprAtFpr(scores, grid, 0.05)));
    f1.get(d.name)?.push(fmt(f1At(scores, grid, d.threshold)));
    const on = onsetLatencies(t, d.rate, set.speech, d.threshold);
    const o = onsets.get(d.name);
    if (o) {
      o.all.push(...on.latenciesMs);
      if (c.name === "clean") o.clean.push(...on.latenciesMs);
      o.missed += on.missed;
      o.total += on.missed + on.latenciesMs.length;
    }
    if (d === ours) {
      const [kept, withheld] = gate(t, grid);
      gating.push(`| ${c.name} | ${pct(kept)} | ${pct(withheld)} |`);
    }
  }
}

// CPU: best of three passes over the clean held-out set per detector, interleaved, so that a busy machine
// inflates every detector alike and the minimum approaches the undisturbed cost.
for (let pass = 0; pass < 3; pass++) {
  for (const d of detectors) {
    const signal =
      d.rate === RATE
        ? (conditions[0] as (typeof conditions)[0]).signal24
        : (conditions[0] as (typeof conditions)[0]).signal16;
    const { ms } = await track(d, signal);
    const k = cpu.get(d.name);
    const perSecond = ms / (signal.length / d.rate);
    if (k && (k.seconds === 0 || perSecond < k.ms)) {
      k.ms = perSecond;
      k.seconds = 1;
    }
  }
}

// Gating on turn-taking speech: utterances of 2–5 recordings, turns 2–6 s apart (a user listening to a reply).
const turnSet = await vadSet({ split: "heldout", seed: 7, seconds: 120, turns: true });
const turnGrid = labelGrid(turnSet.speech, RATE, turnSet.clean.length);
const turnGating: string[] = [];
for (const c of NOISE_CONDITIONS) {
  const signal = await noisyVadSet(turnSet, c.kind, c.snrDb, 300);
  const { track: t } = await track(ours, signal);
  const [kept, withheld] = gate(t, turnGrid);
  turnGating.push(` ${pct(kept)} | ${pct(withheld)} |`);
}
const [oracleKept, oracleWithheld] = gate(oracle(grid), grid);
const [turnOracleKept, turnOracleWithheld] = gate(oracle(turnGrid), turnGrid);

// False alarms: each event sound after 0.5 s of a faint noise floor, fresh detector state per sound.
const events = await eventSounds(RATE);
const alarms = new Map<string, { on: number; frames: number }>();
for (const d of detectors) {
  let on = 0;
  let frames = 0;
  for (const { samples } of events) {
    const r = random(9);
    const lead = new Float32Array(RATE / 2);
    for (let i = 0; i < lead.length; i++) lead[i] = (r() * 2 - 1) * 5.5e-4;
    const joined = new Float32Array(lead.length + samples.length);
    joined.set(lead);
    joined.set(samples, lead.length);
    const signal = d.rate === RATE ? joined : resampleWithSox(joined, RATE, d.rate);
    const { track: t } = await track(d, signal);
    const skip = Math.ceil((lead.length / RATE) * (d.rate / d.frame));
    const sound = { ...t, probabilities: t.probabilities.subarray(skip) };
    on += alarmRate(sound, d.threshold) * sound.probabilities.length;
    frames += sound.probabilities.length;
  }
  alarms.set(d.name, { on, frames });
}

const names = detectors.map((d) => d.name);
const header = `| condition | ${names.join(" | ")} |`;
const rule = `|---|${names.map(() => "---").join("|")}|`;
const table = (title: string, rows: Map<string, string[]>, extra?: string[]) => {
  console.log(
    `\n### ${title} (held-out split, ${(set.clean.length / RATE).toFixed(0)} s, ${grid.reduce((s, v) => s + v, 0)} speech frames of ${grid.length})\n`,
  );
  console.log(extra ? `${header} all-speech |` : header);
  console.log(extra ? `${rule}---|` : rule);
  conditions.forEach((c, i) => {
    const cells = names.map((n) => rows.get(n)?.[i] ?? "—");
    console.log(`| ${c.name} | ${cells.join(" | ")} |${extra ? ` ${extra[i]} |` : ""}`);
  });
};
table("Frame ROC-AUC", auc);
table("TPR at 5 % FPR", tpr);
table("F1 at the deployed threshold (0.5), next to the trivial all-speech F1", f1, trivial);

console.log("\n### Summary\n");
console.log(
  "| VAD | false alarms on event sounds | median onset, clean | median onset, all conditions | onsets missed | CPU ms per s of audio |",
);
console.log("|---|---|---|---|---|---|");
for (const d of detectors) {
  const a = alarms.get(d.name);
  const o = onsets.get(d.name);
  const k = cpu.get(d.name);
  console.log(
    `| ${d.name} | ${a ? pct(a.on / a.frames) : "—"} | ${fmt(median(o?.clean ?? []), 0)} ms | ${fmt(median(o?.all ?? []), 0)} ms | ${o ? `${o.missed} of ${o.total}` : "—"} | ${k ? fmt(k.ms / k.seconds, 3) : "—"} |`,
  );
}
const ref = cpu.get(detectors[1]?.name ?? "")?.ms ?? Number.NaN;
console.log(`\nCPU ratio, Silero v4 / this VAD: ${fmt(ref / (cpu.get(ours.name)?.ms ?? Number.NaN), 0)}×.`);
console.log(
  `\nCPU: one core, same process, best of 3 passes over the clean set, frames fed one by one (Silero through onnxruntime-node's native CPU provider, WebRTC VAD as WASM); the references' time excludes the resampling to 16 kHz. ${events.length} event sounds, ${(events.reduce((s, e) => s + e.samples.length, 0) / RATE).toFixed(1)} s.`,
);

console.log(
  `\n### Gating with the default segmenter (onset ${SEGMENTER_DEFAULTS.onsetThreshold}, offset ${SEGMENTER_DEFAULTS.offsetThreshold}, min speech ${SEGMENTER_DEFAULTS.minSpeechMs} ms, prefix padding ${SEGMENTER_DEFAULTS.prefixPaddingMs} ms, hangover ${SEGMENTER_DEFAULTS.hangoverMs} ms)\n`,
);
console.log(
  "| condition | dense pauses (0.3–1.5 s): speech kept | non-speech withheld | turn-taking (turns 2–6 s apart): speech kept | non-speech withheld |",
);
console.log("|---|---|---|---|---|");
for (const [i, row] of gating.entries()) console.log(`${row}${turnGating[i] ?? ""}`);
console.log(
  `| perfect VAD (labels), same segmenter | ${pct(oracleKept)} | ${pct(oracleWithheld)} | ${pct(turnOracleKept)} | ${pct(turnOracleWithheld)} |`,
);
console.log(
  "\nGoals: speech kept ≥ 99.5 %, non-speech withheld ≥ 60 %. The perfect-VAD row is the ceiling that the prefix padding and hangover leave on each set.",
);
// Continuous speech: conversational streams of held-out Asterisk prompts, KLettres languages and ALSA prompts,
// pauses of 80–600 ms inside phrases (test/fixtures/speech-corpus.ts, continuousSet).
const cont = await continuousSet({ split: "heldout", seed: 7 });
const contGrid = labelGrid(cont.speech, RATE, cont.clean.length);
const contConditions: Array<{ name: string; signal: Float32Array }> = [
  { name: "clean", signal: cont.clean },
  { name: "reverb, small room", signal: reverberate(cont.clean, RATE, 1) },
  { name: "reverb, large room", signal: reverberate(cont.clean, RATE, 2) },
  { name: "white 10 dB", signal: await noisyVadSet(cont, "white", 10, 500) },
  { name: "pink 5 dB", signal: await noisyVadSet(cont, "pink", 5, 501) },
  { name: "brown 0 dB", signal: await noisyVadSet(cont, "brown", 0, 502) },
];
const energyAuc = (signal: Float32Array) => {
  const scores = new Float64Array(contGrid.length);
  for (let j = 0; j < scores.length; j++) {
    let e = 0;
    for (let i = j * 240; i < (j + 1) * 240 && i < signal.length; i++) e += (signal[i] as number) ** 2;
    scores[j] = e;
  }
  return rocAuc(scores, contGrid);
};
const contRows: string[] = [];
const contGating: string[] = [];
const contOnsets: string[] = [];
for (const c of contConditions) {
  const signal16 = resampleWithSox(c.signal, RATE, REF_RATE);
  const cells: string[] = [];
  for (const d of detectors) {
    const { track: t } = await track(d, d.rate === RATE ? c.signal : signal16);
    cells.push(fmt(rocAuc(onGrid(t, d.rate, contGrid.length), contGrid), 3));
    if (d === ours) {
      const [kept, withheld] = gate(t, contGrid);
      contGating.push(`| ${c.name} | ${pct(kept)} | ${pct(withheld)} |`);
      const on = onsetLatencies(t, d.rate, cont.speech, d.threshold);
      contOnsets.push(`${c.name} ${fmt(median(on.latenciesMs), 0)} ms (${on.missed} missed)`);
    }
  }
  contRows.push(`| ${c.name} | ${cells.join(" | ")} | ${fmt(energyAuc(c.signal), 3)} |`);
}
const [contOracleKept, contOracleWithheld] = gate(oracle(contGrid), contGrid);
console.log(
  `\n### Continuous speech: frame ROC-AUC (held-out split, ${(cont.clean.length / RATE).toFixed(0)} s, ${contGrid.reduce((s, v) => s + v, 0)} speech frames of ${contGrid.length}, pauses 80–600 ms)\n`,
);
console.log(`${header} frame energy |`);
console.log(`${rule}---|`);
for (const row of contRows) console.log(row);
console.log(`\nThis VAD's median onset on continuous speech: ${contOnsets.join("; ")}.`);
console.log("\n| continuous speech, default segmenter | speech kept | non-speech withheld |\n|---|---|---|");
for (const row of contGating) console.log(row);
console.log(`| perfect VAD (labels), same segmenter | ${pct(contOracleKept)} | ${pct(contOracleWithheld)} |`);

console.log(`\n(bench ran in ${((performance.now() - started) / 1000).toFixed(0)} s)`);

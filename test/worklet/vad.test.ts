/**
 * The worklet VAD on real recorded speech never used to train it (held-out KLettres languages, ALSA prompts and
 * Asterisk prompts), as isolated words and as continuous phrases with 80–600 ms pauses, clean, reverberant and
 * under sox noise; on freedesktop event sounds; and on hostile input. The sets are built at test time
 * (test/fixtures/speech-corpus.ts) and cached under .cache/audio. Thresholds sit just under the measured
 * figures of the committed weights (AUCs are deterministic).
 */
import { beforeAll, describe, expect, it } from "vitest";
import { Segmenter } from "../../worklet/dsp/segmenter.ts";
import { int8FromBase64, int8ToBase64 } from "../../worklet/dsp/vad/classifier.ts";
import { FEATURE_GROUPS } from "../../worklet/dsp/vad/features.ts";
import { FEATURES, VAD_FEATURE_COUNT, VoiceActivityDetector } from "../../worklet/dsp/vad.ts";
import { VAD_WEIGHTS } from "../../worklet/dsp/vad-weights.ts";
import {
  continuousSet,
  eventSounds,
  noise,
  noisyVadSet,
  random,
  reverberate,
  type VadSet,
  vadSet,
} from "../fixtures/speech-corpus.ts";
import {
  alarmRate,
  labelGrid,
  median,
  onGrid,
  onsetLatencies,
  rocAuc,
  runDetector,
} from "../fixtures/vad-metrics.ts";

const RATE = 24000;
let set: VadSet;
let grid: Uint8Array;

function aucOf(signal: Float32Array, frame = 480, sampleRate = RATE, labels = grid): number {
  const vad = new VoiceActivityDetector({ sampleRate });
  const track = runDetector(signal, frame, (f) => vad.process(f));
  return rocAuc(onGrid(track, sampleRate, labels.length), labels);
}

/** A plain energy detector (frame RMS in dB): the baseline a VAD must clearly beat under noise. */
function energyAuc(signal: Float32Array): number {
  const track = runDetector(signal, 480, (f) => {
    let s = 0;
    for (const v of f) s += v * v;
    return 10 * Math.log10(s / f.length + 1e-12);
  });
  return rocAuc(onGrid(track, RATE, grid.length), grid);
}

beforeAll(async () => {
  set = await vadSet({ split: "heldout", seconds: 45, seed: 21 });
  grid = labelGrid(set.speech, RATE, set.clean.length);
}, 120_000);

describe("VoiceActivityDetector on held-out speech", () => {
  it("separates speech from pauses on clean speech (frame ROC-AUC)", () => {
    // Measured 0.991 (0.976 before the GRU).
    expect(aucOf(set.clean)).toBeGreaterThan(0.98);
  });

  it.each([
    // Measured 0.968, 0.921, 0.958, 0.915 and 0.977.
    ["white", 10, 0.945],
    ["white", 0, 0.895],
    ["pink", 5, 0.94],
    ["pink", 0, 0.905],
    ["brown", 0, 0.955],
  ] as const)(
    "keeps a high AUC in %s noise at %d dB SNR",
    async (kind, snr, floor) => {
      const noisy = await noisyVadSet(set, kind, snr, 3);
      const auc = aucOf(noisy);
      expect(auc).toBeGreaterThan(floor);
      // Pink noise at 0 dB buries a plain energy detector; the spectral features must do clearly better.
      if (kind === "pink" && snr === 0) expect(auc).toBeGreaterThan(energyAuc(noisy) + 0.05);
    },
    60_000,
  );

  it("reports speech onsets within 60 ms (median) on clean speech", () => {
    const vad = new VoiceActivityDetector();
    const track = runDetector(set.clean, 480, (f) => vad.process(f));
    const { latenciesMs, missed } = onsetLatencies(track, RATE, set.speech, 0.5);
    expect(median(latenciesMs)).toBeLessThanOrEqual(60);
    expect(missed).toBeLessThan(0.1 * (latenciesMs.length + missed));
  });

  it("gives the same scores for 10, 20 and 40 ms frames", () => {
    const reference = aucOf(set.clean, 480);
    expect(Math.abs(aucOf(set.clean, 240) - reference)).toBeLessThan(0.01);
    expect(Math.abs(aucOf(set.clean, 960) - reference)).toBeLessThan(0.01);
  });

  it.each([16000, 48000])(
    "works at %d Hz",
    async (rate) => {
      const other = await vadSet({ split: "heldout", seconds: 45, seed: 21, sampleRate: rate });
      const labels = labelGrid(other.speech, rate, other.clean.length);
      // Measured 0.978 / 0.941 at 16 kHz, 0.990 / 0.965 at 48 kHz (white 10 dB: 0.92–0.93 before the GRU).
      expect(aucOf(other.clean, rate / 50, rate, labels)).toBeGreaterThan(0.975);
      const noisy = await noisyVadSet(other, "white", 10, 3);
      expect(aucOf(noisy, rate / 50, rate, labels)).toBeGreaterThan(0.905);
    },
    60_000,
  );
});

describe("VoiceActivityDetector on continuous speech (phrases with 80–600 ms pauses)", () => {
  let cont: VadSet;
  let contGrid: Uint8Array;
  beforeAll(async () => {
    cont = await continuousSet({ split: "heldout", seconds: 60, seed: 21 });
    contGrid = labelGrid(cont.speech, RATE, cont.clean.length);
  }, 120_000);

  it.each([
    // Measured 0.987, 0.984 and 0.954 (0.976, 0.969 and 0.912 before the GRU).
    ["clean", undefined, 0, 0.985],
    ["white", "white", 10, 0.97],
    ["pink", "pink", 5, 0.945],
  ] as const)(
    "separates speech from short pauses, %s (frame ROC-AUC)",
    async (_name, kind, snr, floor) => {
      const signal = await noisyVadSet(cont, kind, snr, 6);
      expect(aucOf(signal, 480, RATE, contGrid)).toBeGreaterThan(floor);
    },
    60_000,
  );

  it("separates speech from short pauses in a reverberant room", () => {
    // Measured 0.957 (0.932 before the GRU).
    expect(aucOf(reverberate(cont.clean, RATE, 2), 480, RATE, contGrid)).toBeGreaterThan(0.95);
  });

  it("keeps long phrases: the noise floor does not climb into clean speech", () => {
    // Speech frames more than 1.5 s into a phrase: the minimum-statistics floor used to rise into the speech
    // there and score them like pauses.
    const vad = new VoiceActivityDetector();
    const p = onGrid(
      runDetector(cont.clean, 480, (f) => vad.process(f)),
      RATE,
      contGrid.length,
    );
    let run = 0;
    let late = 0;
    let high = 0;
    for (let j = 0; j < contGrid.length; j++) {
      run = contGrid[j] ? run + 1 : 0;
      if (run > 150) {
        late++;
        if ((p[j] as number) >= 0.5) high++;
      }
    }
    expect(late).toBeGreaterThan(100);
    // Measured 0.979.
    expect(high / late).toBeGreaterThan(0.95);
  });

  it("gating with the default segmenter keeps the labelled speech", () => {
    const vad = new VoiceActivityDetector();
    const seg = new Segmenter({ sampleRate: RATE });
    const inside = new Uint8Array(contGrid.length);
    let open = -1;
    for (let at = 0; at + 480 <= cont.clean.length; at += 480) {
      const e = seg.process(vad.process(cont.clean.subarray(at, at + 480)), at, 480);
      if (e?.type === "speechstart") open = e.sample;
      else if (e?.type === "speechend" && open >= 0) {
        inside.fill(1, Math.floor(open / 240), Math.ceil(e.sample / 240));
        open = -1;
      }
    }
    if (open >= 0) inside.fill(1, Math.floor(open / 240));
    let speech = 0;
    let kept = 0;
    for (let j = 0; j < contGrid.length; j++) {
      speech += contGrid[j] as number;
      if (contGrid[j]) kept += inside[j] as number;
    }
    expect(kept / speech).toBeGreaterThan(0.995);
  });
});

describe("VoiceActivityDetector on non-speech", () => {
  it("rarely fires on event sounds (bells, phones, shutters, alarms)", async () => {
    const events = await eventSounds(RATE);
    let on = 0;
    let frames = 0;
    for (const { samples } of events) {
      const vad = new VoiceActivityDetector();
      const r = random(9);
      const lead = new Float32Array(RATE / 2).map(() => (r() * 2 - 1) * 5.5e-4);
      vad.process(lead);
      const track = runDetector(samples, 480, (f) => vad.process(f));
      on += alarmRate(track, 0.5) * track.probabilities.length;
      frames += track.probabilities.length;
    }
    // The goal is ≤ 5 %: measured 2.9 % with the committed weights (14.7 % before the GRU; Silero v4 10 %, v5
    // 0.6 %), see the README. The figure moves by a few points with the random draw of the faint lead noise.
    expect(on / frames).toBeLessThan(0.05);
  }, 60_000);

  it("stays low on stationary noise alone, once the floor has adapted", async () => {
    for (const kind of ["white", "pink", "brown"] as const) {
      const vad = new VoiceActivityDetector();
      const n = await noise(kind, RATE, RATE * 6, 4);
      for (let i = 0; i < n.length; i++) n[i] = (n[i] as number) * 0.2;
      const track = runDetector(n.subarray(RATE * 2), 480, (f) => vad.process(f));
      // Measured 0 / 3.5 / 0 % (white / pink / brown); 0–5 % before the floors rose slowly. The low bands of pink
      // noise dip deep enough that their floors settle under the noise's typical level.
      expect(alarmRate(track, 0.5), kind).toBeLessThan(0.11);
    }
  }, 60_000);
});

describe("VoiceActivityDetector robustness", () => {
  it("returns a finite probability for NaN, ±Infinity, denormals, silence and huge values", () => {
    const vad = new VoiceActivityDetector();
    const frames = [
      new Float32Array(480).fill(Number.NaN),
      new Float32Array(480).fill(Number.POSITIVE_INFINITY),
      new Float32Array(480).fill(Number.NEGATIVE_INFINITY),
      new Float32Array(480).fill(1e-40),
      new Float32Array(480),
      new Float32Array(480).fill(3e38),
      new Float32Array(0),
      new Float32Array(7).fill(0.5),
    ];
    for (const f of frames) {
      const p = vad.process(f);
      expect(Number.isFinite(p)).toBe(true);
      expect(p).toBeGreaterThanOrEqual(0);
      expect(p).toBeLessThanOrEqual(1);
    }
  });

  it("recovers after garbage: speech is still detected after NaN bursts", () => {
    const vad = new VoiceActivityDetector();
    for (let i = 0; i < 50; i++)
      vad.process(new Float32Array(480).fill(i % 2 ? Number.NaN : Number.POSITIVE_INFINITY));
    const track = runDetector(set.clean, 480, (f) => vad.process(f));
    expect(rocAuc(onGrid(track, RATE, grid.length), grid)).toBeGreaterThan(0.97);
  });

  it("does not take faint noise after digital silence for speech (capture often starts with zeros)", async () => {
    for (const kind of ["white", "pink", "brown"] as const) {
      const vad = new VoiceActivityDetector();
      for (let i = 0; i < 25; i++) vad.process(new Float32Array(480));
      // About −75 dBFS: the self-noise of a quiet room through a microphone.
      const n = await noise(kind, RATE, RATE * 2, 5);
      for (let i = 0; i < n.length; i++) n[i] = (n[i] as number) * 2e-4;
      const track = runDetector(n, 480, (f) => vad.process(f));
      expect(Math.max(...track.probabilities), kind).toBeLessThan(0.5);
    }
  });

  it("scores nothing below −80 dBFS: speech that faint is under any room's and microphone's noise floor", () => {
    const vad = new VoiceActivityDetector();
    // The held-out speech is levelled to −32…−18 dBFS with peaks near −1 dBFS; 80 dB down puts it under −80 dBFS.
    const faint = set.clean.map((x) => x * 1e-4);
    const track = runDetector(faint, 480, (f) => vad.process(f));
    expect(Math.max(...track.probabilities)).toBeLessThan(0.3);
  });

  it("is silent on digital silence", () => {
    const vad = new VoiceActivityDetector();
    let p = 0;
    for (let i = 0; i < 100; i++) p = Math.max(p, vad.process(new Float32Array(480)));
    expect(p).toBeLessThan(0.2);
  });

  it("reset() forgets everything: a reset detector matches a fresh one", () => {
    const a = new VoiceActivityDetector();
    const b = new VoiceActivityDetector();
    const piece = set.clean.subarray(0, RATE * 5);
    for (let i = 0; i + 480 <= piece.length; i += 480) a.process(piece.subarray(i, i + 480));
    a.reset();
    for (let i = 0; i + 480 <= piece.length; i += 480)
      expect(a.process(piece.subarray(i, i + 480))).toBe(b.process(piece.subarray(i, i + 480)));
  });

  it("rejects unsupported sample rates with RangeError", () => {
    expect(() => new VoiceActivityDetector({ sampleRate: 4000 })).toThrow(RangeError);
    expect(() => new VoiceActivityDetector({ sampleRate: 44100.5 })).toThrow(RangeError);
    expect(() => new VoiceActivityDetector({ sampleRate: Number.NaN })).toThrow(RangeError);
    expect(new VoiceActivityDetector().sampleRate).toBe(24000);
  });
});

describe("VAD weight format", () => {
  it("reads back what packWeights writes (int8 base64, both directions)", () => {
    const values = Int8Array.from({ length: 257 }, (_, i) => ((i * 37) % 256) - 128);
    expect(Array.from(int8FromBase64(int8ToBase64(values)))).toEqual(Array.from(values));
  });

  it("ships weights for exactly the named features", () => {
    expect(VAD_WEIGHTS.inputs).toBe(FEATURES.length);
    const { inputs, hidden } = VAD_WEIGHTS;
    expect(int8FromBase64(VAD_WEIGHTS.w1).length).toBe(inputs * hidden);
    expect([VAD_WEIGHTS.scale.length, VAD_WEIGHTS.w1Scale.length]).toEqual([inputs, hidden]);
    expect([VAD_WEIGHTS.b1.length, VAD_WEIGHTS.w2.length]).toEqual([hidden, hidden]);
    expect(VAD_FEATURE_COUNT).toBe(FEATURES.length);
    for (const [name, at] of Object.entries(FEATURE_GROUPS)) expect(FEATURES[at]).toBe(name);
    expect(new Set(FEATURES).size).toBe(FEATURES.length);
    expect(new VoiceActivityDetector().features.length).toBe(FEATURES.length);
  });
});

import { describe, expect, it } from "vitest";
import { equirippleLowpass } from "../../worklet/dsp/fir-design.ts";
import {
  HALVING_BANDS,
  HALVING_LENGTH,
  HALVING_MAX_ERROR,
  halvingTaps,
} from "../../worklet/dsp/halving-filter.ts";
import { Resampler } from "../../worklet/dsp/resampler.ts";
import {
  aliasRejectionDb,
  fitSine,
  multitone,
  rms,
  runBlocks,
  SETTLE,
  seededRandom,
  sweep,
  tone,
  toneGainDb,
  toneSinadDb,
  whiteNoise,
} from "../fixtures/signals.ts";

const OUT = 24000;
const bytesOf = (x: Float32Array) => Buffer.from(x.buffer, x.byteOffset, x.byteLength);

describe("Resampler construction", () => {
  it.each([7999, 192001, 0, -48000, Number.NaN, Number.POSITIVE_INFINITY])(
    "rejects input rate %s",
    (rate) => {
      expect(() => new Resampler(rate)).toThrow(RangeError);
    },
  );
  it("rejects a bad output rate", () => {
    expect(() => new Resampler(48000, 4000)).toThrow(RangeError);
  });
  it("reduces every common rate exactly and reports an integer delay", () => {
    const cases: Array<[number, number, number]> = [
      [48000, 1, 2],
      [44100, 80, 147],
      [16000, 3, 2],
      [22050, 160, 147],
      [96000, 1, 4],
      [8000, 3, 1],
      [11025, 320, 147],
      [192000, 1, 8],
    ];
    for (const [rate, up, down] of cases) {
      const r = new Resampler(rate);
      expect([r.up, r.down]).toEqual([up, down]);
      expect(Number.isInteger(r.delaySamples)).toBe(true);
    }
  });
});

describe("filter design", () => {
  it("the stored final-stage taps are the Remez design of their specification, and the shortest that meets it", () => {
    const design = equirippleLowpass(HALVING_LENGTH, [...HALVING_BANDS]);
    expect(design.error).toBeLessThanOrEqual(HALVING_MAX_ERROR);
    const stored = halvingTaps();
    for (let i = 0; i < HALVING_LENGTH; i++) expect(Math.abs(stored[i] - design.taps[i])).toBeLessThan(1e-9);
    expect(equirippleLowpass(HALVING_LENGTH - 4, [...HALVING_BANDS]).error).toBeGreaterThan(
      HALVING_MAX_ERROR,
    );
  });
});

describe("streaming", () => {
  // Integer rates (exact polyphase), pure decimation (folded), and an odd rate (interpolated phase table).
  it.each([48000, 44100, 16000, 22050, 96000, 44101])(
    "is bit-identical however %i Hz input is split",
    (rate) => {
      const input = whiteNoise(Math.round(rate * 0.4), rate);
      const whole = new Resampler(rate).process(input);
      const quanta = runBlocks(new Resampler(rate), input, 128);
      const r = new Resampler(rate);
      const rand = seededRandom(rate);
      const parts: Float32Array[] = [];
      const scratch = new Float32Array(r.maxOutputLength(4096));
      for (let i = 0; i < input.length; ) {
        const n = 1 + Math.floor(rand() * 4096);
        const block = input.subarray(i, Math.min(input.length, i + n));
        const expected = r.outputLength(block.length);
        const written = r.processInto(block, scratch);
        expect(written).toBe(expected);
        parts.push(scratch.slice(0, written));
        i += n;
      }
      const random = new Float32Array(parts.reduce((s, p) => s + p.length, 0));
      let offset = 0;
      for (const p of parts) {
        random.set(p, offset);
        offset += p.length;
      }
      expect(whole.length).toBe(Math.ceil((input.length * OUT) / rate));
      expect(bytesOf(quanta).equals(bytesOf(whole))).toBe(true);
      expect(bytesOf(random).equals(bytesOf(whole))).toBe(true);
    },
  );

  it("writes into a caller's buffer and refuses one that is too short", () => {
    const r = new Resampler(48000);
    const out = new Float32Array(r.maxOutputLength(128));
    expect(r.process(new Float32Array(128), out).length).toBe(64);
    expect(() => r.processInto(new Float32Array(128), new Float32Array(10))).toThrow(RangeError);
    expect(r.process(new Float32Array(0)).length).toBe(0);
  });

  it("reads NaN and ±Infinity as silence and passes denormals through without harm", () => {
    const r = new Resampler(48000);
    const input = tone(1000, 48000, 4800, 0.5);
    input[100] = Number.NaN;
    input[200] = Number.POSITIVE_INFINITY;
    input[300] = Number.NEGATIVE_INFINITY;
    input.fill(1e-40, 2000, 3000);
    const y = r.process(input);
    expect(y.every(Number.isFinite)).toBe(true);
    expect(Math.max(...y.map(Math.abs))).toBeLessThan(0.6);
  });
});

describe.each([48000, 44100])("%i Hz → 24 kHz", (rate) => {
  const make = () => new Resampler(rate);

  it("keeps the passband within ±0.1 dB from 50 Hz to 10 kHz", () => {
    for (const f of [50, 100, 300, 1000, 2500, 5000, 7500, 9000, 9500, 10000]) {
      expect(Math.abs(toneGainDb(make, f, rate, OUT)), `${f} Hz`).toBeLessThan(0.1);
    }
  });

  it("rejects aliases by ≥ 90 dB from 12 kHz and ≥ 100 dB from 12.5 kHz", () => {
    const worst = { near: Number.POSITIVE_INFINITY, far: Number.POSITIVE_INFINITY };
    for (let f = 12000; f < rate / 2; f += f < 13000 ? 100 : 750) {
      const rejection = aliasRejectionDb(make, f, rate, 0.15);
      if (f < 12500) worst.near = Math.min(worst.near, rejection);
      else worst.far = Math.min(worst.far, rejection);
    }
    expect(worst.near).toBeGreaterThanOrEqual(90);
    expect(worst.far).toBeGreaterThanOrEqual(100);
  });

  it("leaves a sweep over every aliasing frequency (12.5 kHz to Nyquist) ≥ 100 dB down", () => {
    // A continuous sweep also catches a narrow weak spot between the discrete test tones.
    const input = sweep(12500, rate / 2 - 50, rate, Math.round(rate * 0.5));
    const y = runBlocks(make(), input);
    expect(20 * Math.log10(rms(input) / rms(y, SETTLE, y.length - SETTLE))).toBeGreaterThanOrEqual(100);
  });

  it("keeps an in-band multitone's every component within ±0.1 dB", () => {
    const freqs = [97, 440, 1013, 2503, 4001, 6007, 8009, 9973];
    const y = runBlocks(make(), multitone(freqs, rate, rate / 2, 0.8));
    for (const f of freqs) {
      const gain = 20 * Math.log10(fitSine(y, f, OUT, SETTLE, y.length).amplitude / (0.8 / freqs.length));
      expect(Math.abs(gain), `${f} Hz`).toBeLessThan(0.1);
    }
  });

  it("has a group delay of at most 2 ms, equal to delaySamples", () => {
    const r = make();
    expect(r.delaySamples).toBeLessThanOrEqual(0.002 * OUT);
    // The phase of a low tone after the filter gives the group delay of a linear-phase FIR.
    const f = 500;
    const y = runBlocks(r, tone(f, rate, rate / 4, 0.5, 0));
    const fit = fitSine(y, f, OUT, SETTLE, y.length);
    const expectedPhase = (2 * Math.PI * f * (SETTLE - r.delaySamples)) / OUT;
    const diff = Math.atan2(Math.sin(fit.phase - expectedPhase), Math.cos(fit.phase - expectedPhase));
    expect(Math.abs((diff / (2 * Math.PI * f)) * OUT)).toBeLessThan(0.01);
  });

  it("passes a −1 dBFS 1 kHz tone with ≥ 120 dB SINAD before PCM16", () => {
    expect(toneSinadDb(make, 1000, rate, OUT, 10 ** (-1 / 20))).toBeGreaterThanOrEqual(120);
  });
});

describe("other rates", () => {
  it("96 kHz → 24 kHz: flat passband, ≥ 100 dB alias rejection up to 47 kHz", () => {
    const make = () => new Resampler(96000);
    for (const f of [100, 1000, 10000]) expect(Math.abs(toneGainDb(make, f, 96000, OUT))).toBeLessThan(0.1);
    for (const f of [12500, 14000, 23000, 24000, 25000, 36000, 47000]) {
      expect(aliasRejectionDb(make, f, 96000, 0.1), `${f} Hz`).toBeGreaterThanOrEqual(100);
    }
  });

  it.each([16000, 22050, 8000])(
    "%i Hz → 24 kHz: images of in-band tones ≥ 90 dB down, flat passband",
    (rate) => {
      const make = () => new Resampler(rate);
      const top = 0.8 * (rate / 2);
      for (const f of [200, 1000, top / 2, top]) {
        expect(toneSinadDb(make, f, rate, OUT), `${f} Hz images`).toBeGreaterThanOrEqual(90);
        expect(Math.abs(toneGainDb(make, f, rate, OUT)), `${f} Hz gain`).toBeLessThan(0.1);
      }
    },
  );

  it("an odd rate (44101 Hz) takes the interpolated path and still rejects aliases by ≥ 100 dB", () => {
    const make = () => new Resampler(44101);
    expect(Number.isInteger(make().delaySamples)).toBe(false);
    expect(Math.abs(toneGainDb(make, 1000, 44101, OUT))).toBeLessThan(0.1);
    for (const f of [12500, 15000, 22000])
      expect(aliasRejectionDb(make, f, 44101, 0.1)).toBeGreaterThanOrEqual(100);
  });

  it("passes equal rates through untouched", () => {
    const input = whiteNoise(1000);
    const r = new Resampler(24000);
    expect(r.delaySamples).toBe(0);
    expect(bytesOf(r.process(input)).equals(bytesOf(input))).toBe(true);
  });
});

import { describe, expect, it } from "vitest";
import { bytesToBase64 } from "../../worklet/dsp/base64.ts";
import { floatToPcm16, pcm16FromBytes, pcm16ToBytes, pcm16ToFloat } from "../../worklet/dsp/pcm16.ts";
import { Resampler } from "../../worklet/dsp/resampler.ts";
import { fitSine, runBlocks, SETTLE, seededRandom, tone } from "../fixtures/signals.ts";

describe("floatToPcm16", () => {
  it("rounds to nearest and clamps to [−32768, 32767]", () => {
    const input = Float32Array.of(
      0,
      1,
      -1,
      2,
      -2,
      0.4 / 32768,
      0.6 / 32768,
      -0.6 / 32768,
      100.4 / 32768,
      32767.4 / 32768,
    );
    expect([...floatToPcm16(input)]).toEqual([0, 32767, -32768, 32767, -32768, 0, 1, -1, 100, 32767]);
  });

  it("maps NaN to 0 and ±Infinity to the range ends", () => {
    const input = Float32Array.of(Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY, -0, 1e-40);
    expect([...floatToPcm16(input)]).toEqual([0, 32767, -32768, 0, 0]);
  });

  it("writes into a caller's array and refuses one that is too short", () => {
    const out = new Int16Array(4);
    expect(floatToPcm16(Float32Array.of(0.5, -0.5), out)).toBe(out);
    expect([...out]).toEqual([16384, -16384, 0, 0]);
    expect(() => floatToPcm16(new Float32Array(5), out)).toThrow(RangeError);
  });

  it("is exact on every representable value (round trip through pcm16ToFloat)", () => {
    const all = new Int16Array(65536);
    for (let i = 0; i < 65536; i++) all[i] = i - 32768;
    expect(Buffer.from(floatToPcm16(pcm16ToFloat(all)).buffer).equals(Buffer.from(all.buffer))).toBe(true);
  });

  it("has no DC bias and a rounding error within half a step", () => {
    const rand = seededRandom(7);
    const x = new Float32Array(100000).map(() => 2 * rand() - 1);
    const y = floatToPcm16(x);
    let sum = 0;
    let worst = 0;
    for (let i = 0; i < x.length; i++) {
      const e = y[i] - x[i] * 32768;
      sum += e;
      if (y[i] !== 32767) worst = Math.max(worst, Math.abs(e));
    }
    expect(Math.abs(sum / x.length)).toBeLessThan(0.01);
    expect(worst).toBeLessThanOrEqual(0.5);
  });

  it.each([48000, 44100, 16000])(
    "measures ≥ 95 dB SINAD for a −1 dBFS 1 kHz tone through the %i Hz resampler",
    (rate) => {
      const amplitude = 10 ** (-1 / 20);
      const y = runBlocks(new Resampler(rate), tone(1000, rate, rate / 2, amplitude, 0.1));
      const pcm = pcm16ToFloat(floatToPcm16(y));
      const fit = fitSine(pcm, 1000, 24000, SETTLE, pcm.length);
      expect(fit.sinad).toBeGreaterThanOrEqual(95);
    },
  );

  it("measures the 16-bit limit on a tone whose period does not divide the rate (997 Hz)", () => {
    // At exactly 1 kHz the rounding error repeats every 24 samples and is not white; 997 Hz spreads it out, so
    // the figure must land at the theoretical 97.1 dB for −1 dBFS (98.1 dB at full scale).
    const amplitude = 10 ** (-1 / 20);
    const y = runBlocks(new Resampler(48000), tone(997, 48000, 48000, amplitude, 0.1));
    const fit = fitSine(pcm16ToFloat(floatToPcm16(y)), 997, 24000, SETTLE, y.length);
    expect(fit.sinad).toBeGreaterThan(96.5);
    expect(fit.sinad).toBeLessThan(97.7);
  });
});

describe("serialisation", () => {
  it("is little-endian", () => {
    expect([...pcm16ToBytes(Int16Array.of(1, -2, 0x1234))]).toEqual([1, 0, 0xfe, 0xff, 0x34, 0x12]);
    expect([...pcm16FromBytes(Uint8Array.of(1, 0, 0xfe, 0xff))]).toEqual([1, -2]);
    expect(() => pcm16FromBytes(new Uint8Array(3))).toThrow(RangeError);
  });

  it("encodes base64 like RFC 4648 for every tail length and across chunk boundaries", () => {
    const rand = seededRandom(3);
    for (const n of [0, 1, 2, 3, 4, 5, 960, 12287, 12288, 12289, 40001]) {
      const bytes = new Uint8Array(n).map(() => Math.floor(rand() * 256));
      expect(bytesToBase64(bytes), `${n} bytes`).toBe(Buffer.from(bytes).toString("base64"));
    }
  });
});

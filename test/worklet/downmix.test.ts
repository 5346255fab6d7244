import { describe, expect, test } from "vitest";
import { downmixInto } from "../../worklet/dsp/downmix.ts";

describe("downmixInto", () => {
  test("one channel passes through; the previous contents are overwritten", () => {
    const mono = new Float32Array([9, 9, 9]);
    expect(downmixInto([new Float32Array([0.5, -0.25, 0])], mono)).toBe(0);
    expect([...mono]).toEqual([0.5, -0.25, 0]);
  });

  test("several channels average", () => {
    const mono = new Float32Array(2);
    downmixInto(
      [new Float32Array([1, 0.5]), new Float32Array([0, -0.5]), new Float32Array([0.5, 0.75])],
      mono,
    );
    expect(mono[0]).toBeCloseTo(0.5, 6);
    expect(mono[1]).toBeCloseTo(0.25, 6);
  });

  test("NaN and ±Infinity count as 0 and are counted", () => {
    const mono = new Float32Array(3);
    const bad = downmixInto(
      [
        new Float32Array([Number.NaN, 0.5, Number.POSITIVE_INFINITY]),
        new Float32Array([0.5, Number.NEGATIVE_INFINITY, 0.5]),
      ],
      mono,
    );
    expect(bad).toBe(3);
    expect([...mono]).toEqual([0.25, 0.25, 0.25]);
  });
});

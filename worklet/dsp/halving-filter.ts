/**
 * The resampler's final stage: a 2:1 decimating equiripple low-pass at twice the output rate. Edges are fractions
 * of that rate (for a 24 kHz output: pass to 10 kHz within ±0.05 dB, ≥ 95 dB from 12 kHz, ≥ 105 dB from
 * 12.5 kHz). The taps are the shortest length 4·D + 1 that meets the specification, designed by
 * `equirippleLowpass(HALVING_LENGTH, HALVING_BANDS)` from `fir-design.ts` (Remez exchange); they are stored
 * here so the worklet bundle carries 49 numbers instead of the design code, and
 * `test/worklet/resampler.test.ts` checks that the design still reproduces them.
 */
import type { Band } from "./fir-design.ts";

const PASS_RIPPLE = 0.0058; // ±0.05 dB

/** The specification the taps were designed for (frequencies as fractions of the stage's input rate). */
export const HALVING_BANDS: readonly Band[] = [
  { from: 0, to: 10 / 48, gain: 1, weight: 1 },
  { from: 12 / 48, to: 12.5 / 48, gain: 0, weight: PASS_RIPPLE / 10 ** (-95 / 20) },
  { from: 12.5 / 48, to: 0.5, gain: 0, weight: PASS_RIPPLE / 10 ** (-105 / 20) },
];
/** Largest weighted error the design may have: the passband ripple. */
export const HALVING_MAX_ERROR = PASS_RIPPLE;
/** Group delay in output samples (D); the filter has 4·D + 1 taps. */
export const HALVING_DELAY = 24;
export const HALVING_LENGTH = 4 * HALVING_DELAY + 1;

/** First half and centre of the symmetric impulse response (10 significant digits). */
const HALF = [
  -0.00003496941763, -0.0002713936988, -0.0008160751865, -0.00133501318, -0.00110780521, 0.00002881952394,
  0.000978427318, 0.0004903399715, -0.0008591045567, -0.0009901021058, 0.0006046387171, 0.001525199793,
  -0.00007585769153, -0.001976197328, -0.0007783225134, 0.002167518184, 0.001917346323, -0.001914462237,
  -0.003206351244, 0.001063179607, 0.004423231073, 0.0004743047005, -0.0052698207, -0.002675392864,
  0.005413779974, 0.005390519631, -0.004519306344, -0.008312068795, 0.002319320605, 0.01099861432,
  0.001351385427, -0.01288015675, -0.006503814825, 0.01329082574, 0.01296586961, -0.01149939769,
  -0.02038744474, 0.00668850107, 0.02826410113, 0.00218361854, -0.03598023379, -0.01686651584, 0.04287555461,
  0.04160108273, -0.04832740705, -0.09217611027, 0.05182377477, 0.313548096, 0.4469713887,
];

/** The full symmetric impulse response, `HALVING_LENGTH` taps, DC gain ≈ 1. */
export function halvingTaps(): Float64Array {
  const taps = new Float64Array(HALVING_LENGTH);
  const c = HALVING_DELAY * 2;
  for (let i = 0; i <= c; i++) {
    taps[i] = HALF[i];
    taps[HALVING_LENGTH - 1 - i] = HALF[i];
  }
  return taps;
}

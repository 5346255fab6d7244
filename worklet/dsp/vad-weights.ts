/**
 * Classifier weights of the voice activity detector (`vad.ts`): placeholder until `scripts/train-vad.ts` runs.
 */
export const VAD_WEIGHTS = {
  inputs: 18,
  hidden: 1,
  w1: [0.3, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0],
  b1: [-1.8],
  w2: [4],
  b2: 0,
} as const;

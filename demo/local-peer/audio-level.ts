/**
 * Root-mean-square level of PCM16 samples in dBFS (0 dBFS = a full-scale square wave; a full-scale sine is
 * −3.01 dBFS). Returns −Infinity for silence or no samples.
 */
export function rmsDbfs(samples: Int16Array): number {
  if (samples.length === 0) return Number.NEGATIVE_INFINITY;
  let sum = 0;
  for (let i = 0; i < samples.length; i++) {
    const s = (samples[i] as number) / 32768;
    sum += s * s;
  }
  return sum === 0 ? Number.NEGATIVE_INFINITY : 10 * Math.log10(sum / samples.length);
}

/**
 * ITU-T G.711 companding, the codec of the peer's voice track: Chromium negotiates PCMU/PCMA (payload types 0
 * and 8, 8000 Hz) besides Opus, and G.711 needs no encoder library. One byte per sample.
 */

const MULAW_BIAS = 0x84;
const MULAW_CLIP = 32635;

/** Encodes one PCM16 sample (integer in [−32768, 32767]) as a μ-law byte (G.711 §A, segment + mantissa, inverted). */
export function linearToMulaw(sample: number): number {
  const sign = sample < 0 ? 0x80 : 0;
  let magnitude = Math.min(sign ? -sample : sample, MULAW_CLIP) + MULAW_BIAS;
  let exponent = 7;
  for (let mask = 0x4000; (magnitude & mask) === 0 && exponent > 0; mask >>= 1) exponent--;
  const mantissa = (magnitude >> (exponent + 3)) & 0x0f;
  magnitude = ~(sign | (exponent << 4) | mantissa) & 0xff;
  return magnitude;
}

/** Decodes one μ-law byte to a PCM16 sample. */
export function mulawToLinear(byte: number): number {
  const u = ~byte & 0xff;
  const exponent = (u >> 4) & 0x07;
  const magnitude = ((((u & 0x0f) << 3) + MULAW_BIAS) << exponent) - MULAW_BIAS;
  return u & 0x80 ? -magnitude : magnitude;
}

/** Encodes PCM16 samples into μ-law bytes (`output` is reused when long enough). */
export function encodeMulaw(samples: Int16Array, output = new Uint8Array(samples.length)): Uint8Array {
  for (let i = 0; i < samples.length; i++) output[i] = linearToMulaw(samples[i] as number);
  return output.length === samples.length ? output : output.subarray(0, samples.length);
}

/** Decodes one A-law byte to a PCM16 sample (G.711 §B: even bits inverted, 13-bit segments). */
export function alawToLinear(byte: number): number {
  const a = byte ^ 0x55;
  const exponent = (a >> 4) & 0x07;
  const mantissa = a & 0x0f;
  const magnitude = exponent === 0 ? (mantissa << 4) + 8 : ((mantissa << 4) + 0x108) << (exponent - 1);
  return a & 0x80 ? magnitude : -magnitude;
}

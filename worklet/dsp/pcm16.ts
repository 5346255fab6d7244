/**
 * Float ↔ PCM16 conversion for OpenAI Realtime `audio/pcm` input (24 kHz mono 16-bit little-endian; see OpenAI
 * `RealtimeAudioFormats`).
 */

/**
 * Converts float samples to 16-bit integers: scales by 32768, rounds to nearest, clamps to [−32768, 32767].
 * NaN becomes 0; ±Infinity clamps to the range ends. No dither (it would cost ~5 dB of SINAD).
 * @param input Float32Array of samples, nominally in [−1, 1).
 * @param output optional destination, at least `input.length` long; a new Int16Array is allocated without it.
 * @returns `output` (or the new array) holding `input.length` converted samples at its start.
 * @throws RangeError when `output` is shorter than `input`.
 */
export function floatToPcm16(input: Float32Array, output?: Int16Array): Int16Array {
  const n = input.length;
  const out = output ?? new Int16Array(n);
  if (out.length < n) throw new RangeError(`output holds ${out.length} samples; ${n} needed`);
  for (let i = 0; i < n; i++) {
    // NaN survives Math.round/min/max as NaN, which an Int16Array stores as 0.
    out[i] = Math.min(32767, Math.max(-32768, Math.round(input[i] * 32768)));
  }
  return out;
}

/** Converts 16-bit samples back to floats in [−1, 1) (divides by 32768). */
export function pcm16ToFloat(input: Int16Array, output?: Float32Array): Float32Array {
  const out = output ?? new Float32Array(input.length);
  if (out.length < input.length)
    throw new RangeError(`output holds ${out.length} samples; ${input.length} needed`);
  for (let i = 0; i < input.length; i++) out[i] = input[i] / 32768;
  return out;
}

/** Whether typed arrays on this machine are little-endian (every browser platform today, but not guaranteed). */
// Marked pure so that bundles which never serialise PCM16 (the capture worklet) drop the probe.
export const LITTLE_ENDIAN = /* @__PURE__ */ (() => new Uint8Array(new Uint16Array([1]).buffer)[0] === 1)();

/**
 * Serialises PCM16 samples as little-endian bytes. On little-endian hosts this is a view of the same memory (no
 * copy); elsewhere a byte-swapped copy.
 */
export function pcm16ToBytes(samples: Int16Array): Uint8Array {
  const bytes = new Uint8Array(samples.buffer, samples.byteOffset, samples.byteLength);
  if (LITTLE_ENDIAN) return bytes;
  const swapped = new Uint8Array(bytes.length);
  for (let i = 0; i < bytes.length; i += 2) {
    swapped[i] = bytes[i + 1];
    swapped[i + 1] = bytes[i];
  }
  return swapped;
}

/**
 * Reads little-endian PCM16 bytes (e.g. a decoded `input_audio_buffer.append` payload).
 * @throws RangeError when the byte length is odd.
 */
export function pcm16FromBytes(bytes: Uint8Array): Int16Array {
  if (bytes.length % 2 !== 0)
    throw new RangeError(`PCM16 needs an even number of bytes, got ${bytes.length}`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const out = new Int16Array(bytes.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = view.getInt16(2 * i, true);
  return out;
}

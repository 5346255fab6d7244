/**
 * RIFF/WAVE reading and writing: the local peer records what it heard as 24 kHz PCM16 WAV, and the tests and
 * benchmarks read the recordings and the test audio back. Supports integer PCM (8, 16, 24, 32 bit) and IEEE
 * float (32, 64 bit), plain or `WAVE_FORMAT_EXTENSIBLE`.
 */

/** Decoded audio: one Float32Array in [−1, 1] per channel, all of the same length, at `sampleRate` Hz. */
export interface DecodedWav {
  sampleRate: number;
  channels: Float32Array[];
}

const FORMAT_PCM = 1;
const FORMAT_FLOAT = 3;
const FORMAT_EXTENSIBLE = 0xfffe;

/**
 * Encodes little-endian PCM16 WAV. `samples` is interleaved when `channels` > 1: an Int16Array is written as
 * is, a Float32Array in [−1, 1] is rounded to nearest and clamped. Returns the whole file (44-byte header).
 */
export function encodeWav(samples: Int16Array | Float32Array, sampleRate: number, channels = 1): Uint8Array {
  const dataBytes = samples.length * 2;
  const bytes = new Uint8Array(44 + dataBytes);
  const view = new DataView(bytes.buffer);
  const ascii = (offset: number, text: string) => {
    for (let i = 0; i < text.length; i++) view.setUint8(offset + i, text.charCodeAt(i));
  };
  ascii(0, "RIFF");
  view.setUint32(4, 36 + dataBytes, true);
  ascii(8, "WAVE");
  ascii(12, "fmt ");
  view.setUint32(16, 16, true);
  view.setUint16(20, FORMAT_PCM, true);
  view.setUint16(22, channels, true);
  view.setUint32(24, sampleRate, true);
  view.setUint32(28, sampleRate * channels * 2, true);
  view.setUint16(32, channels * 2, true);
  view.setUint16(34, 16, true);
  ascii(36, "data");
  view.setUint32(40, dataBytes, true);
  for (let i = 0; i < samples.length; i++) {
    const s = samples[i] as number;
    const v = samples instanceof Int16Array ? s : Math.max(-32768, Math.min(32767, Math.round(s * 32768)));
    view.setInt16(44 + i * 2, v, true);
  }
  return bytes;
}

/**
 * Decodes a WAV file into float channels. Throws `RangeError` for a file that is not RIFF/WAVE, has no `fmt `
 * or `data` chunk, or uses an unsupported encoding. A `data` chunk whose declared size runs past the end of
 * the file (as streaming writers leave it) is read up to the end.
 */
export function decodeWav(file: Uint8Array): DecodedWav {
  const view = new DataView(file.buffer, file.byteOffset, file.byteLength);
  const tag = (offset: number) => String.fromCharCode(...file.subarray(offset, offset + 4));
  if (file.byteLength < 12 || tag(0) !== "RIFF" || tag(8) !== "WAVE")
    throw new RangeError("not a RIFF/WAVE file");
  let format = 0;
  let channelCount = 0;
  let sampleRate = 0;
  let bits = 0;
  let data: { offset: number; length: number } | undefined;
  for (let offset = 12; offset + 8 <= file.byteLength; ) {
    const id = tag(offset);
    const size = view.getUint32(offset + 4, true);
    const body = offset + 8;
    if (id === "fmt ") {
      format = view.getUint16(body, true);
      channelCount = view.getUint16(body + 2, true);
      sampleRate = view.getUint32(body + 4, true);
      bits = view.getUint16(body + 14, true);
      // WAVE_FORMAT_EXTENSIBLE keeps the real format in the first two bytes of the sub-format GUID.
      if (format === FORMAT_EXTENSIBLE && size >= 40) format = view.getUint16(body + 24, true);
    } else if (id === "data") {
      data = { offset: body, length: Math.min(size, file.byteLength - body) };
      break;
    }
    offset = body + size + (size & 1);
  }
  if (!data || channelCount === 0) throw new RangeError("WAV file has no fmt or data chunk");
  const bytesPerSample = bits / 8;
  const frames = Math.floor(data.length / (bytesPerSample * channelCount));
  const channels = Array.from({ length: channelCount }, () => new Float32Array(frames));
  const read = sampleReader(view, format, bits);
  for (let i = 0, p = data.offset; i < frames; i++) {
    for (let c = 0; c < channelCount; c++, p += bytesPerSample) (channels[c] as Float32Array)[i] = read(p);
  }
  return { sampleRate, channels };
}

function sampleReader(view: DataView, format: number, bits: number): (offset: number) => number {
  if (format === FORMAT_PCM && bits === 8) return (p) => (view.getUint8(p) - 128) / 128;
  if (format === FORMAT_PCM && bits === 16) return (p) => view.getInt16(p, true) / 32768;
  if (format === FORMAT_PCM && bits === 24) {
    return (p) =>
      ((view.getUint8(p) | (view.getUint8(p + 1) << 8) | (view.getInt8(p + 2) << 16)) as number) / 8388608;
  }
  if (format === FORMAT_PCM && bits === 32) return (p) => view.getInt32(p, true) / 2147483648;
  if (format === FORMAT_FLOAT && bits === 32) return (p) => view.getFloat32(p, true);
  if (format === FORMAT_FLOAT && bits === 64) return (p) => view.getFloat64(p, true);
  throw new RangeError(`unsupported WAV encoding: format ${format}, ${bits} bits`);
}

/** Mixes decoded channels down to one Float32Array by averaging. */
export function toMono(wav: DecodedWav): Float32Array {
  const [first, ...rest] = wav.channels;
  if (!first) return new Float32Array(0);
  if (rest.length === 0) return first;
  const mono = new Float32Array(first.length);
  for (const channel of wav.channels)
    for (let i = 0; i < mono.length; i++) mono[i] += (channel[i] as number) / wav.channels.length;
  return mono;
}

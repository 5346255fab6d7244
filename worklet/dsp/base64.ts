/**
 * Base64 (RFC 4648 §4, with padding) of raw bytes, e.g. the PCM16 payload of an `input_audio_buffer.append`
 * event. Uses `Uint8Array.prototype.toBase64` where the engine has it, otherwise a table-driven encoder that
 * builds the string in bounded chunks (no `btoa` round trip through a binary string per byte).
 */

const ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
/** Two base64 characters (as char codes) for every 12-bit value. */
let pairs: Uint16Array | undefined;
const CHUNK = 12288; // bytes per String.fromCharCode call: 16384 chars stays under every engine's argument limit

type WithToBase64 = Uint8Array & { toBase64?: () => string };

/** Encodes `bytes` as base64 with `=` padding. */
export function bytesToBase64(bytes: Uint8Array): string {
  const native = (bytes as WithToBase64).toBase64;
  if (typeof native === "function") return native.call(bytes);
  if (pairs === undefined) {
    pairs = new Uint16Array(4096);
    for (let i = 0; i < 4096; i++) {
      pairs[i] = (ALPHABET.charCodeAt(i >> 6) << 8) | ALPHABET.charCodeAt(i & 63);
    }
  }
  const table = pairs;
  const codes = new Uint16Array((CHUNK / 3) * 4);
  let out = "";
  for (let start = 0; start < bytes.length; start += CHUNK) {
    const end = Math.min(bytes.length, start + CHUNK);
    const whole = start + Math.floor((end - start) / 3) * 3;
    let o = 0;
    for (let i = start; i < whole; i += 3) {
      const v = (bytes[i] << 16) | (bytes[i + 1] << 8) | bytes[i + 2];
      const a = table[v >> 12];
      const b = table[v & 4095];
      codes[o++] = a >> 8;
      codes[o++] = a & 255;
      codes[o++] = b >> 8;
      codes[o++] = b & 255;
    }
    const rest = end - whole;
    if (rest > 0) {
      const v = (bytes[whole] << 16) | (rest === 2 ? bytes[whole + 1] << 8 : 0);
      codes[o++] = ALPHABET.charCodeAt(v >> 18);
      codes[o++] = ALPHABET.charCodeAt((v >> 12) & 63);
      codes[o++] = rest === 2 ? ALPHABET.charCodeAt((v >> 6) & 63) : 61;
      codes[o++] = 61;
    }
    out += String.fromCharCode.apply(null, codes.subarray(0, o) as unknown as number[]);
  }
  return out;
}

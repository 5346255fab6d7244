/**
 * Opus (RFC 6716) for the peer's audio track through `opusscript` (libopus compiled to WebAssembly): the codec
 * OpenAI's own track uses, at 48 kHz in 20 ms frames. RTP carries Opus with a 48 kHz clock and the rtpmap
 * `opus/48000/2` whatever the channel count actually sent (RFC 7587 §7); the peer sends mono, which every Opus
 * decoder accepts. Encoding costs ≈ 9 ms of CPU per second of audio here (`bench/speech.bench.ts`).
 */
import { createRequire } from "node:module";
import type OpusScriptType from "opusscript";

const require = createRequire(import.meta.url);
// opusscript is CommonJS (`export =`); its WebAssembly build instantiates synchronously.
const OpusScript = require("opusscript") as typeof OpusScriptType;

/** Opus's RTP clock rate and the rate the peer encodes at, in Hz. */
export const OPUS_RATE = 48_000;
/** Samples in one 20 ms frame at 48 kHz. */
export const OPUS_FRAME_SAMPLES = 960;
/** Default encoder bitrate, in bit/s: transparent for one voice (harmless to recognition at 12–32 kbit/s). */
export const OPUS_BITRATE = 32_000;

/** `OPUS_SET_COMPLEXITY_REQUEST` from `opus_defines.h`. */
const SET_COMPLEXITY = 4010;

/** Encodes 20 ms frames of 48 kHz mono PCM16 into Opus packets (VoIP mode). */
export class OpusFrameEncoder {
  readonly #encoder: OpusScriptType;
  #deleted = false;

  /** @param bitrate bit/s, 6000–510000. @param complexity 0–10 (libopus default 9). */
  constructor(bitrate = OPUS_BITRATE, complexity?: number) {
    this.#encoder = new OpusScript(OPUS_RATE, 1, OpusScript.Application.VOIP);
    this.#encoder.setBitrate(bitrate);
    if (complexity !== undefined) this.#encoder.encoderCTL(SET_COMPLEXITY, complexity);
  }

  /**
   * @param frame exactly `OPUS_FRAME_SAMPLES` samples.
   * @returns one Opus packet (a copy, safe to keep).
   * @throws RangeError for a frame of another length; Error when the encoder was freed.
   */
  encode(frame: Int16Array): Uint8Array {
    if (this.#deleted) throw new Error("the Opus encoder was freed");
    if (frame.length !== OPUS_FRAME_SAMPLES)
      throw new RangeError(`an Opus frame holds ${OPUS_FRAME_SAMPLES} samples, got ${frame.length}`);
    const packet = this.#encoder.encode(
      Buffer.from(frame.buffer, frame.byteOffset, frame.byteLength),
      frame.length,
    );
    return new Uint8Array(packet);
  }

  /** Frees the WebAssembly encoder state. */
  free(): void {
    if (this.#deleted) return;
    this.#deleted = true;
    this.#encoder.delete();
  }
}

/** Decodes Opus packets to 48 kHz mono PCM16 (a stereo stream is downmixed by libopus). */
export class OpusFrameDecoder {
  readonly #decoder = new OpusScript(OPUS_RATE, 1, OpusScript.Application.VOIP);
  #deleted = false;

  /**
   * @returns the packet's samples (a copy; 960 for a 20 ms packet).
   * @throws Error for a corrupt packet or when the decoder was freed.
   */
  decode(packet: Uint8Array): Int16Array {
    if (this.#deleted) throw new Error("the Opus decoder was freed");
    const bytes = this.#decoder.decode(Buffer.from(packet.buffer, packet.byteOffset, packet.byteLength));
    const out = new Int16Array(bytes.length >> 1);
    for (let i = 0; i < out.length; i++) out[i] = bytes.readInt16LE(i * 2);
    return out;
  }

  free(): void {
    if (this.#deleted) return;
    this.#deleted = true;
    this.#decoder.delete();
  }
}

/**
 * Turns the bytes of one `input_audio_buffer.append` into 24 kHz PCM16 according to the session's
 * `audio.input.format` (OpenAI `RealtimeAudioFormats`): `audio/pcm` is PCM16 little-endian at 24 kHz, taken as
 * is; `audio/pcmu` and `audio/pcma` are G.711 at 8 kHz, expanded and resampled to 24 kHz (streaming, so
 * consecutive appends join without clicks) so recordings and VAD always see one format.
 */
import { PCM_RATE } from "../../worker/schema/protocol.ts";
import { floatToPcm16, pcm16FromBytes } from "../../worklet/dsp/pcm16.ts";
import { Resampler } from "../../worklet/dsp/resampler.ts";
import { alawToLinear, mulawToLinear } from "./g711.ts";

export type InputFormat = "audio/pcm" | "audio/pcmu" | "audio/pcma";

export class InputDecoder {
  #format: InputFormat = "audio/pcm";
  #resampler: Resampler | null = null;
  /** Output samples still owed to the resampler's group delay, dropped from the start of the stream. */
  #skip = 0;

  get format(): InputFormat {
    return this.#format;
  }

  /** Switches format (from `session.update`); a G.711 stream restarts its resampler. */
  setFormat(format: string): void {
    const next: InputFormat = format === "audio/pcmu" || format === "audio/pcma" ? format : "audio/pcm";
    if (next === this.#format) return;
    this.#format = next;
    this.#resampler = next === "audio/pcm" ? null : new Resampler(8000, PCM_RATE);
    this.#skip = this.#resampler?.delaySamples ?? 0;
  }

  /** Bytes per sample of the current format (PCM16: 2, G.711: 1), for the append's length check. */
  get bytesPerSample(): number {
    return this.#format === "audio/pcm" ? 2 : 1;
  }

  /** Decodes one append's bytes. */
  decode(bytes: Buffer): Int16Array {
    if (!this.#resampler) {
      // Read explicitly as little-endian (OpenAI `audio/pcm`) rather than in the host's byte order.
      return pcm16FromBytes(bytes);
    }
    const expand = this.#format === "audio/pcmu" ? mulawToLinear : alawToLinear;
    const narrow = new Float32Array(bytes.length);
    for (let i = 0; i < bytes.length; i++) narrow[i] = expand(bytes[i] as number) / 32768;
    const wide = this.#resampler.process(narrow);
    const drop = Math.min(this.#skip, wide.length);
    this.#skip -= drop;
    return floatToPcm16(wide.subarray(drop));
  }
}

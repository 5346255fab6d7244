/**
 * Everything a call received as `input_audio_buffer.append`, in arrival order, as one growing PCM16 stream at
 * 24 kHz mono (OpenAI's `audio/pcm` input). Positions are absolute sample indices since the call started, the
 * time base of `audio_start_ms` / `audio_end_ms`. The uncommitted input buffer is the range
 * `[bufferStart, length)`: commit and clear move `bufferStart` forward; nothing is ever dropped from the stream,
 * so the call's recording holds every appended sample exactly once. Memory: 48 KB per second of audio
 * (≈ 173 MB for a 60-minute session, OpenAI's cap).
 */
import { PCM_RATE } from "../../worker/schema/protocol.ts";

export class InputAudio {
  readonly sampleRate = PCM_RATE;
  #chunks: Int16Array[] = [];
  #starts: number[] = [];
  #length = 0;
  #bufferStart = 0;

  /** Samples received so far. */
  get length(): number {
    return this.#length;
  }

  /** First sample of the uncommitted input buffer. */
  get bufferStart(): number {
    return this.#bufferStart;
  }

  /** Samples in the uncommitted input buffer. */
  get buffered(): number {
    return this.#length - this.#bufferStart;
  }

  /** Appends PCM16 samples; returns the absolute index of the first one. */
  append(samples: Int16Array): number {
    const start = this.#length;
    if (samples.length === 0) return start;
    this.#chunks.push(samples);
    this.#starts.push(start);
    this.#length += samples.length;
    return start;
  }

  /** Marks everything before `sample` (clamped to the stream) as consumed by a commit or clear. */
  consumeTo(sample: number): void {
    this.#bufferStart = Math.max(this.#bufferStart, Math.min(sample, this.#length));
  }

  /** Copies samples `[start, end)` (clamped to the stream) into one Int16Array. */
  slice(start = 0, end = this.#length): Int16Array {
    const from = Math.max(0, Math.min(start, this.#length));
    const to = Math.max(from, Math.min(end, this.#length));
    const out = new Int16Array(to - from);
    // Binary search for the first chunk that overlaps `from`.
    let lo = 0;
    let hi = this.#chunks.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if ((this.#starts[mid] as number) <= from) lo = mid;
      else hi = mid - 1;
    }
    for (let i = lo; i < this.#chunks.length; i++) {
      const chunk = this.#chunks[i] as Int16Array;
      const chunkStart = this.#starts[i] as number;
      if (chunkStart >= to) break;
      const a = Math.max(from, chunkStart);
      const b = Math.min(to, chunkStart + chunk.length);
      if (b > a) out.set(chunk.subarray(a - chunkStart, b - chunkStart), a - from);
    }
    return out;
  }
}

/**
 * The peer's server-side turn detection: OpenAI's `server_vad` semantics rebuilt from the project's own VAD
 * (`VoiceActivityDetector`, a speech probability per frame) and `Segmenter` (hysteresis, prefix padding,
 * hangover). `threshold` is the probability to enter speech, `prefix_padding_ms` the pre-roll included in
 * `audio_start_ms`, `silence_duration_ms` the silence that ends a turn (included in `audio_end_ms`, as OpenAI
 * documents). `semantic_vad` has no semantic model here: it maps its eagerness to a silence duration.
 */
import { PCM_RATE } from "../../worker/schema/protocol.ts";
import { type SegmentEvent, Segmenter, type SegmenterOptions } from "../../worklet/dsp/segmenter.ts";
import { VoiceActivityDetector } from "../../worklet/dsp/vad.ts";
import type { TurnDetection } from "./session-config.ts";

/** 20 ms at 24 kHz: the VAD's frame. */
const FRAME = 480;

const EAGERNESS_SILENCE_MS = { low: 1200, medium: 800, auto: 800, high: 400 } as const;

/** Maps a GA turn detection to segmenter options (null when the client commits turns itself). */
export function segmenterOptions(turnDetection: TurnDetection): SegmenterOptions | null {
  if (turnDetection === null) return null;
  if (turnDetection.type === "server_vad") {
    const onset = turnDetection.threshold;
    return {
      sampleRate: PCM_RATE,
      onsetThreshold: onset,
      // Hysteresis: leaving speech takes a clearly lower probability than entering it (0.5 → 0.3).
      offsetThreshold: onset * 0.6,
      prefixPaddingMs: turnDetection.prefix_padding_ms,
      hangoverMs: turnDetection.silence_duration_ms,
    };
  }
  return {
    sampleRate: PCM_RATE,
    onsetThreshold: 0.5,
    offsetThreshold: 0.3,
    prefixPaddingMs: 300,
    hangoverMs: EAGERNESS_SILENCE_MS[turnDetection.eagerness],
  };
}

/**
 * Feeds appended PCM16 through the VAD in 20 ms frames and reports segment boundaries as absolute sample
 * indices of the call's input stream. Frames never straddle a `push`: a partial frame waits for the next one.
 */
export class ServerVad {
  readonly #vad = new VoiceActivityDetector({ sampleRate: PCM_RATE });
  readonly #segmenter: Segmenter;
  readonly #frame = new Float32Array(FRAME);
  #fill = 0;
  #frameStart = 0;
  #lastProbability = 0;

  constructor(options: SegmenterOptions) {
    this.#segmenter = new Segmenter(options);
  }

  /** Probability of the last complete frame. */
  get probability(): number {
    return this.#lastProbability;
  }

  /** True while inside a segment (including hangover). */
  get speech(): boolean {
    return this.#segmenter.speech;
  }

  configure(options: SegmenterOptions): void {
    this.#segmenter.configure(options);
  }

  /** Forgets the current segment (after `input_audio_buffer.clear`); the next frame starts at `sample`. */
  reset(sample: number): void {
    this.#vad.reset();
    this.#segmenter.reset();
    this.#fill = 0;
    this.#frameStart = sample;
  }

  /** Processes `samples`, the first of which is stream sample `start`; returns the boundaries crossed. */
  push(samples: Int16Array, start: number): SegmentEvent[] {
    const events: SegmentEvent[] = [];
    if (this.#fill === 0) this.#frameStart = start;
    for (let i = 0; i < samples.length; i++) {
      this.#frame[this.#fill++] = (samples[i] as number) / 32768;
      if (this.#fill === FRAME) {
        this.#lastProbability = this.#vad.process(this.#frame);
        const event = this.#segmenter.process(this.#lastProbability, this.#frameStart, FRAME);
        if (event) events.push(event);
        this.#fill = 0;
        this.#frameStart += FRAME;
      }
    }
    return events;
  }
}

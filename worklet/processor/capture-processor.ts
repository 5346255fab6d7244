/**
 * The capture AudioWorkletProcessor, registered as `realtime-voice-capture`: a thin adapter from render quanta to
 * the DSP objects in `../dsp/`. Per render quantum: downmix every channel to mono (NaN/±∞ → 0, counted), resample to
 * 24 kHz, and fill the current frame; per full frame (`frameMs`, default 20 ms = 480 samples): PCM16, VAD,
 * segmenter, and one `frame` message whose PCM buffer is transferred. All buffers are preallocated; the only
 * allocation per frame is that PCM buffer (and the message object). Bad options or messages are answered with an
 * `error` message: nothing here throws on the audio thread. The protocol is `messages.ts`.
 */
import { PCM_RATE } from "../../worker/schema/protocol.ts";
import { downmixInto } from "../dsp/downmix.ts";
import { floatToPcm16 } from "../dsp/pcm16.ts";
import { Resampler } from "../dsp/resampler.ts";
import { Segmenter } from "../dsp/segmenter.ts";
import { VoiceActivityDetector } from "../dsp/vad.ts";
import type { CaptureOptions, ControlMessage, ErrorMessage, ProcessorMessage } from "./messages.ts";
import { CAPTURE_PROCESSOR_NAME, parseCaptureOptions } from "./messages.ts";

const DEFAULT_FRAME_MS = 20;
const DEFAULT_STATS_MS = 1000;
/** Floats that PCM16 clamps: at or above 32767.5 / 32768, below −32768.5 / 32768. */
const CLIP_HIGH = 32767.5 / 32768;
const CLIP_LOW = -32768.5 / 32768;

class CaptureProcessor extends AudioWorkletProcessor {
  readonly #resampler: Resampler | null = null;
  readonly #vad = new VoiceActivityDetector({ sampleRate: PCM_RATE });
  readonly #segmenter = new Segmenter({ sampleRate: PCM_RATE });
  /** Mono input of one render quantum; resized only if the quantum size changes. */
  #mono = new Float32Array(128);
  #resampled = new Float32Array(0);
  /** The frame being filled, exactly `frameMs × 24` samples. */
  #frame = new Float32Array((DEFAULT_FRAME_MS * PCM_RATE) / 1000);
  #fill = 0;
  /** Output-stream index of `#frame[0]`. */
  #timestamp = 0;
  #seq = 0;
  #statsEvery = (DEFAULT_STATS_MS * sampleRate) / 1000;
  #sinceStats = 0;
  #channels = 0;
  #quanta = 0;
  #nonFinite = 0;
  #clipped = 0;
  #failed = false;

  /** `options` is the `AudioWorkletNodeOptions` the node was created with (a structured clone). */
  constructor(options?: { processorOptions?: unknown }) {
    super();
    this.port.onmessage = (event: MessageEvent<unknown>) => this.#onMessage(event.data);
    try {
      this.#resampler = new Resampler(sampleRate, PCM_RATE);
      this.#resampled = new Float32Array(this.#resampler.maxOutputLength(this.#mono.length));
    } catch (error) {
      this.#post({ type: "error", code: "unsupported-sample-rate", message: String(error) });
    }
    this.#configure(options?.processorOptions, "invalid-options");
  }

  process(inputs: Float32Array[][]): boolean {
    const input = inputs[0];
    // No input connected (or the track ended): no time passes for the capture stream.
    if (this.#resampler === null || input === undefined || input.length === 0) return true;
    try {
      this.#render(this.#resampler, input);
    } catch (error) {
      // An exception escaping process() would stop the processor for good (`processorerror`); report it once
      // and keep capturing.
      if (!this.#failed) this.#post({ type: "error", code: "processing-failed", message: String(error) });
      this.#failed = true;
    }
    return true;
  }

  #render(resampler: Resampler, input: Float32Array[]): void {
    const n = input[0].length;
    if (n !== this.#mono.length) {
      // Only when the render quantum size changes (a future `renderSizeHint`), never per quantum.
      this.#mono = new Float32Array(n);
      this.#resampled = new Float32Array(resampler.maxOutputLength(n));
    }
    this.#nonFinite += downmixInto(input, this.#mono);
    this.#channels = input.length;
    this.#quanta++;

    const out = this.#resampled;
    const m = resampler.processInto(this.#mono, out);
    let frame = this.#frame;
    let fill = this.#fill;
    for (let i = 0; i < m; i++) {
      frame[fill++] = out[i];
      if (fill === frame.length) {
        this.#fill = fill;
        this.#emit(frame);
        frame = this.#frame;
        fill = 0;
      }
    }
    this.#fill = fill;

    this.#sinceStats += n;
    if (this.#statsEvery > 0 && this.#sinceStats >= this.#statsEvery) {
      this.#sinceStats = 0;
      this.#postStats();
    }
  }

  /** Scores, encodes and posts `frame` (the first `#fill` samples of it), then starts the next frame. */
  #emit(frame: Float32Array): void {
    const length = this.#fill;
    let energy = 0;
    for (let i = 0; i < length; i++) {
      const v = frame[i];
      energy += v * v;
      if (v >= CLIP_HIGH || v < CLIP_LOW) this.#clipped++;
    }
    const pcm = new Int16Array(length);
    floatToPcm16(length === frame.length ? frame : frame.subarray(0, length), pcm);
    const probability = this.#vad.process(length === frame.length ? frame : frame.subarray(0, length));
    const event = this.#segmenter.process(probability, this.#timestamp, length);
    if (event !== null) this.#post(event);
    const level = energy > 0 ? Math.max(-120, 10 * Math.log10(energy / length)) : -120;
    this.port.postMessage(
      {
        type: "frame",
        seq: this.#seq++,
        timestamp: this.#timestamp,
        pcm: pcm.buffer,
        probability,
        speech: this.#segmenter.speech,
        level,
      } satisfies ProcessorMessage,
      [pcm.buffer],
    );
    this.#timestamp += length;
    this.#fill = 0;
  }

  #onMessage(data: unknown): void {
    try {
      const message = data as ControlMessage;
      if (typeof data !== "object" || data === null || typeof message.type !== "string") {
        this.#invalidMessage("a message must be an object with a type");
      } else if (message.type === "configure") {
        this.#configure(message.options, "invalid-options");
      } else if (message.type === "flush") {
        if (this.#fill > 0) this.#emit(this.#frame);
        this.#postStats();
        this.#post({ type: "flushed", lastSeq: this.#seq - 1 });
      } else {
        const type = JSON.stringify(String((data as { type: unknown }).type));
        this.#invalidMessage(`unknown message type ${type}`, "/type");
      }
    } catch (error) {
      this.#invalidMessage(String(error));
    }
  }

  #invalidMessage(message: string, field?: string): void {
    this.#post({ type: "error", code: "invalid-message", message, ...(field && { field }) });
  }

  /** Applies validated options; on any problem posts an error and keeps the current settings. */
  #configure(value: unknown, code: ErrorMessage["code"]): void {
    const parsed = parseCaptureOptions(value);
    if (!parsed.ok) {
      this.#post({ type: "error", code, field: parsed.field, message: parsed.message });
      return;
    }
    const options: CaptureOptions = parsed.options;
    if (options.vad !== undefined) {
      try {
        this.#segmenter.configure(options.vad);
      } catch (error) {
        this.#post({ type: "error", code, field: "/vad", message: String(error) });
        return;
      }
    }
    if (options.frameMs !== undefined) {
      const samples = Math.round((options.frameMs * PCM_RATE) / 1000);
      if (samples !== this.#frame.length) {
        // The partial frame goes out at its current length rather than straddling two frame sizes.
        if (this.#fill > 0) this.#emit(this.#frame);
        this.#frame = new Float32Array(samples);
      }
    }
    if (options.statsIntervalMs !== undefined) {
      this.#statsEvery = (options.statsIntervalMs * sampleRate) / 1000;
    }
  }

  #postStats(): void {
    this.#post({
      type: "stats",
      inputRate: sampleRate,
      channels: this.#channels,
      quanta: this.#quanta,
      frames: this.#seq,
      nonFinite: this.#nonFinite,
      clipped: this.#clipped,
      delaySamples: this.#resampler?.delaySamples ?? 0,
    });
  }

  #post(message: ProcessorMessage): void {
    this.port.postMessage(message);
  }
}

registerProcessor(CAPTURE_PROCESSOR_NAME, CaptureProcessor);

/**
 * The input side of a call: the input audio buffer (`input_audio_buffer.append` and the WebRTC audio track feed
 * it alike, as 24 kHz PCM16), server VAD (`speech_started` / `speech_stopped`), commits (by VAD or by the
 * client) and clears. Each committed turn is recorded, added to the conversation as a user message with an
 * `input_audio` part, and handed to `onTurn` (transcription and, for server VAD, the response).
 */
import { MAX_APPEND_BYTES, MIN_COMMIT_MS, PCM_RATE } from "../../worker/schema/protocol.ts";
import { rmsDbfs } from "./audio-level.ts";
import type { EventError } from "./client-event-reader.ts";
import type { Conversation } from "./conversation.ts";
import { newId } from "./ids.ts";
import { InputAudio } from "./input-audio.ts";
import { InputDecoder } from "./input-decoder.ts";
import type { Recorder } from "./recorder.ts";
import { ServerVad, segmenterOptions } from "./server-vad.ts";
import type { EffectiveSession } from "./session-config.ts";

/** `input_audio_buffer.commit` needs at least 100 ms buffered (2400 samples at 24 kHz). */
export const MIN_COMMIT_SAMPLES = (PCM_RATE * MIN_COMMIT_MS) / 1000;
const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;
const SAMPLES_PER_MS = PCM_RATE / 1000;

/** One committed user turn. */
export interface Turn {
  n: number;
  item_id: string;
  start_sample: number;
  end_sample: number;
  audio_start_ms: number;
  audio_end_ms: number;
  source: "server_vad" | "commit";
  file: string;
  rms_dbfs: number;
}

/** Counters of the input side, shown by the inspection API (the response side adds its own). */
export interface InputStats {
  appends: number;
  append_bytes: number;
  /** Samples decoded from the audio track into the input buffer. */
  track_samples: number;
  samples: number;
  buffered_samples: number;
  speech: boolean;
}

export interface InputTurnsOptions {
  callId: string;
  recorder: Recorder;
  conversation: Conversation;
  stats: InputStats;
  emit: (type: string, fields: Record<string, unknown>) => void;
  /** Server VAD heard the user start speaking (barge-in point). */
  onSpeechStarted: () => void;
  /**
   * Audio of the turn being spoken, for streaming recognition: `first` marks the turn's start. With server VAD,
   * a turn starts at `speech_started` (the audio from `audio_start_ms`, prefix padding included); without it
   * (the client commits), at the first audio after a commit or clear. Later calls carry each new chunk.
   */
  onTurnAudio?: (samples: Int16Array, first: boolean) => void;
  /** The turn being spoken will not be committed as streamed (cleared, mode changed, cut by a client commit). */
  onTurnAbandoned?: () => void;
  /** A turn was committed; `createResponse` is true when server VAD's `create_response` asks for a reply. */
  onTurn: (turn: Turn, samples: Int16Array, createResponse: boolean) => void;
}

/** Where an append's samples landed, for the event log. */
export interface Appended {
  bytes: number;
  start_sample: number;
  samples: number;
}

export class InputTurns {
  readonly input = new InputAudio();
  readonly turns: Turn[] = [];
  readonly #options: InputTurnsOptions;
  readonly #decoder = new InputDecoder();
  #session: EffectiveSession;
  #vad: ServerVad | null = null;
  /** Item id announced by `speech_started`, reused by the matching `speech_stopped` and `committed`. */
  #speechItemId: string | null = null;
  #speechStart = 0;
  /** True between `speech_started` and `speech_stopped`. */
  #turnOpen = false;

  constructor(session: EffectiveSession, options: InputTurnsOptions) {
    this.#options = options;
    this.#session = session;
    this.configure(session);
  }

  /** Applies a (new) session: input format and turn detection. */
  configure(session: EffectiveSession): void {
    const hadVad = this.#vad !== null;
    this.#session = session;
    if (hadVad !== (segmenterOptions(session.audio.input.turn_detection) !== null)) this.#abandonTurn();
    this.#decoder.setFormat(session.audio.input.format.type);
    const options = segmenterOptions(session.audio.input.turn_detection);
    if (!options) {
      this.#vad = null;
      this.#speechItemId = null;
      return;
    }
    if (this.#vad) this.#vad.configure(options);
    else {
      this.#vad = new ServerVad(options);
      this.#vad.reset(this.input.length);
    }
  }

  /** `input_audio_buffer.append`: checks and decodes the base64 audio, then feeds it in; an error when refused. */
  appendBase64(audio: string): Appended | EventError {
    // Checked before decoding: Buffer.from(…, "base64") silently skips invalid characters.
    if (audio.length % 4 !== 0 || !BASE64.test(audio))
      return {
        code: "invalid_value",
        message: "Invalid 'audio'. Expected base64-encoded audio bytes.",
        param: "audio",
      };
    const padding = audio.endsWith("==") ? 2 : audio.endsWith("=") ? 1 : 0;
    const byteLength = (audio.length / 4) * 3 - padding;
    if (byteLength > MAX_APPEND_BYTES)
      return {
        code: "string_above_max_length",
        message: `Invalid 'audio': the decoded audio is ${byteLength} bytes, above the maximum of ${MAX_APPEND_BYTES} bytes (15 MiB) per event.`,
        param: "audio",
      };
    if (byteLength % this.#decoder.bytesPerSample !== 0)
      return {
        code: "invalid_value",
        message: `Invalid 'audio': PCM16 audio has 2 bytes per sample, but ${byteLength} bytes were sent.`,
        param: "audio",
      };
    const bytes = Buffer.from(audio, "base64");
    const samples = this.#decoder.decode(bytes);
    const start = this.#feed(samples);
    this.#options.stats.appends++;
    this.#options.stats.append_bytes += bytes.length;
    return { bytes: bytes.length, start_sample: start, samples: samples.length };
  }

  /** Audio decoded from the WebRTC track (24 kHz PCM16): the same buffer and turn detection as appends. */
  appendTrack(samples: Int16Array): void {
    this.#options.stats.track_samples += samples.length;
    this.#feed(samples);
  }

  /** `input_audio_buffer.commit`; an error when less than 100 ms is buffered. */
  commit(): EventError | null {
    const buffered = this.input.buffered;
    if (buffered < MIN_COMMIT_SAMPLES)
      return {
        code: "input_audio_buffer_commit_empty",
        message: `Error committing input audio buffer: buffer too small. Expected at least ${MIN_COMMIT_MS}ms of audio, but buffer only has ${(buffered / SAMPLES_PER_MS).toFixed(2)}ms of audio.`,
        param: null,
      };
    const itemId = this.#speechItemId ?? newId("item");
    this.#speechItemId = null;
    this.#vad?.reset(this.input.length);
    this.#options.stats.speech = false;
    // Without server VAD the streamed turn is exactly the buffer being committed; with it, a client commit cuts
    // across VAD's turn, which is then decoded whole.
    if (this.#vad) this.#abandonTurn();
    else this.#turnOpen = false;
    this.#commit(this.input.bufferStart, this.input.length, itemId, "commit");
    return null;
  }

  /** `input_audio_buffer.clear`. */
  clear(): void {
    this.input.consumeTo(this.input.length);
    this.#vad?.reset(this.input.length);
    this.#speechItemId = null;
    this.#options.stats.speech = false;
    this.#options.stats.buffered_samples = 0;
    this.#abandonTurn();
    this.#options.emit("input_audio_buffer.cleared", {});
  }

  #feed(samples: Int16Array): number {
    const start = this.input.append(samples);
    const stats = this.#options.stats;
    stats.samples = this.input.length;
    stats.buffered_samples = this.input.buffered;
    if (!this.#vad) {
      if (samples.length > 0) this.#options.onTurnAudio?.(samples, !this.#turnOpen);
      this.#turnOpen = true;
      return start;
    }
    const wasOpen = this.#turnOpen;
    let boundaries = 0;
    for (const boundary of this.#vad.push(samples, start)) {
      boundaries++;
      if (boundary.type === "speechstart") this.#speechStarted(boundary.sample);
      else this.#speechStopped(boundary.sample);
    }
    if (wasOpen && this.#turnOpen && boundaries === 0) this.#options.onTurnAudio?.(samples, false);
    return start;
  }

  #abandonTurn(): void {
    if (!this.#turnOpen) return;
    this.#turnOpen = false;
    this.#options.onTurnAbandoned?.();
  }

  #speechStarted(sample: number): void {
    this.#options.stats.speech = true;
    this.#speechStart = Math.max(sample, this.input.bufferStart);
    this.#speechItemId = newId("item");
    this.#turnOpen = true;
    this.#options.onTurnAudio?.(this.input.slice(this.#speechStart, this.input.length), true);
    this.#options.emit("input_audio_buffer.speech_started", {
      audio_start_ms: Math.round(this.#speechStart / SAMPLES_PER_MS),
      item_id: this.#speechItemId,
    });
    if (this.#session.audio.input.turn_detection?.interrupt_response) this.#options.onSpeechStarted();
  }

  #speechStopped(sample: number): void {
    this.#options.stats.speech = false;
    this.#turnOpen = false;
    const itemId = this.#speechItemId ?? newId("item");
    this.#speechItemId = null;
    const end = Math.min(Math.max(sample, this.#speechStart), this.input.length);
    this.#options.emit("input_audio_buffer.speech_stopped", {
      audio_end_ms: Math.round(end / SAMPLES_PER_MS),
      item_id: itemId,
    });
    if (end - this.#speechStart <= 0) return;
    this.#commit(this.#speechStart, end, itemId, "server_vad");
  }

  #commit(start: number, end: number, itemId: string, source: Turn["source"]): void {
    const samples = this.input.slice(start, end);
    this.input.consumeTo(end);
    this.#options.stats.buffered_samples = this.input.buffered;
    const n = this.turns.length + 1;
    const file = `${this.#options.callId}-turn-${n}.wav`;
    this.#options.recorder.write(file, samples);
    const turn: Turn = {
      n,
      item_id: itemId,
      start_sample: start,
      end_sample: end,
      audio_start_ms: Math.round(start / SAMPLES_PER_MS),
      audio_end_ms: Math.round(end / SAMPLES_PER_MS),
      source,
      file,
      rms_dbfs: rmsDbfs(samples),
    };
    this.turns.push(turn);
    const item = {
      id: itemId,
      type: "message",
      object: "realtime.item",
      status: "completed",
      role: "user",
      content: [{ type: "input_audio", transcript: null }],
    };
    const conversation = this.#options.conversation;
    const previous = conversation.add(item);
    this.#options.emit("input_audio_buffer.committed", { previous_item_id: previous, item_id: itemId });
    this.#options.emit("conversation.item.added", { previous_item_id: previous, item });
    this.#options.emit("conversation.item.done", { previous_item_id: previous, item });
    const td = this.#session.audio.input.turn_detection;
    this.#options.onTurn(turn, samples, source === "server_vad" && td !== null && td.create_response);
  }
}

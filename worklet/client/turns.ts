/**
 * Turn-taking on the main thread: client commits (`turns: "client"`), the response lifecycle they depend on,
 * and barge-in. It decides; the session sends (`send` queues a client event behind the audio, `interrupt` goes
 * straight to the channel) and mutes the output.
 */
import { MIN_COMMIT_MS, PCM_RATE } from "../../worker/schema/protocol.ts";
import { BargeInDetector } from "./barge-in.ts";
import type { ServerEvent } from "./types.ts";

/** OpenAI refuses `input_audio_buffer.commit` with less than 100 ms buffered (`input_audio_buffer_commit_empty`). */
const MIN_COMMIT_SAMPLES = (PCM_RATE * MIN_COMMIT_MS) / 1000;

export interface TurnOptions {
  /** The client commits turns (the session was requested with `turn_detection: null`). */
  clientTurns: boolean;
  /** VAD probability that counts as speech for barge-in (the segmenter's onset threshold). */
  threshold: number;
  /** Speech held this long while the model speaks interrupts it, in ms; 0 disables barge-in. */
  bargeInMs: number;
  frameMs: number;
  /** Queues a client event (JSON text) behind the audio. */
  send(text: string): void;
  /** Stops the model now: mute playback, `response.cancel` and `output_audio_buffer.clear` ahead of the queue. */
  interrupt(): void;
  /** Playback may be heard again (the model started a new utterance). */
  unmute(): void;
}

export class Turns {
  commits = 0;
  bargeIns = 0;
  #options: TurnOptions;
  #bargeIn: BargeInDetector | null;
  #appended = 0;
  #responseActive = false;

  constructor(options: TurnOptions) {
    this.#options = options;
    this.#bargeIn = options.bargeInMs > 0 ? new BargeInDetector(options.threshold, options.bargeInMs) : null;
  }

  /** Samples appended to the input buffer since the last commit. */
  appended(samples: number): void {
    this.#appended += samples;
  }

  /** A captured frame's VAD probability; true when it interrupted the model. */
  frame(probability: number): boolean {
    if (!this.#bargeIn?.frame(probability, this.#options.frameMs)) return false;
    this.#options.interrupt();
    this.bargeIns++;
    return true;
  }

  /**
   * Local speech ended. With client turns and ≥ 100 ms appended: `response.cancel` when a response is still
   * active (OpenAI refuses a second `response.create`: `conversation_already_has_active_response`), then
   * `input_audio_buffer.commit` and `response.create`. Returns the committed samples, or 0.
   */
  speechEnd(): number {
    const samples = this.#appended;
    if (!this.#options.clientTurns || samples < MIN_COMMIT_SAMPLES) return 0;
    this.#appended = 0;
    if (this.#responseActive) this.#options.send('{"type":"response.cancel"}');
    this.#options.send('{"type":"input_audio_buffer.commit"}');
    this.#options.send('{"type":"response.create"}');
    this.commits++;
    return samples;
  }

  /** Follows the server's response and output-audio lifecycle. */
  server(event: ServerEvent): void {
    switch (event.type) {
      case "response.created":
        this.#responseActive = true;
        break;
      case "response.done":
        this.#responseActive = false;
        break;
      case "output_audio_buffer.started":
        this.#bargeIn?.setModelSpeaking(true);
        this.#options.unmute();
        break;
      case "output_audio_buffer.stopped":
      case "output_audio_buffer.cleared":
        this.#bargeIn?.setModelSpeaking(false);
        break;
    }
  }

  /** A new call has an empty input buffer and no response. */
  newCall(): void {
    this.#appended = 0;
    this.#responseActive = false;
  }
}

/**
 * The ordered, bounded queue between capture and the `oai-events` channel. Frames become
 * `input_audio_buffer.append` messages (base64 PCM16, each far below the 64 KiB data-channel limit) and client
 * events (commit, response.create) keep their place between them. Sending stops while the channel's
 * `bufferedAmount` is above the high-water mark; when more frames wait than the bound allows, the oldest silence
 * goes first and speech only when nothing else is left, each drop reported to `onDrop`.
 */
import { bytesToBase64 } from "../dsp/base64.ts";
import type { FrameMessage } from "../processor/messages.ts";

/** One message waiting for the channel. `capturedAt`: wall time (ms since the epoch) the frame became available. */
export type QueueItem =
  | { kind: "frame"; frame: FrameMessage; capturedAt: number }
  | { kind: "event"; text: string };

const APPEND_PREFIX = '{"type":"input_audio_buffer.append","event_id":"';
/** Sent messages remembered for a lost channel: more than Chromium ever leaves in `bufferedAmount` here. */
const HISTORY_BYTES = 1 << 20;

export class SendQueue {
  #items: QueueItem[] = [];
  #frames = 0;
  #maxFrames: number;
  #history: Array<{ item: QueueItem; size: number }> = [];
  #historyBytes = 0;
  #onDrop: (frame: FrameMessage) => void;
  #onSent: (item: QueueItem) => void;

  /** `maxFrames` ≥ 1 bounds the waiting frames (events are never dropped). */
  constructor(maxFrames: number, onDrop: (frame: FrameMessage) => void, onSent: (item: QueueItem) => void) {
    this.#maxFrames = maxFrames;
    this.#onDrop = onDrop;
    this.#onSent = onSent;
  }

  /** Frames waiting. */
  get frames(): number {
    return this.#frames;
  }

  push(item: QueueItem): void {
    this.#items.push(item);
    if (item.kind !== "frame") return;
    this.#frames++;
    if (this.#frames <= this.#maxFrames) return;
    let index = this.#items.findIndex((queued) => queued.kind === "frame" && !queued.frame.speech);
    if (index < 0) index = this.#items.findIndex((queued) => queued.kind === "frame");
    const [dropped] = this.#items.splice(index, 1);
    this.#frames--;
    if (dropped?.kind === "frame") this.#onDrop(dropped.frame);
  }

  /** Sends in order while the channel is open and below `highWaterMark` bytes buffered. */
  drain(
    channel: Pick<RTCDataChannel, "readyState" | "bufferedAmount"> & { send(text: string): void },
    highWaterMark: number,
  ): void {
    while (
      this.#items.length > 0 &&
      channel.readyState === "open" &&
      channel.bufferedAmount < highWaterMark
    ) {
      const item = this.#items.shift() as QueueItem;
      if (item.kind === "frame") this.#frames--;
      const text = encode(item);
      channel.send(text);
      this.#remember(item, text.length);
      this.#onSent(item);
    }
  }

  /**
   * After the channel died: puts back, in order and ahead of everything waiting, the messages that were still in
   * its send buffer (`bufferedAmount` bytes, counted from the newest), so a new call receives them.
   * Returns how many frames came back.
   */
  requeueUnsent(bufferedAmount: number): number {
    const back: QueueItem[] = [];
    let bytes = 0;
    while (bytes < bufferedAmount && this.#history.length > 0) {
      const last = this.#history.pop() as { item: QueueItem; size: number };
      bytes += last.size;
      back.unshift(last.item);
    }
    this.#history.length = 0;
    this.#historyBytes = 0;
    const frames = back.filter((item) => item.kind === "frame").length;
    this.#items.unshift(...back);
    this.#frames += frames;
    return frames;
  }

  /** Forgets everything (the session is over). */
  clear(): void {
    this.#items.length = 0;
    this.#history.length = 0;
    this.#frames = 0;
    this.#historyBytes = 0;
  }

  #remember(item: QueueItem, size: number): void {
    this.#history.push({ item, size });
    this.#historyBytes += size;
    while (this.#historyBytes > HISTORY_BYTES) this.#historyBytes -= this.#history.shift()?.size ?? 0;
  }
}

function encode(item: QueueItem): string {
  if (item.kind === "event") return item.text;
  // The event id carries the frame's sequence number and capture time, so a peer on the same clock can check
  // order and measure capture → receive latency. OpenAI accepts any client `event_id` string.
  const id = `rv_${item.frame.seq}_${item.capturedAt.toFixed(1)}`;
  return `${APPEND_PREFIX}${id}","audio":"${bytesToBase64(new Uint8Array(item.frame.pcm))}"}`;
}

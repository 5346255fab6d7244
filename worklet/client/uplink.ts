/**
 * The way up from capture to the call: the silence gate ({@link FrameGate}), then either the ordered, bounded
 * queue to the `oai-events` channel ({@link SendQueue}) or, in track mode, the renderer of the outgoing audio
 * track. `frame()` returns each frame's fate; the counters feed the session's stats.
 */
import type { FrameMessage } from "../processor/messages.ts";
import { FrameGate } from "./frame-gate.ts";
import { type QueueItem, SendQueue } from "./send-queue.ts";
import type { FrameFate } from "./types.ts";

/** The part of `RTCDataChannel` the uplink uses (a fake in the unit tests). */
export type EventChannel = Pick<
  RTCDataChannel,
  | "readyState"
  | "bufferedAmount"
  | "bufferedAmountLowThreshold"
  | "addEventListener"
  | "removeEventListener"
  | "close"
> & { send(text: string): void };

export interface UplinkOptions {
  /** Gate silence (send speech, prefix padding, hangover and `trailFrames` only). */
  gate: boolean;
  /** Frames the gate keeps for prefix padding. */
  holdFrames: number;
  /** Silent frames sent after each segment (room for the server's `silence_duration_ms`). */
  trailFrames: number;
  /** Bound of the queue, in frames. */
  maxFrames: number;
  /** `bufferedAmount` above which frames wait, in bytes. */
  highWaterMark: number;
  /** A frame the full queue gave up. */
  onDrop(frame: FrameMessage): void;
  /** Samples entered the input stream (queued, sent or rendered): the turn's audio. */
  onAppend(samples: number): void;
}

export class Uplink {
  /** Track mode: plays one frame into the outgoing track instead of queueing it (set once capture runs). */
  render: ((frame: FrameMessage) => void) | null = null;
  framesSent = 0;
  bytesSent = 0;
  #options: UplinkOptions;
  #gate: FrameGate<QueueItem>;
  #queue: SendQueue;
  #channel: EventChannel | null = null;

  constructor(options: UplinkOptions) {
    this.#options = options;
    this.#gate = new FrameGate(options.gate, options.holdFrames, options.trailFrames);
    this.#queue = new SendQueue(options.maxFrames, options.onDrop, (item) => this.#sent(item));
  }

  /** Frames waiting for the channel. */
  get queued(): number {
    return this.#queue.frames;
  }

  /** Frames the gate withheld for good. */
  get withheld(): number {
    return this.#gate.withheld;
  }

  /** One captured frame (`capturedAt`: ms since the epoch); returns what became of it. */
  frame(frame: FrameMessage, capturedAt: number): FrameFate {
    const item: QueueItem = { kind: "frame", frame, capturedAt };
    if (!this.#gate.admit(frame, item)) return "held";
    const before = this.framesSent;
    this.#enqueue(item);
    return this.framesSent > before ? "sent" : "queued";
  }

  /** A segment starts at `sample`: the held frames that reach into it go out first. */
  speechStart(sample: number): void {
    for (const item of this.#gate.speechStart(sample)) this.#enqueue(item);
  }

  speechEnd(): void {
    this.#gate.speechEnd();
  }

  /** A client event, in order behind the queued audio. */
  event(text: string): void {
    this.#queue.push({ kind: "event", text });
    this.drain();
  }

  /** Sends through `channel` from now on. */
  attach(channel: EventChannel): void {
    this.#channel = channel;
    this.drain();
  }

  /** The channel died or is being replaced: what was still in its send buffer is queued again for the next one. */
  detach(): void {
    if (this.#channel) this.#queue.requeueUnsent(this.#channel.bufferedAmount);
    this.#channel = null;
  }

  drain = (): void => {
    if (this.#channel) this.#queue.drain(this.#channel, this.#options.highWaterMark);
  };

  /**
   * Sends everything queued regardless of the high-water mark and waits (at most `waitMs`) until the channel's
   * send buffer is empty, on its `bufferedamountlow` event.
   */
  async flush(waitMs: number): Promise<void> {
    const channel = this.#channel;
    if (channel?.readyState !== "open") return;
    this.#queue.drain(channel, Number.POSITIVE_INFINITY);
    if (channel.bufferedAmount === 0) return;
    const threshold = channel.bufferedAmountLowThreshold;
    channel.bufferedAmountLowThreshold = 0;
    await new Promise<void>((resolve) => {
      const done = () => {
        clearTimeout(timer);
        channel.removeEventListener("bufferedamountlow", done);
        channel.removeEventListener("close", done);
        resolve();
      };
      const timer = setTimeout(done, waitMs);
      channel.addEventListener("bufferedamountlow", done);
      channel.addEventListener("close", done);
    });
    channel.bufferedAmountLowThreshold = threshold;
  }

  /**
   * Closes the channel after `lingerMs` and waits (at most `waitMs`) for it to close. `bufferedAmount` 0 means
   * handed to SCTP, not received: a peer that ends the call as soon as the channel closes can drop messages still
   * in flight, so the channel closes one beat later, and before the connection.
   */
  async close(lingerMs: number, waitMs: number): Promise<void> {
    const channel = this.#channel;
    if (!channel) return;
    await new Promise((resolve) => setTimeout(resolve, lingerMs));
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, waitMs);
      channel.addEventListener("close", () => {
        clearTimeout(timer);
        resolve();
      });
      channel.close();
    });
  }

  clear(): void {
    this.#queue.clear();
  }

  #enqueue(item: QueueItem): void {
    if (item.kind === "frame") {
      this.#options.onAppend(item.frame.pcm.byteLength / 2);
      if (this.render) {
        this.render(item.frame);
        this.#sent(item);
        return;
      }
    }
    this.#queue.push(item);
    this.drain();
  }

  #sent(item: QueueItem): void {
    if (item.kind !== "frame") return;
    this.framesSent++;
    this.bytesSent += item.frame.pcm.byteLength;
  }
}

/**
 * What the capture processor posts, turned into the session's events and counters: each frame through turns
 * (barge-in) and the uplink (its fate), segment boundaries to the gate and to client turns, the processor's
 * clip and non-finite counts, drops reported at most once a second as `frames_dropped`.
 */
import type { FrameMessage, ProcessorMessage } from "../processor/messages.ts";
import { RealtimeVoiceError } from "./realtime-voice-error.ts";
import type { Turns } from "./turns.ts";
import type { SessionEvents } from "./types.ts";
import type { Uplink } from "./uplink.ts";

const LEVEL_INTERVAL_MS = 33;
const DROP_REPORT_MS = 1000;

type Emit = <K extends keyof SessionEvents>(type: K, payload: SessionEvents[K]) => void;

export class CaptureEvents {
  framesCaptured = 0;
  framesDropped = 0;
  speechFramesDropped = 0;
  clipped = 0;
  nonFinite = 0;
  /** Called when the processor answers a `flush`. */
  onFlushed: (() => void) | null = null;
  #emit: Emit;
  #uplink: () => Uplink;
  #turns: Turns;
  #bufferedAmount: () => number;
  #lastLevel = 0;
  #lastDropReport = 0;

  constructor(emit: Emit, uplink: () => Uplink, turns: Turns, bufferedAmount: () => number) {
    this.#emit = emit;
    this.#uplink = uplink;
    this.#turns = turns;
    this.#bufferedAmount = bufferedAmount;
  }

  message(message: ProcessorMessage): void {
    const uplink = this.#uplink();
    switch (message.type) {
      case "frame":
        this.#frame(message, uplink);
        break;
      case "speechstart":
        uplink.speechStart(message.sample);
        this.#emit("speechstart", { sample: message.sample });
        break;
      case "speechend": {
        uplink.speechEnd();
        const samples = this.#turns.speechEnd();
        if (samples > 0) this.#emit("commit", { samples });
        this.#emit("speechend", { sample: message.sample });
        break;
      }
      case "stats":
        this.clipped = message.clipped;
        this.nonFinite = message.nonFinite;
        break;
      case "error":
        this.#emit("error", new RealtimeVoiceError("worklet_error", `${message.code}: ${message.message}`));
        break;
      case "flushed":
        this.onFlushed?.();
        break;
    }
  }

  /** Asks the processor for its partial last frame; resolves once it answered (at most `waitMs`). */
  flush(capture: { post(message: { type: "flush" }): void }, waitMs: number): Promise<void> {
    return new Promise<void>((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.onFlushed = null;
        resolve();
      };
      const timer = setTimeout(done, waitMs);
      this.onFlushed = done;
      capture.post({ type: "flush" });
    });
  }

  /** The uplink's queue gave up `frame`. */
  drop(frame: FrameMessage): void {
    this.framesDropped++;
    if (frame.speech) this.speechFramesDropped++;
    this.#emit("drop", { seq: frame.seq, speech: frame.speech, total: this.framesDropped });
    const now = performance.now();
    // One error per second at most, with the running count, rather than one per frame.
    if (!frame.speech || now - this.#lastDropReport < DROP_REPORT_MS) return;
    this.#lastDropReport = now;
    const message = `the send queue is full: ${this.speechFramesDropped} speech frame(s) dropped so far (last seq ${frame.seq})`;
    this.#emit("error", new RealtimeVoiceError("frames_dropped", message));
  }

  #frame(frame: FrameMessage, uplink: Uplink): void {
    this.framesCaptured++;
    const now = performance.now();
    if (now - this.#lastLevel >= LEVEL_INTERVAL_MS) {
      this.#lastLevel = now;
      this.#emit("level", { dbfs: frame.level, probability: frame.probability, speech: frame.speech });
    }
    if (this.#turns.frame(frame.probability)) this.#emit("bargein", { sample: frame.timestamp });
    const fate = uplink.frame(frame, performance.timeOrigin + now);
    const { seq, timestamp, probability, speech, level } = frame;
    const bytes = frame.pcm.byteLength;
    this.#emit("frame", {
      seq,
      timestamp,
      bytes,
      probability,
      speech,
      level,
      fate,
      bufferedAmount: this.#bufferedAmount(),
    });
  }
}

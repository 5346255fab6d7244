/**
 * Silence gating: with `enabled`, only frames inside a speech segment (the segmenter's `speech`, which includes
 * the hangover), the prefix padding before it and `trailFrames` after it are sent; the rest is withheld, so
 * silence is neither transmitted nor billed. Frames of the last `holdFrames` wait in a ring until the next
 * `speechstart` says how far back the segment reaches.
 * Order of calls follows the capture processor: `speechStart`/`speechEnd` arrive before the frame they concern.
 */
import type { FrameMessage } from "../processor/messages.ts";

export interface Held<F> {
  frame: FrameMessage;
  item: F;
}

export class FrameGate<F> {
  readonly enabled: boolean;
  #ring: Held<F>[] = [];
  #holdFrames: number;
  #trailFrames: number;
  #trail = 0;
  /** Frames given up for good. */
  withheld = 0;

  constructor(enabled: boolean, holdFrames: number, trailFrames: number) {
    this.enabled = enabled;
    this.#holdFrames = Math.max(1, holdFrames);
    this.#trailFrames = Math.max(0, trailFrames);
  }

  /** Frames waiting in the ring (may still be sent as prefix padding). */
  get holding(): number {
    return this.#ring.length;
  }

  /** A segment starts at `sample` (prefix padding included): returns the held frames that reach into it, in order. */
  speechStart(sample: number): F[] {
    const released = this.#ring.filter(({ frame }) => frame.timestamp + frame.pcm.byteLength / 2 > sample);
    this.withheld += this.#ring.length - released.length;
    this.#ring.length = 0;
    return released.map(({ item }) => item);
  }

  /** A segment ended: the next `trailFrames` frames are sent although they are silence. */
  speechEnd(): void {
    this.#trail = this.#trailFrames;
  }

  /** True when `frame` goes out now; otherwise it is held (and the oldest held frame may be withheld for good). */
  admit(frame: FrameMessage, item: F): boolean {
    if (!this.enabled || frame.speech) return true;
    if (this.#trail > 0) {
      this.#trail--;
      return true;
    }
    this.#ring.push({ frame, item });
    if (this.#ring.length > this.#holdFrames) {
      this.#ring.shift();
      this.withheld++;
    }
    return false;
  }
}

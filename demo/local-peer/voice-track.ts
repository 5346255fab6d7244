/**
 * The peer's voice: PCM16 at 24 kHz, resampled to 8 kHz and sent as G.711 μ-law RTP (PCMU, payload type 0
 * unless the offer mapped it elsewhere) in 20 ms packets paced by the wall clock over a node-datachannel
 * `Track`. Opus would match OpenAI's own track, but no Opus encoder is available to the peer; Chromium decodes
 * PCMU natively, so the browser plays it like any remote track.
 */
import type { Track } from "node-datachannel";
import { Resampler } from "../../worklet/dsp/resampler.ts";
import { encodeMulaw } from "./g711.ts";
import { buildRtp } from "./rtp.ts";

const PACKET_MS = 20;
const PACKET_SAMPLES = 160;

/** Counters of what went out on the track. */
export interface VoiceStats {
  packetsSent: number;
  bytesSent: number;
  utterances: number;
}

/** How an utterance ended: played to the end, or stopped (cancel, clear, interruption, hangup). */
export type UtteranceEnd = "completed" | "stopped";

/** Sends utterances over an audio track, one at a time. */
export class VoiceTrack {
  readonly #track: Track;
  readonly #payloadType: number;
  readonly #ssrc: number;
  readonly #epoch = performance.now();
  #sequence = Math.floor(Math.random() * 0x10000);
  readonly #timestampBase = Math.floor(Math.random() * 0x1_0000_0000);
  #timer: NodeJS.Timeout | undefined;
  #finish: ((end: UtteranceEnd) => void) | undefined;
  readonly stats: VoiceStats = { packetsSent: 0, bytesSent: 0, utterances: 0 };

  constructor(track: Track, payloadType: number, ssrc: number) {
    this.#track = track;
    this.#payloadType = payloadType;
    this.#ssrc = ssrc;
  }

  /** True while an utterance is being sent. */
  get speaking(): boolean {
    return this.#timer !== undefined;
  }

  /** True when the track's transport is up. */
  get open(): boolean {
    return this.#track.isOpen();
  }

  /**
   * Starts sending `samples` (PCM16, 24 kHz mono); a previous utterance is stopped first. `onEnd` runs once,
   * after the last packet or when `stop()` interrupts. Returns the utterance's duration in milliseconds.
   */
  speak(samples: Int16Array, onEnd: (end: UtteranceEnd) => void): number {
    this.stop();
    const float = new Float32Array(samples.length + 480);
    for (let i = 0; i < samples.length; i++) float[i] = (samples[i] as number) / 32768;
    const resampler = new Resampler(24_000, 8000);
    const narrow = resampler.process(float);
    // Skip the filter's group delay so the utterance starts on time; the 20 ms of appended zeros flush its tail.
    const body = narrow.subarray(resampler.delaySamples);
    const pcm = new Int16Array(body.length);
    for (let i = 0; i < body.length; i++)
      pcm[i] = Math.max(-32768, Math.min(32767, Math.round((body[i] as number) * 32768)));
    const packets = Math.ceil(pcm.length / PACKET_SAMPLES);
    const started = performance.now();
    // The RTP clock follows the wall clock across silences, so the receiver's jitter buffer sees real gaps.
    const firstTimestamp = this.#timestampBase + Math.round((started - this.#epoch) * 8);
    let sent = 0;
    const payload = new Uint8Array(PACKET_SAMPLES);
    this.#finish = onEnd;
    this.stats.utterances++;
    const pump = () => {
      const due = Math.min(packets, Math.floor((performance.now() - started) / PACKET_MS) + 1);
      for (; sent < due; sent++) {
        const frame = new Int16Array(PACKET_SAMPLES);
        frame.set(pcm.subarray(sent * PACKET_SAMPLES, (sent + 1) * PACKET_SAMPLES));
        const packet = buildRtp(
          {
            payloadType: this.#payloadType,
            marker: sent === 0,
            sequence: this.#sequence++,
            timestamp: firstTimestamp + sent * PACKET_SAMPLES,
            ssrc: this.#ssrc,
          },
          encodeMulaw(frame, payload),
        );
        if (this.#send(packet)) {
          this.stats.packetsSent++;
          this.stats.bytesSent += packet.length;
        }
      }
      if (sent >= packets) this.#end("completed");
    };
    this.#timer = setInterval(pump, PACKET_MS / 2);
    pump();
    return packets * PACKET_MS;
  }

  /** Stops the current utterance at once; returns false when nothing was playing. */
  stop(): boolean {
    if (!this.#timer) return false;
    this.#end("stopped");
    return true;
  }

  #send(packet: Uint8Array): boolean {
    try {
      return this.#track.isOpen() && this.#track.sendMessageBinary(Buffer.from(packet));
    } catch {
      // The transport closed mid-utterance; the call's end stops the utterance.
      return false;
    }
  }

  #end(end: UtteranceEnd): void {
    clearInterval(this.#timer);
    this.#timer = undefined;
    const finish = this.#finish;
    this.#finish = undefined;
    finish?.(end);
  }
}

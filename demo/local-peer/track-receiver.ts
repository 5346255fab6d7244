/**
 * What arrives on the browser's audio track (the client's `audio: 'track'` mode): RTP packets are counted, and
 * G.711 μ-law payloads (the only codec the peer's answer offers) are decoded and resampled to 24 kHz PCM16 so
 * they can be recorded like appended audio and fed to the call's input buffer (`onPcm`). Packets are placed by their RTP timestamp, so a gap (discontinuous
 * transmission, a lost packet) becomes silence of the right length; reordered packets within one packet of
 * lateness are dropped and counted rather than reordered.
 */
import { PCM_RATE } from "../../worker/schema/protocol.ts";
import { floatToPcm16 } from "../../worklet/dsp/pcm16.ts";
import { Resampler } from "../../worklet/dsp/resampler.ts";
import { mulawToLinear } from "./g711.ts";
import { parseRtp } from "./rtp.ts";

/** Track reception counters. */
export interface TrackStats {
  packets: number;
  bytes: number;
  rtcpPackets: number;
  latePackets: number;
  /** Decoded 24 kHz samples (0 when the codec is not decodable here). */
  samples: number;
}

/** Longest gap filled with silence, in 8 kHz samples (2 s); longer gaps are treated as a restart. */
const MAX_GAP = 16_000;

export class TrackReceiver {
  readonly stats: TrackStats = { packets: 0, bytes: 0, rtcpPackets: 0, latePackets: 0, samples: 0 };
  readonly #pcmuPayloadType: number;
  readonly #resampler = new Resampler(8000, PCM_RATE);
  readonly #chunks: Int16Array[] = [];
  #nextTimestamp: number | undefined;
  #skip: number;
  /** 8 kHz samples fed to the resampler (including gap silence). */
  #narrowSamples = 0;
  #flushed = false;

  readonly #onPcm: (samples: Int16Array) => void;

  /** `onPcm` receives each decoded chunk (24 kHz PCM16) as it arrives. */
  constructor(pcmuPayloadType: number, onPcm: (samples: Int16Array) => void = () => undefined) {
    this.#pcmuPayloadType = pcmuPayloadType;
    this.#onPcm = onPcm;
    this.#skip = this.#resampler.delaySamples;
  }

  /** Handles one packet from `Track.onMessage` (RTP or RTCP). */
  receive(packet: Uint8Array): void {
    const rtp = parseRtp(packet);
    if (!rtp) {
      this.stats.rtcpPackets++;
      return;
    }
    this.stats.packets++;
    this.stats.bytes += packet.length;
    if (rtp.payloadType !== this.#pcmuPayloadType) return;
    let gap = 0;
    if (this.#nextTimestamp !== undefined) {
      const delta = (rtp.timestamp - this.#nextTimestamp) | 0;
      if (delta < 0) {
        this.stats.latePackets++;
        return;
      }
      gap = delta <= MAX_GAP ? delta : 0;
    }
    if (this.#flushed) return;
    this.#nextTimestamp = (rtp.timestamp + rtp.payload.length) >>> 0;
    const narrow = new Float32Array(gap + rtp.payload.length);
    for (let i = 0; i < rtp.payload.length; i++)
      narrow[gap + i] = mulawToLinear(rtp.payload[i] as number) / 32768;
    this.#narrowSamples += narrow.length;
    this.#emit(this.#resampler.process(narrow));
  }

  /**
   * Pushes the resampler's group delay out with zeros so the recording ends where the last packet ended
   * (exactly 3 output samples per 8 kHz sample). Later packets are ignored.
   */
  flush(): void {
    if (this.#flushed) return;
    this.#flushed = true;
    const want = this.#narrowSamples * 3;
    if (this.stats.samples >= want) return;
    this.#emit(this.#resampler.process(new Float32Array(Math.ceil(this.#resampler.delaySamples / 3) + 2)));
    let excess = this.stats.samples - want;
    while (excess > 0) {
      const last = this.#chunks.pop() as Int16Array;
      const keep = Math.max(0, last.length - excess);
      if (keep > 0) this.#chunks.push(last.subarray(0, keep));
      excess -= last.length - keep;
      this.stats.samples -= last.length - keep;
    }
  }

  /** The decoded audio so far, 24 kHz PCM16. */
  pcm(): Int16Array {
    const out = new Int16Array(this.stats.samples);
    let offset = 0;
    for (const chunk of this.#chunks) {
      out.set(chunk, offset);
      offset += chunk.length;
    }
    return out;
  }

  #emit(wide: Float32Array): void {
    const drop = Math.min(this.#skip, wide.length);
    this.#skip -= drop;
    const body = wide.subarray(drop);
    const chunk = floatToPcm16(body);
    this.#chunks.push(chunk);
    this.stats.samples += chunk.length;
    if (chunk.length > 0) this.#onPcm(chunk);
  }
}

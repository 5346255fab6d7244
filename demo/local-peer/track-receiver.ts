/**
 * What arrives on the browser's audio track: RTP packets are counted, and Opus (48 kHz) or G.711 μ-law (PCMU,
 * 8 kHz) payloads — the codecs the peer's answer lists — are decoded and resampled to 24 kHz PCM16, so they can be
 * recorded and fed to the call's input buffer (`onPcm`). The receiver follows the payload type of the first
 * packet (a browser sends the answer's first codec); packets of another type are counted as `otherPackets`.
 * Packets are placed by their RTP timestamp, so a gap (discontinuous transmission, a lost packet) becomes
 * silence of the right length, and packets may arrive faster than real time; reordered packets are dropped and
 * counted rather than reordered.
 */
import { PCM_RATE } from "../../worker/schema/protocol.ts";
import { floatToPcm16 } from "../../worklet/dsp/pcm16.ts";
import { Resampler } from "../../worklet/dsp/resampler.ts";
import { mulawToLinear } from "./g711.ts";
import { OPUS_RATE, OpusFrameDecoder } from "./opus.ts";
import { parseRtp } from "./rtp.ts";

/** Track reception counters. */
export interface TrackStats {
  packets: number;
  bytes: number;
  rtcpPackets: number;
  latePackets: number;
  /** Packets of a payload type other than the one being decoded. */
  otherPackets: number;
  /** Opus packets the decoder refused. */
  corruptPackets: number;
  /** Decoded 24 kHz samples. */
  samples: number;
}

/** The decodable codecs of the answer, by payload type. */
export interface TrackCodecs {
  pcmu?: number;
  opus?: number;
}

/** Longest gap filled with silence, in seconds (2 s); longer gaps are treated as a restart. */
const MAX_GAP_S = 2;

interface Decoding {
  payloadType: number;
  clockRate: number;
  decode: (payload: Uint8Array) => Float32Array;
  resampler: Resampler;
  free: () => void;
}

export class TrackReceiver {
  readonly stats: TrackStats = {
    packets: 0,
    bytes: 0,
    rtcpPackets: 0,
    latePackets: 0,
    otherPackets: 0,
    corruptPackets: 0,
    samples: 0,
  };
  readonly #codecs: TrackCodecs;
  readonly #onPcm: (samples: Int16Array) => void;
  readonly #chunks: Int16Array[] = [];
  #decoding: Decoding | null = null;
  #nextTimestamp: number | undefined;
  #skip = 0;
  /** Codec-rate samples fed to the resampler (including gap silence). */
  #narrowSamples = 0;
  #flushed = false;

  /**
   * @param codecs payload types of the answer's decodable codecs (a number alone: PCMU's, as before Opus).
   * @param onPcm receives each decoded chunk (24 kHz PCM16) as it arrives.
   */
  constructor(codecs: TrackCodecs | number, onPcm: (samples: Int16Array) => void = () => undefined) {
    this.#codecs = typeof codecs === "number" ? { pcmu: codecs } : codecs;
    this.#onPcm = onPcm;
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
    if (this.#flushed) return;
    const decoding = this.#decoding ?? this.#start(rtp.payloadType);
    if (!decoding || rtp.payloadType !== decoding.payloadType) {
      this.stats.otherPackets++;
      return;
    }
    let gap = 0;
    if (this.#nextTimestamp !== undefined) {
      const delta = (rtp.timestamp - this.#nextTimestamp) | 0;
      if (delta < 0) {
        this.stats.latePackets++;
        return;
      }
      gap = delta <= MAX_GAP_S * decoding.clockRate ? delta : 0;
    }
    let samples: Float32Array;
    try {
      samples = decoding.decode(rtp.payload);
    } catch {
      this.stats.corruptPackets++;
      return;
    }
    this.#nextTimestamp = (rtp.timestamp + samples.length) >>> 0;
    const narrow = new Float32Array(gap + samples.length);
    narrow.set(samples, gap);
    this.#narrowSamples += narrow.length;
    this.#emit(decoding.resampler.process(narrow));
  }

  /**
   * Pushes the resampler's group delay out with zeros so the recording ends where the last packet ended.
   * Later packets are ignored; the decoder is freed.
   */
  flush(): void {
    if (this.#flushed) return;
    this.#flushed = true;
    const decoding = this.#decoding;
    if (!decoding) return;
    decoding.free();
    const want = Math.round((this.#narrowSamples * PCM_RATE) / decoding.clockRate);
    if (this.stats.samples >= want) return;
    const tail = Math.ceil((decoding.resampler.delaySamples * decoding.clockRate) / PCM_RATE) + 2;
    this.#emit(decoding.resampler.process(new Float32Array(tail)), false);
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

  #start(payloadType: number): Decoding | null {
    let decoding: Decoding | null = null;
    if (payloadType === this.#codecs.pcmu) {
      decoding = {
        payloadType,
        clockRate: 8000,
        decode: (payload) => Float32Array.from(payload, (byte) => mulawToLinear(byte) / 32768),
        resampler: new Resampler(8000, PCM_RATE),
        free: () => undefined,
      };
    } else if (payloadType === this.#codecs.opus) {
      const opus = new OpusFrameDecoder();
      decoding = {
        payloadType,
        clockRate: OPUS_RATE,
        decode: (payload) => Float32Array.from(opus.decode(payload), (s) => s / 32768),
        resampler: new Resampler(OPUS_RATE, PCM_RATE),
        free: () => opus.free(),
      };
    }
    if (decoding) {
      this.#decoding = decoding;
      this.#skip = decoding.resampler.delaySamples;
    }
    return decoding;
  }

  #emit(wide: Float32Array, live = true): void {
    const drop = Math.min(this.#skip, wide.length);
    this.#skip -= drop;
    const chunk = floatToPcm16(wide.subarray(drop));
    this.#chunks.push(chunk);
    this.stats.samples += chunk.length;
    if (live && chunk.length > 0) this.#onPcm(chunk);
  }
}

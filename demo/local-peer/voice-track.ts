/**
 * The peer's voice: PCM16 at any rate, sent as RTP in 20 ms packets paced by the wall clock over a
 * node-datachannel `Track`. The codec is Opus at 48 kHz when the offer has it (as OpenAI's own track), else
 * G.711 μ-law (PCMU, 8 kHz); `chooseVoiceCodec` picks from the offer's rtpmaps. Frames are encoded one by one
 * as they fall due, so `stop()` cuts the voice mid-word within one packet, and `playedMs` says how much of the
 * utterance actually went out (what `conversation.item.truncate` and the transcript reflect).
 */
import type { Track } from "node-datachannel";
import { PCM_RATE } from "../../worker/schema/protocol.ts";
import { encodeMulaw } from "./g711.ts";
import { OPUS_FRAME_SAMPLES, OPUS_RATE, OpusFrameEncoder } from "./opus.ts";
import { buildRtp } from "./rtp.ts";
import type { SdpCodec } from "./sdp-offer.ts";
import { resamplePcm16 } from "./speech/resample-pcm16.ts";

const PACKET_MS = 20;

/** The codecs the peer can send. */
export type VoiceCodecName = "opus" | "pcmu";

/** A sendable codec and the payload type the offer gave it. */
export interface VoiceCodec {
  name: VoiceCodecName;
  payloadType: number;
  /** RTP clock rate in Hz: 48000 (Opus), 8000 (PCMU). */
  clockRate: number;
  /** The answer's rtpmap value for node-datachannel's `addAudioCodec`: `opus/48000/2` or `PCMU/8000`. */
  rtpmap: string;
}

/** The codec to answer with: `opus/48000/2` when offered, else `PCMU/8000`, else null (nothing sendable). */
export function chooseVoiceCodec(codecs: readonly SdpCodec[]): VoiceCodec | null {
  const opus = codecs.find((c) => c.name === "opus" && c.clockRate === OPUS_RATE);
  if (opus)
    return { name: "opus", payloadType: opus.payloadType, clockRate: OPUS_RATE, rtpmap: "opus/48000/2" };
  const pcmu = codecs.find((c) => c.name === "pcmu" && c.clockRate === 8000);
  if (pcmu) return { name: "pcmu", payloadType: pcmu.payloadType, clockRate: 8000, rtpmap: "PCMU/8000" };
  return null;
}

/** Counters of what went out on the track. */
export interface VoiceStats {
  packetsSent: number;
  bytesSent: number;
  utterances: number;
}

/** How an utterance ended: played to the end, or stopped (cancel, clear, interruption, hangup). */
export type UtteranceEnd = "completed" | "stopped";

/** What the voice needs of a track: node-datachannel's `Track` satisfies it. */
export type RtpSink = Pick<Track, "isOpen" | "sendMessageBinary">;

/** Encodes one 20 ms frame at the codec's rate into an RTP payload. */
type FrameEncoder = (frame: Int16Array) => Uint8Array;

/** Sends utterances over an audio track, one at a time. */
export class VoiceTrack {
  readonly codec: VoiceCodecName;
  readonly #track: RtpSink;
  readonly #payloadType: number;
  readonly #ssrc: number;
  readonly #clockRate: number;
  readonly #frameSamples: number;
  readonly #encode: FrameEncoder;
  readonly #opus: OpusFrameEncoder | null;
  readonly #epoch = performance.now();
  #sequence = Math.floor(Math.random() * 0x10000);
  readonly #timestampBase = Math.floor(Math.random() * 0x1_0000_0000);
  #timer: NodeJS.Timeout | undefined;
  #finish: ((end: UtteranceEnd, playedMs: number) => void) | undefined;
  #playedMs = 0;
  #utterance: { pcm: Int16Array; sent: number } | null = null;
  #closed = false;
  readonly stats: VoiceStats = { packetsSent: 0, bytesSent: 0, utterances: 0 };

  /**
   * @param track the audio track (or any RTP sink).
   * @param payloadType the payload type the offer mapped to `codec`.
   * @param ssrc the SSRC announced in the answer.
   * @param codec `"pcmu"` (default, 8 kHz) or `"opus"` (48 kHz, 32 kbit/s).
   */
  constructor(track: RtpSink, payloadType: number, ssrc: number, codec: VoiceCodecName = "pcmu") {
    this.#track = track;
    this.#payloadType = payloadType;
    this.#ssrc = ssrc;
    this.codec = codec;
    if (codec === "opus") {
      const opus = new OpusFrameEncoder();
      this.#opus = opus;
      this.#clockRate = OPUS_RATE;
      this.#frameSamples = OPUS_FRAME_SAMPLES;
      this.#encode = (frame) => opus.encode(frame);
    } else {
      this.#opus = null;
      this.#clockRate = 8000;
      this.#frameSamples = 160;
      const payload = new Uint8Array(160);
      this.#encode = (frame) => encodeMulaw(frame, payload);
    }
  }

  /** True while an utterance is being sent. */
  get speaking(): boolean {
    return this.#timer !== undefined;
  }

  /** True when the track's transport is up. */
  get open(): boolean {
    return this.#track.isOpen();
  }

  /** Milliseconds of the current (or last) utterance sent so far: whole 20 ms packets, capped at its length. */
  get playedMs(): number {
    return this.#playedMs;
  }

  /**
   * Starts sending `samples` (mono PCM16 at `sampleRate` Hz, default 24000); a previous utterance is stopped
   * first. `onEnd` runs once, after the last packet or when `stop()` interrupts, with the milliseconds sent.
   * Returns the utterance's duration in milliseconds.
   * @throws RangeError when `sampleRate` is outside 8000–192000.
   */
  speak(
    samples: Int16Array,
    onEnd: (end: UtteranceEnd, playedMs: number) => void,
    sampleRate = PCM_RATE,
  ): number {
    this.stop();
    if (this.#closed) {
      // The call is over: nothing can be sent, and the caller still learns the utterance ended.
      queueMicrotask(() => onEnd("stopped", 0));
      return 0;
    }
    const utterance = { pcm: resamplePcm16(samples, sampleRate, this.#clockRate), sent: 0 };
    this.#utterance = utterance;
    const frameSamples = this.#frameSamples;
    const started = performance.now();
    // The RTP clock follows the wall clock across silences, so the receiver's jitter buffer sees real gaps.
    const firstTimestamp =
      this.#timestampBase + Math.round(((started - this.#epoch) * this.#clockRate) / 1000);
    const frame = new Int16Array(frameSamples);
    this.#finish = onEnd;
    this.#playedMs = 0;
    this.stats.utterances++;
    const pump = () => {
      try {
        this.#pump(utterance, started, firstTimestamp, frame);
      } catch (error) {
        // A timer callback must not throw (it would take the whole peer down): this utterance ends here.
        console.error("[local-peer] voice track failed:", error);
        this.#end("stopped");
      }
    };
    this.#timer = setInterval(pump, PACKET_MS / 2);
    pump();
    return Math.ceil(utterance.pcm.length / frameSamples) * PACKET_MS;
  }

  /** Sends every packet that is due by the wall clock; ends the utterance after its last packet. */
  #pump(
    utterance: { pcm: Int16Array; sent: number },
    started: number,
    firstTimestamp: number,
    frame: Int16Array,
  ): void {
    const frameSamples = this.#frameSamples;
    // Read each time: `append` may have lengthened the utterance.
    const { pcm } = utterance;
    const packets = Math.ceil(pcm.length / frameSamples);
    const durationMs = (pcm.length / this.#clockRate) * 1000;
    const due = Math.min(packets, Math.floor((performance.now() - started) / PACKET_MS) + 1);
    for (; utterance.sent < due; utterance.sent++) {
      const sent = utterance.sent;
      // The last frame is padded with zeros (silence) to a whole packet.
      frame.fill(0);
      frame.set(pcm.subarray(sent * frameSamples, (sent + 1) * frameSamples));
      const packet = buildRtp(
        {
          payloadType: this.#payloadType,
          marker: sent === 0,
          sequence: this.#sequence++,
          timestamp: firstTimestamp + sent * frameSamples,
          ssrc: this.#ssrc,
        },
        this.#encode(frame),
      );
      if (this.#send(packet)) {
        this.stats.packetsSent++;
        this.stats.bytesSent += packet.length;
      }
      this.#playedMs = Math.min(durationMs, (sent + 1) * PACKET_MS);
    }
    if (utterance.sent >= packets) this.#end("completed");
  }

  /**
   * Lengthens the utterance being sent (the next sentence of an answer synthesised sentence by sentence, so the
   * first can start before the rest exists). Returns the utterance's new duration in ms, or null when nothing is
   * playing (it already ended: call `speak` instead).
   * @throws RangeError when `sampleRate` is outside 8000–192000.
   */
  append(samples: Int16Array, sampleRate = PCM_RATE): number | null {
    const utterance = this.#utterance;
    if (!this.#timer || !utterance) return null;
    const more = resamplePcm16(samples, sampleRate, this.#clockRate);
    // A partly filled last frame that already went out (zero-padded) keeps its slot on the timeline.
    const kept = Math.max(utterance.pcm.length, utterance.sent * this.#frameSamples);
    const joined = new Int16Array(kept + more.length);
    joined.set(utterance.pcm);
    joined.set(more, kept);
    utterance.pcm = joined;
    return Math.ceil(joined.length / this.#frameSamples) * PACKET_MS;
  }

  /** Stops the current utterance at once; returns false when nothing was playing. */
  stop(): boolean {
    if (!this.#timer) return false;
    this.#end("stopped");
    return true;
  }

  /** Stops and frees the encoder (Opus state lives in WebAssembly memory); the track cannot speak again. */
  close(): void {
    this.stop();
    this.#closed = true;
    this.#opus?.free();
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
    this.#utterance = null;
    const finish = this.#finish;
    this.#finish = undefined;
    finish?.(end, this.#playedMs);
  }
}

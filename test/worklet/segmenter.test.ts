/**
 * The segmenter's state machine with exact sample arithmetic, and the VAD + segmenter pair on real speech:
 * segments must cover the labelled speech (with the default prefix padding and hangover) and withhold pauses.
 */
import { describe, expect, it } from "vitest";
import { SEGMENTER_DEFAULTS, type SegmentEvent, Segmenter } from "../../worklet/dsp/segmenter.ts";
import { VoiceActivityDetector } from "../../worklet/dsp/vad.ts";
import { speechTestFile } from "../fixtures/speech-corpus.ts";

/** Feeds probabilities as consecutive frames of `frame` samples; returns the events with their frame index. */
function feed(seg: Segmenter, probabilities: number[], frame = 480): Array<SegmentEvent & { frame: number }> {
  const out: Array<SegmentEvent & { frame: number }> = [];
  probabilities.forEach((p, i) => {
    const e = seg.process(p, i * frame, frame);
    if (e) out.push({ ...e, frame: i });
  });
  return out;
}

const ones = (n: number) => new Array<number>(n).fill(1);
const zeros = (n: number) => new Array<number>(n).fill(0);

describe("Segmenter timing", () => {
  it("has the documented defaults", () => {
    expect(new Segmenter().options).toEqual(SEGMENTER_DEFAULTS);
    expect(SEGMENTER_DEFAULTS.prefixPaddingMs).toBe(300);
    expect(SEGMENTER_DEFAULTS.hangoverMs).toBeGreaterThanOrEqual(500);
  });

  it("starts after the minimum speech duration, reaching back by the prefix padding", () => {
    const seg = new Segmenter({ minSpeechMs: 60, prefixPaddingMs: 300 });
    // Speech from frame 50 (sample 24000); 60 ms = 3 frames of 20 ms, so the start is emitted on frame 52.
    const events = feed(seg, [...zeros(50), ...ones(10)]);
    expect(events).toEqual([{ type: "speechstart", sample: 24000 - 7200, frame: 52 }]);
    expect(seg.speech).toBe(true);
  });

  it("never reports a start before sample 0", () => {
    const events = feed(new Segmenter({ minSpeechMs: 0 }), [...zeros(3), 1]);
    expect(events).toEqual([{ type: "speechstart", sample: 0, frame: 3 }]);
  });

  it("ignores blips shorter than the minimum speech duration", () => {
    const seg = new Segmenter({ minSpeechMs: 100 });
    expect(feed(seg, [...zeros(10), 1, 1, 0, 0, 1, 1, 1, 1, 0, ...zeros(10)])).toEqual([]);
    expect(seg.speech).toBe(false);
  });

  it("ends exactly one hangover after the last speech frame", () => {
    const seg = new Segmenter({ minSpeechMs: 0, hangoverMs: 600, prefixPaddingMs: 0 });
    const events = feed(seg, [...zeros(10), ...ones(20), ...zeros(40)]);
    // Last speech frame is 29 (ends at sample 30·480 = 14400); the end is 14400 + 14400 = 28800, i.e. the end
    // of frame 59, the frame on which it is emitted.
    expect(events).toEqual([
      { type: "speechstart", sample: 4800, frame: 10 },
      { type: "speechend", sample: 28800, frame: 59 },
    ]);
    expect(seg.speech).toBe(false);
  });

  it("holds speech through dips between the offset and onset thresholds (hysteresis)", () => {
    const seg = new Segmenter({ onsetThreshold: 0.6, offsetThreshold: 0.3, minSpeechMs: 0, hangoverMs: 100 });
    const events = feed(seg, [0, 0.7, 0.4, 0.35, 0.5, 0.4, 0.45, 0.31, 0.2, 0.2, 0.2, 0.2, 0.2, 0.2]);
    expect(events.map((e) => [e.type, e.frame])).toEqual([
      ["speechstart", 1],
      ["speechend", 12],
    ]);
    // A probability between the thresholds never opens a segment by itself.
    expect(
      feed(
        new Segmenter({ onsetThreshold: 0.6, offsetThreshold: 0.3, minSpeechMs: 0 }),
        ones(20).map(() => 0.5),
      ),
    ).toEqual([]);
  });

  it("gives the same sample timestamps for 10, 20 and 40 ms frames", () => {
    const pattern = (frame: number) => {
      const seg = new Segmenter({ minSpeechMs: 40 });
      const per = 24000 * 0.01;
      const events: SegmentEvent[] = [];
      // Speech in [1.00 s, 2.00 s) at 10 ms resolution, resampled to the frame size.
      for (let start = 0; start < 24000 * 4; start += frame) {
        const t = start / per;
        const e = seg.process(t >= 100 && t < 200 ? 0.9 : 0.05, start, frame);
        if (e) events.push(e);
      }
      return events;
    };
    const ref = pattern(480);
    expect(ref).toEqual([
      { type: "speechstart", sample: 24000 - 7200 },
      { type: "speechend", sample: 48000 + 14400 },
    ]);
    expect(pattern(240)).toEqual(ref);
    expect(pattern(960)).toEqual(ref);
  });

  it("does not reach back before the previous end", () => {
    const seg = new Segmenter({ minSpeechMs: 0, hangoverMs: 100, prefixPaddingMs: 300 });
    const events = feed(seg, [...zeros(5), ...ones(5), ...zeros(6), ...ones(3)]);
    const end = events.find((e) => e.type === "speechend");
    const second = events.filter((e) => e.type === "speechstart")[1];
    expect(end?.sample).toBe(10 * 480 + 2400);
    expect(second?.sample).toBe(end?.sample);
  });

  it("reads non-finite probabilities as silence", () => {
    const seg = new Segmenter({ minSpeechMs: 0 });
    expect(feed(seg, [Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY])).toEqual([]);
  });

  it("validates options and keeps the old ones on error", () => {
    const seg = new Segmenter();
    expect(() => seg.configure({ offsetThreshold: 0.9 })).toThrow(RangeError);
    expect(() => seg.configure({ hangoverMs: -1 })).toThrow(RangeError);
    expect(() => seg.configure({ minSpeechMs: Number.NaN })).toThrow(RangeError);
    expect(() => seg.configure({ onsetThreshold: 1.5 })).toThrow(RangeError);
    expect(() => seg.configure({ sampleRate: 0 })).toThrow(RangeError);
    expect(() => new Segmenter({ sampleRate: 24000.5 })).toThrow(RangeError);
    expect(seg.options).toEqual(SEGMENTER_DEFAULTS);
    seg.configure({ hangoverMs: 800 });
    expect(seg.options.hangoverMs).toBe(800);
    expect(seg.options.prefixPaddingMs).toBe(300);
  });

  it("applies a new hangover to the current segment and forgets it on reset", () => {
    const seg = new Segmenter({ minSpeechMs: 0, prefixPaddingMs: 0 });
    feed(seg, ones(5));
    seg.configure({ hangoverMs: 200 });
    const e = seg.process(0, 5 * 480 + 9600, 480);
    expect(e).toEqual({ type: "speechend", sample: 5 * 480 + 4800 });
    feed(seg, ones(5));
    seg.reset();
    expect(seg.speech).toBe(false);
  });
});

describe("VAD + segmenter on real speech", () => {
  it("keeps all labelled speech inside segments and withholds most pauses", async () => {
    const audio = await speechTestFile({ sampleRate: 24000, seconds: 30, seed: 5 });
    const vad = new VoiceActivityDetector();
    const seg = new Segmenter();
    const segments: Array<[number, number]> = [];
    let open = -1;
    const frame = 480;
    for (let start = 0; start + frame <= audio.samples.length; start += frame) {
      const e = seg.process(vad.process(audio.samples.subarray(start, start + frame)), start, frame);
      if (e?.type === "speechstart") open = e.sample;
      if (e?.type === "speechend") {
        segments.push([open, e.sample]);
        open = -1;
      }
    }
    if (open >= 0) segments.push([open, audio.samples.length]);
    expect(segments.length).toBeGreaterThan(0);
    const inside = (s: number) => segments.some(([a, b]) => s >= a && s < b);
    let speech = 0;
    let kept = 0;
    let quiet = 0;
    let withheld = 0;
    const ms10 = 240;
    for (let s = ms10 / 2; s < audio.samples.length; s += ms10) {
      const isSpeech = audio.speech.some(([a, b]) => s >= a * 24000 && s < b * 24000);
      if (isSpeech) {
        speech++;
        if (inside(s)) kept++;
      } else {
        quiet++;
        if (!inside(s)) withheld++;
      }
    }
    expect(kept / speech).toBeGreaterThanOrEqual(0.99);
    expect(withheld / quiet).toBeGreaterThan(0.15);
    // Every labelled segment (utterance) lies inside some emitted segment's span.
    for (const [a, b] of audio.speech) expect(inside(Math.round(((a + b) / 2) * 24000))).toBe(true);
  }, 60_000);
});

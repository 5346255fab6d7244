/**
 * The peer's speech recognizer on recorded human speech with known text (the Asterisk prompts), streamed and
 * whole, and with its engine missing.
 */
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import {
  createRecognizer,
  type Recognizer,
  RecognizerUnavailableError,
} from "../../demo/local-peer/speech/recognizer.ts";
import { asteriskPrompts, promptPcm, promptSequence } from "../fixtures/asterisk-prompts.ts";
import { corpusWordErrorRate, wordErrorRate } from "../fixtures/wer.ts";

/**
 * Corpus WER bound on the 8 kHz telephone prompts. PocketSphinx's 16 kHz model scores ≈ 0.65 on them (a
 * band-limited female voice and IVR phrasing its language model rarely saw); broken audio (wrong rate, gaps,
 * noise) lands near 1.0.
 */
const PROMPT_WER_BOUND = 0.8;

describe("speech recognizer (PocketSphinx)", () => {
  let recognizer: Recognizer;
  beforeAll(async () => {
    recognizer = await createRecognizer();
  });
  afterAll(async () => {
    await recognizer?.close();
  });

  it("loads the Debian engine and model", () => {
    expect(recognizer.reason).toBeUndefined();
    expect(recognizer.available).toBe(true);
  });

  it("transcribes 20 recorded prompts within the WER bound", { timeout: 300_000 }, async () => {
    const prompts = asteriskPrompts({ count: 20, maxWords: 12 });
    const pairs: Array<{ reference: string; hypothesis: string }> = [];
    let audioMs = 0;
    for (const prompt of prompts) {
      const transcript = await recognizer.transcribe(promptPcm(prompt));
      expect(transcript.durationMs).toBeGreaterThan(500);
      audioMs += transcript.durationMs;
      pairs.push({ reference: prompt.text, hypothesis: transcript.text });
    }
    const { wer, errors, words } = corpusWordErrorRate(pairs);
    console.log(
      `recognizer: WER ${(wer * 100).toFixed(1)} % (${errors}/${words} words, ${prompts.length} prompts, ${(audioMs / 1000).toFixed(1)} s)`,
    );
    expect(wer).toBeLessThan(PROMPT_WER_BOUND);
    // Not all wrong: most prompts get at least half of their words right.
    const good = pairs.filter((p) => wordErrorRate(p.reference, p.hypothesis) <= 0.5).length;
    expect(good).toBeGreaterThanOrEqual(prompts.length / 4);
  });

  it("gives the same kind of transcript streamed in 20 ms appends as whole, queued behind another turn", async () => {
    const [prompt] = asteriskPrompts({ count: 1, minWords: 6, maxWords: 9 }).map((p) => promptPcm(p));
    const pcm = prompt as Int16Array;
    const whole = recognizer.transcribe(pcm);
    const stream = recognizer.stream();
    for (let i = 0; i < pcm.length; i += 480) stream.write(pcm.subarray(i, i + 480));
    const cancelled = recognizer.stream();
    cancelled.write(pcm);
    cancelled.cancel();
    const streamed = await stream.finish();
    const first = await whole;
    expect(first.text.split(" ").length).toBeGreaterThanOrEqual(3);
    expect(wordErrorRate(first.text, streamed.text)).toBeLessThanOrEqual(0.5);
    expect(streamed.durationMs).toBeCloseTo((pcm.length / 24_000) * 1000, 0);
    await expect(stream.finish()).rejects.toThrow(/already finished/);
  });

  it("answers silence with an empty transcript", async () => {
    const transcript = await recognizer.transcribe(new Int16Array(24_000));
    expect(transcript.text).toBe("");
    expect(transcript.durationMs).toBe(1000);
  });
});

describe("prompt sequences", () => {
  it("places each prompt after its gap of silence, with its transcript", () => {
    const prompts = asteriskPrompts({ count: 3 });
    const sequence = promptSequence(prompts, 1000, 24_000);
    expect(sequence.segments.map((s) => s.text)).toEqual(prompts.map((p) => p.text));
    expect(sequence.segments[0]?.startS).toBe(1);
    const last = sequence.segments.at(-1);
    expect(sequence.pcm.length / 24_000).toBeCloseTo((last?.endS ?? 0) + 1, 5);
    for (const [i, segment] of sequence.segments.entries()) {
      const clip = promptPcm(prompts[i] as (typeof prompts)[number]);
      expect(segment.endS - segment.startS).toBeCloseTo(clip.length / 24_000, 5);
      // Silence before each prompt, the prompt's own samples inside.
      const at = Math.round(segment.startS * 24_000);
      expect(sequence.pcm[at - 1]).toBe(0);
      expect(Array.from(sequence.pcm.subarray(at, at + 100))).toEqual(Array.from(clip.subarray(0, 100)));
    }
  });
});

describe("speech recognizer with its engine missing", () => {
  it("is unavailable with a reason, warns once, and rejects transcriptions without crashing", async () => {
    const warn = vi.fn();
    const missing = await createRecognizer({ library: "/nonexistent/libpocketsphinx.so.3", warn });
    expect(missing.available).toBe(false);
    expect(missing.reason).toMatch(/libpocketsphinx\.so\.3.*not loadable/);
    await expect(missing.transcribe(new Int16Array(2400))).rejects.toBeInstanceOf(RecognizerUnavailableError);
    await expect(missing.stream().finish()).rejects.toBeInstanceOf(RecognizerUnavailableError);
    const noModel = await createRecognizer({ modelDir: "/nonexistent/model", warn });
    expect(noModel.available).toBe(false);
    expect(noModel.reason).toMatch(/model not found at \/nonexistent\/model/);
    // Said once per process, however many recognizers fail.
    expect(warn).toHaveBeenCalledTimes(1);
    await missing.close();
    await noModel.close();
  });
});

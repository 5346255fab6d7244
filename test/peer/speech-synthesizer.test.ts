/** The peer's speech synthesizer: real Flite speech, checked by ear with the real recognizer. */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createRecognizer, type Recognizer } from "../../demo/local-peer/speech/recognizer.ts";
import { resamplePcm16 } from "../../demo/local-peer/speech/resample-pcm16.ts";
import { closeSynthesizer, splitSentences, synthesize } from "../../demo/local-peer/speech/synthesizer.ts";
import { corpusWordErrorRate } from "../fixtures/wer.ts";

const SENTENCES = [
  "It is ten past eleven in the evening.",
  "You said please call me back tomorrow morning.",
  "The weather in Paris is sunny and warm.",
  "I repeat what you say and tell the time.",
  "My instructions are to be brief and friendly.",
  "Please hold while we try to connect you.",
];

/** PocketSphinx hears Flite's `slt` voice at ≈ 10–18 % WER; a broken rate or garbled audio scores far worse. */
const ROUND_TRIP_WER_BOUND = 0.35;

describe("speech synthesizer (Flite)", () => {
  let recognizer: Recognizer;
  beforeAll(async () => {
    recognizer = await createRecognizer();
  });
  afterAll(async () => {
    await recognizer?.close();
    await closeSynthesizer();
  });

  it("speaks at 48 kHz by default, about as long as the words take", async () => {
    const speech = await synthesize("Hello there, this is the local peer speaking.");
    expect(speech.sampleRate).toBe(48_000);
    const seconds = speech.pcm.length / speech.sampleRate;
    expect(seconds).toBeGreaterThan(1.5);
    expect(seconds).toBeLessThan(6);
    let peak = 0;
    for (const x of speech.pcm) peak = Math.max(peak, Math.abs(x));
    expect(peak).toBeGreaterThan(3000);
  });

  it("is intelligible: the recognizer hears the sentences back within the WER bound", {
    timeout: 120_000,
  }, async () => {
    const pairs: Array<{ reference: string; hypothesis: string }> = [];
    for (const sentence of SENTENCES) {
      const speech = await synthesize(sentence);
      const heard = await recognizer.transcribe(resamplePcm16(speech.pcm, speech.sampleRate, 24_000));
      pairs.push({ reference: sentence, hypothesis: heard.text });
    }
    const { wer, errors, words } = corpusWordErrorRate(pairs);
    console.log(`synthesizer round trip: WER ${(wer * 100).toFixed(1)} % (${errors}/${words} words)`);
    expect(wer).toBeLessThan(ROUND_TRIP_WER_BOUND);
  });

  it("takes other voices and rates, and gives nothing for empty text", async () => {
    const kal = await synthesize("Testing one two three.", { voice: "kal16", sampleRate: 24_000 });
    expect(kal.sampleRate).toBe(24_000);
    expect(kal.pcm.length).toBeGreaterThan(24_000 * 0.8);
    const empty = await synthesize("   \n ");
    expect(empty.pcm.length).toBe(0);
  });

  it("serves concurrent requests in order, each with its own audio", async () => {
    const [short, long] = await Promise.all([
      synthesize("Yes."),
      synthesize("Yes. And a much longer sentence after it."),
    ]);
    expect(long.pcm.length).toBeGreaterThan(short.pcm.length * 2);
  });

  it("splits answers into sentences, joining fragments too short to be worth a request", () => {
    expect(splitSentences("It is 10:10 PM. You asked me the time!  Anything else?")).toEqual([
      "It is 10:10 PM.",
      "You asked me the time!",
      "Anything else?",
    ]);
    expect(splitSentences("Yes. No. The weather is sunny; and warm too.")).toEqual([
      "Yes. No. The weather is sunny;",
      "and warm too.",
    ]);
    // A short tail joins the sentence before it.
    expect(splitSentences("The weather is sunny. Warm too.")).toEqual(["The weather is sunny. Warm too."]);
    expect(splitSentences("   ")).toEqual([]);
    expect(splitSentences("ok")).toEqual(["ok"]);
  });
});

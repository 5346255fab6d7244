/**
 * WebKit's capture path: WebKitGTK's MiniBrowser (W3C WebDriver, under Xvfb) runs the project's capture worklet
 * (`dist/capture-processor.js`: resampler → PCM16 → VAD → segmenter → frames) on recorded speech, once from a
 * decoded WAV (no capture device) and once from a PulseAudio virtual microphone through `getUserMedia`. Checks
 * that the frame stream is complete, that the VAD finds the labelled speech and that the 24 kHz output matches
 * sox; and places the microphone path's dropouts: a pass-through tap beside the worklet sees them in the input
 * (stretches of exact zeros, mostly whole render quanta, and skipped input under heavy load), and the worklet's
 * output follows that input at one delay.
 */
import { join, resolve } from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { buildAll } from "../../../scripts/build.ts";
import { decodeAudio, resampleWithSox, speechTestFile } from "../../fixtures/speech-corpus.ts";
import { type Comparison, compareOverRegions, lowPass } from "../alignment.ts";
import { type SoundServer, startSoundServer } from "../sound-server.ts";
import { type Input, withLead } from "../speech-input.ts";
import { type CaptureRun, pcmOf, rawOf, serveCapturePage, zeroRuns } from "./capture-page.ts";
import { launchWebKit, type WebKitSession } from "./webkit.ts";

const root = resolve(import.meta.dirname, "../../..");
const outDir = resolve(process.env.E2E_OUT ?? join(root, "test-results/e2e"), "webkit");
const RENDER_QUANTUM = 128;
const BAND_HZ = 9500;
const BLOCK_S = 0.25;

let sound: SoundServer;
let webkit: WebKitSession;
let page: { origin: string; requests: string[]; close(): Promise<void> };
let input: Input;
const runs: Record<"file" | "microphone", CaptureRun> = {} as never;

/** One capture: start the graph, feed it (the file plays by itself; the microphone gets `paplay`), stop. */
async function capture(mode: "file" | "microphone"): Promise<CaptureRun> {
  await webkit.navigate(`${page.origin}/`);
  const started = await webkit.run<{ contextRate: number; state: string }>(
    "return await window.captureTest.start(args[0]);",
    mode,
  );
  expect(started.state).toBe("running");
  if (mode === "microphone") await sound.play(input.path);
  // Until the whole file came out, plus the segmenter's hangover (600 ms) before the last speechend; counted in
  // output, as WebKit renders slower than real time on a loaded machine.
  const target = mode === "file" ? input.seconds + 1 : 0;
  for (let i = 0; i < 300; i++) {
    if ((await webkit.run<number>("return window.captureTest.progress();")) >= target && i >= 10) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  return await webkit.run<CaptureRun>("return await window.captureTest.stop();");
}

/** 250 ms blocks of each region; a remainder under 100 ms joins the block before it (too short to align alone). */
function blocksOf(regions: Array<[number, number]>): Array<[number, number]> {
  const out: Array<[number, number]> = [];
  for (const [start, end] of regions) {
    for (let t = start; t < end; t += BLOCK_S) {
      const last = out.at(-1);
      if (end - t < 0.1 && last && last[1] === t) last[1] = end;
      else out.push([t, Math.min(end, t + BLOCK_S)]);
    }
  }
  return out;
}

/** Each change of delay between neighbouring blocks, in ms: positive where input was inserted, negative where lost. */
function jumpsMs(comparison: Comparison): string[] {
  return comparison.regions
    .slice(1)
    .map((region, i) => region.delaySamples - (comparison.regions[i]?.delaySamples ?? 0))
    .filter((jump) => Math.abs(jump) > 0.5)
    .map((jump) => (jump / 24).toFixed(1));
}

function expectCompleteStream(run: CaptureRun): void {
  expect(run.errors).toEqual([]);
  expect(run.frames.length).toBeGreaterThan(0);
  run.frames.forEach((frame, i) => {
    expect(frame.seq).toBe(i);
    const previous = run.frames[i - 1];
    expect(frame.timestamp).toBe(previous ? previous.timestamp + previous.samples : 0);
  });
  // Every frame but the flushed tail is 20 ms.
  expect(run.frames.slice(0, -1).every((frame) => frame.samples === 480)).toBe(true);
  expect(pcmOf(run).length).toBe(run.frames.reduce((n, frame) => n + frame.samples, 0));
}

/**
 * Reported segments in source seconds, given the output's delay behind the source in 24 kHz samples; a segment
 * still open at the end of the stream ends there.
 */
function segmentsOf(run: CaptureRun, delaySamples: number): Array<[number, number]> {
  const end = run.frames.reduce((n, frame) => n + frame.samples, 0);
  const segments: Array<[number, number]> = [];
  for (const event of run.speech) {
    const at = (event.sample - delaySamples) / 24_000;
    if (event.type === "speechstart") segments.push([at, Number.NaN]);
    else if (segments.at(-1)) (segments.at(-1) as [number, number])[1] = at;
  }
  return segments.map(([s, e]) => [s, Number.isNaN(e) ? (end - delaySamples) / 24_000 : e]);
}

/** Every labelled stretch of speech lies inside a reported segment, and no segment opens in the lead-in. */
function expectSpeechFound(segments: Array<[number, number]>, labels: Array<[number, number]>): void {
  expect(segments.length).toBeGreaterThan(0);
  for (const [start, end] of labels) {
    const holder = segments.find(([s, e]) => s <= start + 0.05 && e >= end - 0.05);
    expect(
      holder,
      `label ${start.toFixed(2)}–${end.toFixed(2)} s in ${JSON.stringify(segments)}`,
    ).toBeDefined();
  }
  expect(segments[0]?.[0] ?? 0).toBeGreaterThan((labels[0]?.[0] ?? 0) - 0.5);
}

beforeAll(async () => {
  await buildAll({ types: false });
  const file = await speechTestFile({ sampleRate: 44_100, seconds: 6, seed: 7 });
  input = withLead({ name: "speech-44100hz", path: file.path, speech: file.speech }, join(outDir, "inputs"));
  [sound, page] = await Promise.all([
    startSoundServer({ sampleRate: 44_100 }),
    serveCapturePage(join(root, "dist"), input.path),
  ]);
  webkit = await launchWebKit(sound.env);
  runs.file = await capture("file");
  runs.microphone = await capture("microphone");
});

afterAll(async () => {
  await webkit?.close();
  await Promise.all([sound?.stop(), page?.close()]);
});

describe("WebKitGTK: the capture worklet on recorded speech (no WebRTC in Debian's build)", () => {
  test("from a decoded WAV: complete frames, the speech found, 24 kHz output equal to sox's (≥ 30 dB), no gap", async () => {
    const run = runs.file;
    expectCompleteStream(run);
    expect(run.contextRate).toBe(44_100);
    const reference = await decodeAudio(input.path, 24_000);
    const output = pcmOf(run);
    const blocks = blocksOf(input.speech);
    const comparison = compareOverRegions(
      lowPass(reference, 24_000, BAND_HZ),
      lowPass(output, 24_000, BAND_HZ),
      24_000,
      blocks,
      0.02,
    );
    console.log(
      `[e2e webkit ${webkit.version}] file: ${run.frames.length} frames, context ${run.contextRate} Hz, ` +
        `SNR ${comparison.snrDb.toFixed(1)} dB over ${blocks.length} speech blocks, ${comparison.delayJumps} gaps`,
    );
    expect(comparison.delayJumps).toBe(0);
    expect(comparison.snrDb).toBeGreaterThanOrEqual(30);
    expect(zeroRuns(rawOf(run), RENDER_QUANTUM)).toEqual([]);
    expectSpeechFound(segmentsOf(run, comparison.delaySamples), input.speech);
  });

  test("from the PulseAudio microphone: complete frames, the speech found, and every dropout is already in WebKit's input", async () => {
    const run = runs.microphone;
    expectCompleteStream(run);
    const raw = rawOf(run);
    const contextRate = run.contextRate;
    // What the worklet was given, resampled by sox, against what it produced: one constant delay, no gap of ours.
    const given = resampleWithSox(raw, run.contextRate, 24_000);
    const output = pcmOf(run);
    const reference = await decodeAudio(input.path, 24_000);
    const vsSource = compareOverRegions(reference, output, 24_000, blocksOf(input.speech), 0.05);
    const shift = vsSource.regions[0]?.delaySamples ?? vsSource.delaySamples;
    const spoken = blocksOf(input.speech.map(([s, e]) => [s + shift / 24_000, e + shift / 24_000]));
    const vsInput = compareOverRegions(
      lowPass(given, 24_000, BAND_HZ),
      lowPass(output, 24_000, BAND_HZ),
      24_000,
      spoken.filter(([, end]) => end * 24_000 < given.length),
      0.02,
    );
    // Dropouts of WebKit's input: stretches of exact zeros (a microphone never delivers 32 of them in a row),
    // most of them whole render quanta, and under heavy load jumps with no zeros (input skipped or repeated).
    const zeros = zeroRuns(raw, 32);
    const aligned = zeros.filter(
      (run) => run.start % RENDER_QUANTUM === 0 && run.length % RENDER_QUANTUM === 0,
    );
    const zerosMs = zeros.map((run) => ((run.length / contextRate) * 1000).toFixed(1));
    console.log(
      `[e2e webkit] microphone: ${run.frames.length} frames, context ${contextRate} Hz, track ` +
        `${run.trackRate} Hz; WebKit's input had ${zeros.length} runs of zeros (${zerosMs.join(", ")} ms; ` +
        `${aligned.length} of them whole render quanta); output vs source ${vsSource.snrDb.toFixed(1)} dB with ` +
        `${vsSource.delayJumps} jumps (${jumpsMs(vsSource).join(", ")} ms); output vs the worklet's own input ` +
        `${vsInput.snrDb.toFixed(1)} dB with ${vsInput.delayJumps} jumps`,
    );
    // The worklet adds nothing: its output follows its input at one delay, at full fidelity.
    expect(vsInput.delayJumps).toBe(0);
    expect(vsInput.snrDb).toBeGreaterThanOrEqual(40);
    // The VAD finds the speech (dropouts shift later labels by at most their total length).
    const slack =
      Math.abs(jumpsMs(vsSource).reduce((n, ms) => n + Math.abs(Number(ms)), 0)) / 1000 +
      zeros.reduce((n, gap) => n + gap.length, 0) / contextRate;
    expectSpeechFound(
      segmentsOf(run, shift).map(([s, e]) => [s - slack, e + slack] as [number, number]),
      input.speech,
    );
  });
});

describe("WebKitGTK without WebRTC", () => {
  test("connect() fails with webrtc_unsupported before anything is requested from the worker", async () => {
    await webkit.navigate(`${page.origin}/embed.html`);
    const before = page.requests.length;
    const outcome = await webkit.run<{ code: string; message: string; states: string[] } | null>(`
      const session = RealtimeVoice.connect({ url: location.origin });
      const states = [];
      session.on("state", (state) => states.push(state.status));
      try {
        await session.ready;
        return null;
      } catch (error) {
        return { code: error.code, message: error.message, states };
      }
    `);
    const requested = page.requests.slice(before);
    console.log(
      `[e2e webkit] connect(): ${JSON.stringify(outcome)}; requests after load: ${JSON.stringify(requested)}`,
    );
    expect(outcome?.code).toBe("webrtc_unsupported");
    expect(outcome?.states.at(-1)).toBe("failed");
    // Nothing reached for the worker's routes (nor the worklet: capture is not even started).
    expect(requested.filter((path) => path.startsWith("/v1/"))).toEqual([]);
  });
});

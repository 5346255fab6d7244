/**
 * Resampler quality and CPU, side by side in one process: our `Resampler` next to libsamplerate-js (WASM)
 * SINC_FASTEST and SINC_BEST and streaming linear interpolation, every one fed 128-frame blocks as an
 * AudioWorklet would, at 48, 44.1, 16 and 96 kHz → 24 kHz; `sox rate -v` (offline, whole file) as the quality
 * reference. Then the whole capture chain (resample 48 → 24 kHz + PCM16 + VAD + segmenter, 20 ms frames) against
 * SINC_FASTEST alone. Prints markdown tables. Run: `node bench/resampler.bench.ts [--quick]`.
 *
 * Definitions (see the README): −3 dB point from a tone sweep; worst alias rejection = input tone RMS / output
 * RMS over tones from 12.5 kHz to the input Nyquist; passband = worst |gain| from 50 Hz to 10 kHz; SINAD of a
 * −1 dBFS tone after a least-squares sine fit (before PCM16); latency = measured delay of the output against the
 * input (group delay plus anything held back while streaming); CPU = ms of this process's CPU time (user +
 * system) per second of audio, median of interleaved runs.
 */
import { spawnSync } from "node:child_process";
import { createRequire } from "node:module";
import type * as LibSampleRate from "@alexanderolsen/libsamplerate-js";
import {
  aliasRejectionDb,
  db,
  fitSine,
  runBlocks,
  type StreamResampler,
  tone,
  toneGainDb,
  toneSinadDb,
  whiteNoise,
} from "../test/fixtures/signals.ts";
import { floatToPcm16 } from "../worklet/dsp/pcm16.ts";
import { Resampler } from "../worklet/dsp/resampler.ts";
import { Segmenter } from "../worklet/dsp/segmenter.ts";
import { VoiceActivityDetector } from "../worklet/dsp/vad.ts";

const require = createRequire(import.meta.url);
// The package ships a UMD bundle (CommonJS in Node) that instantiates its WASM from an inlined binary.
const lsr = require("@alexanderolsen/libsamplerate-js") as typeof LibSampleRate;

const OUT = 24000;
const RATES = [48000, 44100, 16000, 96000];
const quick = process.argv.includes("--quick");

/** Streaming linear interpolation, the resampler most voice demos ship. */
class LinearResampler implements StreamResampler {
  readonly #step: number;
  #pos = 0;
  #last = 0;
  constructor(inputRate: number) {
    this.#step = inputRate / OUT;
  }
  process(input: Float32Array): Float32Array {
    const out = new Float32Array(Math.ceil(input.length / this.#step) + 1);
    let n = 0;
    let pos = this.#pos;
    while (pos < input.length) {
      const i = Math.floor(pos);
      const f = pos - i;
      const a = i === 0 ? this.#last : input[i - 1];
      out[n++] = a + f * (input[i] - a);
      pos += this.#step;
    }
    this.#pos = pos - input.length;
    if (input.length > 0) this.#last = input[input.length - 1];
    return out.subarray(0, n);
  }
}

type SrcInstance = Awaited<ReturnType<typeof lsr.create>>;

/** libsamplerate-js through its `full` (streaming) API, copying each block's output out of WASM memory. */
class LibSampleRateResampler implements StreamResampler {
  readonly #src: SrcInstance;
  readonly #out: Float32Array;
  readonly #frames = { frames: 0 };
  constructor(src: SrcInstance, inputRate: number) {
    this.#src = src;
    this.#out = new Float32Array(Math.ceil((4096 * OUT) / inputRate) + 64);
  }
  process(input: Float32Array): Float32Array {
    this.#src.full(input, this.#out, this.#frames);
    return this.#out.slice(0, this.#frames.frames);
  }
  /** What the CPU runs measure: the same call into a reused buffer. */
  run(input: Float32Array): number {
    this.#src.full(input, this.#out, this.#frames);
    return this.#frames.frames;
  }
}

/** sox's very-high-quality linear-phase resampler, offline on the whole signal (delay compensated by sox). */
class SoxResampler implements StreamResampler {
  readonly #rate: number;
  #pending: Float32Array[] = [];
  constructor(inputRate: number) {
    this.#rate = inputRate;
  }
  process(input: Float32Array): Float32Array {
    this.#pending.push(input.slice());
    return new Float32Array(0);
  }
  /** Runs sox once over everything given so far. */
  finish(): Float32Array {
    const total = this.#pending.reduce((n, p) => n + p.length, 0);
    const all = new Float32Array(total);
    let o = 0;
    for (const p of this.#pending) {
      all.set(p, o);
      o += p.length;
    }
    const raw = ["-t", "raw", "-e", "floating-point", "-b", "32", "-c", "1"];
    const run = spawnSync(
      "sox",
      [...raw, "-r", String(this.#rate), "-", ...raw, "-r", String(OUT), "-", "rate", "-v"],
      { input: Buffer.from(all.buffer), maxBuffer: 1 << 28 },
    );
    if (run.status !== 0) throw new Error(`sox failed: ${run.stderr}`);
    const b = run.stdout;
    return new Float32Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength));
  }
}

/** Wraps sox so the shared measurement helpers (which feed blocks, then read the output) can use it. */
function soxMaker(rate: number): () => StreamResampler {
  return () => {
    const sox = new SoxResampler(rate);
    let done = false;
    return {
      process(input: Float32Array): Float32Array {
        sox.process(input);
        return new Float32Array(0);
      },
      // runBlocks concatenates outputs; the last call flushes the whole signal through sox.
      get flush(): Float32Array {
        if (done) return new Float32Array(0);
        done = true;
        return sox.finish();
      },
    } as StreamResampler & { readonly flush: Float32Array };
  };
}

/** Feeds blocks like `runBlocks`, then appends sox's one-shot output when the maker is sox. */
function stream(make: () => StreamResampler, input: Float32Array): Float32Array {
  const r = make();
  const y = runBlocks(r, input);
  const flush = (r as { flush?: Float32Array }).flush;
  return flush && flush.length > 0 ? flush : y;
}

/**
 * Measured latency in ms: how late the output is against the input, the two parts added. (1) Phase: the phase of
 * a 50 Hz tone in the output against the input at the same output index (unambiguous up to 20 ms). (2) Held
 * back: output samples that were due for the input given so far but not yet produced (libsamplerate aligns its
 * output with its input and instead withholds samples until it has the filter's look-ahead).
 * `fresh` must not have been fed anything yet, so that output index 0 lines up with input index 0.
 */
function latencyMs(fresh: StreamResampler, rate: number): number {
  const f = 50;
  const input = tone(f, rate, rate, 0.5, 0);
  const y = stream(() => fresh, input);
  const from = 4000;
  const fit = fitSine(y, f, OUT, from, y.length - 200);
  const expected = (2 * Math.PI * f * from) / OUT;
  let d = (expected - fit.phase) / (2 * Math.PI);
  d -= Math.floor(d);
  if (d > 0.95) d -= 1; // a tiny negative delay wraps around
  const heldBack = Math.max(0, (input.length * OUT) / rate - y.length);
  return (d / f) * 1000 + (heldBack / OUT) * 1000;
}

interface Quality {
  minus3: number;
  alias: number;
  passband: number;
  sinad1k: number;
  sinad9k: number;
  latency: number;
}

function gainDb(make: () => StreamResampler, f: number, rate: number): number {
  const input = tone(f, rate, Math.round(rate * 0.12), 0.5, 0.3);
  const y = stream(make, input);
  return db(fitSine(y, f, OUT, 800, y.length - 200).amplitude / 0.5);
}

/**
 * `make` gives the resampler for each tone; it may hand out the same instance again (a WASM converter cannot be
 * reset), which is harmless because every measurement skips the first 50 ms of output.
 */
function quality(make: () => StreamResampler, fresh: StreamResampler, rate: number, sox: boolean): Quality {
  const nyquist = Math.min(rate, OUT) / 2;
  const g = sox ? (f: number) => gainDb(make, f, rate) : (f: number) => toneGainDb(make, f, rate, OUT, 0.12);
  let minus3 = Number.NaN;
  let prev = g(0.7 * nyquist);
  for (let f = 0.7 * nyquist + 50; f < nyquist; f += 50) {
    const cur = g(f);
    if (cur < -3 && prev >= -3) {
      minus3 = f - 50 + (50 * (prev + 3)) / (prev - cur);
      break;
    }
    prev = cur;
  }
  let passband = 0;
  for (const f of [50, 200, 1000, 3000, 5000, 7000, 8000, 9000, 9500, 10000]) {
    if (f <= (10 / 12) * nyquist) passband = Math.max(passband, Math.abs(g(f)));
  }
  let alias = Number.POSITIVE_INFINITY;
  if (rate > OUT) {
    const step = quick ? 1000 : 250;
    for (let f = 12500; f < rate / 2; f += step) {
      const r = sox
        ? (() => {
            const input = tone(f, rate, Math.round(rate * 0.12), 0.5, 0.3);
            const y = stream(make, input);
            let s = 0;
            for (let i = 800; i < y.length - 200; i++) s += y[i] * y[i];
            return db(0.5 / Math.SQRT2 / Math.sqrt(s / (y.length - 1000)));
          })()
        : aliasRejectionDb(make, f, rate, 0.12);
      alias = Math.min(alias, r);
    }
  }
  const a = 10 ** (-1 / 20);
  const sinad = (f: number) =>
    sox
      ? (() => {
          const y = stream(make, tone(f, rate, rate / 4, a, 0.3));
          return fitSine(y, f, OUT, 800, y.length - 200).sinad;
        })()
      : toneSinadDb(make, f, rate, OUT, a);
  return {
    minus3,
    alias,
    passband,
    sinad1k: sinad(1000),
    sinad9k: sinad(Math.min(9000, 0.8 * nyquist)),
    latency: latencyMs(fresh, rate),
  };
}

const median = (xs: number[]) => [...xs].sort((p, q) => p - q)[Math.floor(xs.length / 2)];

/** CPU time of this process in ms (user + system): unlike wall time, other processes on the machine barely move it. */
function cpuNow(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
}

/** ms of CPU per second of audio for each runner, interleaved round by round, median of the rounds. */
function cpu(runners: Record<string, (input: Float32Array) => void>, input: Float32Array, rate: number) {
  const names = Object.keys(runners);
  const times: Record<string, number[]> = Object.fromEntries(names.map((n) => [n, []]));
  const seconds = input.length / rate;
  const rounds = quick ? 3 : 9;
  for (let round = 0; round < rounds + 1; round++) {
    for (const name of names) {
      const t = cpuNow();
      runners[name](input);
      const dt = cpuNow() - t;
      if (round > 0) times[name].push(dt / seconds); // round 0 warms the JIT
    }
  }
  return Object.fromEntries(names.map((n) => [n, median(times[n])])) as Record<string, number>;
}

function blocks(input: Float32Array, each: (block: Float32Array) => void): void {
  // Views are made once, outside the timed loops, as an AudioWorklet hands over its own arrays.
  for (let i = 0; i + 128 <= input.length; i += 128) each(input.subarray(i, i + 128));
}

const fmt = (x: number, digits = 1) => (Number.isFinite(x) ? x.toFixed(digits) : x > 0 ? "∞" : "—");

const lsrConverter = async (rate: number, type: (typeof lsr.ConverterType)[keyof typeof lsr.ConverterType]) =>
  new LibSampleRateResampler(await lsr.create(1, rate, OUT, { converterType: type }), rate);
const { SRC_SINC_FASTEST: FASTEST, SRC_SINC_BEST_QUALITY: BEST } = lsr.ConverterType;

console.log("### Resampler quality and CPU (→ 24 kHz, 128-frame blocks)\n");
console.log(
  "| input | resampler | −3 dB point | worst alias rejection ≥ 12.5 kHz | passband dev. 50 Hz–10 kHz | SINAD 1 kHz | SINAD 9 kHz | latency | CPU ms/s | CPU vs ours |",
);
console.log("|---|---|---|---|---|---|---|---|---|---|");
for (const rate of RATES) {
  const fast = await lsrConverter(rate, FASTEST);
  const best = await lsrConverter(rate, BEST);
  const rows: Array<[string, () => StreamResampler, StreamResampler, boolean, string]> = [
    ["**ours** (polyphase FIR)", () => new Resampler(rate), new Resampler(rate), false, "ours"],
    ["libsamplerate-js SINC_FASTEST", () => fast, await lsrConverter(rate, FASTEST), false, "fast"],
    ["libsamplerate-js SINC_BEST", () => best, await lsrConverter(rate, BEST), false, "best"],
    ["linear interpolation", () => new LinearResampler(rate), new LinearResampler(rate), false, "linear"],
    ["sox `rate -v` (offline reference)", soxMaker(rate), soxMaker(rate)(), true, ""],
  ];
  const input = whiteNoise(rate * (quick ? 2 : 5), 5, 0.3);
  const ours = new Resampler(rate);
  const ourOut = new Float32Array(ours.maxOutputLength(128));
  const linear = new LinearResampler(rate);
  const times = cpu(
    {
      ours: (x) => blocks(x, (b) => ours.processInto(b, ourOut)),
      fast: (x) => blocks(x, (b) => fast.run(b)),
      best: (x) => blocks(x, (b) => best.run(b)),
      linear: (x) => blocks(x, (b) => linear.process(b)),
    },
    input,
    rate,
  );
  for (const [name, make, fresh, sox, key] of rows) {
    const q = quality(make, fresh, rate, sox);
    const t = times[key];
    console.log(
      `| ${rate / 1000} kHz | ${name} | ${Number.isFinite(q.minus3) ? `${fmt(q.minus3 / 1000, 2)} kHz` : "—"} | ${rate < OUT ? "n/a (upsampling)" : q.alias > 200 ? "> 200 dB" : `${fmt(q.alias)} dB`} | ±${fmt(q.passband, 3)} dB | ${fmt(q.sinad1k)} dB | ${fmt(q.sinad9k)} dB | ${sox ? "offline" : `${fmt(q.latency, 2)} ms`} | ${t === undefined ? "offline" : fmt(t, 2)} | ${t === undefined ? "—" : `${fmt(t / times.ours, 2)}×`} |`,
    );
  }
}

/**
 * What the capture processor does per render quantum, minus the port: resample, cut 20 ms frames, PCM16 (one new
 * buffer per frame, as the processor transfers it), VAD, segmenter.
 */
class CaptureChain {
  readonly #resampler: Resampler;
  readonly #vad = new VoiceActivityDetector({ sampleRate: OUT });
  readonly #segmenter = new Segmenter({ sampleRate: OUT });
  readonly #resampled: Float32Array;
  readonly #frame = new Float32Array(480);
  #fill = 0;
  #timestamp = 0;
  events = 0;
  constructor(rate: number) {
    this.#resampler = new Resampler(rate);
    this.#resampled = new Float32Array(this.#resampler.maxOutputLength(128));
  }
  process(block: Float32Array): void {
    const out = this.#resampled;
    const m = this.#resampler.processInto(block, out);
    const frame = this.#frame;
    let fill = this.#fill;
    for (let i = 0; i < m; i++) {
      frame[fill++] = out[i];
      if (fill === 480) {
        floatToPcm16(frame, new Int16Array(480));
        if (this.#segmenter.process(this.#vad.process(frame), this.#timestamp, 480) !== null) this.events++;
        this.#timestamp += 480;
        fill = 0;
      }
    }
    this.#fill = fill;
  }
}

console.log(
  "\n### The whole capture chain at 48 kHz vs libsamplerate-js SINC_FASTEST alone (128-frame blocks)\n",
);
{
  const rate = 48000;
  // Real-ish load for the VAD: noise with a tone burst pattern, so the segmenter opens and closes segments.
  const seconds = quick ? 4 : 10;
  const input = whiteNoise(rate * seconds, 11, 0.05);
  const burst = tone(220, rate, input.length, 0.3);
  for (let i = 0; i < input.length; i++) if (Math.floor(i / rate) % 2 === 0) input[i] += burst[i];
  const chain = new CaptureChain(rate);
  const fast = await lsrConverter(rate, FASTEST);
  const resampleOnly = new Resampler(rate);
  const vadOnly = new VoiceActivityDetector({ sampleRate: OUT });
  const resampled = new Float32Array(resampleOnly.maxOutputLength(128));
  const noise24 = whiteNoise(OUT * seconds, 12, 0.05);
  const frames24: Float32Array[] = [];
  for (let i = 0; i + 480 <= noise24.length; i += 480) frames24.push(noise24.subarray(i, i + 480));
  const times = cpu(
    {
      chain: (x) => blocks(x, (b) => chain.process(b)),
      fast: (x) => blocks(x, (b) => fast.run(b)),
      resample: (x) => blocks(x, (b) => resampleOnly.processInto(b, resampled)),
      vad: () => {
        for (const frame of frames24) vadOnly.process(frame);
      },
    },
    input,
    rate,
  );
  console.log("| pipeline | CPU ms per s of audio | vs SINC_FASTEST alone |");
  console.log("|---|---|---|");
  console.log(`| libsamplerate-js SINC_FASTEST (resampling only) | ${fmt(times.fast, 2)} | 1.00× |`);
  console.log(
    `| ours: resample 48 → 24 kHz only | ${fmt(times.resample, 2)} | ${fmt(times.resample / times.fast, 2)}× |`,
  );
  console.log(
    `| ours: VAD only (20 ms frames at 24 kHz) | ${fmt(times.vad, 2)} | ${fmt(times.vad / times.fast, 2)}× |`,
  );
  console.log(
    `| **ours: whole chain** (resample + PCM16 + VAD + segmenter) | ${fmt(times.chain, 2)} | **${fmt(times.chain / times.fast, 2)}×** (goal ≤ 0.33×) |`,
  );
}

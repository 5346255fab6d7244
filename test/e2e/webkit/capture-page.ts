/**
 * A page that runs the project's capture worklet (`dist/capture-processor.js`: resampler, PCM16, VAD, segmenter)
 * in a browser with no WebRTC, fed either by a decoded WAV (`AudioBufferSourceNode`: no capture device at all)
 * or by the microphone (`getUserMedia` → `MediaStreamAudioSourceNode`). Beside it, a pass-through tap worklet
 * records the very render quanta the capture worklet receives, so that a gap can be placed: before the worklet
 * (the browser's input) or inside it (our code). Served on 127.0.0.1 (a secure context) by {@link serveCapturePage}.
 */
import { readFileSync } from "node:fs";
import { createServer } from "node:http";
import { join } from "node:path";
import { CAPTURE_PROCESSOR_NAME } from "../../../worklet/processor/messages.ts";

/** What `captureTest.stop()` returns. */
export interface CaptureRun {
  /** The AudioContext's sample rate in Hz. */
  contextRate: number;
  /** `getSettings().sampleRate` of the microphone track (0 or absent in WebKitGTK), or null for a file. */
  trackRate: number | null;
  /** Frames in arrival order: sequence number, first sample's index, samples, VAD probability. */
  frames: Array<{ seq: number; timestamp: number; samples: number; probability: number }>;
  /** `speechstart` / `speechend` samples (24 kHz stream indices). */
  speech: Array<{ type: "speechstart" | "speechend"; sample: number }>;
  /** `error` messages of the processor. */
  errors: Array<{ code: string; message: string }>;
  /** The frames' PCM16, concatenated (base64, little-endian 24 kHz mono). */
  pcm: string;
  /** The tap's input at the context rate (base64 of float32 little-endian), and its render quanta. */
  raw: string;
  quanta: number;
}

const PAGE = `<!doctype html><html><head><title>capture</title></head><body><p>capture test</p><script>
const TAP = \`registerProcessor("tap", class extends AudioWorkletProcessor {
  process(inputs) { const channel = inputs[0] && inputs[0][0]; if (channel) this.port.postMessage(channel.slice(0)); return true; }
});\`;
const base64 = (bytes) => {
  let text = "";
  for (let i = 0; i < bytes.length; i += 0x8000) text += String.fromCharCode.apply(null, bytes.subarray(i, i + 0x8000));
  return btoa(text);
};
let run = null;
window.captureTest = {
  async start(mode) {
    const context = new AudioContext();
    // WebKit starts a context suspended outside a gesture; automation counts as none.
    await context.resume();
    await context.audioWorklet.addModule("/capture-processor.js");
    await context.audioWorklet.addModule(URL.createObjectURL(new Blob([TAP], { type: "text/javascript" })));
    const capture = new AudioWorkletNode(context, "${CAPTURE_PROCESSOR_NAME}", {
      numberOfInputs: 1, numberOfOutputs: 0, channelCount: 1, channelCountMode: "explicit", channelInterpretation: "speakers",
    });
    const tap = new AudioWorkletNode(context, "tap", { numberOfInputs: 1, numberOfOutputs: 0, channelCount: 1, channelCountMode: "explicit" });
    run = { context, frames: [], pcm: [], speech: [], errors: [], raw: [], trackRate: null, source: null, stream: null, flushed: null };
    const r = run;
    r.flushed = new Promise((resolve) => {
      capture.port.onmessage = (event) => {
        const m = event.data;
        if (m.type === "frame") {
          r.frames.push({ seq: m.seq, timestamp: m.timestamp, samples: m.pcm.byteLength / 2, probability: m.probability });
          r.pcm.push(new Uint8Array(m.pcm));
        } else if (m.type === "speechstart" || m.type === "speechend") r.speech.push({ type: m.type, sample: m.sample });
        else if (m.type === "error") r.errors.push({ code: m.code, message: m.message });
        else if (m.type === "flushed") resolve();
      };
    });
    tap.port.onmessage = (event) => r.raw.push(event.data);
    if (mode === "file") {
      const buffer = await context.decodeAudioData(await (await fetch("/speech.wav")).arrayBuffer());
      r.source = new AudioBufferSourceNode(context, { buffer });
      r.source.start();
    } else {
      r.stream = await navigator.mediaDevices.getUserMedia({
        audio: { echoCancellation: false, noiseSuppression: false, autoGainControl: false },
      });
      r.trackRate = r.stream.getAudioTracks()[0].getSettings().sampleRate ?? 0;
      r.source = context.createMediaStreamSource(r.stream);
    }
    r.source.connect(capture);
    r.source.connect(tap);
    r.capture = capture;
    return { contextRate: context.sampleRate, state: context.state };
  },
  /** Seconds of 24 kHz output so far (WebKit renders slower than real time on a loaded machine). */
  progress() {
    const last = run.frames.at(-1);
    return last ? (last.timestamp + last.samples) / 24000 : 0;
  },
  async stop() {
    const r = run;
    r.capture.port.postMessage({ type: "flush" });
    await r.flushed;
    r.source.disconnect();
    if (r.stream) for (const track of r.stream.getTracks()) track.stop();
    await r.context.close();
    const join = (parts, bytes) => {
      const out = new Uint8Array(parts.reduce((n, p) => n + p.byteLength, 0));
      let at = 0;
      for (const p of parts) { out.set(bytes(p), at); at += p.byteLength; }
      return out;
    };
    return {
      contextRate: r.context.sampleRate,
      trackRate: r.trackRate,
      frames: r.frames,
      speech: r.speech,
      errors: r.errors,
      pcm: base64(join(r.pcm, (p) => p)),
      raw: base64(join(r.raw, (p) => new Uint8Array(p.buffer, p.byteOffset, p.byteLength))),
      quanta: r.raw.length,
    };
  },
};
</script></body></html>`;

/**
 * Serves the page, `dist/capture-processor.js`, `dist/realtime-voice.js` (the script tag's bundle, under a
 * plain `/embed.html`) and `wavPath` as `/speech.wav` on 127.0.0.1; resolves with its origin and the path of
 * every request it answered (a client that reaches for the worker's `/v1/…` routes shows up there as a 404).
 */
export async function serveCapturePage(
  distDir: string,
  wavPath: string,
): Promise<{ origin: string; requests: string[]; close(): Promise<void> }> {
  const requests: string[] = [];
  const files: Record<string, { type: string; body: string | Buffer }> = {
    "/": { type: "text/html", body: PAGE },
    "/capture-processor.js": {
      type: "text/javascript",
      body: readFileSync(join(distDir, "capture-processor.js")),
    },
    "/speech.wav": { type: "audio/wav", body: readFileSync(wavPath) },
    "/realtime-voice.js": { type: "text/javascript", body: readFileSync(join(distDir, "realtime-voice.js")) },
    "/embed.html": {
      type: "text/html",
      body: `<!doctype html><html><body><button data-realtime-voice>Talk to us</button><script src="/realtime-voice.js"></script></body></html>`,
    },
  };
  const server = createServer((request, response) => {
    requests.push(request.url ?? "");
    const file = files[request.url ?? ""];
    if (!file) response.writeHead(404).end();
    else response.writeHead(200, { "content-type": file.type }).end(file.body);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  if (!address || typeof address === "string") throw new Error("no address");
  return {
    origin: `http://127.0.0.1:${address.port}`,
    requests,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/** Decodes {@link CaptureRun.pcm} to floats in [−1, 1]. */
export function pcmOf(run: CaptureRun): Float32Array {
  const bytes = Buffer.from(run.pcm, "base64");
  const pcm = new Int16Array(bytes.buffer, bytes.byteOffset, bytes.length / 2);
  return Float32Array.from(pcm, (v) => v / 32768);
}

/** Decodes {@link CaptureRun.raw}: the tap's input at the context rate. */
export function rawOf(run: CaptureRun): Float32Array {
  const bytes = Buffer.from(run.raw, "base64");
  return new Float32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.length));
}

/**
 * Runs of exact digital zeros of at least `minLength` samples between the first and the last non-zero sample:
 * what a browser's input inserts when its capture buffer runs dry (no microphone delivers exact zeros).
 * Start index and length in samples.
 */
export function zeroRuns(samples: Float32Array, minLength: number): Array<{ start: number; length: number }> {
  let first = 0;
  while (first < samples.length && samples[first] === 0) first++;
  let last = samples.length - 1;
  while (last > first && samples[last] === 0) last--;
  const runs: Array<{ start: number; length: number }> = [];
  let start = -1;
  for (let i = first; i <= last + 1; i++) {
    const zero = i <= last && samples[i] === 0;
    if (zero && start < 0) start = i;
    if (!zero && start >= 0) {
      if (i - start >= minLength) runs.push({ start, length: i - start });
      start = -1;
    }
  }
  return runs;
}

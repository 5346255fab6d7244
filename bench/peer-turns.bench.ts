/**
 * The local peer's turn latency over a real WebRTC call (node-datachannel offerer ↔ the peer in this process),
 * with its speech engines against the engine-free `describe` stand-in as the reference, in the same run.
 * Run: `node bench/peer-turns.bench.ts [--quick]`. Prints a markdown table.
 *
 * Each Asterisk prompt (recorded human speech, 8 kHz → 24 kHz) is sent as 20 ms `input_audio_buffer.append`s
 * paced by the wall clock, followed by 0.8 s of silence, with server VAD (`create_response: false`) and
 * `audio.input.transcription` on. Measured at the offerer, on one clock:
 * - speech end → transcript: `input_audio_buffer.speech_stopped` received → the turn's
 *   `conversation.item.input_audio_transcription.completed` received;
 * - `response.create` sent (right after the transcript) → the first RTP packet of the voice received; the voice
 *   is then cancelled (`response.cancel`) so the next prompt starts in silence;
 * - CPU: this process's user + system time (the peer, its worker threads and the offerer) per second of call
 *   audio sent. The offerer's share is the same in both modes, so the difference is the engines' cost.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type LocalPeer, startLocalPeer } from "../demo/local-peer/local-peer.ts";
import { asteriskPrompts, promptPcm } from "../test/fixtures/asterisk-prompts.ts";
import { RealtimeOfferer, type ServerEvent, toBase64 } from "../test/peer/realtime-offerer.ts";
import { PCM_RATE } from "../worker/schema/protocol.ts";

const quick = process.argv.includes("--quick");
const KEY = "sk-bench-peer";
const FRAME = (PCM_RATE * 20) / 1000;
const TRAILING_SILENCE_S = 0.8;

const quantile = (values: number[], q: number) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? Number.NaN;
};
const fmt = (x: number, digits = 0) => (Number.isFinite(x) ? x.toFixed(digits) : "–");
const sleep = (ms: number) => new Promise((done) => setTimeout(done, Math.max(0, ms)));

interface ModeResult {
  mode: string;
  transcriptMs: number[];
  firstPacketMs: number[];
  audioS: number;
  cpuMs: number;
  turns: number;
  prompts: number;
}

// The transcript file describes its silence clips in words ("(5 seconds of silence)"): not speech.
const prompts = asteriskPrompts({ count: quick ? 9 : 23 })
  .filter((prompt) => !prompt.name.startsWith("silence/"))
  .slice(0, quick ? 6 : 20);
const audio = prompts.map((p) => promptPcm(p, PCM_RATE));

/** Sends `pcm` in 20 ms appends, each when it falls due on the wall clock. */
async function stream(offerer: RealtimeOfferer, pcm: Int16Array): Promise<void> {
  const start = performance.now();
  for (let i = 0, n = 0; i < pcm.length; i += FRAME, n++) {
    await sleep(start + n * 20 - performance.now());
    offerer.send({ type: "input_audio_buffer.append", audio: toBase64(pcm.subarray(i, i + FRAME)) });
  }
}

async function runMode(mode: "engines" | "describe"): Promise<ModeResult> {
  const recordings = mkdtempSync(join(tmpdir(), "bench-peer-turns-"));
  const peer: LocalPeer = await startLocalPeer({
    apiKey: KEY,
    recordings,
    ...(mode === "describe" ? { speech: "describe" as const } : {}),
  });
  const offerer = new RealtimeOfferer();
  const result: ModeResult = {
    mode,
    transcriptMs: [],
    firstPacketMs: [],
    audioS: 0,
    cpuMs: 0,
    turns: 0,
    prompts: prompts.length,
  };
  try {
    await offerer.call(peer.url, KEY, {
      type: "realtime",
      audio: {
        input: {
          transcription: { model: "gpt-4o-mini-transcribe" },
          turn_detection: { type: "server_vad", create_response: false, interrupt_response: false },
        },
      },
    });
    await offerer.next("session.created");
    // Warm-up: the recognizer's model loads on first use; a second of silence lets it and the VAD settle.
    await stream(offerer, new Int16Array(PCM_RATE));
    await sleep(1000);

    const stoppedAt = new Map<string, number>();
    const seen = { index: 0 };
    const arrivals = new Map<string, number>();
    // Arrival times, stamped as each message comes in (`until` re-checks on every message; the offerer keeps
    // events, not their times).
    let watching = true;
    const stampNew = () => {
      for (; seen.index < offerer.events.length; seen.index++) {
        const event = offerer.events[seen.index];
        if (event?.type === "input_audio_buffer.speech_stopped")
          stoppedAt.set(String(event.item_id), performance.now());
        if (event?.type === "conversation.item.input_audio_transcription.completed")
          arrivals.set(String(event.item_id), performance.now());
      }
    };
    const watcher = (async () => {
      while (watching) {
        await offerer.until(() => !watching || offerer.events.length > seen.index);
        stampNew();
      }
    })();
    const cpu = process.cpuUsage();
    const silence = new Int16Array(Math.round(TRAILING_SILENCE_S * PCM_RATE));
    try {
      for (const pcm of audio) {
        const from = offerer.events.length;
        await stream(offerer, pcm);
        await stream(offerer, silence);
        result.audioS += (pcm.length + silence.length) / PCM_RATE;
        let completed: ServerEvent;
        try {
          completed = await offerer.next(
            "conversation.item.input_audio_transcription.completed",
            () => true,
            from,
            10_000,
          );
        } catch {
          continue;
        }
        result.turns++;
        const id = String(completed.item_id);
        await offerer.until(() => arrivals.has(id));
        const stopped = stoppedAt.get(id);
        if (stopped !== undefined) result.transcriptMs.push((arrivals.get(id) as number) - stopped);

        const packetsBefore = offerer.rtp.length;
        const sent = performance.now();
        const created = offerer.events.length;
        offerer.send({ type: "response.create" });
        const packet = await offerer.until(() => offerer.rtp.slice(packetsBefore).find((p) => p.at >= sent));
        result.firstPacketMs.push(packet.at - sent);
        offerer.send({ type: "response.cancel" });
        await offerer.next("response.done", () => true, created, 10_000);
      }
    } finally {
      watching = false;
    }
    const used = process.cpuUsage(cpu);
    result.cpuMs = (used.user + used.system) / 1000;
    offerer.close();
    await watcher;
  } finally {
    offerer.close();
    await peer.close();
    rmSync(recordings, { recursive: true, force: true });
  }
  return result;
}

const results: ModeResult[] = [];
// The reference first, then the engines, then the reference again: a drifting machine load shows as a spread.
for (const mode of ["describe", "engines", "describe"] as const) results.push(await runMode(mode));

const reference = results[0] as ModeResult;
const cpuPerS = (r: ModeResult) => r.cpuMs / r.audioS;
console.log(
  `\n${prompts.length} Asterisk prompts (${fmt(reference.audioS, 1)} s of call audio per mode), server VAD, ` +
    "20 ms appends paced in real time, over one WebRTC call per mode\n",
);
console.log(
  "| peer speech | turns | speech end → transcript p50 / p95 (ms) | `response.create` → first voice packet p50 / p95 (ms) | CPU ms per s of call audio | vs `describe` |",
);
console.log("| --- | --: | --: | --: | --: | --: |");
for (const r of results) {
  console.log(
    `| ${r.mode === "engines" ? "PocketSphinx + Flite + assistant" : "`describe` (no engines)"} | ` +
      `${r.turns}/${r.prompts} | ${fmt(quantile(r.transcriptMs, 0.5))} / ${fmt(quantile(r.transcriptMs, 0.95))} | ` +
      `${fmt(quantile(r.firstPacketMs, 0.5))} / ${fmt(quantile(r.firstPacketMs, 0.95))} | ` +
      `${fmt(cpuPerS(r), 1)} | ${fmt(cpuPerS(r) / cpuPerS(reference), 2)}× |`,
  );
}
process.exit(0);

import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, expect, it } from "vitest";
import { type LocalPeer, startLocalPeer } from "../../demo/local-peer/local-peer.ts";
import { decodeWav } from "../../demo/local-peer/wav.ts";
import { type LabelledAudio, speechTestFile } from "../fixtures/speech-corpus.ts";
import { RealtimeOfferer, toBase64, toPcm16 } from "./realtime-offerer.ts";

const KEY = "sk-test-peer";
const SILENCE_MS = 500;
const PREFIX_MS = 300;
let peer: LocalPeer;
let recordings: string;
let speech: LabelledAudio;

beforeAll(async () => {
  recordings = mkdtempSync(join(tmpdir(), "peer-vad-"));
  peer = await startLocalPeer({ apiKey: KEY, speech: "describe", recordings });
  speech = await speechTestFile({ sampleRate: 24_000, seconds: 12, seed: 3 });
});
afterAll(async () => {
  await peer.close();
  rmSync(recordings, { recursive: true, force: true });
});

/** Labelled segments merged across pauses shorter than the silence duration: the turns a server VAD should find. */
function expectedTurns(labels: Array<[number, number]>, silenceS: number): Array<[number, number]> {
  const turns: Array<[number, number]> = [];
  for (const [start, end] of labels) {
    const last = turns.at(-1);
    if (last && start - last[1] < silenceS) last[1] = end;
    else turns.push([start, end]);
  }
  return turns;
}

it("finds the turns of real recorded speech with server VAD, commits them and speaks back", async () => {
  const offerer = new RealtimeOfferer({ audio: "SendRecv" });
  const id = await offerer.call(peer.url, KEY, {
    type: "realtime",
    audio: {
      input: {
        turn_detection: {
          type: "server_vad",
          threshold: 0.5,
          prefix_padding_ms: PREFIX_MS,
          silence_duration_ms: SILENCE_MS,
          create_response: true,
          interrupt_response: false,
        },
      },
    },
  });
  await offerer.next("session.created");

  // Stream in 20 ms frames, faster than real time: turn detection works on the audio's own clock.
  const pcm = toPcm16(speech.samples);
  for (let i = 0; i < pcm.length; i += 480)
    offerer.send({ type: "input_audio_buffer.append", audio: toBase64(pcm.subarray(i, i + 480)) });
  // Trailing silence so the last turn's silence duration elapses.
  offerer.send({ type: "input_audio_buffer.append", audio: toBase64(new Int16Array(24_000)) });
  const expected = expectedTurns(speech.speech, SILENCE_MS / 1000);
  const stopped = () => offerer.events.filter((e) => e.type === "input_audio_buffer.speech_stopped");
  // Wait until the peer has taken in every sample, then for the events that follow from them.
  const total = pcm.length + 24_000;
  for (let waited = 0; waited < 10_000; waited += 50) {
    const call = (await (await fetch(`${peer.url}/debug/calls/${id}`)).json()) as {
      input: { samples: number };
    };
    if (call.input.samples >= total) break;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  await new Promise((resolve) => setTimeout(resolve, 200));

  const started = offerer.events.filter((e) => e.type === "input_audio_buffer.speech_started");
  const turns = stopped().map((stop, i) => [
    (started[i]?.audio_start_ms as number) / 1000,
    (stop.audio_end_ms as number) / 1000,
  ]);
  console.log(
    `server VAD: ${turns.length} turns for ${expected.length} expected;`,
    turns.map(([s, e]) => `${s?.toFixed(2)}–${e?.toFixed(2)}`).join(" "),
    "| labels merged:",
    expected.map(([s, e]) => `${s.toFixed(2)}–${e.toFixed(2)}`).join(" "),
  );
  expect(started.length).toBe(stopped().length);
  // Every labelled word lies inside a detected turn (prefix padding before, silence duration after).
  for (const [s, e] of speech.speech)
    expect(
      turns.some(([ts = 0, te = 0]) => ts <= s + 0.1 && te >= e - 0.1),
      `speech ${s}–${e} not in a turn`,
    ).toBe(true);
  // No turn in silence: each one overlaps labelled speech.
  for (const [ts = 0, te = 0] of turns) expect(speech.speech.some(([s, e]) => s < te && e > ts)).toBe(true);
  expect(turns.length).toBeGreaterThanOrEqual(expected.length - 1);
  expect(turns.length).toBeLessThanOrEqual(expected.length + 2);

  // Each speech_stopped is followed by committed (same item) and an automatic response.
  const committed = offerer.events.filter((e) => e.type === "input_audio_buffer.committed");
  expect(committed.map((e) => e.item_id)).toEqual(stopped().map((e) => e.item_id));
  await offerer.next("response.created");
  await offerer.next("output_audio_buffer.started");
  // The voice arrives as Opus RTP on the audio track (the offer maps Opus to 111, as OpenAI's track uses Opus).
  await offerer.until(() => offerer.rtp.length >= 10 || undefined);
  expect(new Set(offerer.rtp.map((p) => p.payloadType))).toEqual(new Set([111]));

  // The first turn's recording is the stream between audio_start_ms and audio_end_ms.
  const first = readFileSync(join(recordings, `${id}-turn-1.wav`));
  const [s0 = 0, e0 = 0] = turns[0] ?? [];
  expect(decodeWav(first).channels[0]?.length).toBeCloseTo((e0 - s0) * 24_000, -2);
  offerer.close();
});

it("cancels a speaking response when speech starts and interrupt_response is on", async () => {
  const offerer = new RealtimeOfferer({ audio: "RecvOnly" });
  await offerer.call(peer.url, KEY, {
    type: "realtime",
    audio: {
      input: { turn_detection: { type: "server_vad", create_response: false, interrupt_response: true } },
    },
  });
  const pcm = toPcm16(speech.samples);
  const [first, second] = expectedTurns(speech.speech, SILENCE_MS / 1000);
  const cut = Math.round(((first?.[1] ?? 0) + 0.8) * 24_000);
  for (let i = 0; i < cut; i += 480)
    offerer.send({
      type: "input_audio_buffer.append",
      audio: toBase64(pcm.subarray(i, Math.min(cut, i + 480))),
    });
  await offerer.next("input_audio_buffer.committed");
  expect(offerer.events.some((e) => e.type === "response.created")).toBe(false);
  offerer.send({ type: "response.create" });
  const created = await offerer.next("output_audio_buffer.started");
  const from = offerer.events.length;
  const end = Math.round(((second?.[1] ?? 0) + 0.1) * 24_000);
  for (let i = cut; i < end; i += 480)
    offerer.send({
      type: "input_audio_buffer.append",
      audio: toBase64(pcm.subarray(i, Math.min(end, i + 480))),
    });
  await offerer.next("input_audio_buffer.speech_started", () => true, from);
  const cleared = await offerer.next("output_audio_buffer.cleared", () => true, from);
  expect(cleared.response_id).toBe(created.response_id);
  const done = await offerer.next("response.done", () => true, from);
  expect(done.response).toMatchObject({ status: "cancelled", status_details: { reason: "turn_detected" } });
  offerer.close();
});

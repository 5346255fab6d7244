import { readFileSync } from "node:fs";
import { join } from "node:path";
import { expect, it } from "vitest";
import { linearToMulaw } from "../../demo/local-peer/g711.ts";
import { buildRtp } from "../../demo/local-peer/rtp.ts";
import { decodeWav } from "../../demo/local-peer/wav.ts";
import { speechTestFile } from "../fixtures/speech-corpus.ts";
import { PEER_KEY, useLocalPeer } from "./local-peer-fixture.ts";
import { RealtimeOfferer, toBase64 } from "./realtime-offerer.ts";

const fixture = useLocalPeer("peer-voice-", { speech: "describe" });

async function manualCall(audio: "RecvOnly" | "SendRecv") {
  const offerer = new RealtimeOfferer({ audio });
  fixture.track(offerer);
  const id = await offerer.call(fixture.peer.url, PEER_KEY, {
    type: "realtime",
    audio: { input: { turn_detection: null } },
  });
  await offerer.next("session.created");
  return { offerer, id };
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function sine(samples: number, rate: number, frequency: number, amplitude: number): Int16Array {
  const out = new Int16Array(samples);
  for (let i = 0; i < samples; i++)
    out[i] = Math.round(amplitude * Math.sin((2 * Math.PI * frequency * i) / rate));
  return out;
}

it("speaks a response over the track at real-time pace and stops within one packet on cancel + clear", async () => {
  const { offerer, id } = await manualCall("RecvOnly");
  offerer.send({ type: "input_audio_buffer.append", audio: toBase64(sine(48_000, 24_000, 300, 6000)) });
  offerer.send({ type: "input_audio_buffer.commit" });
  await offerer.next("input_audio_buffer.committed");
  offerer.send({ type: "response.create" });
  await offerer.next("output_audio_buffer.started");
  await sleep(400);
  // ~20 packets in 400 ms: paced by the clock, not flushed at once.
  expect(offerer.rtp.length).toBeGreaterThanOrEqual(15);
  expect(offerer.rtp.length).toBeLessThanOrEqual(25);
  const from = offerer.events.length;
  offerer.send({ type: "response.cancel", event_id: "barge-cancel" });
  offerer.send({ type: "output_audio_buffer.clear", event_id: "barge-clear" });
  const done = await offerer.next("response.done", () => true, from);
  expect(done.response).toMatchObject({
    status: "cancelled",
    status_details: { reason: "client_cancelled" },
  });
  await offerer.next("output_audio_buffer.cleared", () => true, from);
  const atCancel = offerer.rtp.length;
  await sleep(200);
  expect(offerer.rtp.length - atCancel).toBeLessThanOrEqual(1);
  const log = (await (await fetch(`${fixture.peer.url}/debug/calls/${id}/events`)).json()) as {
    events: Array<{ type: string; event_id: string | null }>;
  };
  expect(log.events.slice(-2).map((e) => [e.type, e.event_id])).toEqual([
    ["response.cancel", "barge-cancel"],
    ["output_audio_buffer.clear", "barge-clear"],
  ]);
});

it("completes an uninterrupted response with output_audio_buffer.stopped before response.done", async () => {
  const { offerer } = await manualCall("RecvOnly");
  offerer.send({ type: "input_audio_buffer.append", audio: toBase64(sine(7200, 24_000, 300, 6000)) });
  offerer.send({ type: "input_audio_buffer.commit" });
  offerer.send({ type: "response.create" });
  const done = await offerer.next("response.done", () => true, 0, 3000);
  expect(done.response).toMatchObject({ status: "completed" });
  const types = offerer.events.map((e) => e.type);
  expect(types.indexOf("output_audio_buffer.started")).toBeLessThan(
    types.indexOf("output_audio_buffer.stopped"),
  );
  expect(types.indexOf("output_audio_buffer.stopped")).toBeLessThan(types.indexOf("response.done"));
  // 300 ms of audio → 15 packets of 20 ms.
  expect(offerer.rtp.length).toBeGreaterThanOrEqual(14);
});

it("records PCMU audio that arrives on the browser's track as 24 kHz WAV", async () => {
  const { offerer, id } = await manualCall("SendRecv");
  const tone = sine(8000, 8000, 440, 8000); // 1 s at 8 kHz, −15.3 dBFS
  const start = performance.now();
  for (let p = 0; p < 50; p++) {
    const payload = Uint8Array.from(tone.subarray(p * 160, (p + 1) * 160), (s) => linearToMulaw(s));
    offerer.sendRtp(
      buildRtp(
        { payloadType: 0, marker: p === 0, sequence: 100 + p, timestamp: 5000 + p * 160, ssrc: 4242 },
        payload,
      ),
    );
    await sleep(Math.max(0, start + (p + 1) * 20 - performance.now()));
  }
  await sleep(100);
  await fetch(`${fixture.peer.url}/v1/realtime/calls/${id}/hangup`, {
    method: "POST",
    headers: { authorization: `Bearer ${PEER_KEY}` },
  });
  const call = (await (await fetch(`${fixture.peer.url}/debug/calls/${id}`)).json()) as {
    track: { packets: number };
  };
  expect(call.track.packets).toBe(50);
  const wav = decodeWav(readFileSync(join(fixture.recordings, `${id}-track.wav`)));
  const samples = wav.channels[0] as Float32Array;
  expect(wav.sampleRate).toBe(24_000);
  expect(samples.length).toBeGreaterThanOrEqual(23_900);
  // The middle holds the tone at its level (μ-law keeps it within 0.5 dB) and frequency.
  const middle = samples.subarray(2400, 21_600);
  const rms = Math.sqrt(middle.reduce((sum, s) => sum + s * s, 0) / middle.length);
  expect(20 * Math.log10(rms)).toBeCloseTo(20 * Math.log10(8000 / 32768 / Math.SQRT2), 0);
  let crossings = 0;
  for (let i = 1; i < middle.length; i++)
    if ((middle[i - 1] as number) < 0 !== (middle[i] as number) < 0) crossings++;
  expect(crossings / 2 / (middle.length / 24_000)).toBeCloseTo(440, -1);
});

it("drops the data channel on request (the reconnect test's fault) and ends the call with its recording", async () => {
  const { offerer, id } = await manualCall("RecvOnly");
  offerer.send({ type: "input_audio_buffer.append", audio: toBase64(sine(4800, 24_000, 300, 6000)) });
  await offerer.until(() => true);
  await sleep(50);
  const control = await fetch(`${fixture.peer.url}/debug/calls/${id}/control`, {
    method: "POST",
    body: JSON.stringify({ action: "drop_data_channel" }),
  });
  expect(await control.json()).toEqual({ dropped: true });
  // A close raises no message event on the client, so poll its state.
  for (let i = 0; i < 60 && offerer.channelOpen; i++) await sleep(50);
  expect(offerer.channelOpen).toBe(false);
  const call = (await (await fetch(`${fixture.peer.url}/debug/calls/${id}`)).json()) as Record<
    string,
    unknown
  >;
  expect(call).toMatchObject({ state: "closed", end_reason: "data_channel_closed" });
  expect(decodeWav(readFileSync(join(fixture.recordings, `${id}.wav`))).channels[0]?.length).toBe(4800);
});

it("turns speech on the browser's audio track into server VAD turns, like appended audio", async () => {
  const speech = await speechTestFile({ sampleRate: 8000, seconds: 6, seed: 5 });
  const offerer = fixture.track(new RealtimeOfferer({ audio: "SendRecv" }));
  // Server VAD (the default), text answers: the voice plays no part here.
  const id = await offerer.call(fixture.peer.url, PEER_KEY, {
    type: "realtime",
    output_modalities: ["text"],
  });
  await offerer.next("session.created");
  // Packets are placed by RTP timestamp, so they may arrive faster than real time (4×, to keep the test short).
  const start = performance.now();
  const packets = Math.floor(speech.samples.length / 160);
  for (let p = 0; p < packets; p++) {
    const payload = Uint8Array.from(speech.samples.subarray(p * 160, (p + 1) * 160), (s) =>
      linearToMulaw(Math.max(-32768, Math.min(32767, Math.round(s * 32768)))),
    );
    offerer.sendRtp(
      buildRtp({ payloadType: 0, marker: p === 0, sequence: p, timestamp: p * 160, ssrc: 4242 }, payload),
    );
    await sleep(Math.max(0, start + (p + 1) * 5 - performance.now()));
  }
  const started = await offerer.next("input_audio_buffer.speech_started", () => true, 0, 10_000);
  const committed = await offerer.next("input_audio_buffer.committed", () => true, 0, 10_000);
  expect(committed.item_id).toBe(started.item_id);
  // The turn starts near the first labelled speech: within the 300 ms prefix padding plus the VAD's onset
  // latency and the energy labels' own error (one run measured 0.59 s; 1 s still catches a lost time base).
  const first = (speech.speech[0] as [number, number])[0];
  console.log(
    `track turn starts ${(started.audio_start_ms as number) / 1000} s; first labelled speech ${first} s`,
  );
  expect(Math.abs((started.audio_start_ms as number) / 1000 - first)).toBeLessThan(1);
  await offerer.next("response.done", () => true, 0, 10_000);
  const call = (await (await fetch(`${fixture.peer.url}/debug/calls/${id}`)).json()) as {
    input: { appends: number; track_samples: number };
    turns: unknown[];
  };
  expect(call.input.appends).toBe(0);
  expect(call.input.track_samples).toBeGreaterThan(5 * 24_000);
  expect(call.turns.length).toBeGreaterThanOrEqual(1);
});

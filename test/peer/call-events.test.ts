import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { linearToMulaw } from "../../demo/local-peer/g711.ts";
import { decodeWav } from "../../demo/local-peer/wav.ts";
import { PEER_KEY, useLocalPeer } from "./local-peer-fixture.ts";
import { RealtimeOfferer, toBase64 } from "./realtime-offerer.ts";

const fixture = useLocalPeer("peer-call-", { speech: "describe" });

/** Starts a call through the server-key multipart form (the worker's path) with `session`. */
async function callWithSession(session: Record<string, unknown>) {
  const offerer = new RealtimeOfferer();
  fixture.track(offerer);
  const form = new FormData();
  form.set("sdp", new Blob([await offerer.offer()], { type: "application/sdp" }));
  form.set("session", new Blob([JSON.stringify(session)], { type: "application/json" }));
  const response = await fetch(`${fixture.peer.url}/v1/realtime/calls`, {
    method: "POST",
    body: form,
    headers: { authorization: `Bearer ${PEER_KEY}` },
  });
  expect(response.status).toBe(201);
  expect(response.headers.get("content-type")).toBe("application/sdp");
  const location = response.headers.get("location") ?? "";
  expect(location).toMatch(/^\/v1\/realtime\/calls\/rtc_[A-Za-z0-9]+$/);
  const answer = await response.text();
  // Non-trickle: the answer already carries the loopback host candidate.
  expect(answer).toMatch(/a=candidate:\S+ 1 UDP \d+ 127\.0\.0\.1 \d+ typ host/);
  expect(answer).toMatch(/a=rtpmap:0 PCMU\/8000/);
  await offerer.connect(answer);
  await offerer.next("session.created");
  return { offerer, id: location.split("/").pop() as string };
}

const MANUAL = { type: "realtime", audio: { input: { turn_detection: null } } };

function tone(samples: number, amplitude = 8000): Int16Array {
  const out = new Int16Array(samples);
  for (let i = 0; i < samples; i++)
    out[i] = Math.round(amplitude * Math.sin((2 * Math.PI * 440 * i) / 24000));
  return out;
}

describe("a call over real WebRTC", () => {
  it("connects with an ek_ secret and sends session.created with the minted session", async () => {
    const minted = await fetch(`${fixture.peer.url}/v1/realtime/client_secrets`, {
      method: "POST",
      headers: { authorization: `Bearer ${PEER_KEY}`, "content-type": "application/json" },
      body: JSON.stringify({ session: { type: "realtime", instructions: "from the secret" } }),
    });
    const { value } = (await minted.json()) as { value: string };
    const offerer = new RealtimeOfferer();
    fixture.track(offerer);
    const response = await fetch(`${fixture.peer.url}/v1/realtime/calls`, {
      method: "POST",
      body: await offerer.offer(),
      headers: { authorization: `Bearer ${value}`, "content-type": "application/sdp" },
    });
    expect(response.status).toBe(201);
    await offerer.connect(await response.text());
    const created = await offerer.next("session.created");
    expect(created.event_id).toMatch(/^event_/);
    expect(created.session).toMatchObject({
      type: "realtime",
      object: "realtime.session",
      instructions: "from the secret",
    });
  });

  it("answers session.update with session.updated, and invalid updates with an error event", async () => {
    const { offerer } = await callWithSession({ type: "realtime" });
    offerer.send({
      type: "session.update",
      event_id: "evt_1",
      session: {
        type: "realtime",
        audio: { input: { turn_detection: { type: "semantic_vad", eagerness: "high" } } },
      },
    });
    const updated = await offerer.next("session.updated");
    expect(updated.session).toMatchObject({
      audio: {
        input: { turn_detection: { type: "semantic_vad", eagerness: "high", create_response: true } },
      },
    });
    offerer.send({
      type: "session.update",
      event_id: "evt_2",
      session: { type: "realtime", temperature: 0.7 },
    });
    const error = await offerer.next("error");
    // An unknown field is OpenAI's `unknown_parameter`, named in the worker's words.
    expect(error.error).toMatchObject({
      type: "invalid_request_error",
      code: "unknown_parameter",
      param: "session.temperature",
      message:
        "Invalid 'session.update' event: session.temperature: Unknown field \"temperature\": not allowed here",
      event_id: "evt_2",
    });
  });

  it("rejects malformed appends, short commits and unknown events without dropping the call", async () => {
    const { offerer } = await callWithSession(MANUAL);
    const errors = () =>
      offerer.events.filter((e) => e.type === "error").map((e) => e.error as Record<string, unknown>);
    offerer.send({ type: "input_audio_buffer.append", event_id: "a1", audio: "not base64!" });
    offerer.send({ type: "input_audio_buffer.append", event_id: "a2", audio: "AAE=" }); // 2 bytes: fine
    offerer.send({ type: "input_audio_buffer.append", event_id: "a3", audio: "AAEC" }); // 3 bytes: odd
    offerer.send({ type: "input_audio_buffer.append", event_id: "a4", audio: 42 });
    offerer.send({ type: "input_audio_buffer.commit", event_id: "c1" });
    offerer.send({ type: "no.such.event", event_id: "u1" });
    offerer.sendRaw("{oops");
    offerer.send({ type: "response.cancel", event_id: "x1" });
    await offerer.until(() => errors().length >= 7);
    expect(errors()).toEqual([
      expect.objectContaining({ code: "invalid_value", param: "audio", event_id: "a1" }),
      expect.objectContaining({ code: "invalid_value", param: "audio", event_id: "a3" }),
      expect.objectContaining({ code: "invalid_value", param: "audio", event_id: "a4" }),
      expect.objectContaining({ code: "input_audio_buffer_commit_empty", event_id: "c1" }),
      expect.objectContaining({ code: "invalid_value", param: "type", event_id: "u1" }),
      expect.objectContaining({ code: "invalid_json", event_id: null }),
      expect.objectContaining({ code: "response_cancel_not_active", event_id: "x1" }),
    ]);
    expect(offerer.channelOpen).toBe(true);
  });

  it("commits ≥ 100 ms, answers response.create, and records exactly what was appended", async () => {
    const { offerer, id } = await callWithSession({
      type: "realtime",
      output_modalities: ["text"],
      audio: { input: { turn_detection: null, transcription: { model: "gpt-4o-transcribe" } } },
    });
    const audio = tone(24_000); // 1 s at −15 dBFS RMS
    const frames = 50;
    const sentAt: number[] = [];
    for (let i = 0; i < frames; i++) {
      sentAt.push(performance.timeOrigin + performance.now());
      offerer.send({
        type: "input_audio_buffer.append",
        event_id: `f${i}`,
        seq: i,
        audio: toBase64(audio.subarray(i * 480, (i + 1) * 480)),
      });
    }
    offerer.send({ type: "input_audio_buffer.commit", event_id: "commit" });
    const committed = await offerer.next("input_audio_buffer.committed");
    expect(committed.item_id).toMatch(/^item_/);
    await offerer.next("conversation.item.added", (e) => (e.item as { id: string }).id === committed.item_id);
    const transcript = await offerer.next("conversation.item.input_audio_transcription.completed");
    expect(transcript).toMatchObject({
      item_id: committed.item_id,
      transcript: "[1.0 s of audio, -15 dBFS]",
    });
    offerer.send({ type: "response.create", event_id: "r1" });
    const done = await offerer.next("response.done");
    const response = done.response as { status: string; output: Array<{ content: Array<{ text: string }> }> };
    expect(response.status).toBe("completed");
    expect(response.output[0]?.content[0]?.text).toBe("Heard 1.0 s of audio at -15 dBFS.");
    const types = offerer.events.map((e) => e.type);
    expect(types.indexOf("response.created")).toBeLessThan(types.indexOf("response.output_text.done"));

    const log = (await (
      await fetch(`${fixture.peer.url}/debug/calls/${id}/events?type=input_audio_buffer.append`)
    ).json()) as {
      events: Array<{
        seq: number;
        event_id: string;
        received_at: number;
        start_sample: number;
        samples: number;
        client: { seq: number };
      }>;
    };
    expect(log.events.map((e) => e.client.seq)).toEqual([...Array(frames).keys()]);
    expect(log.events.map((e) => e.start_sample)).toEqual([...Array(frames).keys()].map((i) => i * 480));
    const latency = log.events.map((e, i) => e.received_at - (sentAt[i] as number)).sort((a, b) => a - b);
    console.log(
      `append → peer log latency, burst of 50 frames over loopback WebRTC: p50 ${latency[25]?.toFixed(2)} ms, p95 ${latency[47]?.toFixed(2)} ms`,
    );
    expect(latency[0]).toBeGreaterThan(0);

    const hangup = await fetch(`${fixture.peer.url}/v1/realtime/calls/${id}/hangup`, {
      method: "POST",
      headers: { authorization: `Bearer ${PEER_KEY}` },
    });
    expect(hangup.status).toBe(200);
    const wav = decodeWav(readFileSync(join(fixture.recordings, `${id}.wav`)));
    expect(wav.sampleRate).toBe(24000);
    const heard = Int16Array.from(wav.channels[0] as Float32Array, (s) => Math.round(s * 32768));
    expect(heard).toEqual(audio);
    const turn = decodeWav(readFileSync(join(fixture.recordings, `${id}-turn-1.wav`)));
    expect(turn.channels[0]?.length).toBe(24_000);
    const summary = (await (await fetch(`${fixture.peer.url}/debug/calls/${id}`)).json()) as Record<
      string,
      unknown
    >;
    expect(summary).toMatchObject({ state: "closed", end_reason: "hangup", input: { appends: frames } });
  });

  it("decodes audio/pcmu appends to 24 kHz PCM16 when the session's input format asks for it", async () => {
    const { offerer, id } = await callWithSession({
      type: "realtime",
      audio: { input: { format: { type: "audio/pcmu" }, turn_detection: null } },
    });
    const narrow = Uint8Array.from({ length: 8000 }, (_, i) =>
      linearToMulaw(Math.round(8000 * Math.sin((2 * Math.PI * 440 * i) / 8000))),
    );
    for (let i = 0; i < narrow.length; i += 160)
      offerer.send({
        type: "input_audio_buffer.append",
        audio: Buffer.from(narrow.subarray(i, i + 160)).toString("base64"),
      });
    offerer.send({ type: "input_audio_buffer.commit" });
    await offerer.next("input_audio_buffer.committed");
    const turn = decodeWav(readFileSync(join(fixture.recordings, `${id}-turn-1.wav`)));
    const samples = turn.channels[0] as Float32Array;
    // 1 s at 8 kHz → 1 s at 24 kHz, minus the resampler's delay still in its filter.
    expect(samples.length).toBeGreaterThan(23_800);
    const middle = samples.subarray(2400, 21_600);
    const rms = Math.sqrt(middle.reduce((sum, s) => sum + s * s, 0) / middle.length);
    expect(20 * Math.log10(rms)).toBeCloseTo(20 * Math.log10(8000 / 32768 / Math.SQRT2), 0);
  });

  it("answers conversation.item.retrieve and .delete as OpenAI does (agents-realtime sends both)", async () => {
    const { offerer } = await callWithSession(MANUAL);
    const item = {
      id: "item_user1",
      type: "message",
      role: "user",
      content: [{ type: "input_text", text: "hi" }],
    };
    offerer.send({ type: "conversation.item.create", item });
    await offerer.next("conversation.item.done");
    offerer.send({ type: "conversation.item.retrieve", item_id: "item_user1" });
    const retrieved = await offerer.next("conversation.item.retrieved");
    expect(retrieved.item).toMatchObject({ ...item, object: "realtime.item" });
    offerer.send({ type: "conversation.item.delete", item_id: "item_user1", event_id: "d1" });
    expect(await offerer.next("conversation.item.deleted")).toMatchObject({ item_id: "item_user1" });
    offerer.send({ type: "conversation.item.retrieve", item_id: "item_user1", event_id: "r2" });
    const error = await offerer.next("error");
    expect(error.error).toMatchObject({ code: "item_not_found", param: "item_id", event_id: "r2" });
  });
});

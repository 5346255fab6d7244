/**
 * The peer with its real engines (PocketSphinx, Flite): known text spoken by Flite is appended as the user's
 * turn, transcribed (`…input_audio_transcription.delta` / `.completed`), answered in words and in voice; a session
 * tool named by the user is called (`response.function_call_arguments.*`) and its output answered; a cancel
 * mid-utterance keeps only the spoken words; a missing recognizer gives `.failed`, not a crash.
 */
import { expect, it } from "vitest";
import { synthesize } from "../../demo/local-peer/speech/synthesizer.ts";
import type { SpeechEngines } from "../../demo/local-peer/speech-engines.ts";
import { assistantReply } from "../../demo/local-peer/speech-engines.ts";
import { PEER_KEY, useLocalPeer } from "./local-peer-fixture.ts";
import { RealtimeOfferer, type ServerEvent, toBase64 } from "./realtime-offerer.ts";

const fixture = useLocalPeer("peer-speech-");

async function call(session: Record<string, unknown>, url = fixture.peer.url) {
  const offerer = fixture.track(new RealtimeOfferer());
  await offerer.call(url, PEER_KEY, session);
  await offerer.next("session.created");
  return offerer;
}

/** Flite's speech of `text` at 24 kHz, as a client would append it, with 300 ms of silence on each side. */
async function spoken(text: string): Promise<Int16Array> {
  const speech = await synthesize(text, { sampleRate: 24_000 });
  const out = new Int16Array(speech.pcm.length + 14_400);
  out.set(speech.pcm, 7200);
  return out;
}

function append(offerer: RealtimeOfferer, pcm: Int16Array): void {
  for (let i = 0; i < pcm.length; i += 4800)
    offerer.send({ type: "input_audio_buffer.append", audio: toBase64(pcm.subarray(i, i + 4800)) });
}

const words = (text: string): string[] => text.toLowerCase().match(/[a-z]+/g) ?? [];
const MANUAL = { turn_detection: null, transcription: { model: "gpt-4o-transcribe" } };

it("transcribes a spoken turn, orders the events like OpenAI and answers in words and voice", async () => {
  const offerer = await call({ type: "realtime", audio: { input: MANUAL } });
  const text = "the weather is nice today";
  append(offerer, await spoken(text));
  offerer.send({ type: "input_audio_buffer.commit" });
  const committed = await offerer.next("input_audio_buffer.committed");
  const completed = await offerer.next(
    "conversation.item.input_audio_transcription.completed",
    () => true,
    0,
    20_000,
  );
  const heard = String(completed.transcript);
  console.log(`Flite said "${text}"; PocketSphinx heard "${heard}"`);
  expect(completed).toMatchObject({
    item_id: committed.item_id,
    content_index: 0,
    usage: { type: "duration" },
  });
  // A coarse check (≈ 16–18 % WER on Flite's voice): most words come back.
  const hits = words(text).filter((w) => words(heard).includes(w)).length;
  expect(hits).toBeGreaterThanOrEqual(3);
  const types = offerer.events.map((e) => e.type);
  const delta = types.indexOf("conversation.item.input_audio_transcription.delta");
  expect(delta).toBeGreaterThan(types.indexOf("conversation.item.done"));
  expect(delta).toBeLessThan(types.indexOf("conversation.item.input_audio_transcription.completed"));

  offerer.send({ type: "response.create" });
  const done = await offerer.next("response.done", () => true, 0, 20_000);
  const response = done.response as {
    status: string;
    output: Array<{ content: Array<{ transcript: string }> }>;
    usage: { output_token_details: { audio_tokens: number } };
  };
  expect(response.status).toBe("completed");
  const answer = response.output[0]?.content[0]?.transcript ?? "";
  expect(answer).toBe(`You said: ${heard}.`);
  const streamed = offerer.events
    .filter((e) => e.type === "response.output_audio_transcript.delta")
    .map((e) => e.delta)
    .join("");
  expect(streamed).toBe(answer);
  // Spoken: the voice went out on the track (Opus), about as long as Flite's speech of the answer.
  expect(offerer.rtp.length).toBeGreaterThan(50);
  expect(response.usage.output_token_details.audio_tokens).toBeGreaterThan(20);
});

it("calls a session tool the user names and answers its output", async () => {
  const offerer = await call({
    type: "realtime",
    output_modalities: ["text"],
    audio: { input: { turn_detection: null } },
    tools: [
      {
        type: "function",
        name: "get_weather",
        description: "The weather in a city",
        parameters: { type: "object", properties: { city: { type: "string" } }, required: ["city"] },
      },
    ],
  });
  offerer.send({
    type: "conversation.item.create",
    item: {
      type: "message",
      role: "user",
      content: [{ type: "input_text", text: "What is the weather in Paris" }],
    },
  });
  offerer.send({ type: "response.create" });
  const args = await offerer.next("response.function_call_arguments.done");
  expect(args).toMatchObject({ name: "get_weather" });
  expect(JSON.parse(String(args.arguments))).toEqual({ city: expect.stringMatching(/^paris$/i) });
  const deltas = offerer.events.filter((e) => e.type === "response.function_call_arguments.delta");
  expect(deltas.map((e) => e.delta).join("")).toBe(args.arguments);
  const added = offerer.events.find((e) => e.type === "response.output_item.added") as ServerEvent;
  expect(added.item).toMatchObject({ type: "function_call", name: "get_weather", call_id: args.call_id });
  const first = await offerer.next("response.done");
  expect((first.response as { output: Array<{ type: string; arguments: string }> }).output[0]).toMatchObject({
    type: "function_call",
    arguments: args.arguments,
  });
  const from = offerer.events.length;
  offerer.send({
    type: "conversation.item.create",
    item: { type: "function_call_output", call_id: args.call_id, output: '{"sky":"clear"}' },
  });
  offerer.send({ type: "response.create" });
  const second = await offerer.next("response.done", () => true, from);
  expect(
    (second.response as { output: Array<{ content: Array<{ text: string }> }> }).output[0]?.content[0]?.text,
  ).toMatch(/^The get weather result is: .*clear/);
});

it("keeps only the spoken words when the voice is cut mid-utterance, and truncates on request", async () => {
  const offerer = await call({ type: "realtime", audio: { input: { turn_detection: null } } });
  offerer.send({
    type: "conversation.item.create",
    item: {
      type: "message",
      role: "user",
      content: [
        { type: "input_text", text: "one two three four five six seven eight nine ten eleven twelve" },
      ],
    },
  });
  offerer.send({ type: "response.create" });
  await offerer.next("output_audio_buffer.started", () => true, 0, 20_000);
  await new Promise((resolve) => setTimeout(resolve, 1000));
  offerer.send({ type: "response.cancel" });
  const done = await offerer.next("response.done");
  const response = done.response as {
    status: string;
    output: Array<{ id: string; content: Array<{ transcript: string }> }>;
  };
  expect(response.status).toBe("cancelled");
  const full = "You said: one two three four five six seven eight nine ten eleven twelve.";
  const kept = response.output[0]?.content[0]?.transcript ?? "";
  console.log(`cut after ~1 s: "${kept}"`);
  expect(kept.length).toBeGreaterThan(0);
  expect(kept.length).toBeLessThan(full.length);
  expect(full.startsWith(kept)).toBe(true);
  const itemId = response.output[0]?.id as string;
  offerer.send({ type: "conversation.item.truncate", item_id: itemId, content_index: 0, audio_end_ms: 0 });
  await offerer.next("conversation.item.truncated");
  offerer.send({ type: "conversation.item.retrieve", item_id: itemId });
  const retrieved = await offerer.next("conversation.item.retrieved");
  expect(retrieved.item).toMatchObject({ content: [{ type: "output_audio", transcript: "" }] });
});

it("reports transcription as failed when the recognizer is missing, and keeps the call", async () => {
  const { startLocalPeer } = await import("../../demo/local-peer/local-peer.ts");
  const engines: SpeechEngines = {
    recognizer: {
      available: false,
      reason: "libpocketsphinx.so.3 not found",
      transcribe: () => Promise.reject(new Error("unavailable")),
    },
    synthesize: null,
    reply: assistantReply,
  };
  const peer = await startLocalPeer({ apiKey: PEER_KEY, recordings: fixture.recordings, speech: engines });
  try {
    const offerer = await call(
      { type: "realtime", output_modalities: ["text"], audio: { input: MANUAL } },
      peer.url,
    );
    append(
      offerer,
      new Int16Array(4800).map((_, i) => Math.round(4000 * Math.sin(i / 5))),
    );
    offerer.send({ type: "input_audio_buffer.commit" });
    const failed = await offerer.next("conversation.item.input_audio_transcription.failed");
    expect(failed.error).toMatchObject({
      type: "transcription_error",
      message: expect.stringContaining("libpocketsphinx.so.3 not found"),
    });
    offerer.send({ type: "response.create" });
    expect((await offerer.next("response.done")).response).toMatchObject({ status: "completed" });
  } finally {
    await peer.close();
  }
});

it("recognises a server VAD turn while it is spoken and answers soon after it ends", async () => {
  const offerer = await call({
    type: "realtime",
    audio: { input: { transcription: { model: "gpt-4o-transcribe" } } },
  });
  const text = "please tell me what time it is";
  const pcm = await spoken(text);
  // Paced at 4× real time in 100 ms appends, so the turn streams to the recognizer while it is "spoken".
  const silence = new Int16Array(24_000);
  const turn = new Int16Array(pcm.length + silence.length);
  turn.set(pcm);
  for (let i = 0; i < turn.length; i += 2400) {
    offerer.send({ type: "input_audio_buffer.append", audio: toBase64(turn.subarray(i, i + 2400)) });
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  const completed = await offerer.next(
    "conversation.item.input_audio_transcription.completed",
    () => true,
    0,
    20_000,
  );
  await offerer.next("output_audio_buffer.started", () => true, 0, 20_000);
  const id = [...fixture.peer.calls.keys()].at(-1) as string;
  const sent = fixture.peer.calls.get(id)?.log.sent ?? [];
  const at = (type: string) => sent.find((e) => e.event.type === type)?.sent_at ?? Number.NaN;
  const toTranscript =
    at("conversation.item.input_audio_transcription.completed") - at("input_audio_buffer.speech_stopped");
  const toVoice = at("output_audio_buffer.started") - at("response.created");
  console.log(
    `server VAD turn "${completed.transcript}": speech_stopped → transcription.completed ${toTranscript.toFixed(0)} ms, response.created → first voice ${toVoice.toFixed(0)} ms`,
  );
  expect(words(String(completed.transcript))).toContain("time");
  // Generous bounds for a loaded 2-core machine; the figures above are what to read.
  expect(toTranscript).toBeLessThan(3000);
  expect(toVoice).toBeLessThan(4000);
  const done = await offerer.next("response.done", () => true, 0, 20_000);
  expect(
    (done.response as { output: Array<{ content: Array<{ transcript: string }> }> }).output[0]?.content[0]
      ?.transcript,
  ).toMatch(/^It is /);
});

it("speaks a multi-sentence answer as one utterance, sentence after sentence", async () => {
  const offerer = await call({
    type: "realtime",
    instructions: "Be brief. Answer in plain English. Never read secrets aloud.",
    audio: { input: { turn_detection: null } },
  });
  offerer.send({
    type: "conversation.item.create",
    item: {
      type: "message",
      role: "user",
      content: [{ type: "input_text", text: "What are your instructions" }],
    },
  });
  offerer.send({ type: "response.create" });
  const done = await offerer.next("response.done", () => true, 0, 30_000);
  const response = done.response as {
    status: string;
    output: Array<{ content: Array<{ transcript: string }> }>;
    usage: { output_token_details: { audio_tokens: number } };
  };
  expect(response.status).toBe("completed");
  expect(response.output[0]?.content[0]?.transcript).toMatch(/^My instructions are: Be brief\..*aloud/);
  const types = offerer.events.map((e) => e.type);
  // One started/stopped pair: the sentences joined without a gap the client would see.
  expect(types.filter((t) => t === "output_audio_buffer.started")).toHaveLength(1);
  expect(types.indexOf("output_audio_buffer.stopped")).toBeLessThan(types.indexOf("response.done"));
  // Every sentence was spoken: well over 2.5 s of voice (1 audio token per 50 ms).
  console.log(`multi-sentence answer: ${response.usage.output_token_details.audio_tokens * 50} ms of voice`);
  expect(response.usage.output_token_details.audio_tokens).toBeGreaterThan(50);
});

/**
 * Conversation behaviour on the whole path (demo page in Chromium → worker → local peer), with recorded speech
 * as the fake microphone: client turns, silence gating under server VAD, and a reconnect that loses nothing.
 */
import { join, resolve } from "node:path";
import type { Browser } from "playwright-core";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { type Stack, startStack } from "../../demo/start.ts";
import { decodeAudio, speechTestFile } from "../fixtures/speech-corpus.ts";
import { compareOverRegions, lowPass } from "./alignment.ts";
import { launchWithMicrophone } from "./browser.ts";
import { type DemoResult, runDemo } from "./demo-run.ts";
import {
  type AppendRecord,
  callRecording,
  callRecordingFile,
  listCalls,
  parseAppendId,
  receivedEvents,
  sentEvents,
} from "./peer-api.ts";
import { conversation, type Input, withClick, withLead } from "./speech-input.ts";

const root = resolve(import.meta.dirname, "../..");
const outDir = resolve(process.env.E2E_OUT ?? join(root, "test-results/e2e"));

let stack: Stack;
let browser: Browser;
let input: Input;
let pauses: Input;
let click: Input & { clickS: number };

beforeAll(async () => {
  // The echoing stand-in model answers at once: these tests time the client's turns and barge-in against the
  // model's voice, which with the speech engines starts only after recognition and synthesis.
  stack = await startStack({
    forceLocalPeer: true,
    peerArgs: ["--recordings", join(outDir, "recordings"), "--speech", "describe"],
  });
  const speech = await speechTestFile({ sampleRate: 48_000, seconds: 10, seed: 4 });
  input = withLead(
    { name: "conversation-48000hz", path: speech.path, speech: speech.speech },
    join(outDir, "inputs"),
  );
  const parts = await Promise.all(
    [11, 12, 13].map((seed) => speechTestFile({ sampleRate: 48_000, seconds: 4, seed })),
  );
  pauses = conversation(
    "pauses-48000hz",
    parts.map((part) => ({
      path: part.path,
      speech: part.speech,
      seconds: part.samples.length / part.sampleRate,
    })),
    3,
    join(outDir, "inputs"),
  );
  click = withClick("click-48000hz", parts[0] as (typeof parts)[0], 0.9, 100, 4, join(outDir, "inputs"));
  browser = await launchWithMicrophone(input.path);
});

afterAll(async () => {
  await browser?.close();
  await stack?.stop();
});

/** Calls the peer saw since `before`, oldest first. */
async function newCalls(before: Set<string>): Promise<string[]> {
  return (await listCalls(stack.peerUrl as string)).map((call) => call.id).filter((id) => !before.has(id));
}

async function callIds(): Promise<Set<string>> {
  return new Set((await listCalls(stack.peerUrl as string)).map((call) => call.id));
}

/** Waits until the peer has ended every call in `ids` (recordings are complete then). */
async function ended(ids: string[]): Promise<void> {
  for (let i = 0; i < 50; i++) {
    const calls = await listCalls(stack.peerUrl as string);
    if (ids.every((id) => calls.find((call) => call.id === id)?.ended_at)) return;
    await new Promise((done) => setTimeout(done, 100));
  }
}

/**
 * The client's 24 kHz timeline rebuilt from what the peer received: each append's audio placed at its frame's
 * timestamp (from the event id's sequence number), zeros where nothing was sent.
 */
async function receivedTimeline(result: DemoResult, calls: string[]): Promise<Float32Array> {
  const timestamps = new Map(result.frames.map((frame) => [frame.seq, frame.timestamp]));
  const last = result.frames.at(-1);
  const timeline = new Float32Array((last?.timestamp ?? 0) + 960);
  for (const id of calls) {
    const { samples } = await callRecording(stack.peerUrl as string, id);
    for (const event of await receivedEvents(stack.peerUrl as string, id, "input_audio_buffer.append")) {
      const seq = parseAppendId(event.event_id)?.seq as number;
      const at = timestamps.get(seq) as number;
      timeline.set(
        samples.subarray(event.start_sample ?? 0, (event.start_sample ?? 0) + (event.samples ?? 0)),
        at,
      );
    }
  }
  return timeline;
}

function seqsOf(appends: AppendRecord[]): number[] {
  return appends.map((event) => parseAppendId(event.event_id)?.seq as number);
}

describe("conversation behaviour", () => {
  test("client turns: one commit + response.create per local utterance, none in silence", async () => {
    const before = await callIds();
    const result = await runDemo(browser, {
      url: `${stack.workerUrl}/?turns=client&processing=off&bargeInMs=0`,
      seconds: input.seconds + 1.2,
    });
    expect(result.errors).toEqual([]);
    const [call] = await newCalls(before);
    await ended([call as string]);
    const events = await receivedEvents(stack.peerUrl as string, call as string);
    const control = events.filter((event) => event.type !== "input_audio_buffer.append");
    const utterances = result.speech.filter((event) => event.type === "speechend").length;
    // Each local speech end: commit, then response.create, in that order, and nothing the peer refused.
    expect(control.filter((event) => event.error)).toEqual([]);
    // A response.cancel may precede a commit when the previous answer is still being generated.
    const types = control
      .map((event) => event.type)
      .filter((type) => type !== "session.update" && type !== "response.cancel");
    expect(types).toEqual(
      Array.from({ length: utterances }, () => ["input_audio_buffer.commit", "response.create"]).flat(),
    );
    expect(result.stats.commits).toBe(utterances);
    // Every labelled utterance ended locally (a commit followed it); the peer's server VAD stayed off.
    expect(utterances).toBeGreaterThanOrEqual(input.speech.length > 0 ? 1 : 0);
    const server = await sentEvents(stack.peerUrl as string, call as string);
    expect(server.filter((event) => event.event.type === "input_audio_buffer.speech_started")).toEqual([]);
    console.log(`[e2e] client turns: ${utterances} local utterances → ${result.stats.commits} commits`);
  });

  test("gating with server VAD: speech_stopped per utterance, every labelled frame sent, at most half the bytes", async () => {
    const before = await callIds();
    const gated = await launchWithMicrophone(pauses.path);
    let result: DemoResult;
    try {
      result = await runDemo(gated, {
        url: `${stack.workerUrl}/?gate=1&processing=off&bargeInMs=0`,
        seconds: pauses.seconds + 1.2,
      });
    } finally {
      await gated.close();
    }
    expect(result.errors).toEqual([]);
    const [call] = await newCalls(before);
    await ended([call as string]);
    const captured = result.frames.reduce((sum, frame) => sum + frame.bytes, 0);
    expect(result.stats.bytesSent).toBeLessThanOrEqual(captured / 2);
    // Every frame inside a local speech segment went out.
    const seqs = new Set(
      seqsOf(await receivedEvents(stack.peerUrl as string, call as string, "input_audio_buffer.append")),
    );
    expect(result.frames.filter((frame) => frame.speech && !seqs.has(frame.seq))).toEqual([]);
    // The labelled speech is all there, sample for sample: the timeline rebuilt from the peer's recording matches
    // the source over every labelled region.
    const timeline = await receivedTimeline(result, [call as string]);
    const reference = await decodeAudio(pauses.path, 24_000);
    const fidelity = compareOverRegions(
      lowPass(reference, 24_000, 9500),
      lowPass(timeline, 24_000, 9500),
      24_000,
      pauses.speech,
    );
    expect(fidelity.regions.length).toBe(pauses.speech.length);
    const perRegion = fidelity.regions.map((region) => region.snrDb.toFixed(0)).join(", ");
    expect(fidelity.snrDb, `per labelled region: ${perRegion} dB`).toBeGreaterThanOrEqual(30);
    // Gating never stalls the server's turn detection: it saw each utterance stop.
    const server = await sentEvents(stack.peerUrl as string, call as string);
    const stopped = server.filter((event) => event.event.type === "input_audio_buffer.speech_stopped").length;
    const utterances = result.speech.filter((event) => event.type === "speechend").length;
    expect(stopped).toBeGreaterThanOrEqual(utterances);
    console.log(
      `[e2e] gating: sent ${result.stats.bytesSent} of ${captured} bytes (${((100 * result.stats.bytesSent) / captured).toFixed(0)} %), ` +
        `${result.stats.framesWithheld} frames withheld, ${stopped} speech_stopped for ${utterances} utterances, SNR ${fidelity.snrDb.toFixed(1)} dB`,
    );
  });

  test("reconnect: the peer drops the data channel mid-utterance; both calls together hold every frame once, in order", async () => {
    const before = await callIds();
    const peer = stack.peerUrl as string;
    const result = await runDemo(browser, {
      url: `${stack.workerUrl}/?processing=off&bargeInMs=0`,
      seconds: input.seconds + 1.2,
      during: {
        afterS: input.speech[1] ? input.speech[1][0] + 0.2 : 4,
        action: async () => {
          const [call] = await newCalls(before);
          const response = await fetch(`${peer}/debug/calls/${call}/control`, {
            method: "POST",
            headers: { "content-type": "application/json" },
            body: JSON.stringify({ action: "drop_data_channel" }),
          });
          expect(response.ok).toBe(true);
        },
      },
    });
    const calls = await newCalls(before);
    await ended(calls);
    expect(calls.length).toBe(2);
    expect(result.stats.reconnects).toBe(1);
    expect(result.states).toContain("reconnecting");
    expect(result.errors.filter((error) => error.code !== "channel_closed")).toEqual([]);
    const perCall = await Promise.all(
      calls.map(async (id) => seqsOf(await receivedEvents(peer, id, "input_audio_buffer.append"))),
    );
    const seqs = perCall.flat();
    // In order and never twice, across both calls.
    expect(seqs).toEqual([...seqs].sort((a, b) => a - b));
    expect(new Set(seqs).size).toBe(seqs.length);
    // Frames still in the browser's send buffer when the channel died are resent on the new call. A frame the
    // browser had already handed to SCTP while the peer was closing its end is discarded by the peer, and the
    // protocol has no acknowledgement to notice it: at most that one frame, at the boundary, may be missing.
    const received = new Set(seqs);
    const missing = result.frames.map((frame) => frame.seq).filter((seq) => !received.has(seq));
    const boundary = (perCall[0]?.at(-1) ?? -1) + 1;
    expect(missing.filter((seq) => seq !== boundary)).toEqual([]);
    expect(result.stats.framesDropped).toBe(0);
    const timeline = await receivedTimeline(result, calls);
    const reference = await decodeAudio(input.path, 24_000);
    const fidelity = compareOverRegions(
      lowPass(reference, 24_000, 9500),
      lowPass(timeline, 24_000, 9500),
      24_000,
      input.speech,
    );
    expect(fidelity.snrDb).toBeGreaterThanOrEqual(30);
    console.log(
      `[e2e] reconnect: ${seqs.length} of ${result.frames.length} frames across ${calls.length} calls ` +
        `(missing: ${missing.length ? missing.join(", ") : "none"}), SNR ${fidelity.snrDb.toFixed(1)} dB`,
    );
  });

  test("barge-in: speech while the model speaks stops it within 300 ms of onset", async () => {
    const before = await callIds();
    const peer = stack.peerUrl as string;
    // Client turns: the peer answers each committed turn by replaying it, and never interrupts on its own.
    const result = await runDemo(browser, {
      url: `${stack.workerUrl}/?turns=client&processing=off&bargeInMs=200`,
      seconds: input.seconds + 1.2,
    });
    const [call] = await newCalls(before);
    await ended([call as string]);
    expect(result.bargeIns.length).toBeGreaterThanOrEqual(1);
    const events = await receivedEvents(peer, call as string);
    const cancels = events.filter((event) => event.type === "response.cancel");
    const clears = events.filter((event) => event.type === "output_audio_buffer.clear");
    expect(clears.length).toBe(result.bargeIns.length);
    // Each barge-in: the first frame of the run of speech frames that triggered it, captured at `capturedAt`
    // (frame end, from the append's event id), against the time the peer received response.cancel.
    const captured = new Map(
      events.flatMap((event) => {
        const id = parseAppendId(event.event_id);
        return id ? [[id.seq, id.capturedAt] as const] : [];
      }),
    );
    const latencies = result.bargeIns.map((bargeIn) => {
      let index = result.frames.findIndex((frame) => frame.timestamp === bargeIn.sample);
      while (index > 0 && (result.frames[index - 1]?.probability ?? 0) >= 0.5) index--;
      const onsetFrame = result.frames[index] as (typeof result.frames)[0];
      const onset = (captured.get(onsetFrame.seq) as number) - onsetFrame.bytes / 48;
      const cancel = cancels.find((event) => event.received_at >= onset) as AppendRecord;
      return cancel.received_at - onset;
    });
    const server = await sentEvents(peer, call as string);
    expect(
      server.some(
        (event) =>
          event.event.type === "output_audio_buffer.stopped" ||
          event.event.type === "output_audio_buffer.cleared",
      ),
    ).toBe(true);
    console.log(
      `[e2e] barge-in: ${result.bargeIns.length} interruption(s), onset → cancel at the peer ${latencies.map((ms) => `${ms.toFixed(0)} ms`).join(", ")}`,
    );
    for (const ms of latencies) expect(ms).toBeLessThanOrEqual(300);
  });

  test("barge-in: a 100 ms click while the model speaks does not interrupt it", async () => {
    const before = await callIds();
    const clicking = await launchWithMicrophone(click.path);
    let result: DemoResult;
    try {
      result = await runDemo(clicking, {
        url: `${stack.workerUrl}/?turns=client&processing=off&bargeInMs=200`,
        seconds: click.seconds + 0.5,
      });
    } finally {
      await clicking.close();
    }
    const [call] = await newCalls(before);
    await ended([call as string]);
    const server = await sentEvents(stack.peerUrl as string, call as string);
    // The model was speaking when the click came: the loudest frame around the click's place in the file, by
    // its capture time, lies between the start and the natural end of one of the model's utterances.
    const events = await receivedEvents(stack.peerUrl as string, call as string);
    const captured = new Map(
      events.flatMap((event) => {
        const id = parseAppendId(event.event_id);
        return id ? [[id.seq, id.capturedAt] as const] : [];
      }),
    );
    const near = result.frames.filter((frame) => Math.abs(frame.timestamp / 24_000 - click.clickS) < 0.5);
    const loudest = near.reduce((a, b) => (b.level > a.level ? b : a));
    const clickAt = captured.get(loudest.seq) as number;
    expect(loudest.level).toBeGreaterThan(-30);
    const spans: Array<[number, number]> = [];
    for (const event of server) {
      if (event.event.type === "output_audio_buffer.started")
        spans.push([event.sent_at, Number.POSITIVE_INFINITY]);
      else if (event.event.type === "output_audio_buffer.stopped" && spans.at(-1))
        (spans.at(-1) as [number, number])[1] = event.sent_at;
    }
    expect(
      spans.some(([start, end]) => start < clickAt && clickAt < end && end !== Number.POSITIVE_INFINITY),
    ).toBe(true);
    expect(result.bargeIns).toEqual([]);
    expect(events.filter((event) => event.type === "output_audio_buffer.clear")).toEqual([]);
  });

  test("backpressure: a stalled peer fills the channel; the queue stays bounded and every drop is reported", async () => {
    const before = await callIds();
    const peer = stack.peerUrl as string;
    const pid = stack.peerPid as number;
    // 1 s of queue, and sending pauses once 16 KiB wait in the channel: a stalled reader fills both quickly.
    const maxQueueMs = 1000;
    let result: DemoResult;
    try {
      result = await runDemo(browser, {
        url: `${stack.workerUrl}/?processing=off&bargeInMs=0&maxQueueMs=${maxQueueMs}&highWaterMark=16384`,
        seconds: 6,
        during: {
          afterS: 2,
          action: async () => {
            // The peer stops reading: SCTP's window closes, Chromium's bufferedAmount grows, the queue fills.
            process.kill(pid, "SIGSTOP");
            await new Promise((done) => setTimeout(done, 3000));
            process.kill(pid, "SIGCONT");
          },
        },
      });
    } finally {
      process.kill(pid, "SIGCONT");
    }
    const [call] = await newCalls(before);
    await ended([call as string]);
    const bound = Math.ceil(maxQueueMs / 20);
    expect(result.maxQueued).toBeLessThanOrEqual(bound);
    expect(result.drops.length).toBe(result.stats.framesDropped);
    expect(result.stats.framesDropped).toBeGreaterThan(0);
    const speechDropped = result.frames.filter(
      (frame) => frame.speech && result.drops.includes(frame.seq),
    ).length;
    expect(result.stats.speechFramesDropped).toBe(speechDropped);
    if (speechDropped > 0) expect(result.errors.some((error) => error.code === "frames_dropped")).toBe(true);
    // What arrived is exactly what was captured minus what was reported dropped, in order, once each.
    const dropped = new Set(result.drops);
    const seqs = seqsOf(await receivedEvents(peer, call as string, "input_audio_buffer.append"));
    expect(seqs).toEqual(result.frames.map((frame) => frame.seq).filter((seq) => !dropped.has(seq)));
    console.log(
      `[e2e] backpressure: at most ${result.maxQueued} frames queued (bound ${bound}), ${result.stats.framesDropped} dropped ` +
        `(${speechDropped} speech, reported), ${seqs.length} delivered in order`,
    );
  });

  test("track mode: the processed audio reaches the peer on the WebRTC audio track", async () => {
    const before = await callIds();
    const peer = stack.peerUrl as string;
    const result = await runDemo(browser, {
      url: `${stack.workerUrl}/?audio=track&processing=off&bargeInMs=0`,
      seconds: input.seconds + 1.2,
    });
    expect(result.errors).toEqual([]);
    const [call] = await newCalls(before);
    await ended([call as string]);
    // No appends on the data channel: the audio went as media.
    expect(await receivedEvents(peer, call as string, "input_audio_buffer.append")).toEqual([]);
    const response = await fetch(`${peer}/recordings/${call}-track.wav`);
    expect(response.ok).toBe(true);
    const { samples } = await callRecordingFile(response);
    // The peer decodes G.711 μ-law at 8 kHz: compare within its 3.4 kHz band.
    const reference = await decodeAudio(input.path, 24_000);
    const fidelity = compareOverRegions(
      lowPass(reference, 24_000, 3400),
      lowPass(samples, 24_000, 3400),
      24_000,
      input.speech,
    );
    console.log(
      `[e2e] track mode: ${(samples.length / 24_000).toFixed(1)} s received as RTP, SNR ${fidelity.snrDb.toFixed(1)} dB (G.711 band)`,
    );
    expect(fidelity.snrDb).toBeGreaterThanOrEqual(20);
  });
});

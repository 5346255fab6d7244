/**
 * Known-text speech through the whole path: 20 Asterisk prompts (recorded human speech with their transcripts),
 * one after another with 1 s of silence between them, played by Chromium's fake microphone into the demo page →
 * `wrangler dev` (the worker's SDP proxy) → the local peer with its real engines, the session asking for
 * `audio.input.transcription`. Server VAD makes each prompt a turn; the peer transcribes what it received.
 *
 * The guard: the peer's word error rate on what it received is within 10 points of the same engine's on the
 * source files (a coarse check against a wrong rate, lost or duplicated frames, clipping; PocketSphinx itself
 * is far from OpenAI's quality, so the absolute figure is not the point). Both are printed. Also checked: the
 * conversation events arrive in OpenAI's order, the page saw exactly what the peer sent, and the assistant's
 * voice played in the page. `UPDATE_SCREENSHOT=1` refreshes `docs/demo.png` from this run.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import type { Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { createRecognizer } from "../../demo/local-peer/speech/recognizer.ts";
import { encodeWav } from "../../demo/local-peer/wav.ts";
import { type Stack, startStack } from "../../demo/start.ts";
import type { ServerEvent } from "../../worklet/client/types.ts";
import {
  type AsteriskPrompt,
  asteriskPrompts,
  type PromptSequence,
  promptPcm,
  promptSequence,
} from "../fixtures/asterisk-prompts.ts";
import { corpusWordErrorRate } from "../fixtures/wer.ts";
import { launchWithMicrophone } from "./browser.ts";
import { type DemoResult, runDemo } from "./demo-run.ts";
import { listCalls, sentEvents } from "./peer-api.ts";
import { LEAD_S, withLead } from "./speech-input.ts";

const root = resolve(import.meta.dirname, "../..");
const outDir = resolve(process.env.E2E_OUT ?? join(root, "test-results/e2e"));
const PROMPTS = 20;
/**
 * Silence between prompts: well over server VAD's 500 ms `silence_duration_ms`, so each prompt is a turn. With
 * 1 s, two prompts once merged: some end in a faint breath the VAD follows, and its hangover adds the rest.
 */
const GAP_MS = 1500;
/** How far the peer's WER on what it received may exceed the engine's on the source files. */
const MAX_WER_GAP = 0.1;
/** A turn belongs to the prompt its middle falls in, give or take the VAD's padding and hangover. */
const SLACK_S = 0.5;

/** What the page's receiver of the model's track counted (`RTCInboundRtpStreamStats`, kind audio). */
interface VoiceStats {
  packetsReceived: number;
  totalSamplesReceived: number;
  totalAudioEnergy: number;
}

interface Run {
  result: DemoResult;
  /** Server events in the order the peer sent them. */
  sent: Array<{ type: string; event_id?: string }>;
  voice: VoiceStats;
  assistantRowsWithAudio: number;
  userRows: Array<{ itemId: string; state: string; text: string }>;
}

// The page keeps every RTCPeerConnection it makes, so the test can read the voice's receiver statistics.
const KEEP_PEER_CONNECTIONS = `(() => {
  const Native = window.RTCPeerConnection;
  window.__peerConnections = [];
  window.RTCPeerConnection = class extends Native {
    constructor(...args) { super(...args); window.__peerConnections.push(this); }
  };
})();`;

const READ_VOICE_STATS = `(async () => {
  const totals = { packetsReceived: 0, totalSamplesReceived: 0, totalAudioEnergy: 0 };
  for (const pc of window.__peerConnections ?? []) {
    for (const stat of (await pc.getStats()).values()) {
      if (stat.type !== "inbound-rtp" || stat.kind !== "audio") continue;
      totals.packetsReceived += stat.packetsReceived ?? 0;
      totals.totalSamplesReceived += stat.totalSamplesReceived ?? 0;
      totals.totalAudioEnergy += stat.totalAudioEnergy ?? 0;
    }
  }
  return totals;
})()`;

const READ_PANEL = `(() => ({
  assistantRowsWithAudio: document.querySelectorAll('#conversation li[data-role="assistant"] audio').length,
  userRows: [...document.querySelectorAll('#conversation li[data-role="user"]')].map((li) => ({
    itemId: li.dataset.itemId ?? "",
    state: li.dataset.state ?? "",
    text: li.querySelector("p")?.textContent ?? "",
  })),
}))()`;

/** True once every committed turn has its final transcript and the voice answering the last one has stopped. */
const SETTLED = `(() => {
  const events = window.realtimeVoiceDemo.server;
  const committed = events.filter((e) => e.type === "input_audio_buffer.committed").length;
  const done = events.filter(
    (e) =>
      e.type === "conversation.item.input_audio_transcription.completed" ||
      e.type === "conversation.item.input_audio_transcription.failed",
  ).length;
  const lastCommit = events.findLastIndex((e) => e.type === "input_audio_buffer.committed");
  const stopped = events.findLastIndex((e) => e.type === "output_audio_buffer.stopped");
  const responseDone = events.findLastIndex((e) => e.type === "response.done");
  return committed > 0 && done === committed && stopped > lastCommit && responseDone > lastCommit;
})()`;

let stack: Stack;
let prompts: AsteriskPrompt[];
let sequence: PromptSequence;
let run: Run;

beforeAll(async () => {
  // The transcript file describes its silence clips in words ("(5 seconds of silence)"): not speech.
  prompts = asteriskPrompts({ count: PROMPTS + 3 })
    .filter((prompt) => !prompt.name.startsWith("silence/"))
    .slice(0, PROMPTS);
  sequence = promptSequence(prompts, GAP_MS, 48_000);
  const dir = join(outDir, "inputs");
  mkdirSync(dir, { recursive: true });
  const raw = join(dir, "asterisk-prompts-raw.wav");
  writeFileSync(raw, encodeWav(sequence.pcm, sequence.sampleRate));
  const input = withLead(
    {
      name: "asterisk-prompts",
      path: raw,
      speech: sequence.segments.map((s) => [s.startS, s.endS] as [number, number]),
    },
    dir,
  );
  stack = await startStack({ forceLocalPeer: true, peerArgs: ["--recordings", join(outDir, "recordings")] });
  const browser = await launchWithMicrophone(input.path);
  try {
    let voice: VoiceStats | undefined;
    let panel: Pick<Run, "assistantRowsWithAudio" | "userRows"> | undefined;
    const result = await runDemo(browser, {
      url: `${stack.workerUrl}/?peer=${encodeURIComponent(stack.peerUrl as string)}&processing=off`,
      // The last prompt ends with the file: the fake microphone's silence after it lets server VAD end the turn.
      seconds: input.seconds + 1,
      init: async (page: Page) => {
        await page.addInitScript(KEEP_PEER_CONNECTIONS);
      },
      beforeStop: async (page: Page) => {
        // The last answer is spoken after the file ends: wait for it, then keep what the page shows.
        await page.waitForFunction(SETTLED, null, { timeout: 60_000, polling: 250 }).catch(() => undefined);
        await new Promise((done) => setTimeout(done, 500));
        voice = (await page.evaluate(READ_VOICE_STATS)) as VoiceStats;
        panel = (await page.evaluate(READ_PANEL)) as Pick<Run, "assistantRowsWithAudio" | "userRows">;
        // The panel follows the newest line; show the last answer whole (not its first row cut by the box).
        await page.evaluate(`(() => {
          const list = document.getElementById("conversation");
          for (let el = list; el; el = el.parentElement) el.scrollTop = el.scrollHeight;
          window.scrollTo(0, 0);
        })()`);
        const shot = await page.screenshot({ fullPage: true });
        writeFileSync(join(outDir, "demo-transcripts.png"), shot);
        // The README's screenshot is refreshed on request only, so a test run leaves the tracked tree as it was.
        if (process.env.UPDATE_SCREENSHOT === "1") {
          mkdirSync(join(root, "docs"), { recursive: true });
          writeFileSync(join(root, "docs/demo.png"), shot);
        }
      },
    });
    const callId = result.callId ?? (await listCalls(stack.peerUrl as string)).at(-1)?.id;
    if (!callId) throw new Error("no call reached the peer");
    const sent = (await sentEvents(stack.peerUrl as string, callId)).map(
      (record) => record.event as { type: string; event_id?: string },
    );
    writeFileSync(join(outDir, "transcripts-events.json"), `${JSON.stringify(result.server, null, 1)}\n`);
    if (!voice || !panel) throw new Error("the page was not read before stopping");
    run = { result, sent, voice, ...panel };
  } finally {
    await browser.close();
  }
}, 300_000);

afterAll(async () => {
  await stack?.stop();
});

function ofType(events: readonly ServerEvent[], type: string): ServerEvent[] {
  return events.filter((event) => event.type === type);
}

function itemIdOf(event: ServerEvent): string | undefined {
  const item = event.item as { id?: unknown } | undefined;
  const id = event.item_id ?? item?.id;
  return typeof id === "string" ? id : undefined;
}

/**
 * Places the peer's turns on the source's clock (the call's audio starts wherever the fake microphone was when
 * capture began): the offset that puts the most turn middles inside a prompt, tried from the first few turns
 * against the first few prompts, so one stray turn at the start cannot shift everything.
 */
function assignTurns(
  turns: ReadonlyArray<{ startS: number; endS: number; text: string }>,
  segments: PromptSequence["segments"],
): string[][] {
  const fits = (offset: number) =>
    turns.filter((turn) => {
      const middle = (turn.startS + turn.endS) / 2 - offset;
      return segments.some((s) => middle >= s.startS - SLACK_S && middle <= s.endS + SLACK_S);
    }).length;
  let best = 0;
  let bestFits = -1;
  for (const turn of turns.slice(0, 3)) {
    for (const segment of segments.slice(0, 3)) {
      const offset = turn.startS - segment.startS;
      const n = fits(offset);
      if (n > bestFits) [best, bestFits] = [offset, n];
    }
  }
  const texts = segments.map(() => [] as string[]);
  for (const turn of turns) {
    const middle = (turn.startS + turn.endS) / 2 - best;
    let nearest = 0;
    segments.forEach((s, i) => {
      const distance = (s2: PromptSequence["segments"][number]) =>
        Math.max(0, s2.startS - middle, middle - s2.endS);
      if (distance(s) < distance(segments[nearest] as (typeof segments)[number])) nearest = i;
    });
    texts[nearest]?.push(turn.text);
  }
  return texts;
}

describe("known-text speech: demo page → worker → local peer with PocketSphinx", () => {
  test("the peer's transcripts of what it received are within 10 WER points of the engine's on the source", async () => {
    const server = run.result.server;
    const started = new Map(ofType(server, "input_audio_buffer.speech_started").map((e) => [itemIdOf(e), e]));
    const stopped = new Map(ofType(server, "input_audio_buffer.speech_stopped").map((e) => [itemIdOf(e), e]));
    const turns = ofType(server, "conversation.item.input_audio_transcription.completed").map((event) => {
      const id = itemIdOf(event);
      const start = Number(started.get(id)?.audio_start_ms) / 1000;
      const end = Number(stopped.get(id)?.audio_end_ms) / 1000;
      return { startS: start, endS: end, text: String(event.transcript ?? "") };
    });
    const heard = assignTurns(turns, sequence.segments);

    // The same engine on the source files, each prompt resampled to the realtime rate as the peer receives it.
    const recognizer = await createRecognizer();
    expect(recognizer.available, recognizer.available ? "" : recognizer.reason).toBe(true);
    const direct: string[] = [];
    try {
      for (const prompt of prompts) direct.push((await recognizer.transcribe(promptPcm(prompt))).text);
    } finally {
      await recognizer.close();
    }
    const source = corpusWordErrorRate(
      prompts.map((p, i) => ({ reference: p.text, hypothesis: direct[i] ?? "" })),
    );
    const received = corpusWordErrorRate(
      prompts.map((p, i) => ({ reference: p.text, hypothesis: (heard[i] ?? []).join(" ") })),
    );
    const report = prompts.map((p, i) => ({
      name: p.name,
      reference: p.text,
      source: direct[i],
      received: (heard[i] ?? []).join(" | "),
    }));
    mkdirSync(outDir, { recursive: true });
    writeFileSync(
      join(outDir, "transcripts.json"),
      `${JSON.stringify({ source, received, turns: turns.length, leadInS: LEAD_S, report }, null, 2)}\n`,
    );
    console.log(
      `[e2e] transcripts: ${PROMPTS} Asterisk prompts (${source.words} words), ${turns.length} turns; ` +
        `WER of the engine on the source files ${(source.wer * 100).toFixed(1)} %, ` +
        `on what the peer received through Chromium → worker → WebRTC ${(received.wer * 100).toFixed(1)} %`,
    );
    // One turn per prompt (a split or a merge at most), and every prompt heard.
    expect(turns.length).toBeGreaterThanOrEqual(PROMPTS - 1);
    expect(turns.length).toBeLessThanOrEqual(PROMPTS + 2);
    expect(heard.filter((texts) => texts.length === 0).length, "prompts with no turn").toBeLessThanOrEqual(1);
    expect(received.wer - source.wer).toBeLessThanOrEqual(MAX_WER_GAP);
  });

  test("conversation events arrive in OpenAI's order, and the page saw exactly what the peer sent", () => {
    const server = run.result.server;
    expect(run.result.errors).toEqual([]);
    expect(run.result.pageErrors).toEqual([]);
    expect(ofType(server, "error")).toEqual([]);
    expect(ofType(server, "conversation.item.input_audio_transcription.failed")).toEqual([]);
    // The data channel is ordered and reliable: same events, same order.
    expect(server.map((e) => e.type)).toEqual(run.sent.map((e) => e.type));
    expect(server.map((e) => e.event_id)).toEqual(run.sent.map((e) => e.event_id));

    const at = (type: string, id: string) =>
      server.findIndex(
        (e) => e.type === type && (itemIdOf(e) === id || (e.item as { id?: string })?.id === id),
      );
    const committed = ofType(server, "input_audio_buffer.committed");
    expect(committed.length).toBeGreaterThanOrEqual(PROMPTS - 1);
    for (const commit of committed) {
      const id = itemIdOf(commit) as string;
      const order = [
        at("input_audio_buffer.speech_started", id),
        at("input_audio_buffer.speech_stopped", id),
        at("input_audio_buffer.committed", id),
        at("conversation.item.added", id),
        at("conversation.item.input_audio_transcription.completed", id),
      ];
      expect(
        order.every((i) => i >= 0),
        `${id}: ${order}`,
      ).toBe(true);
      expect(
        [...order].sort((a, b) => a - b),
        `${id} out of order`,
      ).toEqual(order);
      const deltas = server
        .map((e, i) => ({ e, i }))
        .filter(
          ({ e }) => e.type === "conversation.item.input_audio_transcription.delta" && e.item_id === id,
        );
      const completedAt = order[4] as number;
      const completed = server[completedAt] as ServerEvent;
      // Deltas come after the commit and before `.completed`, and spell its transcript.
      expect(deltas.every(({ i }) => i > (order[2] as number) && i < completedAt)).toBe(true);
      expect(deltas.map(({ e }) => e.delta).join("")).toBe(completed.transcript);
      expect(completed.content_index).toBe(0);
      expect((completed.usage as { type?: string }).type).toBe("duration");
      expect(
        ofType(server, "conversation.item.input_audio_transcription.completed").filter(
          (e) => e.item_id === id,
        ),
      ).toHaveLength(1);
    }
    // Every response starts after the turn it answers was committed, and each created response ends once.
    const created = ofType(server, "response.created");
    expect(created.length).toBeGreaterThanOrEqual(1);
    expect(server.findIndex((e) => e.type === "response.created")).toBeGreaterThan(
      server.findIndex((e) => e.type === "input_audio_buffer.committed"),
    );
    expect(ofType(server, "response.done")).toHaveLength(created.length);
    // The panel shows each user turn with its final text.
    expect(run.userRows.length).toBe(committed.length);
    expect(run.userRows.filter((row) => row.state === "final").length).toBe(committed.length);
  });

  test("the assistant's voice plays in the page", () => {
    const server = run.result.server;
    const spoken = ofType(server, "output_audio_buffer.started");
    expect(spoken.length).toBeGreaterThanOrEqual(1);
    expect(ofType(server, "response.output_audio_transcript.done").length).toBeGreaterThanOrEqual(1);
    // Chromium decoded the voice from the model's track: packets, samples and energy (silence has none).
    expect(run.voice.packetsReceived).toBeGreaterThan(50);
    expect(run.voice.totalSamplesReceived).toBeGreaterThan(48_000);
    expect(run.voice.totalAudioEnergy).toBeGreaterThan(0.001);
    // And the panel recorded what it said from the page's playback stream.
    expect(run.assistantRowsWithAudio).toBeGreaterThanOrEqual(1);
    console.log(
      `[e2e] voice: ${spoken.length} utterances started, ${run.voice.packetsReceived} packets, ` +
        `${(run.voice.totalSamplesReceived / 48_000).toFixed(1)} s decoded in the page, ` +
        `energy ${run.voice.totalAudioEnergy.toFixed(3)}`,
    );
  });
});

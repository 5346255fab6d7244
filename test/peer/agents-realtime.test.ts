/**
 * `@openai/agents-realtime` (pinned 0.20.0), OpenAI's own browser transport `OpenAIRealtimeWebRTC`, in real
 * Chromium against the local peer directly: a page on another origin (`localhost` against the peer's
 * `127.0.0.1`, so the SDK's `X-OpenAI-Agents-SDK` header goes through a CORS preflight), an `ek_` client secret,
 * the fake microphone playing recorded speech on the audio track. The conversation must run without a single
 * `error` event: connect, `session.updated` for the SDK's `session.update`, speech on the track →
 * `speech_started`, a transcript (the SDK then retrieves the item), a spoken response, `interrupt()`, `close()`
 * (the one tolerated error is the cancel/`response.done` crossing that OpenAI's server produces too).
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Browser } from "playwright-core";
import { afterAll, beforeAll, expect, it } from "vitest";
import { type LocalPeer, startLocalPeer } from "../../demo/local-peer/local-peer.ts";
import { type AgentsCallResult, loadAgentsPage } from "../e2e/agents-page.ts";
import { launchWithMicrophone } from "../e2e/browser.ts";
import { speechTestFile } from "../fixtures/speech-corpus.ts";

const KEY = "sk-test-peer";
let peer: LocalPeer;
let recordings: string;
let browser: Browser;

beforeAll(async () => {
  recordings = mkdtempSync(join(tmpdir(), "peer-agents-"));
  peer = await startLocalPeer({ apiKey: KEY, recordings });
  const speech = await speechTestFile({ sampleRate: 48_000, seconds: 12, seed: 3 });
  browser = await launchWithMicrophone(speech.path);
});
afterAll(async () => {
  await browser?.close();
  await peer?.close();
  rmSync(recordings, { recursive: true, force: true });
});

it("runs a conversation through OpenAIRealtimeWebRTC without an error event", async () => {
  const minted = await fetch(`${peer.url}/v1/realtime/client_secrets`, {
    method: "POST",
    headers: { authorization: `Bearer ${KEY}`, "content-type": "application/json" },
    body: JSON.stringify({ session: { type: "realtime", model: "gpt-realtime" } }),
  });
  const { value } = (await minted.json()) as { value: string };
  const page = await browser.newPage();
  // Another origin than the peer's 127.0.0.1: the SDK's POST needs a CORS preflight, as on a real site.
  await page.goto(`${peer.url.replace("127.0.0.1", "localhost")}/health`);
  await loadAgentsPage(page);
  const result = (await page.evaluate(
    `agentsCall(${JSON.stringify(`${peer.url}/v1`)}, ${JSON.stringify(value)})`,
  )) as AgentsCallResult;
  console.log(
    `agents-realtime 0.20.0 → peer: connected in ${result.connectMs.toFixed(0)} ms; transcripts ${JSON.stringify(result.transcripts)}; ${result.events.length} events`,
  );
  // One race is OpenAI's too: the SDK's interrupt() sends response.cancel while the response is already ending
  // (the next user turn barged in, server side), so the cancel finds none. Anything else is a failure.
  const call = [...peer.calls.values()].at(-1);
  for (const error of result.errors) {
    expect(error).toContain("response_cancel_not_active");
    const cancel = call?.log.received.find((e) => e.type === "response.cancel" && e.error);
    const ended = call?.log.sent.filter((e) => e.event.type === "response.done").at(-1);
    expect(ended && cancel && ended.sent_at < cancel.received_at).toBe(true);
    console.log(
      `interrupt() crossed a response.done sent ${(cancel && ended ? cancel.received_at - ended.sent_at : 0).toFixed(1)} ms earlier`,
    );
  }
  expect(result.errors.length).toBeLessThanOrEqual(1);
  expect(result.events[0]).toBe("session.created");
  expect(result.events).toContain("session.updated");
  expect(result.events).toContain("input_audio_buffer.speech_started");
  expect(result.events).toContain("conversation.item.input_audio_transcription.completed");
  expect(result.events).toContain("conversation.item.retrieved");
  expect(result.events).toContain("response.output_audio_transcript.delta");
  expect(result.clearedAfterInterrupt).toBe(true);
  // The peer heard the SDK's microphone on the track, not as appends.
  expect(call?.session.stats.appends).toBe(0);
  expect(call?.session.stats.track_samples).toBeGreaterThan(24_000);
  expect(call?.session.session.instructions).toBe("Answer briefly.");
  await page.close();
});

/**
 * The script tag on a third-party page in Firefox ESR: a plain HTML page served from another origin (allowed by
 * the worker's `ALLOWED_ORIGINS`) loads `realtime-voice.js` from the worker; its button starts a session that
 * captures recorded speech from a PulseAudio virtual microphone and streams it to the local peer.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { createServer, type Server } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Browser } from "puppeteer-core";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { freePort, type Stack, startStack } from "../../../demo/start.ts";
import { speechTestFile } from "../../fixtures/speech-corpus.ts";
import {
  connectTimes,
  ERRORS_PROBE,
  formatConnectTimes,
  PROBE_SCRIPT,
  type ProbeState,
  TIMING_PROBE,
} from "../page-probe.ts";
import { parseAppendId, receivedEvents, sentEvents } from "../peer-api.ts";
import { noSoundServerEnv, type SoundServer, startSoundServer } from "../sound-server.ts";
import { launchFirefox } from "./firefox.ts";

let stack: Stack;
let sound: SoundServer;
let browser: Browser;
let thirdParty: Server;
let thirdPartyOrigin: string;
let speechPath: string;
let silentBrowser: Browser;
let silentDir: string;

const BUTTON = "[data-realtime-voice]";

beforeAll(async () => {
  const port = await freePort();
  thirdPartyOrigin = `http://127.0.0.1:${port}`;
  [stack, sound] = await Promise.all([
    startStack({ forceLocalPeer: true, vars: { ALLOWED_ORIGINS: thirdPartyOrigin } }),
    startSoundServer({ sampleRate: 44_100 }),
  ]);
  thirdParty = createServer((_request, response) => {
    response
      .writeHead(200, { "content-type": "text/html" })
      .end(
        `<!doctype html><html><body><button data-realtime-voice>Talk to us</button>` +
          `<script src="${stack.workerUrl}/realtime-voice.js"></script></body></html>`,
      );
  });
  await new Promise<void>((done) => thirdParty.listen(port, "127.0.0.1", done));
  speechPath = (await speechTestFile({ sampleRate: 48_000, seconds: 6, seed: 7 })).path;
  silentDir = mkdtempSync(join(tmpdir(), "rve-no-sound-"));
  [browser, silentBrowser] = await Promise.all([
    launchFirefox(sound.env),
    // A microphone that works without a sound server (Firefox's fake device, a tone) while the AudioContext,
    // which needs an output device, stays suspended. With no microphone at all getUserMedia throws
    // NotFoundError and the session fails at once with microphone_unavailable.
    launchFirefox(noSoundServerEnv(silentDir), { "media.navigator.streams.fake": true }),
  ]);
});

afterAll(async () => {
  await Promise.all([browser?.close(), silentBrowser?.close()]);
  if (silentDir) rmSync(silentDir, { recursive: true, force: true });
  thirdParty?.close();
  await Promise.all([stack?.stop(), sound?.stop()]);
});

describe("Firefox ESR: embedding", () => {
  test("a third-party page embeds the script from the worker's origin and streams through its button", async () => {
    const page = await browser.newPage();
    const errors: string[] = [];
    page.on("pageerror", (error) => errors.push(String(error)));
    try {
      await page.evaluateOnNewDocument(PROBE_SCRIPT);
      await page.goto(`${thirdPartyOrigin}/`);
      await page.click(BUTTON);
      await page.waitForSelector(`${BUTTON}:is([data-state="connected"], [data-state="failed"])`, {
        timeout: 20_000,
      });
      expect(await page.$eval(BUTTON, (button) => button.getAttribute("data-state"))).toBe("connected");
      expect(await page.$eval(BUTTON, (button) => button.getAttribute("aria-pressed"))).toBe("true");
      const callId = (await page.evaluate(
        `RealtimeVoice.sessionOf(document.querySelector("${BUTTON}"))?.state.callId ?? null`,
      )) as string | null;
      // A 44.1 kHz speaker: the context runs at the sink's rate, and the worklet resamples 44.1 → 24 kHz.
      const inputRate = await page.evaluate(
        `RealtimeVoice.sessionOf(document.querySelector("${BUTTON}"))?.stats.inputRate ?? null`,
      );
      await sound.play(speechPath);
      await page.click(BUTTON);
      await page.waitForSelector(`${BUTTON}[data-state="idle"]`, { timeout: 10_000 });
      const times = connectTimes((await page.evaluate(TIMING_PROBE)) as ProbeState);
      console.log(`[e2e firefox embed] ${formatConnectTimes(times)}; context ${inputRate} Hz`);
      expect(inputRate).toBe(44_100);
      expect(callId).toMatch(/^rtc_/);
      const appends = await receivedEvents(
        stack.peerUrl as string,
        callId as string,
        "input_audio_buffer.append",
      );
      const seqs = appends.map((event) => parseAppendId(event.event_id)?.seq ?? -1);
      // The 6 s recording was played after connected: at least that much audio, every frame in order.
      expect(seqs.length).toBeGreaterThan(300);
      expect(seqs).toEqual(seqs.map((_, i) => i));
      // Speech reached the peer: its server VAD heard it.
      expect(appends.filter((event) => event.error)).toEqual([]);
      const sent = await sentEvents(stack.peerUrl as string, callId as string);
      expect(
        sent.filter((entry) => entry.event.type === "input_audio_buffer.speech_started").length,
      ).toBeGreaterThan(0);
      // The worker serves capture-processor.js without `Access-Control-Allow-Origin`, and worklet modules are
      // fetched in CORS mode: on another origin the client falls back to its inlined copy from a blob: URL
      // (which needs `blob:` in the site's CSP script-src). Firefox reports the refused fetch as a page error.
      const worklet = errors.filter((error) =>
        /Cross-Origin Request Blocked.*capture-processor\.js/.test(error),
      );
      if (worklet.length > 0)
        console.log(`[e2e firefox embed] worklet URL refused by CORS: blob: fallback used`);
      expect(errors.filter((error) => !worklet.includes(error))).toEqual([]);
    } finally {
      await page.close();
    }
  });
});

describe("Firefox ESR without a sound server", () => {
  test("the session fails loudly: capture_stalled within a few seconds of connected, not a silent call", async () => {
    const page = await silentBrowser.newPage();
    try {
      await page.evaluateOnNewDocument(PROBE_SCRIPT);
      await page.goto(`${thirdPartyOrigin}/`);
      await page.click(BUTTON);
      // Without PulseAudio the AudioContext never leaves `suspended`: no frame is ever captured.
      await page.waitForFunction(
        `${ERRORS_PROBE}.length > 0 || document.querySelector("${BUTTON}").dataset.state === "failed"`,
        {
          timeout: 15_000,
        },
      );
      const errors = (await page.evaluate(ERRORS_PROBE)) as Array<{ code: string; message: string }>;
      const state = await page.$eval(BUTTON, (button) => button.getAttribute("data-state"));
      const frames = await page.evaluate(
        `RealtimeVoice.sessionOf(document.querySelector("${BUTTON}"))?.stats.framesCaptured ?? null`,
      );
      console.log(
        `[e2e firefox] no sound server: state ${state}, frames ${frames}, errors ${JSON.stringify(errors)}`,
      );
      expect(errors.map((error) => error.code)).toContain("capture_stalled");
      expect(errors.find((error) => error.code === "capture_stalled")?.message).toMatch(
        /sound server|suspended/,
      );
      expect(frames ?? 0).toBe(0);
      await page.click(BUTTON);
    } finally {
      await page.close();
    }
  });
});

/**
 * The other ways in, on real Chromium against `wrangler dev` and the local peer: a plain HTML page with only the
 * script tag (same origin, and a third-party origin allowed by `ALLOWED_ORIGINS`), ephemeral signalling from the
 * demo, typed errors carrying the worker's message, and the bundle-size budget.
 */
import { readFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import { join, resolve } from "node:path";
import { gzipSync } from "node:zlib";
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { freePort, type Stack, startStack } from "../../demo/start.ts";
import { speechTestFile } from "../fixtures/speech-corpus.ts";
import { launchWithMicrophone } from "./browser.ts";
import { runDemo } from "./demo-run.ts";
import { listCalls, parseAppendId, receivedEvents } from "./peer-api.ts";

const root = resolve(import.meta.dirname, "../..");
/**
 * Size budgets in bytes gzipped (level 9). Goals: 15 KB for a client build with the worklet inlined, 8 KB for the
 * worklet module. The builds measure 22.5 KB (`realtime-voice.js`; the client alone 10.2 KB), 21.5 KB
 * (`realtime-voice.mjs`) and 12.5 KB (`capture-processor.js`, of which the VAD is about 8 KB: its GRU layer added
 * 2.1 KB, mostly int8 weights, which gzip cannot shrink). The budgets sit about 300 B above those figures, room
 * for a retrained model's weights and no more; the README states the gap to the goals.
 */
const BUDGET_BYTES = 22_800;
const WORKLET_BUDGET_BYTES = 12_800;

let stack: Stack;
let browser: Browser;
let thirdParty: Server;
let thirdPartyOrigin: string;
/** A page on an origin the worker does not allow. */
let refused: Server;
let refusedOrigin: string;

const plainPage = (scriptSrc: string) =>
  `<!doctype html><html><body><button data-realtime-voice>Talk to us</button><script src="${scriptSrc}"></script></body></html>`;

beforeAll(async () => {
  const port = await freePort();
  thirdPartyOrigin = `http://127.0.0.1:${port}`;
  stack = await startStack({
    forceLocalPeer: true,
    vars: { ALLOWED_ORIGINS: thirdPartyOrigin, BROWSER_CLIENT_SECRETS: "allow" },
  });
  thirdParty = createServer((_request, response) => {
    response
      .writeHead(200, { "content-type": "text/html" })
      .end(plainPage(`${stack.workerUrl}/realtime-voice.js`));
  });
  await new Promise<void>((done) => thirdParty.listen(port, "127.0.0.1", done));
  const refusedPort = await freePort();
  refusedOrigin = `http://127.0.0.1:${refusedPort}`;
  refused = createServer((_request, response) => {
    response
      .writeHead(200, { "content-type": "text/html" })
      .end(plainPage(`${stack.workerUrl}/realtime-voice.js`));
  });
  await new Promise<void>((done) => refused.listen(refusedPort, "127.0.0.1", done));
  const speech = await speechTestFile({ sampleRate: 48_000, seconds: 6, seed: 7 });
  browser = await launchWithMicrophone(speech.path);
});

afterAll(async () => {
  await browser?.close();
  thirdParty?.close();
  refused?.close();
  await stack?.stop();
});

/** Clicks the `data-realtime-voice` button, streams for `seconds`, clicks again; returns the peer's append seqs. */
async function talkThroughButton(page: Page, seconds: number): Promise<number[]> {
  const button = page.locator("[data-realtime-voice]");
  await button.click();
  await page.locator('[data-realtime-voice]:is([data-state="connected"], [data-state="failed"])').waitFor();
  expect(await button.getAttribute("data-state")).toBe("connected");
  expect(await button.getAttribute("aria-pressed")).toBe("true");
  // A string runs in the page, which has the DOM types this tsconfig lacks.
  const callId = (await page.evaluate(
    `RealtimeVoice.sessionOf(document.querySelector("[data-realtime-voice]"))?.state.callId ?? null`,
  )) as string | null;
  await page.waitForTimeout(seconds * 1000);
  await button.click();
  await page.locator('[data-realtime-voice][data-state="idle"]').waitFor();
  expect(callId).toMatch(/^rtc_/);
  const appends = await receivedEvents(
    stack.peerUrl as string,
    callId as string,
    "input_audio_buffer.append",
  );
  return appends.map((event) => parseAppendId(event.event_id)?.seq ?? -1);
}

describe("embedding", () => {
  test("a plain page with only the script tag streams through its button (same origin)", async () => {
    const page = await browser.newPage();
    const errors: string[] = [];
    page.on("pageerror", (error) => errors.push(String(error)));
    try {
      await page.route(`${stack.workerUrl}/plain.html`, (route) =>
        route.fulfill({ contentType: "text/html", body: plainPage("/realtime-voice.js") }),
      );
      await page.goto(`${stack.workerUrl}/plain.html`);
      const seqs = await talkThroughButton(page, 2);
      expect(seqs.length).toBeGreaterThan(50);
      expect(seqs).toEqual(seqs.map((_, i) => i));
      expect(errors).toEqual([]);
    } finally {
      await page.close();
    }
  });

  test("without capture-processor.js beside the script, the inlined worklet runs from a blob: URL", async () => {
    const page = await browser.newPage();
    const errors: string[] = [];
    page.on("pageerror", (error) => errors.push(String(error)));
    try {
      // The script is served from a folder that lacks the worklet file, as after a bundler that did not copy it.
      const script = readFileSync(join(root, "dist/realtime-voice.js"), "utf8");
      await page.route(`${stack.workerUrl}/moved/**`, (route) =>
        route.request().url().endsWith("/realtime-voice.js")
          ? route.fulfill({ contentType: "text/javascript", body: script })
          : route.fulfill({ status: 404, body: "not here" }),
      );
      await page.route(`${stack.workerUrl}/plain.html`, (route) =>
        route.fulfill({ contentType: "text/html", body: plainPage("/moved/realtime-voice.js") }),
      );
      await page.goto(`${stack.workerUrl}/plain.html`);
      const seqs = await talkThroughButton(page, 2);
      expect(seqs.length).toBeGreaterThan(50);
      expect(seqs).toEqual(seqs.map((_, i) => i));
      expect(errors).toEqual([]);
    } finally {
      await page.close();
    }
  });

  test("a third-party page embeds the script from the worker's origin", async () => {
    const page = await browser.newPage();
    const errors: string[] = [];
    page.on("pageerror", (error) => errors.push(String(error)));
    try {
      await page.goto(`${thirdPartyOrigin}/`);
      const seqs = await talkThroughButton(page, 2);
      expect(seqs.length).toBeGreaterThan(50);
      expect(seqs).toEqual(seqs.map((_, i) => i));
      expect(errors).toEqual([]);
    } finally {
      await page.close();
    }
  });

  test("a page on an origin the worker refuses shows the failure on its button", async () => {
    const page = await browser.newPage();
    try {
      await page.goto(`${refusedOrigin}/`);
      const button = page.locator("[data-realtime-voice]");
      // A string runs in the page, which has the DOM types this tsconfig lacks.
      const detail = page.evaluate(
        `new Promise((resolve) => document.addEventListener("realtime-voice:error", (event) => resolve(event.detail.code), { once: true }))`,
      ) as Promise<string>;
      await button.click();
      await page.locator('[data-realtime-voice][data-state="failed"]').waitFor();
      const code = await button.getAttribute("data-error");
      // With CORS on the worker's refusal the page reads `origin_not_allowed`; without it, only a network error.
      expect(["origin_not_allowed", "network_error"]).toContain(code);
      expect(await detail).toBe(code);
      expect((await button.getAttribute("title"))?.length).toBeGreaterThan(10);
      expect(await button.getAttribute("aria-description")).toBe(await button.getAttribute("title"));
      console.log(
        `[e2e] refused origin: data-error=${code}, title ${JSON.stringify(await button.getAttribute("title"))}`,
      );
    } finally {
      await page.close();
    }
  });

  test("ephemeral signalling: mint at the worker, offer to the upstream with the ek_ key", async () => {
    const peer = stack.peerUrl as string;
    const before = new Set((await listCalls(peer)).map((call) => call.id));
    const result = await runDemo(browser, {
      url: `${stack.workerUrl}/?signaling=ephemeral&upstream=${encodeURIComponent(`${peer}/v1`)}`,
      seconds: 2,
    });
    expect(result.errors).toEqual([]);
    expect(result.states).toEqual(["connecting", "connected", "closed"]);
    const call = (await listCalls(peer)).find((entry) => !before.has(entry.id));
    expect(call?.id).toBe(result.callId);
    const appends = await receivedEvents(peer, call?.id as string, "input_audio_buffer.append");
    const seqs = appends.map((event) => parseAppendId(event.event_id)?.seq);
    expect(seqs).toEqual(result.frames.map((frame) => frame.seq));
  });

  test("a refused session surfaces as a typed error with the worker's problem detail", async () => {
    const page = await browser.newPage();
    try {
      await page.route(`${stack.workerUrl}/plain.html`, (route) =>
        route.fulfill({ contentType: "text/html", body: plainPage("/realtime-voice.js") }),
      );
      await page.goto(`${stack.workerUrl}/plain.html`);
      const error = await page.evaluate(async () => {
        const global = globalThis as unknown as {
          RealtimeVoice: {
            connect(options: unknown): { ready: Promise<void> };
          };
        };
        const session = global.RealtimeVoice.connect({
          session: { type: "realtime", model: "no-such-model" },
        });
        try {
          await session.ready;
          return null;
        } catch (failure) {
          const typed = failure as {
            name: string;
            code: string;
            status: number;
            serverCode: string;
            message: string;
          };
          return {
            name: typed.name,
            code: typed.code,
            status: typed.status,
            serverCode: typed.serverCode,
            message: typed.message,
          };
        }
      });
      expect(error?.name).toBe("RealtimeVoiceError");
      expect(error?.code).toBe("signaling_failed");
      expect(error?.status).toBeGreaterThanOrEqual(400);
      expect(error?.status).toBeLessThan(500);
      expect(error?.message).not.toMatch(/SessionDescription/);
      expect(error?.message.length).toBeGreaterThan(10);
    } finally {
      await page.close();
    }
  });

  test(`client + worklet stay within ${BUDGET_BYTES / 1000} KB gzipped, the worklet within ${WORKLET_BUDGET_BYTES / 1000} KB`, () => {
    const sizes: Record<string, number> = {};
    for (const file of ["realtime-voice.js", "realtime-voice.mjs", "capture-processor.js"]) {
      sizes[file] = gzipSync(readFileSync(join(root, "dist", file)), { level: 9 }).length;
    }
    console.log(`[e2e] gzipped bytes: ${JSON.stringify(sizes)}`);
    // Each client build carries the worklet inlined (the blob: fallback), so one file is client + worklet.
    expect(sizes["realtime-voice.js"]).toBeLessThanOrEqual(BUDGET_BYTES);
    expect(sizes["realtime-voice.mjs"]).toBeLessThanOrEqual(BUDGET_BYTES);
    expect(sizes["capture-processor.js"]).toBeLessThanOrEqual(WORKLET_BUDGET_BYTES);
  });
});

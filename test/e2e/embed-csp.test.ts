/**
 * The embed where users put it: a page on a second origin sending exactly the README's Content-Security-Policy
 * (read from the README, the worker's origin substituted; no `blob:`, no `unsafe-inline`) loads the script and
 * the worklet module from the worker and streams speech end to end (real Chromium → `wrangler dev` → local peer).
 * And a page on an origin the worker refuses reads the refusal: status, `origin_not_allowed` and the hint.
 */
import { readFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import { resolve } from "node:path";
import type { Browser } from "playwright-core";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { freePort, type Stack, startStack } from "../../demo/start.ts";
import { speechTestFile } from "../fixtures/speech-corpus.ts";
import { launchWithMicrophone } from "./browser.ts";
import { parseAppendId, receivedEvents } from "./peer-api.ts";

const root = resolve(import.meta.dirname, "../..");
/** The placeholder origin the README's embedding examples use for the worker. */
const README_WORKER_ORIGIN = "https://voice.example.com";

/** The README's CSP header value (the line `Content-Security-Policy: …` of its embedding section). */
function readmeCsp(workerOrigin: string): string {
  const line = readFileSync(resolve(root, "README.md"), "utf8")
    .split("\n")
    .find((text) => text.startsWith("Content-Security-Policy: "));
  if (line === undefined) throw new Error("README.md has no Content-Security-Policy: line");
  return line.slice("Content-Security-Policy: ".length).replaceAll(README_WORKER_ORIGIN, workerOrigin);
}

const page = (workerUrl: string) =>
  `<!doctype html><html><body><button data-realtime-voice>Talk to us</button><script src="${workerUrl}/realtime-voice.js"></script></body></html>`;

let stack: Stack;
let browser: Browser;
const servers: Server[] = [];
let strictOrigin: string;
let refusedOrigin: string;
let csp: string;

/** Serves `page(worker)` with `headers` on a fresh port; returns its origin. */
async function serve(headers: Record<string, string>, port: number): Promise<string> {
  const server = createServer((_request, response) => {
    response.writeHead(200, { "content-type": "text/html", ...headers }).end(page(stack.workerUrl));
  });
  servers.push(server);
  await new Promise<void>((done) => server.listen(port, "127.0.0.1", done));
  return `http://127.0.0.1:${port}`;
}

beforeAll(async () => {
  const [strictPort, refusedPort] = [await freePort(), await freePort()];
  strictOrigin = `http://127.0.0.1:${strictPort}`;
  stack = await startStack({ forceLocalPeer: true, vars: { ALLOWED_ORIGINS: strictOrigin } });
  csp = readmeCsp(stack.workerUrl);
  await serve({ "content-security-policy": csp }, strictPort);
  refusedOrigin = await serve({}, refusedPort);
  const speech = await speechTestFile({ sampleRate: 48_000, seconds: 6, seed: 11 });
  browser = await launchWithMicrophone(speech.path);
});

afterAll(async () => {
  await browser?.close();
  for (const server of servers) server.close();
  await stack?.stop();
});

describe("embedding on other origins", () => {
  test("the public bundles are readable cross-origin (CORS and CORP), _headers itself is not served", async () => {
    for (const file of ["realtime-voice.js", "realtime-voice.mjs", "capture-processor.js"]) {
      const res = await fetch(`${stack.workerUrl}/${file}`, { headers: { Origin: "https://any.example" } });
      expect(res.status).toBe(200);
      expect(res.headers.get("access-control-allow-origin")).toBe("*");
      expect(res.headers.get("cross-origin-resource-policy")).toBe("cross-origin");
      await res.body?.cancel();
    }
    const headersFile = await fetch(`${stack.workerUrl}/_headers`);
    expect(await headersFile.text()).not.toContain("Access-Control-Allow-Origin");
  });

  test("a page under the README's CSP (no blob:, no unsafe-inline) streams speech through the embed", async () => {
    expect(csp).not.toMatch(/blob:|unsafe-inline|unsafe-eval/);
    const tab = await browser.newPage();
    const problems: string[] = [];
    tab.on("pageerror", (error) => problems.push(String(error)));
    tab.on("console", (message) => {
      if (/Content Security Policy|Refused to/i.test(message.text())) problems.push(message.text());
    });
    try {
      const response = await tab.goto(`${strictOrigin}/`);
      expect(response?.headers()["content-security-policy"]).toBe(csp);
      const button = tab.locator("[data-realtime-voice]");
      await button.click();
      await tab
        .locator('[data-realtime-voice]:is([data-state="connected"], [data-state="failed"])')
        .waitFor();
      expect(await button.getAttribute("data-state")).toBe("connected");
      const callId = (await tab.evaluate(
        `RealtimeVoice.sessionOf(document.querySelector("[data-realtime-voice]"))?.state.callId ?? null`,
      )) as string | null;
      expect(callId).toMatch(/^rtc_/);
      await tab.waitForTimeout(2500);
      await button.click();
      await tab.locator('[data-realtime-voice][data-state="idle"]').waitFor();
      const appends = await receivedEvents(
        stack.peerUrl as string,
        callId as string,
        "input_audio_buffer.append",
      );
      const seqs = appends.map((event) => parseAppendId(event.event_id)?.seq ?? -1);
      expect(seqs.length).toBeGreaterThan(50);
      expect(seqs).toEqual(seqs.map((_, i) => i));
      expect(problems).toEqual([]);
    } finally {
      await tab.close();
    }
  });

  test("a page on a refused origin reads the 403: origin_not_allowed and the ALLOWED_ORIGINS hint", async () => {
    const tab = await browser.newPage();
    try {
      await tab.goto(`${refusedOrigin}/`);
      // A string runs in the page, which has the DOM types this tsconfig lacks.
      const seen = (await tab.evaluate(`(async () => {
        const response = await fetch(${JSON.stringify(`${stack.workerUrl}/v1/realtime/calls`)}, {
          method: "POST",
          headers: { "Content-Type": "application/sdp" },
          body: "v=0\\r\\n",
        });
        const body = await response.json();
        let typed = null;
        try {
          await RealtimeVoice.connect({ output: false }).ready;
        } catch (error) {
          typed = { name: error.name, code: error.code, status: error.status, serverCode: error.serverCode, message: error.message };
        }
        return { status: response.status, body, typed };
      })()`)) as {
        status: number;
        body: { code: string; detail: string; error: { message: string } };
        typed: { name: string; code: string; status: number; serverCode: string; message: string } | null;
      };
      expect(seen.status).toBe(403);
      expect(seen.body.code).toBe("origin_not_allowed");
      expect(seen.body.detail).toContain(refusedOrigin);
      expect(seen.body.detail).toContain("ALLOWED_ORIGINS");
      expect(seen.typed).toMatchObject({
        name: "RealtimeVoiceError",
        status: 403,
        serverCode: "origin_not_allowed",
      });
      expect(seen.typed?.message).toContain("ALLOWED_ORIGINS");
    } finally {
      await tab.close();
    }
  });
});

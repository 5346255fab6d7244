/**
 * `@openai/agents-realtime` (pinned 0.20.0), `OpenAIRealtimeWebRTC`, in real Chromium through the worker
 * (`wrangler dev` in front of the local peer), the way a site points it there: `baseUrl: <worker>/v1/realtime/calls`
 * and, as the SDK's `apiKey`, a short-lived JWT from the site's backend (`AUTH_JWT_SECRET`). The SDK refuses a
 * non-`ek_` key in a browser unless `useInsecureApiKey` is set; here the key is a per-user token, not an OpenAI
 * key. The page is on another origin than the worker and listed in `ALLOWED_ORIGINS`, so the SDK's
 * `X-OpenAI-Agents-SDK` header goes through a CORS preflight. The call must run without an `error` event, and the
 * worker's call guard must have attached to its sideband (`GET /v1/realtime/calls/{id}`). The SDK configures its
 * session with a `session.update` after connecting (`initialSessionConfig`). The guard judges it by the rules a
 * creation request meets: input transcription is the client's choice (the transcript arrives), while the SDK's
 * instructions replace the deployment's, which `CLIENT_INSTRUCTIONS=append` (the default) does not allow, so the
 * guard puts the deployment's text back in front of the SDK's (`drift` `/instructions`, action `reassert`), or,
 * when the SDK's update lands before the guard attached, the guard's first `session.update` replaces it. An `ek_`
 * client secret sent to the worker is refused with a 401 the SDK reports as a sentence: it is for OpenAI itself,
 * and a call started with it would escape the guard.
 */
import { sign } from "hono/utils/jwt/jwt";
import type { Browser } from "playwright-core";
import { afterAll, beforeAll, expect, it } from "vitest";
import { freePort, type Stack, startStack } from "../../demo/start.ts";
import { speechTestFile } from "../fixtures/speech-corpus.ts";
import { type AgentsCallResult, loadAgentsPage } from "./agents-page.ts";
import { launchWithMicrophone } from "./browser.ts";

const JWT_SECRET = "agents-realtime-e2e-secret-5d4c3b2a1f";
/** The deployment's own instructions (`INSTRUCTIONS`); the SDK's page asks for "Answer briefly." instead. */
const DEPLOYMENT_INSTRUCTIONS = "You are the voice of this site. Keep answers short.";
let stack: Stack;
let browser: Browser;
let pageOrigin: string;

/** A JWT as the site's backend would issue it for one user: HS256, `sub`, a 10-minute `exp`. */
async function siteToken(sub: string): Promise<string> {
  return sign({ sub, exp: Math.floor(Date.now() / 1000) + 600 }, JWT_SECRET, "HS256");
}

interface CallSummary {
  id: string;
  status: string;
  end_reason: string | null;
  sideband: { attached: boolean; attaches: number };
  drift: { fields: string[]; action: string }[];
}

beforeAll(async () => {
  const port = await freePort();
  // The worker listens on 127.0.0.1; the page is served from localhost: another origin, as on a real site.
  pageOrigin = `http://localhost:${port}`;
  const speech = await speechTestFile({ sampleRate: 48_000, seconds: 12, seed: 3 });
  [stack, browser] = await Promise.all([
    startStack({
      port,
      forceLocalPeer: true,
      vars: {
        AUTH_JWT_SECRET: JWT_SECRET,
        ALLOWED_ORIGINS: pageOrigin,
        INSTRUCTIONS: DEPLOYMENT_INSTRUCTIONS,
      },
    }),
    launchWithMicrophone(speech.path),
  ]);
});
afterAll(async () => {
  await browser?.close();
  await stack?.stop();
});

it("runs a conversation through the worker with a site JWT, and the call guard attaches", async () => {
  const token = await siteToken("agents-user-1");
  const page = await browser.newPage();
  await page.goto(`${pageOrigin}/healthz`);
  await loadAgentsPage(page);
  const result = (await page.evaluate(
    `agentsCall(${JSON.stringify(`${stack.workerUrl}/v1`)}, ${JSON.stringify(token)}, { useInsecureApiKey: true }, true)`,
  )) as AgentsCallResult;
  console.log(
    `agents-realtime 0.20.0 → worker → peer: connected in ${result.connectMs.toFixed(0)} ms; call ${result.callId}; transcripts ${JSON.stringify(result.transcripts)}; ${result.events.length} events; errors ${JSON.stringify(result.errors)}`,
  );
  // The one race OpenAI's server has too (see test/peer/agents-realtime.test.ts): interrupt()'s response.cancel
  // crossing a response that had just ended. Anything else is a failure.
  for (const error of result.errors) expect(error).toContain("response_cancel_not_active");
  expect(result.errors.length).toBeLessThanOrEqual(1);
  expect(result.events[0]).toBe("session.created");
  expect(result.events).toContain("session.updated");
  expect(result.events).toContain("input_audio_buffer.speech_started");
  expect(result.events).toContain("response.output_audio_transcript.delta");
  expect(result.events).toContain("output_audio_buffer.started");
  expect(result.clearedAfterInterrupt).toBe(true);
  // Input transcription is the client's choice under the policy: the guard leaves it on.
  expect(result.events).toContain("conversation.item.input_audio_transcription.completed");
  expect(result.transcripts.length).toBeGreaterThan(0);
  expect(result.callId).toMatch(/^rtc_/);

  // The guard of this call: read by its creator (the same JWT), as the project's client does when a call closes.
  const summaryOf = async (): Promise<CallSummary> => {
    const response = await fetch(`${stack.workerUrl}/v1/realtime/calls/${result.callId}`, {
      headers: { authorization: `Bearer ${token}` },
    });
    expect(response.status).toBe(200);
    return (await response.json()) as CallSummary;
  };
  let summary = await summaryOf();
  const deadline = Date.now() + 15_000;
  while (summary.status !== "ended" && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 250));
    summary = await summaryOf();
  }
  console.log(`call summary after close(): ${JSON.stringify(summary)}`);
  expect(summary.id).toBe(result.callId);
  expect(summary.sideband.attaches).toBeGreaterThanOrEqual(1);
  expect(summary.status).toBe("ended");
  const reasserted = new Set(summary.drift.filter((d) => d.action === "reassert").flatMap((d) => d.fields));
  // The transcription is never drift. The instructions are, when the SDK's update lands after the guard attached;
  // when it lands before, the guard's attach asserts the deployment's session over it (both orders occur).
  expect([...reasserted].filter((field) => field !== "/instructions")).toEqual([]);
  const peerCall = (await (await fetch(`${stack.peerUrl}/debug/calls/${result.callId}`)).json()) as {
    session: { instructions?: string };
  };
  // Append semantics, as for a creation request: the deployment's text first, then the SDK's.
  expect(peerCall.session.instructions).toBe(
    reasserted.has("/instructions")
      ? `${DEPLOYMENT_INSTRUCTIONS}\n\nAnswer briefly.`
      : DEPLOYMENT_INSTRUCTIONS,
  );

  // Another user's JWT does not see the call.
  const other = await fetch(`${stack.workerUrl}/v1/realtime/calls/${result.callId}`, {
    headers: { authorization: `Bearer ${await siteToken("agents-user-2")}` },
  });
  expect(other.status).toBe(404);
  await page.close();
});

it("refuses an ek_ client secret with a 401 the SDK reports as a sentence", async () => {
  const page = await browser.newPage();
  await page.goto(`${pageOrigin}/healthz`);
  await loadAgentsPage(page);
  const message = (await page.evaluate(
    `agentsCall(${JSON.stringify(`${stack.workerUrl}/v1`)}, "ek_not_for_this_worker").then(() => "connected", (e) => String(e && e.message))`,
  )) as string;
  console.log(`agents-realtime with an ek_ against the worker: ${message}`);
  expect(message).toMatch(/^Realtime call request failed with status 401: [A-Z]/);
  expect(message).toContain("JWT");
  expect(message).not.toContain("ek_not_for_this_worker");
  await page.close();
});

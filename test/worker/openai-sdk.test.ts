/**
 * openai-node (the pinned `openai`) inside workerd, its `fetch` wired to the worker in-process and the worker's
 * upstream to the fake OpenAI: every failure the worker can answer reaches an SDK user as the SDK's error class
 * with a one-sentence `message`, OpenAI's `code`/`param`, and no raw JSON. (The same SDK against `wrangler dev`
 * and the local peer, with real WebRTC, is `test/e2e/openai-node.test.ts`.)
 */
import { env } from "cloudflare:workers";
import OpenAI, {
  type APIError,
  BadRequestError,
  InternalServerError,
  PermissionDeniedError,
  RateLimitError,
} from "openai";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import app from "../../worker/index.ts";

let ip = 0;

/** The SDK's API key is this worker's client key (`CLIENT_API_KEYS`): how a server-side SDK authenticates. */
const CLIENT_KEY = "ck-openai-sdk-test-5e4d3c2b1a";

// The worker logs upstream failures (tested in errors.test.ts); keep this file's output to its results.
beforeEach(() => void vi.spyOn(console, "error").mockImplementation(() => {}));
afterEach(() => vi.restoreAllMocks());

/** An SDK client whose requests go to the worker; `scenario` picks the fake upstream's behaviour. */
function client(scenario = "ok", vars: Record<string, string> = {}, clientIp?: string): OpenAI {
  const base = `https://openai.test/${crypto.randomUUID()}/${scenario}/v1`;
  return new OpenAI({
    apiKey: CLIENT_KEY,
    baseURL: "https://edge.test/v1",
    maxRetries: 0,
    fetch: async (input, init) => {
      const request = new Request(input, init);
      request.headers.set("CF-Connecting-IP", clientIp ?? `10.99.${(ip >> 8) & 255}.${ip++ & 255}`);
      return app.fetch(request, {
        ...env,
        OPENAI_BASE_URL: base,
        UPSTREAM_TIMEOUT_MS: "300",
        CLIENT_API_KEYS: CLIENT_KEY,
        ...vars,
      });
    },
  });
}

async function failure(promise: Promise<unknown>): Promise<APIError> {
  const error = await promise.then(
    () => undefined,
    (caught: unknown) => caught,
  );
  expect(error).toBeDefined();
  const apiError = error as APIError;
  expect(apiError.message).toMatch(/^\d{3} [A-Z].*\.$/);
  expect(apiError.message).not.toContain('"status"');
  return apiError;
}

describe("openai-node in workerd", () => {
  it("mints through the worker like through OpenAI", async () => {
    const minted = await client().realtime.clientSecrets.create({ session: { type: "realtime" } });
    expect(minted.value).toMatch(/^ek_/);
  });

  it.each([
    [
      "an unknown field",
      { type: "realtime", temperature: 0.8 },
      BadRequestError,
      "invalid_request",
      "session.temperature",
    ],
    [
      "a TTS voice",
      { type: "realtime", audio: { output: { voice: "onyx" } } },
      BadRequestError,
      "invalid_request",
      "session.audio.output.voice",
    ],
    [
      "client reasoning",
      { type: "realtime", reasoning: { effort: "high" } },
      PermissionDeniedError,
      "policy_violation",
      "session.reasoning",
    ],
    [
      "a model outside the allowlist",
      { type: "realtime", model: "gpt-4o-realtime-preview" },
      PermissionDeniedError,
      "policy_violation",
      "session.model",
    ],
  ] as const)("%s: %s", async (_name, session, kind, code, param) => {
    const error = await failure(
      client().realtime.clientSecrets.create({
        session: session as OpenAI.Realtime.RealtimeSessionCreateRequest,
      }),
    );
    expect(error).toBeInstanceOf(kind);
    expect(error.code).toBe(code);
    expect(error.param).toBe(param);
  });

  it.each([
    ["status-401", 502, "upstream_auth_failed"],
    ["timeout", 504, "upstream_timeout"],
    ["status-429", 503, "upstream_rate_limited"],
  ])("upstream %s: InternalServerError %i %s", async (scenario, status, code) => {
    const error = await failure(client(scenario).realtime.clientSecrets.create({}));
    expect(error).toBeInstanceOf(InternalServerError);
    expect(error.status).toBe(status);
    expect(error.code).toBe(code);
  });

  it("RateLimitError once a client exceeds the limit, with Retry-After and retry-after-ms", async () => {
    const sdk = client("ok", {}, "203.0.113.99");
    let limited: APIError | undefined;
    for (let i = 0; i < 40 && limited === undefined; i++)
      await sdk.realtime.clientSecrets.create({}).catch((error: unknown) => {
        limited = error as APIError;
      });
    expect(limited).toBeInstanceOf(RateLimitError);
    expect(limited?.message).toMatch(/^429 Too many requests from this client: .* retry in \d+ s\.$/);
    expect(Number(limited?.headers?.get("retry-after"))).toBeLessThanOrEqual(60);
    expect(Number(limited?.headers?.get("retry-after-ms"))).toBeLessThanOrEqual(60_000);
  });
});

import { env } from "cloudflare:workers";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { msToPeriodEnd, secondsToPeriodEnd } from "../../worker/middleware/rate-limit.ts";
import { OFFER, ORIGIN, postJson, send } from "./harness.ts";

const KEY = env.OPENAI_API_KEY;
const mint = "/v1/realtime/client_secrets";

interface ProblemJson {
  type: string;
  title: string;
  status: number;
  code: string;
  detail?: string;
  instance?: string;
  error: { message: string; type: string; code: string; param: string | null };
}

let logged: string[] = [];
beforeEach(() => {
  logged = [];
  for (const method of ["log", "info", "warn", "error", "debug"] as const)
    vi.spyOn(console, method).mockImplementation((...args: unknown[]) => {
      logged.push(args.map(String).join(" "));
    });
});
afterEach(() => vi.restoreAllMocks());

async function expectProblem(res: Response, status: number, code: string): Promise<ProblemJson> {
  expect(res.status).toBe(status);
  expect(res.headers.get("Content-Type")).toBe("application/problem+json");
  const body = (await res.json()) as ProblemJson;
  expect(body).toMatchObject({ status, code, type: `urn:realtime-voice-edge:problem:${code}` });
  expect(body.title.length).toBeGreaterThan(0);
  // OpenAI's envelope beside RFC 9457: what the official SDKs print is a sentence, never raw JSON.
  expect(body.error.type).toBe(status >= 500 ? "server_error" : "invalid_request_error");
  expect(body.error.message).toMatch(/^[A-Z][^{}]*[.!?]$/);
  expect(body.error.message.startsWith(body.title)).toBe(true);
  expect(typeof body.error.code).toBe("string");
  return body;
}

describe("error table", () => {
  it("413 payload_too_large over the body limit", async () => {
    const { res, upstream } = await postJson(mint, {
      session: { type: "realtime", instructions: "x".repeat(70_000) },
    });
    await expectProblem(res, 413, "payload_too_large");
    expect(await upstream()).toEqual([]);
  });

  it("413 also without Content-Length (streamed body)", async () => {
    const chunk = new TextEncoder().encode("x".repeat(16_384));
    let sent = 0;
    const stream = new ReadableStream<Uint8Array>({
      pull(controller) {
        if (sent++ < 8) controller.enqueue(chunk);
        else controller.close();
      },
    });
    const { res } = await send(mint, { body: stream, headers: { "Content-Type": "application/json" } });
    await expectProblem(res, 413, "payload_too_large");
  });

  it.each([
    [mint, "text/plain"],
    [mint, "application/x-www-form-urlencoded"],
    ["/v1/realtime/sessions", "application/xml"],
    ["/v1/realtime/calls", "application/json"],
  ])("415 for %s with %s", async (path, type) => {
    const { res, upstream } = await send(path, { body: "{}", headers: { "Content-Type": type } });
    await expectProblem(res, 415, "unsupported_media_type");
    expect(await upstream()).toEqual([]);
  });

  it.each(["{", "", "{'a':1}", "[1,", "nul"])("400 malformed_json for %j", async (body) => {
    const { res } = await send(mint, { body, headers: { "Content-Type": "application/json" } });
    await expectProblem(res, 400, "malformed_json");
  });

  it.each([[[]], ["string"], [null], [42]])(
    "400 invalid_request for the JSON value %j (not an object)",
    async (json) => {
      const { res } = await postJson(mint, json);
      const problem = (await expectProblem(res, 400, "invalid_request")) as ProblemJson & {
        errors: unknown[];
      };
      expect(problem.errors).toEqual([{ pointer: "", detail: expect.any(String) }]);
      expect(problem.error.param).toBeNull();
    },
  );

  it("403 origin_not_allowed, readable by the refused page (CORS for that origin, preflight passes)", async () => {
    const { res, upstream } = await postJson(mint, {}, {});
    expect(res.status).toBe(200);
    expect(await upstream()).toHaveLength(1);

    const foreign = await send(mint, { json: {}, headers: { Origin: "https://evil.example" } });
    const problem = (await expectProblem(foreign.res, 403, "origin_not_allowed")) as ProblemJson & {
      error: { message: string; code: string };
    };
    expect(problem.detail).toContain("ALLOWED_ORIGINS");
    expect(problem.error.message).toContain("https://evil.example");
    expect(problem.error.code).toBe("origin_not_allowed");
    expect(foreign.res.headers.get("Access-Control-Allow-Origin")).toBe("https://evil.example");
    expect(foreign.res.headers.get("Access-Control-Expose-Headers")).toContain("Retry-After");
    expect(foreign.res.headers.get("Vary")).toContain("Origin");
    expect(await foreign.upstream()).toEqual([]);

    // The preflight grants nothing by itself: the request that follows is the 403 above.
    const preflight = await send(mint, {
      method: "OPTIONS",
      headers: { Origin: "https://evil.example", "Access-Control-Request-Method": "POST" },
    });
    expect(preflight.res.status).toBe(204);
    expect(preflight.res.headers.get("Access-Control-Allow-Origin")).toBe("https://evil.example");
    expect(await preflight.upstream()).toEqual([]);
  });

  it("same-origin requests pass with ALLOWED_ORIGINS empty, Origin-less ones need a bearer; listed origins get CORS headers", async () => {
    const same = await send(
      mint,
      { json: {}, headers: { Origin: ORIGIN } },
      { vars: { BROWSER_CLIENT_SECRETS: "allow" } },
    );
    expect(same.res.status).toBe(200);
    const anonymous = await send(mint, { json: {} }, { anonymous: true });
    await expectProblem(anonymous.res, 401, "authentication_required");
    expect(await anonymous.upstream()).toEqual([]);

    const vars = { ALLOWED_ORIGINS: "https://shop.example", BROWSER_CLIENT_SECRETS: "allow" };
    const preflight = await send(
      mint,
      {
        method: "OPTIONS",
        headers: { Origin: "https://shop.example", "Access-Control-Request-Method": "POST" },
      },
      { vars },
    );
    expect(preflight.res.status).toBe(204);
    expect(preflight.res.headers.get("Access-Control-Allow-Origin")).toBe("https://shop.example");
    expect(preflight.res.headers.get("Access-Control-Allow-Methods")).toContain("POST");
    const sdk = await send(
      mint,
      {
        method: "OPTIONS",
        headers: {
          Origin: "https://shop.example",
          "Access-Control-Request-Method": "POST",
          "Access-Control-Request-Headers": "authorization, content-type, x-stainless-os",
        },
      },
      { vars },
    );
    expect(sdk.res.headers.get("Access-Control-Allow-Headers")).toBe(
      "authorization,content-type,x-stainless-os",
    );

    const call = await send(
      "/v1/realtime/calls",
      { body: OFFER, headers: { Origin: "https://shop.example", "Content-Type": "application/sdp" } },
      { vars },
    );
    expect(call.res.status).toBe(201);
    expect(call.res.headers.get("Access-Control-Allow-Origin")).toBe("https://shop.example");
    expect(call.res.headers.get("Access-Control-Expose-Headers")).toContain("Location");

    // Error bodies stay readable by the allowed page.
    const bad = await send(
      mint,
      { json: { nope: 1 }, headers: { Origin: "https://shop.example" } },
      { vars },
    );
    expect(bad.res.status).toBe(400);
    expect(bad.res.headers.get("Access-Control-Allow-Origin")).toBe("https://shop.example");
  });

  it("429 rate_limited with Retry-After once a client exceeds the binding's limit (per CF-Connecting-IP)", async () => {
    const ip = "203.0.113.77";
    const statuses: number[] = [];
    let limited: Response | undefined;
    for (let i = 0; i < 40 && limited === undefined; i++) {
      const { res } = await postJson(mint, {}, { ip });
      statuses.push(res.status);
      if (res.status === 429) limited = res;
      else await res.body?.cancel();
    }
    expect(limited).toBeDefined();
    if (limited === undefined) return;
    await expectProblem(limited, 429, "rate_limited");
    const wait = Number(limited.headers.get("Retry-After"));
    expect(wait).toBeGreaterThan(0);
    expect(wait).toBeLessThanOrEqual(60);
    const waitMs = Number(limited.headers.get("retry-after-ms"));
    expect(Math.ceil(waitMs / 1000)).toBeGreaterThanOrEqual(wait - 1);
    expect(waitMs).toBeLessThanOrEqual(60_000);
    expect(statuses.slice(0, 30).every((s) => s === 200)).toBe(true);
    // Another client is unaffected.
    expect((await postJson(mint, {}, { ip: "203.0.113.78" })).res.status).toBe(200);
  });

  it("Retry-After counts down to the end of the 60 s window the limiter counts in", () => {
    expect(secondsToPeriodEnd(0)).toBe(60);
    expect(secondsToPeriodEnd(59_001)).toBe(1);
    expect(secondsToPeriodEnd(61_500)).toBe(59);
    expect(msToPeriodEnd(61_500)).toBe(58_500);
  });

  it.each([
    ["status-500", 502, "upstream_error"],
    ["status-503", 502, "upstream_error"],
    ["status-400", 502, "upstream_error"],
    ["status-401", 502, "upstream_auth_failed"],
    ["status-403", 502, "upstream_auth_failed"],
    ["garbage", 502, "upstream_error"],
    ["timeout", 504, "upstream_timeout"],
  ])("upstream %s → %i %s", async (scenario, status, code) => {
    const { res } = await postJson(mint, {}, { scenario, vars: { UPSTREAM_TIMEOUT_MS: "300" } });
    const problem = await expectProblem(res, status, code);
    expect(JSON.stringify(problem)).not.toContain("Incorrect API key");
    // A retry cannot fix the deployment's key; transient failures stay retryable.
    expect(res.headers.get("x-should-retry")).toBe(code === "upstream_auth_failed" ? "false" : null);
  });

  it("upstream 429 → 503 upstream_rate_limited with OpenAI's Retry-After", async () => {
    const { res } = await postJson(mint, {}, { scenario: "status-429" });
    await expectProblem(res, 503, "upstream_rate_limited");
    expect(res.headers.get("Retry-After")).toBe("7");
  });

  it("upstream auth failure: body logged (redacted), not forwarded", async () => {
    const { res } = await postJson(mint, {}, { scenario: "status-401" });
    const text = await res.text();
    expect(text).not.toContain("invalid_api_key");
    expect(logged.join("\n")).toContain("invalid_api_key");
    expect(logged.join("\n")).not.toMatch(/sk-test-\*/);
  });

  it("500 server_misconfigured when the key is missing or a variable is malformed; nothing sent upstream", async () => {
    const noKey = await postJson(mint, {}, { vars: { OPENAI_API_KEY: "" } });
    await expectProblem(noKey.res, 500, "server_misconfigured");
    expect(await noKey.upstream()).toEqual([]);
    const badVar = await postJson(mint, {}, { vars: { CLIENT_INSTRUCTIONS: "maybe" } });
    await expectProblem(badVar.res, 500, "server_misconfigured");
    expect(logged.join("\n")).toContain("CLIENT_INSTRUCTIONS");
  });

  it.each([
    "/v1/realtime/client_secrets",
    "/v1/realtime/sessions",
    "/v1/realtime/calls",
    "/v1/realtime/calls/rtc_a/hangup",
  ])("405 method_not_allowed with Allow for GET %s", async (path) => {
    const { res } = await send(path, { method: "GET" });
    await expectProblem(res, 405, "method_not_allowed");
    expect(res.headers.get("Allow")).toBe("POST, OPTIONS");
  });

  it("404 not_found problem for unknown API routes", async () => {
    const { res } = await send("/v1/realtime/nope");
    await expectProblem(res, 404, "not_found");
  });
});

describe("the API key never leaves the worker", () => {
  it("no response body, header or log line contains the key, across every route and failure", async () => {
    expect(KEY.length).toBeGreaterThan(20);
    const scenarios = [
      "ok",
      "status-401",
      "status-403",
      "status-429",
      "status-500",
      "garbage",
      "timeout",
      "invalid-offer",
    ];
    const seen: string[] = [];
    for (const scenario of scenarios) {
      const options = { scenario, vars: { UPSTREAM_TIMEOUT_MS: "200" } };
      const results = await Promise.all([
        postJson(mint, { session: { type: "realtime" } }, options),
        postJson("/v1/realtime/sessions", { voice: "alloy", temperature: 0.8 }, options),
        send("/v1/realtime/calls", { body: OFFER, headers: { "Content-Type": "application/sdp" } }, options),
        send("/v1/realtime/calls/rtc_abc/hangup", {}, options),
        postJson(mint, { bogus: KEY }, options),
      ]);
      for (const { res } of results) {
        seen.push(
          `${res.status} ${[...res.headers].map(([k, v]) => `${k}: ${v}`).join("\n")}\n${await res.text()}`,
        );
      }
    }
    const all = `${seen.join("\n")}\n${logged.join("\n")}`;
    expect(seen.length).toBe(scenarios.length * 5);
    expect(all).not.toContain(KEY);
    // Not even a recognisable fragment (OpenAI's 401 message quotes the key's tail).
    expect(all).not.toContain(KEY.slice(-12));
    expect(all).not.toContain(KEY.slice(0, 16));
  });
});

describe("security headers", () => {
  it("API responses carry Hono's secure headers", async () => {
    const { res } = await postJson(mint, {});
    expect(res.headers.get("X-Content-Type-Options")).toBe("nosniff");
    expect(res.headers.get("X-Frame-Options")).toBe("SAMEORIGIN");
  });
});

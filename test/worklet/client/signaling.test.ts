import { afterEach, describe, expect, it, vi } from "vitest";
import type { RealtimeVoiceError } from "../../../worklet/client/realtime-voice-error.ts";
import { callSummary, exchangeSdp, httpError } from "../../../worklet/client/signaling.ts";
import { fakeFetch, sdpAnswer } from "./fakes.ts";

const problem = (status: number, body: object, headers: Record<string, string> = {}) =>
  new Response(JSON.stringify(body), {
    status,
    headers: { "content-type": "application/problem+json", ...headers },
  });

const request = {
  url: "https://w.example",
  signaling: "proxy" as const,
  upstreamUrl: "",
  session: undefined,
  headers: { "x-app": "1" },
};

afterEach(() => vi.unstubAllGlobals());

describe("httpError", () => {
  it("maps a refused origin (problem details with OpenAI's envelope) to origin_not_allowed with the detail", async () => {
    const error = await httpError(
      problem(403, {
        type: "urn:problem:origin_not_allowed",
        code: "origin_not_allowed",
        detail: "origin https://x.example is not allowed; add it to ALLOWED_ORIGINS",
        error: {
          message: "origin https://x.example is not allowed",
          type: "invalid_request_error",
          code: "origin_not_allowed",
          param: null,
        },
      }),
    );
    expect(error).toMatchObject({
      code: "origin_not_allowed",
      status: 403,
      serverCode: "origin_not_allowed",
    });
    expect(error.message).toContain("ALLOWED_ORIGINS");
  });

  it("reads OpenAI's envelope alone", async () => {
    const error = await httpError(problem(400, { error: { message: "bad offer", code: "invalid_offer" } }));
    expect(error).toMatchObject({
      code: "signaling_failed",
      status: 400,
      serverCode: "invalid_offer",
      message: "400: bad offer",
    });
  });

  it("401 is authentication_required; 429 rate_limited or budget_exhausted with Retry-After seconds", async () => {
    expect((await httpError(problem(401, { code: "authentication_required", detail: "sign in" }))).code).toBe(
      "authentication_required",
    );
    const limited = await httpError(
      problem(429, { code: "rate_limited", detail: "slow down" }, { "retry-after": "7" }),
    );
    expect(limited).toMatchObject({ code: "rate_limited", retryAfter: 7, message: "429: slow down" });
    const budget = await httpError(problem(429, { code: "budget_exhausted", detail: "daily budget used" }));
    expect(budget).toMatchObject({ code: "budget_exhausted", retryAfter: undefined });
  });

  it("keeps a non-JSON body as the message", async () => {
    const error = await httpError(new Response("<html>bad gateway</html>", { status: 502 }));
    expect(error).toMatchObject({ code: "signaling_failed", status: 502 });
    expect(error.message).toContain("bad gateway");
  });
});

describe("exchangeSdp", () => {
  it("posts the offer with the caller's headers and the attempt's signal; the call id is Location's last segment", async () => {
    const fake = fakeFetch([sdpAnswer("rtc_abc")]);
    vi.stubGlobal("fetch", fake.fetch);
    const signal = new AbortController().signal;
    const answer = await exchangeSdp("v=0 offer", request, signal);
    expect(answer).toEqual({ sdp: "v=0\r\no=answer", callId: "rtc_abc" });
    expect(fake.requests[0]?.url).toBe("https://w.example/v1/realtime/calls");
    expect(fake.requests[0]?.headers.get("x-app")).toBe("1");
    expect(fake.requests[0]?.headers.get("content-type")).toBe("application/sdp");
    expect(fake.signals[0]).toBe(signal);
  });

  it("refuses a 2xx without SDP as invalid_answer, and a network failure as network_error", async () => {
    vi.stubGlobal("fetch", fakeFetch([() => new Response("<html>", { status: 200 })]).fetch);
    await expect(exchangeSdp("v=0", request, new AbortController().signal)).rejects.toMatchObject({
      code: "invalid_answer",
    });
    vi.stubGlobal("fetch", fakeFetch([]).fetch);
    await expect(exchangeSdp("v=0", request, new AbortController().signal)).rejects.toMatchObject({
      code: "network_error",
    });
  });

  it("rejects with the abort reason when the attempt is cancelled", async () => {
    const controller = new AbortController();
    vi.stubGlobal("fetch", async (_url: string, init: RequestInit) => {
      controller.abort(new Error("superseded"));
      throw init.signal?.reason;
    });
    await expect(exchangeSdp("v=0", request, controller.signal)).rejects.toThrow("superseded");
  });

  it("callSummary sends the same headers and never rejects", async () => {
    const fake = fakeFetch([
      () => Response.json({ status: "ended", end_reason: "idle" }),
      () => new Response("", { status: 404 }),
    ]);
    vi.stubGlobal("fetch", fake.fetch);
    const signal = new AbortController().signal;
    expect(await callSummary("https://w.example", "rtc_1", { authorization: "Bearer t" }, signal)).toEqual({
      status: "ended",
      end_reason: "idle",
    });
    expect(fake.requests[0]?.url).toBe("https://w.example/v1/realtime/calls/rtc_1");
    expect(fake.requests[0]?.headers.get("authorization")).toBe("Bearer t");
    expect(await callSummary("https://w.example", "rtc_1", {}, signal)).toBeNull();
    expect(((await httpError(new Response("", { status: 500 }))) as RealtimeVoiceError).code).toBe(
      "signaling_failed",
    );
  });
});

import { env } from "cloudflare:workers";
import { beforeEach, describe, expect, it, vi } from "vitest";
import { FAKE_ANSWER } from "../fixtures/fake-openai.ts";
import { OFFER, send } from "./harness.ts";

const path = "/v1/realtime/calls";

// Upstream failures are logged by design (errors.test.ts checks those lines); keep this file's output quiet.
beforeEach(() => {
  vi.spyOn(console, "error").mockImplementation(() => {});
  return () => vi.restoreAllMocks();
});

function multipart(parts: Record<string, string | Blob>): FormData {
  const form = new FormData();
  for (const [name, value] of Object.entries(parts)) form.append(name, value);
  return form;
}

describe("POST /v1/realtime/calls (SDP proxy)", () => {
  it("multipart sdp + session: posts multipart upstream with the server key, answers 201 with SDP and Location", async () => {
    const session = {
      type: "realtime",
      model: "gpt-realtime",
      audio: { input: { turn_detection: null }, output: { voice: "cedar" } },
    };
    const { res, upstream } = await send(path, {
      body: multipart({
        sdp: OFFER,
        session: new Blob([JSON.stringify(session)], { type: "application/json" }),
      }),
    });
    expect(res.status).toBe(201);
    expect(res.headers.get("Content-Type")).toBe("application/sdp");
    expect(res.headers.get("Location")).toMatch(/^\/v1\/realtime\/calls\/rtc_[A-Za-z0-9_-]+$/);
    expect(await res.text()).toBe(FAKE_ANSWER);

    const [sent, ...more] = await upstream();
    expect(more).toEqual([]);
    expect(sent?.method).toBe("POST");
    expect(sent?.path).toBe("/v1/realtime/calls");
    expect(sent?.headers.authorization).toBe(`Bearer ${env.OPENAI_API_KEY}`);
    expect(sent?.contentType).toMatch(/^multipart\/form-data; boundary=/);
    expect(Object.keys(sent?.parts ?? {}).sort()).toEqual(["sdp", "session"]);
    expect(sent?.parts?.sdp?.value).toBe(OFFER);
    expect(JSON.parse(sent?.parts?.session?.value ?? "")).toEqual({
      type: "realtime",
      model: "gpt-realtime",
      audio: { input: { turn_detection: null }, output: { voice: "cedar" } },
      max_output_tokens: 4096,
    });
  });

  it("application/sdp: the session comes from the query and the policy", async () => {
    const { res, upstream } = await send(`${path}?model=gpt-realtime-mini&voice=marin`, {
      body: OFFER,
      headers: { "Content-Type": "application/sdp" },
    });
    expect(res.status).toBe(201);
    const [sent] = await upstream();
    expect(sent?.parts?.sdp?.value).toBe(OFFER);
    expect(JSON.parse(sent?.parts?.session?.value ?? "")).toEqual({
      type: "realtime",
      model: "gpt-realtime-mini",
      audio: { output: { voice: "marin" } },
      max_output_tokens: 4096,
    });
  });

  it.each([
    ["no audio section", OFFER.replace(/m=audio[\s\S]*?(?=m=application)/, ""), "m=audio"],
    ["no data channel section", OFFER.slice(0, OFFER.indexOf("m=application")), "m=application"],
    ["not SDP", "hello", "v=0"],
  ])("400 invalid_offer before any upstream call: %s", async (_name, sdp, mention) => {
    const { res, upstream } = await send(path, { body: sdp, headers: { "Content-Type": "application/sdp" } });
    expect(res.status).toBe(400);
    const problem = (await res.json()) as { code: string; detail: string };
    expect(problem.code).toBe("invalid_offer");
    expect(problem.detail).toContain(mention);
    expect(await upstream()).toEqual([]);
  });

  it.each([
    ["?voice=nova", 400, "/query/voice"],
    ["?colour=red", 400, "/query/colour"],
    ["?model=gpt-5", 403, "/query/model"],
  ])("application/sdp with %s → %i at %s", async (query, status, pointer) => {
    const { res, upstream } = await send(`${path}${query}`, {
      body: OFFER,
      headers: { "Content-Type": "application/sdp" },
    });
    expect(res.status).toBe(status);
    const problem = (await res.json()) as { errors: Array<{ pointer: string }> };
    expect(problem.errors.map((e) => e.pointer)).toEqual([pointer]);
    expect(await upstream()).toEqual([]);
  });

  it("413 offer_too_large for an offer over the cap (under the body limit)", async () => {
    const big = `${OFFER}${"a=x-padding:".padEnd(200, "x")}\r\n`.repeat(1).concat("a=x:".padEnd(40_000, "y"));
    const { res, upstream } = await send(path, { body: big, headers: { "Content-Type": "application/sdp" } });
    expect(res.status).toBe(413);
    expect(((await res.json()) as { code: string }).code).toBe("offer_too_large");
    expect(await upstream()).toEqual([]);
  });

  it.each([
    [{ sdp: OFFER, session: '{"type":"realtime","voice":"alloy"}' }, 400, "/session/voice"],
    [{ sdp: OFFER, session: '{"type":"realtime",' }, 400, undefined],
    [{ sdp: OFFER, extra: "x" }, 400, "/extra"],
    [{ session: '{"type":"realtime"}' }, 400, "/sdp"],
    [{ sdp: OFFER, session: '{"type":"realtime","model":"gpt-5"}' }, 403, "/session/model"],
  ])("multipart %j → %i at %s, no upstream call", async (parts, status, pointer) => {
    const { res, upstream } = await send(path, { body: multipart(parts) });
    expect(res.status).toBe(status);
    const problem = (await res.json()) as { errors?: Array<{ pointer: string }> };
    if (pointer !== undefined) expect(problem.errors?.map((e) => e.pointer)).toContain(pointer);
    expect(await upstream()).toEqual([]);
  });

  it("an upstream invalid_offer is the client's 400, not a 5xx", async () => {
    const { res } = await send(
      path,
      { body: OFFER, headers: { "Content-Type": "application/sdp" } },
      { scenario: "invalid-offer" },
    );
    expect(res.status).toBe(400);
    expect(((await res.json()) as { code: string }).code).toBe("invalid_offer");
  });

  it("a 201 whose body is not SDP is a 502 upstream_error", async () => {
    const { res } = await send(
      path,
      { body: OFFER, headers: { "Content-Type": "application/sdp" } },
      { scenario: "garbage" },
    );
    expect(res.status).toBe(502);
    expect(((await res.json()) as { code: string }).code).toBe("upstream_error");
  });

  it("works against a plain-http upstream (the local peer under wrangler dev)", async () => {
    const { res, upstream } = await send(
      path,
      { body: OFFER, headers: { "Content-Type": "application/sdp" } },
      { scheme: "http" },
    );
    expect(res.status).toBe(201);
    expect(await upstream()).toHaveLength(1);
  });
});

describe("POST /v1/realtime/calls/{id}/hangup", () => {
  it("proxies with the server key", async () => {
    const { res, upstream } = await send(`${path}/rtc_abc123/hangup`);
    expect(res.status).toBe(204);
    const [sent] = await upstream();
    expect(sent?.path).toBe("/v1/realtime/calls/rtc_abc123/hangup");
    expect(sent?.method).toBe("POST");
    expect(sent?.headers.authorization).toBe(`Bearer ${env.OPENAI_API_KEY}`);
  });

  it.each(["abc", "rtc_", "rtc_a%2Fb", "sess_123"])(
    "refuses call id %s with 400 before any upstream call",
    async (id) => {
      const { res, upstream } = await send(`${path}/${id}/hangup`);
      expect(res.status).toBe(400);
      expect(await upstream()).toEqual([]);
    },
  );

  it("an unknown call is 404 call_not_found", async () => {
    const { res } = await send(`${path}/rtc_missing/hangup`);
    expect(res.status).toBe(404);
    expect(((await res.json()) as { code: string }).code).toBe("call_not_found");
  });
});

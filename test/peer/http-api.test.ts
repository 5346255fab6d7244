import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type LocalPeer, startLocalPeer } from "../../demo/local-peer/local-peer.ts";
import { RealtimeOfferer } from "./realtime-offerer.ts";

const KEY = "sk-test-peer";
let peer: LocalPeer;
let recordings: string;
let clock = Date.parse("2026-11-21T12:00:00Z");

beforeAll(async () => {
  recordings = mkdtempSync(join(tmpdir(), "peer-http-"));
  peer = await startLocalPeer({ apiKey: KEY, speech: "describe", recordings, now: () => clock });
});
afterAll(async () => {
  await peer.close();
  rmSync(recordings, { recursive: true, force: true });
});

function post(path: string, body: string | FormData | null, headers: Record<string, string> = {}) {
  return fetch(`${peer.url}${path}`, { method: "POST", body, headers });
}

async function expectError(response: Response, status: number, code: string, param?: string | null) {
  expect(response.status).toBe(status);
  expect(response.headers.get("content-type")).toBe("application/json");
  const body = (await response.json()) as { error: Record<string, unknown> };
  expect(Object.keys(body)).toEqual(["error"]);
  expect(body.error).toMatchObject({ type: expect.any(String), code, message: expect.any(String) });
  expect(body.error).toHaveProperty("param");
  if (param !== undefined) expect(body.error.param).toBe(param);
  return body.error;
}

async function offer(audio: "RecvOnly" | "none" = "RecvOnly") {
  const offerer = new RealtimeOfferer({ audio });
  const sdp = await offerer.offer();
  offerer.close();
  return sdp;
}

describe("client secrets", () => {
  it("mints ek_ secrets with GA request and response shapes", async () => {
    const response = await post(
      "/v1/realtime/client_secrets",
      JSON.stringify({
        expires_after: { anchor: "created_at", seconds: 120 },
        session: {
          type: "realtime",
          instructions: "Be brief.",
          audio: {
            output: { voice: "marin" },
            input: { turn_detection: { type: "server_vad", threshold: 0.6 } },
          },
        },
      }),
      { authorization: `Bearer ${KEY}`, "content-type": "application/json" },
    );
    expect(response.status).toBe(200);
    const body = (await response.json()) as {
      value: string;
      expires_at: number;
      session: Record<string, unknown>;
    };
    expect(body.value).toMatch(/^ek_[A-Za-z0-9]{20,}$/);
    expect(body.expires_at).toBe(Math.floor(clock / 1000) + 120);
    expect(body.session).toMatchObject({
      type: "realtime",
      object: "realtime.session",
      id: expect.stringMatching(/^sess_/),
      instructions: "Be brief.",
      output_modalities: ["audio"],
      audio: {
        input: {
          format: { type: "audio/pcm", rate: 24000 },
          // Unspecified fields of a requested server_vad take OpenAI's defaults.
          turn_detection: {
            type: "server_vad",
            threshold: 0.6,
            prefix_padding_ms: 300,
            silence_duration_ms: 500,
          },
        },
        output: { voice: "marin" },
      },
    });
  });

  it("rejects a missing or wrong server key with 401 in OpenAI's error shape", async () => {
    await expectError(await post("/v1/realtime/client_secrets", "{}"), 401, "missing_api_key", null);
    await expectError(
      await post("/v1/realtime/client_secrets", "{}", { authorization: "Bearer sk-wrong" }),
      401,
      "invalid_api_key",
    );
  });

  it("names the offending field of an invalid request", async () => {
    const auth = { authorization: `Bearer ${KEY}`, "content-type": "application/json" };
    const ttl = await post(
      "/v1/realtime/client_secrets",
      JSON.stringify({ expires_after: { anchor: "created_at", seconds: 5 } }),
      auth,
    );
    await expectError(ttl, 400, "invalid_value", "expires_after.seconds");
    const voice = await post(
      "/v1/realtime/client_secrets",
      JSON.stringify({ session: { type: "realtime", audio: { output: { voice: "nova" } } } }),
      auth,
    );
    const error = await expectError(voice, 400, "invalid_value");
    expect(error.param).toMatch(/^session\.audio\.output\.voice/);
    await expectError(await post("/v1/realtime/client_secrets", "{not json", auth), 400, "invalid_json");
  });

  it("refuses an expired ek_ when a call is started with it", async () => {
    const minted = await post(
      "/v1/realtime/client_secrets",
      JSON.stringify({ expires_after: { anchor: "created_at", seconds: 10 } }),
      { authorization: `Bearer ${KEY}`, "content-type": "application/json" },
    );
    const { value } = (await minted.json()) as { value: string };
    const sdp = await offer();
    clock += 10_000;
    try {
      await expectError(
        await post("/v1/realtime/calls", sdp, {
          authorization: `Bearer ${value}`,
          "content-type": "application/sdp",
        }),
        401,
        "client_secret_expired",
      );
    } finally {
      clock -= 10_000;
    }
    await expectError(
      await post("/v1/realtime/calls", sdp, {
        authorization: "Bearer ek_unknown",
        "content-type": "application/sdp",
      }),
      401,
      "invalid_api_key",
    );
  });
});

describe("calls", () => {
  it("answers an offer without an audio m-section with 400 invalid_offer", async () => {
    const sdp = await offer("none");
    const form = new FormData();
    form.set("sdp", sdp);
    form.set("session", JSON.stringify({ type: "realtime" }));
    await expectError(
      await post("/v1/realtime/calls", form, { authorization: `Bearer ${KEY}` }),
      400,
      "invalid_offer",
      "sdp",
    );
    await expectError(
      await post("/v1/realtime/calls", "hello", {
        authorization: `Bearer ${KEY}`,
        "content-type": "application/sdp",
      }),
      400,
      "invalid_offer",
    );
  });

  it("refuses the wrong content type (415) and oversized bodies (413)", async () => {
    await expectError(
      await post("/v1/realtime/calls", "{}", {
        authorization: `Bearer ${KEY}`,
        "content-type": "application/json",
      }),
      415,
      "unsupported_content_type",
    );
    await expectError(
      await post("/v1/realtime/calls", "v=0\r\n".repeat(300_000), {
        authorization: `Bearer ${KEY}`,
        "content-type": "application/sdp",
      }),
      413,
      "request_too_large",
    );
  });

  it("validates the multipart session part with the worker's GA schema", async () => {
    const form = new FormData();
    form.set("sdp", await offer());
    form.set("session", JSON.stringify({ type: "realtime", temperature: 0.8 }));
    const error = await expectError(
      await post("/v1/realtime/calls", form, { authorization: `Bearer ${KEY}` }),
      400,
      "unknown_parameter",
      "session.temperature",
    );
    expect(error.message).toBe('temperature: Unknown field "temperature": not allowed here');
    const missing = new FormData();
    missing.set("session", JSON.stringify({ type: "realtime" }));
    await expectError(
      await post("/v1/realtime/calls", missing, { authorization: `Bearer ${KEY}` }),
      400,
      "missing_required_parameter",
      "sdp",
    );
  });

  it("answers unknown routes, calls and recordings with 404 and wrong methods with 405", async () => {
    await expectError(await fetch(`${peer.url}/v1/nothing`), 404, "not_found");
    await expectError(
      await post("/v1/realtime/calls/rtc_nope/hangup", null, { authorization: `Bearer ${KEY}` }),
      404,
      "call_not_found",
    );
    await expectError(await fetch(`${peer.url}/recordings/../../etc/passwd`), 404, "not_found");
    await expectError(await fetch(`${peer.url}/recordings/rtc_nope.wav`), 404, "recording_not_found");
    await expectError(await fetch(`${peer.url}/v1/realtime/client_secrets`), 405, "method_not_allowed");
    const health = await fetch(`${peer.url}/health`);
    expect(await health.json()).toMatchObject({ status: "ok" });
  });

  it("serves a CORS-open recordings index", async () => {
    const response = await fetch(`${peer.url}/recordings/`);
    expect(response.status).toBe(200);
    expect(response.headers.get("access-control-allow-origin")).toBe("*");
    expect(await response.json()).toMatchObject({ sample_rate: 24000, recordings: expect.any(Array) });
  });

  it("answers a browser's preflight with the headers it asked for (agents-realtime sends X-OpenAI-Agents-SDK)", async () => {
    const response = await fetch(`${peer.url}/v1/realtime/calls`, {
      method: "OPTIONS",
      headers: {
        origin: "http://localhost:5173",
        "access-control-request-method": "POST",
        "access-control-request-headers": "authorization,content-type,x-openai-agents-sdk",
      },
    });
    expect(response.status).toBe(204);
    expect(response.headers.get("access-control-allow-origin")).toBe("*");
    expect(response.headers.get("access-control-allow-headers")).toBe(
      "authorization,content-type,x-openai-agents-sdk",
    );
    expect(response.headers.get("access-control-allow-methods")).toContain("POST");
  });
});

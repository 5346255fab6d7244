import { env } from "cloudflare:workers";
import * as v from "valibot";
import { describe, expect, it } from "vitest";
import { SEED_001_WITH_TOOLS, SEEDS, TTS_VOICE_BODIES } from "../fixtures/seeds.ts";
import { postJson, send } from "./harness.ts";

const path = "/v1/realtime/sessions";

interface Warning {
  pointer: string;
  message: string;
}

async function sentSession(
  upstream: () => Promise<Array<{ body: string }>>,
): Promise<Record<string, unknown>> {
  const [first] = await upstream();
  return (JSON.parse(first?.body ?? "{}") as { session: Record<string, unknown> }).session;
}

function sendRaw(body: string, vars?: Record<string, string>) {
  return send(path, { body, headers: { "Content-Type": "application/json" } }, { vars });
}

describe("POST /v1/realtime/sessions (legacy beta shapes)", () => {
  it.each(SEEDS)(
    "seed $seed ($library): accepted, normalised, answer readable by its response type",
    async (seed) => {
      const { res, upstream } = await sendRaw(seed.body);
      const json = (await res.json()) as Record<string, unknown>;
      expect(res.status, JSON.stringify(json)).toBe(200);
      const parsed = v.safeParse(seed.response, json);
      expect(parsed.issues?.map((i) => `${v.getDotPath(i)}: ${i.message}`) ?? []).toEqual([]);
      const sent = await upstream();
      expect(sent).toHaveLength(1);
      expect(sent[0]?.path).toBe("/v1/realtime/client_secrets");
      expect(sent[0]?.method).toBe("POST");
      expect(sent[0]?.headers.authorization).toBe(`Bearer ${env.OPENAI_API_KEY}`);
      expect(sent[0]?.headers["content-type"]).toBe("application/json");
      expect(Object.keys(sent[0]?.headers ?? {}).filter((h) => h.startsWith("openai-beta"))).toEqual([]);
      const session = JSON.parse(sent[0]?.body ?? "").session;
      expect(session.type).toBe("realtime");
      // Nothing beta-shaped reaches OpenAI.
      for (const key of [
        "modalities",
        "voice",
        "temperature",
        "input_audio_format",
        "turn_detection",
        "config",
      ])
        expect(session).not.toHaveProperty(key);
      expect(json.client_secret).toMatchObject({ value: expect.stringMatching(/^ek_/) });
      expect(json.ephemeral_key).toBe((json.client_secret as { value: string }).value);
    },
  );

  it("seed 000: nested config and the invented voice_activity_detection become GA fields, with warnings", async () => {
    const { res, upstream } = await sendRaw(SEEDS[0]?.body ?? "");
    const json = (await res.json()) as {
      warnings: Warning[];
      created_at: string;
      expires_at: string;
      webrtc_url: string;
    };
    expect(await sentSession(upstream)).toEqual({
      type: "realtime",
      model: "gpt-realtime",
      instructions: "You are a helpful assistant.",
      output_modalities: ["audio"],
      audio: {
        input: {
          format: { type: "audio/pcm", rate: 24000 },
          turn_detection: {
            type: "server_vad",
            threshold: 0.5,
            prefix_padding_ms: 300,
            silence_duration_ms: 200,
          },
        },
        output: { format: { type: "audio/pcm", rate: 24000 }, voice: "alloy" },
      },
      max_output_tokens: 4096,
    });
    expect(json.warnings.map((w) => w.pointer).sort()).toEqual([
      "/config/voice_activity_detection",
      "/model",
      "/temperature",
    ]);
    expect(Date.parse(json.created_at)).not.toBeNaN();
    expect(json.expires_at).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$/);
    expect(json.webrtc_url).toMatch(/^https:\/\/openai\.test\/.+\/v1\/realtime\/calls$/);
  });

  it("seed 001: g711_law is μ-law upstream and is echoed in the client's spelling", async () => {
    const { res, upstream } = await sendRaw(SEEDS[1]?.body ?? "");
    const json = (await res.json()) as { output_audio_format: string; warnings: Warning[] };
    const session = await sentSession(upstream);
    expect(session.audio).toMatchObject({ output: { format: { type: "audio/pcmu" }, voice: "ash" } });
    expect(session.max_output_tokens).toBe(4096);
    expect(json.output_audio_format).toBe("g711_law");
    expect(json.warnings).toContainEqual({
      pointer: "/output_audio_format",
      message: expect.stringContaining("μ-law"),
    });
  });

  it("seed 003: Go zero values are unset, not values", async () => {
    const { res, upstream } = await sendRaw(SEEDS[3]?.body ?? "");
    expect(res.status).toBe(200);
    expect(await sentSession(upstream)).toEqual({
      type: "realtime",
      model: "gpt-realtime",
      output_modalities: ["audio"],
      max_output_tokens: 4096,
    });
    const { warnings } = (await res.json()) as { warnings: Warning[] };
    expect(warnings.map((w) => w.pointer).sort()).toEqual([
      "/input_audio_transcription",
      "/temperature",
      "/turn_detection",
    ]);
  });

  it("seed 003 inside a session.update envelope is unwrapped", async () => {
    const body = JSON.stringify({
      event_id: "",
      type: "session.update",
      session: JSON.parse(SEEDS[3]?.body ?? ""),
    });
    const { res, upstream } = await sendRaw(body);
    expect(res.status).toBe(200);
    expect((await sentSession(upstream)).output_modalities).toEqual(["audio"]);
  });

  it.each(["g711_law", "g711-ulaw", "g711_ulaw"])("input format %s is μ-law", async (format) => {
    const { upstream } = await postJson(path, { input_audio_format: format });
    expect((await sentSession(upstream)).audio).toEqual({ input: { format: { type: "audio/pcmu" } } });
  });

  it("voice_activity_detection without turn_detection becomes server_vad; turn_detection type none means client turns", async () => {
    const a = await postJson(path, {
      config: {
        voice_activity_detection: { threshold: 0.7, prefix_padding_ms: 200, silence_duration_ms: 800 },
      },
    });
    expect((await sentSession(a.upstream)).audio).toEqual({
      input: {
        turn_detection: {
          type: "server_vad",
          threshold: 0.7,
          prefix_padding_ms: 200,
          silence_duration_ms: 800,
        },
      },
    });
    const b = await postJson(path, { turn_detection: { type: "none" } });
    expect((await sentSession(b.upstream)).audio).toEqual({ input: { turn_detection: null } });
    const json = (await b.res.json()) as { turn_detection: unknown; config: { turn_detection: unknown } };
    expect(json.turn_detection).toBeNull();
    expect(json.config.turn_detection).toEqual({ type: "none" });
  });

  it('"inf", null and 0 max tokens', async () => {
    for (const [value, expected] of [
      ["inf", 4096],
      [null, 4096],
      [0, 4096],
      [100, 100],
    ] as const) {
      const { upstream } = await postJson(path, { max_response_output_tokens: value });
      expect((await sentSession(upstream)).max_output_tokens).toBe(expected);
    }
    const uncapped = await postJson(
      path,
      { max_response_output_tokens: "inf" },
      { vars: { MAX_OUTPUT_TOKENS: "inf" } },
    );
    expect((await sentSession(uncapped.upstream)).max_output_tokens).toBe("inf");
  });

  it.each(TTS_VOICE_BODIES)("refuses %s with 400 listing the valid voices", async (body) => {
    const { res, upstream } = await sendRaw(body);
    expect(res.status).toBe(400);
    const problem = (await res.json()) as { errors: Array<{ pointer: string; detail: string }> };
    expect(problem.errors[0]?.pointer).toBe("/voice");
    expect(problem.errors[0]?.detail).toContain(
      "alloy, ash, ballad, coral, echo, sage, shimmer, verse, marin, cedar",
    );
    expect(await upstream()).toEqual([]);
  });

  it("a field given both at the top level and in config: the top level wins, with a warning", async () => {
    const { res, upstream } = await postJson(path, {
      input_audio_format: "g711_alaw",
      config: { input_audio_format: "pcm16" },
    });
    expect((await sentSession(upstream)).audio).toEqual({ input: { format: { type: "audio/pcma" } } });
    const { warnings } = (await res.json()) as { warnings: Warning[] };
    expect(warnings.map((w) => w.pointer)).toEqual(["/config/input_audio_format"]);
  });

  it("names unknown fields and points into nested config", async () => {
    const { res } = await postJson(path, { config: { input_audio_format: "wav", colour: "red" }, extra: 1 });
    expect(res.status).toBe(400);
    const problem = (await res.json()) as { errors: Array<{ pointer: string }> };
    expect(problem.errors.map((e) => e.pointer).sort()).toEqual([
      "/config/colour",
      "/config/input_audio_format",
      "/extra",
    ]);
  });

  it("tools with a named tool_choice pass when ALLOW_CLIENT_TOOLS=true, and are refused (403, pointer /tools) otherwise", async () => {
    const allowed = await sendRaw(SEED_001_WITH_TOOLS, { ALLOW_CLIENT_TOOLS: "true" });
    expect(allowed.res.status).toBe(200);
    const session = await sentSession(allowed.upstream);
    expect(session.tools).toEqual([
      {
        type: "function",
        name: "get_weather",
        description: "Current weather for a city",
        parameters: { type: "object", properties: { city: { type: "string" } }, required: ["city"] },
      },
    ]);
    expect(session.tool_choice).toEqual({ type: "function", name: "get_weather" });
    const json = (await allowed.res.json()) as { modalities: string[]; tools: unknown[] };
    expect(json.modalities).toEqual(["text"]);
    expect(json.tools).toHaveLength(1);

    const denied = await sendRaw(SEED_001_WITH_TOOLS);
    expect(denied.res.status).toBe(403);
    const problem = (await denied.res.json()) as { errors: Array<{ pointer: string }> };
    expect(problem.errors.map((e) => e.pointer)).toEqual(["/tools", "/tool_choice"]);
  });

  it("a beta preview model the deployment offers is kept; a non-preview unknown model is a 403", async () => {
    const kept = await postJson(
      path,
      { model: "gpt-4o-realtime-preview" },
      { vars: { ALLOWED_MODELS: "gpt-realtime,gpt-4o-realtime-preview" } },
    );
    expect((await sentSession(kept.upstream)).model).toBe("gpt-4o-realtime-preview");
    const refused = await postJson(path, { model: "gpt-5-voice" });
    expect(refused.res.status).toBe(403);
  });
});

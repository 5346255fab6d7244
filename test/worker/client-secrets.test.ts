import { env } from "cloudflare:workers";
import * as v from "valibot";
import { describe, expect, it } from "vitest";
import { RealtimeSession } from "../../worker/schema/session.ts";
import { postJson } from "./harness.ts";

const path = "/v1/realtime/client_secrets";
const Answer = v.strictObject({
  value: v.pipe(v.string(), v.startsWith("ek_")),
  expires_at: v.pipe(v.number(), v.integer()),
  session: v.looseObject({ type: v.literal("realtime"), id: v.string() }),
});

describe("POST /v1/realtime/client_secrets", () => {
  it("sends exactly the policed GA request upstream and answers OpenAI's shape", async () => {
    const { res, upstream } = await postJson(path, {
      expires_after: { anchor: "created_at", seconds: 30 },
      session: {
        type: "realtime",
        model: "gpt-realtime-mini",
        instructions: "Speak slowly.",
        output_modalities: ["audio"],
        audio: {
          input: {
            format: { type: "audio/pcm", rate: 24000 },
            transcription: { model: "gpt-4o-mini-transcribe", language: "en" },
            noise_reduction: { type: "near_field" },
            turn_detection: {
              type: "server_vad",
              threshold: 0.6,
              prefix_padding_ms: 300,
              silence_duration_ms: 500,
            },
          },
          output: { voice: "marin", speed: 1.1 },
        },
        max_output_tokens: 256,
      },
    });
    expect(res.status).toBe(200);
    expect(res.headers.get("Content-Type")).toMatch(/^application\/json/);
    const answer = v.parse(Answer, await res.json());
    expect(answer.session.model).toBe("gpt-realtime-mini");

    const [sent, ...more] = await upstream();
    expect(more).toEqual([]);
    expect(sent?.method).toBe("POST");
    expect(sent?.path).toBe("/v1/realtime/client_secrets");
    expect(sent?.headers.authorization).toBe(`Bearer ${env.OPENAI_API_KEY}`);
    expect(sent?.headers["content-type"]).toBe("application/json");
    expect(Object.keys(sent?.headers ?? {}).filter((h) => h.startsWith("openai-beta"))).toEqual([]);
    expect(JSON.parse(sent?.body ?? "")).toEqual({
      expires_after: { anchor: "created_at", seconds: 30 },
      session: {
        type: "realtime",
        model: "gpt-realtime-mini",
        instructions: "Speak slowly.",
        output_modalities: ["audio"],
        audio: {
          input: {
            format: { type: "audio/pcm", rate: 24000 },
            transcription: { model: "gpt-4o-mini-transcribe", language: "en" },
            noise_reduction: { type: "near_field" },
            turn_detection: {
              type: "server_vad",
              threshold: 0.6,
              prefix_padding_ms: 300,
              silence_duration_ms: 500,
            },
          },
          output: { voice: "marin", speed: 1.1 },
        },
        max_output_tokens: 256,
      },
    });
  });

  it("accepts an empty body object and applies the defaults (model, TTL, token cap, server instructions)", async () => {
    const { res, upstream } = await postJson(
      path,
      {},
      { vars: { INSTRUCTIONS: "You are the shop's assistant." } },
    );
    expect(res.status).toBe(200);
    const [sent] = await upstream();
    expect(JSON.parse(sent?.body ?? "")).toEqual({
      expires_after: { anchor: "created_at", seconds: 60 },
      session: {
        type: "realtime",
        model: "gpt-realtime",
        instructions: "You are the shop's assistant.",
        max_output_tokens: 4096,
      },
    });
  });

  it("accepts turn_detection: null (client-committed turns) and forwards it as null", async () => {
    const { res, upstream } = await postJson(path, {
      session: { type: "realtime", audio: { input: { turn_detection: null } } },
    });
    expect(res.status).toBe(200);
    const sent = JSON.parse((await upstream())[0]?.body ?? "");
    expect(sent.session.audio).toEqual({ input: { turn_detection: null } });
    const answer = (await res.json()) as { session: { audio: { input: { turn_detection: unknown } } } };
    expect(answer.session.audio.input.turn_detection).toBeNull();
  });

  it("clamps a longer expires_after to SECRET_TTL_SECONDS", async () => {
    const { res, upstream } = await postJson(
      path,
      { expires_after: { anchor: "created_at", seconds: 7200 } },
      { vars: { SECRET_TTL_SECONDS: "120" } },
    );
    expect(res.status).toBe(200);
    expect(JSON.parse((await upstream())[0]?.body ?? "").expires_after).toEqual({
      anchor: "created_at",
      seconds: 120,
    });
  });

  it.each([
    [{ session: { type: "realtime", temperature: 0.8 } }, "/session/temperature"],
    [{ session: { type: "realtime", audio: { output: { voice: "nova" } } } }, "/session/audio/output/voice"],
    [{ session: { type: "conversation" } }, "/session/type"],
    [{ session: { type: "transcription", model: "gpt-realtime" } }, "/session/model"],
    [{ session: { type: "realtime", output_modalities: ["audio", "text"] } }, "/session/output_modalities"],
    [{ expires_after: { anchor: "created_at", seconds: 5 } }, "/expires_after/seconds"],
    [{ session: { type: "realtime" }, client_secret: {} }, "/client_secret"],
    [
      { session: { type: "realtime", audio: { input: { format: { type: "audio/pcm", rate: 16000 } } } } },
      "/session/audio/input/format/rate",
    ],
  ])("refuses %j with a pointer to the field, without calling upstream", async (body, pointer) => {
    const { res, upstream } = await postJson(path, body);
    expect(res.status).toBe(400);
    expect(res.headers.get("Content-Type")).toBe("application/problem+json");
    const problem = (await res.json()) as {
      code: string;
      errors: Array<{ pointer: string; detail: string }>;
    };
    expect(problem.code).toBe("invalid_request");
    expect(problem.errors.map((e) => e.pointer)).toContain(pointer);
    expect(await upstream()).toEqual([]);
  });

  it("lists the valid voices when a TTS voice is asked for", async () => {
    const { res } = await postJson(path, {
      session: { type: "realtime", audio: { output: { voice: "onyx" } } },
    });
    const problem = (await res.json()) as { errors: Array<{ detail: string }> };
    expect(problem.errors[0]?.detail).toContain(
      "alloy, ash, ballad, coral, echo, sage, shimmer, verse, marin, cedar",
    );
  });

  it("answers a policy violation with 403 and pointers into the body", async () => {
    const { res, upstream } = await postJson(path, {
      session: {
        type: "realtime",
        model: "gpt-4o-realtime-preview",
        tools: [{ type: "function", name: "x" }],
      },
    });
    expect(res.status).toBe(403);
    const problem = (await res.json()) as { code: string; errors: Array<{ pointer: string; code: string }> };
    expect(problem.code).toBe("policy_violation");
    expect(problem.errors.map((e) => [e.pointer, e.code])).toEqual([
      ["/session/model", "model_not_allowed"],
      ["/session/tools", "client_tools_denied"],
    ]);
    expect(await upstream()).toEqual([]);
  });

  it("the schema the local peer imports accepts what the worker sends upstream", async () => {
    const { upstream } = await postJson(path, {
      session: { type: "realtime", audio: { input: { turn_detection: null } } },
    });
    const sent = JSON.parse((await upstream())[0]?.body ?? "");
    expect(v.safeParse(RealtimeSession, sent.session).success).toBe(true);
  });
});

/**
 * The session fields the `openai` SDK types (7.55.0), sent as an SDK user would: accepted and forwarded when the
 * deployment allows them, refused with a 403 naming the field and the variable that allows it otherwise; never
 * an "unknown field".
 */
import type { RealtimeSessionCreateRequest } from "openai/resources/realtime/realtime";
import { describe, expect, it } from "vitest";
import { postJson } from "./harness.ts";

const path = "/v1/realtime/client_secrets";

/** Every key `RealtimeSessionCreateRequest` types, with realistic values. */
const FULL: RealtimeSessionCreateRequest = {
  type: "realtime",
  model: "gpt-realtime",
  output_modalities: ["audio"],
  instructions: "Answer in one sentence.",
  audio: {
    input: {
      format: { type: "audio/pcm", rate: 24000 },
      noise_reduction: { type: "near_field", strength: 0.6 },
      transcription: {
        model: "gpt-transcribe",
        language: "en",
        languages: ["en", "de"],
        keywords: ["Cloudflare", "AudioWorklet"],
        prompt: "Technical words.",
        delay: "low",
      },
      turn_detection: {
        type: "server_vad",
        threshold: 0.5,
        prefix_padding_ms: 300,
        silence_duration_ms: 500,
        idle_timeout_ms: 10_000,
        create_response: true,
        interrupt_response: true,
      },
    },
    output: { format: { type: "audio/pcm", rate: 24000 }, voice: "marin", speed: 1.1 },
  },
  tools: [{ type: "function", name: "lookup", description: "Looks up", parameters: { type: "object" } }],
  tool_choice: "auto",
  parallel_tool_calls: false,
  reasoning: { effort: "low" },
  prompt: { id: "pmpt_123", version: "2", variables: { city: "Paris" } },
  max_output_tokens: 1024,
  truncation: { type: "retention_ratio", retention_ratio: 0.8, token_limits: { post_instructions: 8000 } },
  tracing: { workflow_name: "voice", group_id: "g1", metadata: { site: "shop" } },
  include: ["item.input_audio_transcription.logprobs"],
};

const OPT_IN = { ALLOW_CLIENT_TOOLS: "true", ALLOW_CLIENT_REASONING: "true", ALLOW_STORED_PROMPTS: "true" };

describe("fields the SDK types", () => {
  it("a session with every SDK field goes upstream unchanged when the deployment opts in", async () => {
    const { res, upstream } = await postJson(path, { session: FULL }, { vars: OPT_IN });
    expect(res.status).toBe(200);
    const sent = JSON.parse((await upstream())[0]?.body ?? "{}") as { session: unknown };
    expect(sent.session).toEqual(FULL);
  });

  it.each([
    ["reasoning", "/session/reasoning", "client_reasoning_denied", "ALLOW_CLIENT_REASONING"],
    ["prompt", "/session/prompt", "stored_prompt_denied", "ALLOW_STORED_PROMPTS"],
  ])(
    "%s without its variable: 403 naming the field and the variable",
    async (key, pointer, code, variable) => {
      const session = { type: "realtime", [key]: FULL[key as keyof typeof FULL] };
      const { res, upstream } = await postJson(path, { session });
      expect(res.status).toBe(403);
      const problem = (await res.json()) as {
        code: string;
        errors: Array<{ pointer: string; code: string; detail: string }>;
        error: { message: string; code: string; param: string };
      };
      expect(problem.code).toBe("policy_violation");
      expect(problem.errors).toEqual([{ pointer, code, detail: expect.stringContaining(variable) }]);
      expect(problem.error).toMatchObject({
        code: "policy_violation",
        param: pointer.slice(1).replaceAll("/", "."),
      });
      expect(problem.error.message).toContain(variable);
      expect(await upstream()).toEqual([]);
    },
  );

  it("prompt: null and parallel_tool_calls pass without any variable", async () => {
    const { res, upstream } = await postJson(path, {
      session: { type: "realtime", prompt: null, parallel_tool_calls: true },
    });
    expect(res.status).toBe(200);
    const sent = JSON.parse((await upstream())[0]?.body ?? "{}") as { session: Record<string, unknown> };
    expect(sent.session.parallel_tool_calls).toBe(true);
    expect("prompt" in sent.session).toBe(false);
  });

  it("MCP tools and an MCP tool_choice are refused by policy even with client tools allowed", async () => {
    const { res, upstream } = await postJson(
      path,
      {
        session: {
          type: "realtime",
          tools: [
            { type: "function", name: "ok" },
            { type: "mcp", server_label: "x", server_url: "https://mcp.example" },
          ],
          tool_choice: { type: "mcp", server_label: "x", name: "y" },
        },
      },
      { vars: OPT_IN },
    );
    expect(res.status).toBe(403);
    const problem = (await res.json()) as { errors: Array<{ pointer: string; code: string }> };
    expect(problem.errors.map((e) => [e.pointer, e.code])).toEqual([
      ["/session/tools/1", "client_mcp_tools_denied"],
      ["/session/tool_choice", "client_mcp_tools_denied"],
    ]);
    expect(await upstream()).toEqual([]);
  });

  it('mints a type: "transcription" client secret, its fields copied one by one', async () => {
    const session = {
      type: "transcription",
      audio: {
        input: {
          format: { type: "audio/pcm", rate: 24000 },
          noise_reduction: { type: "far_field", strength: 1 },
          transcription: { model: "gpt-live-transcribe", languages: ["en"], keywords: ["edge"] },
          turn_detection: { type: "server_vad", silence_duration_ms: 400 },
        },
      },
      include: ["item.input_audio_transcription.logprobs"],
    };
    const { res, upstream } = await postJson(path, {
      expires_after: { anchor: "created_at", seconds: 30 },
      session,
    });
    expect(res.status).toBe(200);
    const sent = JSON.parse((await upstream())[0]?.body ?? "{}") as unknown;
    expect(sent).toEqual({ expires_after: { anchor: "created_at", seconds: 30 }, session });
  });
});

/**
 * Property-based fuzzing (fast-check) of the three minting routes with generated and mutated bodies: near-valid
 * GA and beta sessions, unknown keys planted at random depths, wrong types, raw garbage. Properties: the worker
 * answers only 2xx or 4xx (4xx as problem details, with no upstream call), and whatever reaches OpenAI passes the
 * strict GA schema, so no unknown key is ever forwarded.
 *
 * Here the same fake OpenAI answers inside the isolate (a `fetch` spy building fresh Responses) instead of behind
 * `outboundService`: 1,150 requests then take seconds, not a minute of Node round trips. The spy sees every
 * `fetch` the worker makes, which is what the "nothing unknown upstream" property needs.
 */
import fc from "fast-check";
import * as v from "valibot";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { parseConfig } from "../../worker/config.ts";
import { jsonObject } from "../../worker/schema/json-object.ts";
import {
  ExpiresAfter,
  REALTIME_VOICES,
  RealtimeSession,
  TranscriptionSession,
} from "../../worker/schema/session.ts";
import { fakeOpenAI } from "../fixtures/fake-openai.ts";
import { SEEDS } from "../fixtures/seeds.ts";
import { OFFER, send } from "./harness.ts";

const policy = parseConfig({});
const UpstreamMint = jsonObject({ expires_after: ExpiresAfter, session: RealtimeSession });

type Json = unknown;

/** Valid values most of the time, so both outcomes (accepted, refused) are well exercised. */
function mostly(valid: fc.Arbitrary<Json>, invalid: fc.Arbitrary<Json>): fc.Arbitrary<Json> {
  return fc.oneof({ arbitrary: valid, weight: 12 }, { arbitrary: invalid, weight: 1 });
}

const voice = mostly(
  fc.oneof(fc.constantFrom<Json>(...REALTIME_VOICES), fc.constant({ id: "voice_abc" })),
  fc.constantFrom<Json>("nova", "fable", "onyx", "", "ALLOY", 3, { id: "nope" }),
);
const format = mostly(
  fc.constantFrom<Json>(
    { type: "audio/pcm", rate: 24000 },
    { type: "audio/pcm" },
    { type: "audio/pcmu" },
    { type: "audio/pcma" },
  ),
  fc.constantFrom<Json>({ type: "audio/pcm", rate: 16000 }, "pcm16", null, []),
);
const turn = mostly(
  fc.oneof(
    fc.constant<Json>(null),
    fc.record(
      {
        type: fc.constant("server_vad"),
        threshold: fc.double({ min: 0, max: 1, noNaN: true }),
        prefix_padding_ms: fc.nat(2_000),
        silence_duration_ms: fc.nat(2_000),
        create_response: fc.boolean(),
        idle_timeout_ms: fc.oneof(fc.constant(null), fc.integer({ min: 5_000, max: 30_000 })),
      },
      { requiredKeys: ["type"] },
    ),
    fc.record(
      { type: fc.constant("semantic_vad"), eagerness: fc.constantFrom("low", "auto") },
      { requiredKeys: ["type"] },
    ),
  ),
  fc.oneof(
    fc.constantFrom<Json>({ type: "none" }, { type: "" }, { type: "semantic_vad", eagerness: "fast" }, []),
    fc.record({ type: fc.constant("server_vad"), threshold: fc.double({ min: -1, max: 2 }) }),
  ),
);
const tool = fc.record(
  {
    type: mostly(fc.constant("function"), fc.constant("mcp")),
    name: mostly(fc.stringMatching(/^[a-z_]{1,10}$/), fc.string({ maxLength: 70 })),
    description: fc.string({ maxLength: 20 }),
    parameters: mostly(fc.constant({ type: "object" }), fc.constantFrom<Json>(null, [])),
  },
  { requiredKeys: ["name"] },
);
const tools = mostly(fc.constant([]), fc.array(tool, { minLength: 1, maxLength: 2 }));
const tokens = mostly(
  fc.oneof(fc.integer({ min: 1, max: 4_096 }), fc.constant("inf")),
  fc.constantFrom<Json>(null, 0, -5, 5_000, "4096"),
);

const gaSessionBase = fc.record(
  {
    type: mostly(fc.constant("realtime"), fc.constantFrom<Json>("transcription", "", null)),
    model: mostly(
      fc.constantFrom("gpt-realtime", "gpt-realtime-mini"),
      fc.constantFrom<Json>("gpt-5", "", 7),
    ),
    instructions: fc.string({ maxLength: 40 }),
    output_modalities: mostly(
      fc.constantFrom<Json>(["audio"], ["text"]),
      fc.constantFrom<Json>(["audio", "text"], [], "audio"),
    ),
    audio: fc.record(
      {
        input: fc.record(
          {
            format,
            turn_detection: turn,
            transcription: mostly(
              fc.oneof(
                fc.constant(null),
                fc.record({ model: fc.constant("whisper-1"), language: fc.constant("en") }),
              ),
              fc.constantFrom<Json>({ model: "" }, { language: "english" }),
            ),
            noise_reduction: mostly(
              fc.constantFrom<Json>(null, { type: "near_field" }),
              fc.constant({ type: "loud" }),
            ),
          },
          { requiredKeys: [] },
        ),
        output: fc.record(
          {
            voice,
            format,
            speed: mostly(fc.double({ min: 0.25, max: 1.5, noNaN: true }), fc.constantFrom<Json>(0, 2, "1")),
          },
          { requiredKeys: [] },
        ),
      },
      { requiredKeys: [] },
    ),
    tools,
    tool_choice: mostly(
      fc.constantFrom<Json>("auto", "none"),
      fc.constantFrom<Json>("required", { type: "function", name: "f" }, "sometimes"),
    ),
    max_output_tokens: tokens,
    truncation: mostly(
      fc.constantFrom<Json>("auto", "disabled", { type: "retention_ratio", retention_ratio: 0.5 }),
      fc.constant("always"),
    ),
    tracing: mostly(
      fc.constantFrom<Json>("auto", null, { workflow_name: "w" }),
      fc.constant({ workflow: "w" }),
    ),
    parallel_tool_calls: mostly(fc.boolean(), fc.constantFrom<Json>("yes", null)),
  },
  { requiredKeys: ["type"] },
);
// Fields the default policy refuses (403) or that are malformed (400), in one session in five.
const optIn = fc.oneof(
  { weight: 8, arbitrary: fc.constant({}) },
  {
    weight: 1,
    arbitrary: fc.record({
      reasoning: mostly(fc.constant({ effort: "low" }), fc.constantFrom<Json>({ effort: "max" }, "low")),
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      prompt: mostly(
        fc.constantFrom<Json>(null, { id: "pmpt_1" }),
        fc.constantFrom<Json>({ version: "1" }, "p"),
      ),
    }),
  },
);
const gaSession = fc.tuple(gaSessionBase, optIn).map(([base, extra]) => ({ ...base, ...extra }));
const gaBody = fc.record(
  {
    expires_after: fc.record({
      anchor: mostly(fc.constant("created_at"), fc.constant("now")),
      seconds: mostly(fc.integer({ min: 10, max: 7_200 }), fc.integer({ min: -5, max: 100_000 })),
    }),
    session: gaSession,
  },
  { requiredKeys: [] },
);

const betaFormat = mostly(
  fc.constantFrom<Json>("pcm16", "g711_ulaw", "g711_alaw", "g711_law", "g711-ulaw", "", null),
  fc.constantFrom<Json>("wav", 16),
);
const betaSession = fc.record(
  {
    model: mostly(
      fc.constantFrom<Json>("gpt-realtime", "gpt-4o-realtime-preview-2024-12-17", "", null),
      fc.constantFrom<Json>("gpt-5", 1),
    ),
    modalities: mostly(fc.constantFrom<Json>(["text", "audio"], ["text"], [], null), fc.constant(["video"])),
    instructions: fc.string({ maxLength: 30 }),
    voice: mostly(fc.constantFrom<Json>(...REALTIME_VOICES, ""), fc.constantFrom<Json>("nova", "fable")),
    input_audio_format: betaFormat,
    output_audio_format: betaFormat,
    input_audio_transcription: fc.constantFrom<Json>(
      null,
      { model: "" },
      { model: "whisper-1" },
      { enabled: false },
    ),
    turn_detection: mostly(
      fc.oneof(
        fc.constantFrom<Json>(null, { type: "none" }, { type: "semantic_vad", eagerness: "high" }),
        fc.record({ type: fc.constant("server_vad"), threshold: fc.double({ min: 0, max: 1, noNaN: true }) }),
      ),
      fc.constantFrom<Json>({ type: "magic" }, "server_vad"),
    ),
    tools: mostly(fc.constantFrom<Json>(null, []), fc.array(tool, { minLength: 1, maxLength: 2 })),
    tool_choice: mostly(fc.constantFrom<Json>("", "auto", "none", null), fc.constant("required")),
    temperature: mostly(
      fc.oneof(fc.constant(0), fc.double({ min: 0, max: 2, noNaN: true }), fc.constant(null)),
      fc.constant(3),
    ),
    max_response_output_tokens: mostly(
      fc.constantFrom<Json>("inf", null, 0, 100, 4096),
      fc.constantFrom<Json>(-1, 9_999),
    ),
    speed: mostly(fc.double({ min: 0.25, max: 1.5, noNaN: true }), fc.constant(3)),
    config: fc.record(
      {
        voice_activity_detection: fc.record({
          threshold: fc.double({ min: 0, max: 1, noNaN: true }),
          prefix_padding_ms: fc.nat(1_000),
          silence_duration_ms: fc.nat(1_000),
        }),
        input_audio_format: betaFormat,
      },
      { requiredKeys: [] },
    ),
    id: fc.constantFrom<Json>("sess_1", null),
  },
  { requiredKeys: [] },
);

function objectsIn(value: unknown, out: Array<Record<string, unknown>> = []): Array<Record<string, unknown>> {
  if (typeof value === "object" && value !== null) {
    if (!Array.isArray(value)) out.push(value as Record<string, unknown>);
    for (const child of Object.values(value)) objectsIn(child, out);
  }
  return out;
}

/** In one body of three, plants an arbitrary key with an arbitrary JSON value in one of its objects (any depth). */
function mutated(body: fc.Arbitrary<Json>): fc.Arbitrary<Json> {
  return fc
    .tuple(
      body,
      fc.nat(),
      fc.string({ minLength: 1, maxLength: 12 }),
      fc.jsonValue({ maxDepth: 2 }),
      fc.nat(2),
    )
    .map(([value, pick, key, planted, plant]) => {
      // Clone first: constantFrom hands out shared instances, and a planted key must not leak into later runs.
      if (plant !== 0) return structuredClone(value);
      const copy = structuredClone(value);
      const nodes = objectsIn(copy);
      const node = nodes[pick % Math.max(1, nodes.length)];
      if (node !== undefined) node[key] = planted;
      return copy;
    });
}

async function check(
  path: string,
  init: RequestInit & { json?: unknown },
  statuses: number[],
): Promise<void> {
  const { res, upstream } = await send(path, init);
  statuses.push(res.status);
  const sent = await upstream();
  if (res.status >= 400) {
    expect(res.status, await res.clone().text()).toBeLessThan(500);
    expect(res.headers.get("Content-Type")).toBe("application/problem+json");
    const problem = (await res.json()) as { code?: unknown; error?: { message?: unknown } };
    expect(typeof problem.code).toBe("string");
    expect(typeof problem.error?.message).toBe("string");
    expect(sent).toEqual([]);
    return;
  }
  expect(res.status).toBeGreaterThanOrEqual(200);
  expect(res.status).toBeLessThan(300);
  await res.body?.cancel();
  expect(sent).toHaveLength(1);
  const session =
    sent[0]?.parts !== undefined
      ? JSON.parse(sent[0].parts.session?.value ?? "")
      : v.parse(UpstreamMint, JSON.parse(sent[0]?.body ?? "")).session;
  if (session.type === "transcription") {
    expect(v.safeParse(TranscriptionSession, session).issues ?? []).toEqual([]);
    return;
  }
  const parsed = v.safeParse(RealtimeSession, session);
  expect(parsed.issues ?? []).toEqual([]);
  expect(policy.allowedModels).toContain(session.model);
  expect(session.tools ?? []).toEqual([]);
}

function summary(statuses: number[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const s of statuses) counts[s] = (counts[s] ?? 0) + 1;
  return counts;
}

// Hundreds of requests per test: a loaded machine needs more than the default 5 s.
describe("fuzz: only 2xx/4xx, never an unknown key upstream", { timeout: 60_000 }, () => {
  beforeAll(() => {
    vi.spyOn(globalThis, "fetch").mockImplementation((input, init) => fakeOpenAI(new Request(input, init)));
  });
  afterAll(() => vi.restoreAllMocks());

  it("POST /v1/realtime/client_secrets: 500 generated and mutated GA bodies", async () => {
    const statuses: number[] = [];
    await fc.assert(
      fc.asyncProperty(mutated(gaBody), (body) =>
        check("/v1/realtime/client_secrets", { json: body }, statuses),
      ),
      { numRuns: 500, seed: 20261121 },
    );
    // The generator must reach both outcomes, or the property proves little.
    expect(statuses.filter((s) => s === 200).length).toBeGreaterThan(20);
    expect(statuses.filter((s) => s === 400).length).toBeGreaterThan(100);
    console.info(`client_secrets fuzz statuses: ${JSON.stringify(summary(statuses))}`);
  });

  it("POST /v1/realtime/sessions: 400 generated beta bodies and mutated seeds", async () => {
    const statuses: number[] = [];
    const seeds = fc.constantFrom(...SEEDS.map((s) => s.body)).map((text) => JSON.parse(text) as Json);
    await fc.assert(
      fc.asyncProperty(mutated(fc.oneof(betaSession, seeds)), (body) =>
        check("/v1/realtime/sessions", { json: body }, statuses),
      ),
      { numRuns: 400, seed: 20261122 },
    );
    expect(summary(statuses)["200"]).toBeGreaterThan(20);
    console.info(`sessions fuzz statuses: ${JSON.stringify(summary(statuses))}`);
  });

  it("POST /v1/realtime/calls: 150 multipart offers with generated sessions", async () => {
    const statuses: number[] = [];
    await fc.assert(
      fc.asyncProperty(mutated(gaSession), fc.nat(3), (session, offerKind) => {
        const goodOffer = offerKind !== 0;
        const form = new FormData();
        form.set("sdp", goodOffer ? OFFER : OFFER.replace("m=audio", "m=video"));
        form.set("session", JSON.stringify(session));
        return check("/v1/realtime/calls", { body: form }, statuses);
      }),
      { numRuns: 150, seed: 20261123 },
    );
    console.info(`calls fuzz statuses: ${JSON.stringify(summary(statuses))}`);
    expect(summary(statuses)["201"]).toBeGreaterThan(5);
  });

  it("raw garbage: 100 arbitrary strings and JSON values as bodies", async () => {
    const statuses: number[] = [];
    const paths = fc.constantFrom(
      "/v1/realtime/client_secrets",
      "/v1/realtime/sessions",
      "/v1/realtime/calls",
    );
    const body = fc.oneof(
      fc.string({ maxLength: 200 }),
      fc.jsonValue({ maxDepth: 3 }).map((j) => JSON.stringify(j)),
    );
    const type = fc.constantFrom(
      "application/json",
      "application/sdp",
      "text/plain",
      "multipart/form-data; boundary=x",
    );
    await fc.assert(
      fc.asyncProperty(paths, body, type, (path, text, contentType) =>
        check(path, { body: text, headers: { "Content-Type": contentType } }, statuses),
      ),
      { numRuns: 100, seed: 20261124 },
    );
  });
});

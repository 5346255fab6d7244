/**
 * openai-node (the pinned `openai` devDependency) as its users call it, pointed at the worker (`wrangler dev`,
 * `baseURL: <worker>/v1`) and straight at the local peer: `realtime.clientSecrets.create` with a session using every
 * field the SDK types, `realtime.calls.create` in both of its encodings (`application/sdp` when only `sdp` is
 * given, multipart when a `session` is given) with a real WebRTC offerer (node-datachannel) that then talks on the
 * `oai-events` channel, `realtime.calls.hangup`, and each error class the worker can cause, whose `message` must
 * be a sentence (OpenAI's `error.message`), never the raw JSON body.
 */
import OpenAI, {
  type APIError,
  AuthenticationError,
  BadRequestError,
  InternalServerError,
  NotFoundError,
  PermissionDeniedError,
  RateLimitError,
} from "openai";
import type { RealtimeSessionCreateRequest } from "openai/resources/realtime/realtime";
import { afterAll, afterEach, beforeAll, describe, expect, test } from "vitest";
import { type Stack, startStack } from "../../demo/start.ts";
import { RealtimeOfferer } from "../peer/realtime-offerer.ts";

/** A realistic session with every key `RealtimeSessionCreateRequest` types (the deployment below opts in). */
const FULL_SESSION: RealtimeSessionCreateRequest = {
  type: "realtime",
  model: "gpt-realtime",
  output_modalities: ["audio"],
  instructions: "Answer in one short sentence.",
  audio: {
    input: {
      format: { type: "audio/pcm", rate: 24000 },
      noise_reduction: { type: "near_field", strength: 0.5 },
      transcription: {
        model: "gpt-transcribe",
        language: "en",
        languages: ["en"],
        keywords: ["edge"],
        prompt: "Voice demo.",
        delay: "low",
      },
      turn_detection: {
        type: "server_vad",
        threshold: 0.5,
        prefix_padding_ms: 300,
        silence_duration_ms: 500,
      },
    },
    output: { format: { type: "audio/pcm", rate: 24000 }, voice: "marin", speed: 1 },
  },
  tools: [
    { type: "function", name: "lookup", description: "Looks a word up", parameters: { type: "object" } },
  ],
  tool_choice: "auto",
  parallel_tool_calls: false,
  reasoning: { effort: "low" },
  prompt: null,
  max_output_tokens: 1024,
  truncation: { type: "retention_ratio", retention_ratio: 0.8, token_limits: { post_instructions: 8000 } },
  tracing: "auto",
  include: ["item.input_audio_transcription.logprobs"],
};

/** The worker's client key (`CLIENT_API_KEYS`): an SDK on a server authenticates with it as its API key. */
const CLIENT_KEY = "ck-openai-node-e2e-7a6b5c4d3e";

let stack: Stack;
let limited: Stack;
const offerers: RealtimeOfferer[] = [];

beforeAll(async () => {
  [stack, limited] = await Promise.all([
    startStack({
      forceLocalPeer: true,
      vars: { ALLOW_CLIENT_TOOLS: "true", ALLOW_CLIENT_REASONING: "true", CLIENT_API_KEYS: CLIENT_KEY },
    }),
    // A wrong server key (OpenAI refuses it: a 5xx for the SDK) and a limit of 3 requests per minute.
    startStack({
      build: false,
      forceLocalPeer: true,
      rateLimit: 3,
      vars: { OPENAI_API_KEY: "sk-wrong", CLIENT_API_KEYS: CLIENT_KEY },
    }),
  ]);
});

afterEach(() => {
  for (const offerer of offerers.splice(0)) offerer.close();
});

afterAll(async () => {
  await Promise.all([stack?.stop(), limited?.stop()]);
});

function clientFor(target: "worker" | "peer", options: { maxRetries?: number } = {}): OpenAI {
  const base = target === "worker" ? stack.workerUrl : (stack.peerUrl as string);
  // The worker holds the server key itself; the SDK's key is the worker's client key.
  const apiKey = target === "worker" ? CLIENT_KEY : (stack.peerKey as string);
  return new OpenAI({ apiKey, baseURL: `${base}/v1`, maxRetries: options.maxRetries ?? 0, timeout: 20_000 });
}

/** An offer from a fresh node-datachannel offerer (closed after the test). */
async function newOfferer(): Promise<{ offerer: RealtimeOfferer; sdp: string }> {
  const offerer = new RealtimeOfferer();
  offerers.push(offerer);
  return { offerer, sdp: await offerer.offer() };
}

/** `calls.create` answers a `Response` (binary); its body is the SDP answer and `Location` names the call. */
async function answerOf(response: Response): Promise<{ answer: string; callId: string }> {
  const answer = await response.text();
  const callId = /\/calls\/(rtc_[^/?#]+)/.exec(response.headers.get("Location") ?? "")?.[1] ?? "";
  return { answer, callId };
}

/** What a user sees: the error's class and its message, which must read as a sentence. */
function expectReadable(
  error: unknown,
  kind: abstract new (...args: never[]) => APIError,
  status: number,
): APIError {
  expect(error).toBeInstanceOf(kind);
  const apiError = error as APIError;
  expect(apiError.status).toBe(status);
  // openai-node prints `${status} ${error.message}`, or `${status} ${raw body}` when there is no envelope.
  expect(apiError.message).toMatch(new RegExp(`^${status} [A-Za-z]`));
  expect(apiError.message).not.toContain('"status"');
  expect(apiError.message).not.toContain("urn:");
  return apiError;
}

/** Resolves once the offerer's data channel has closed (polled: a close wakes no waiter). */
async function channelClosed(offerer: RealtimeOfferer, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (offerer.channelOpen) {
    if (Date.now() > deadline) throw new Error("the data channel stayed open after calls.hangup");
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

describe.each(["worker", "peer"] as const)("openai-node against the %s", (target) => {
  test("clientSecrets.create with every field the SDK types", async () => {
    const minted = await clientFor(target).realtime.clientSecrets.create({
      expires_after: { anchor: "created_at", seconds: 60 },
      session: FULL_SESSION,
    });
    expect(minted.value).toMatch(/^ek_/);
    expect(minted.expires_at).toBeGreaterThan(Date.now() / 1000);
    expect(minted.session.type).toBe("realtime");
  });

  test('clientSecrets.create for a type: "transcription" session', async () => {
    const minted = await clientFor(target).realtime.clientSecrets.create({
      session: {
        type: "transcription",
        audio: { input: { transcription: { model: "gpt-live-transcribe", languages: ["en"] } } },
      },
    });
    expect(minted.value).toMatch(/^ek_/);
  });

  test.each([
    ["application/sdp (sdp only)", false],
    ["multipart (sdp + session)", true],
  ])(
    "calls.create as %s: a real offerer connects and talks; calls.hangup ends it",
    async (_name, withSession) => {
      const client = clientFor(target);
      const { offerer, sdp } = await newOfferer();
      const response = await client.realtime.calls.create(
        withSession ? { sdp, session: { ...FULL_SESSION, instructions: "Be brief." } } : { sdp },
      );
      const { answer, callId } = await answerOf(response);
      expect(answer.startsWith("v=0")).toBe(true);
      expect(callId).toMatch(/^rtc_/);
      await offerer.connect(answer);
      const created = await offerer.next("session.created", () => true, 0, 10_000);
      if (withSession)
        expect((created.session as { audio?: { output?: { voice?: string } } }).audio?.output?.voice).toBe(
          "marin",
        );
      offerer.send({ type: "session.update", session: { type: "realtime", instructions: "Hello." } });
      await offerer.next("session.updated", () => true, 0, 10_000);
      expect(offerer.events.filter((event) => event.type === "error")).toEqual([]);

      await client.realtime.calls.hangup(callId);
      await channelClosed(offerer);
    },
  );

  test("BadRequestError for a field the schema refuses, with a sentence as message", async () => {
    const failure = await clientFor(target)
      .realtime.clientSecrets.create({
        session: { type: "realtime", audio: { output: { voice: "nova" } } },
      })
      .catch((error: unknown) => error);
    const error = expectReadable(failure, BadRequestError, 400);
    expect(error.message).toMatch(/voice/i);
    expect(error.param).toBe("session.audio.output.voice");
  });

  test("NotFoundError for hanging up a call that does not exist", async () => {
    const failure = await clientFor(target)
      .realtime.calls.hangup("rtc_doesnotexist")
      .catch((error: unknown) => error);
    expectReadable(failure, NotFoundError, 404);
  });
});

describe("openai-node: errors only the worker raises", () => {
  test("PermissionDeniedError names the refused field and the variable that allows it", async () => {
    const failure = await clientFor("worker")
      .realtime.clientSecrets.create({ session: { type: "realtime", prompt: { id: "pmpt_1" } } })
      .catch((error: unknown) => error);
    const error = expectReadable(failure, PermissionDeniedError, 403);
    expect(error.message).toContain("ALLOW_STORED_PROMPTS");
    expect(error.code).toBe("policy_violation");
    expect(error.param).toBe("session.prompt");
  });

  test("PermissionDeniedError for a model outside ALLOWED_MODELS (calls.create, multipart)", async () => {
    const { sdp } = await newOfferer();
    const failure = await clientFor("worker")
      .realtime.calls.create({ sdp, session: { type: "realtime", model: "gpt-4o-realtime-preview" } })
      .catch((error: unknown) => error);
    const error = expectReadable(failure, PermissionDeniedError, 403);
    expect(error.message).toContain("gpt-4o-realtime-preview");
  });

  test("InternalServerError when OpenAI refuses the deployment's key; RateLimitError with Retry-After", async () => {
    const client = new OpenAI({ apiKey: CLIENT_KEY, baseURL: `${limited.workerUrl}/v1`, maxRetries: 0 });
    const upstreamFailure = await client.realtime.clientSecrets.create({}).catch((error: unknown) => error);
    const upstream = expectReadable(upstreamFailure, InternalServerError, 502);
    expect(upstream.code).toBe("upstream_auth_failed");
    expect(upstream.message).not.toContain("sk-wrong");

    let rateLimited: unknown;
    for (let i = 0; i < 5 && rateLimited === undefined; i++)
      await client.realtime.clientSecrets.create({}).catch((error: unknown) => {
        if (error instanceof RateLimitError) rateLimited = error;
      });
    const error = expectReadable(rateLimited, RateLimitError, 429);
    const wait = Number(error.headers?.get("retry-after"));
    expect(wait).toBeGreaterThanOrEqual(1);
    expect(wait).toBeLessThanOrEqual(60);
    expect(error.message).toContain(`${wait} s`);
  });

  test("the peer refuses a wrong key with AuthenticationError", async () => {
    const client = new OpenAI({
      apiKey: "sk-not-the-peer-key",
      baseURL: `${stack.peerUrl}/v1`,
      maxRetries: 0,
    });
    const failure = await client.realtime.clientSecrets.create({}).catch((error: unknown) => error);
    expectReadable(failure, AuthenticationError, 401);
  });
});

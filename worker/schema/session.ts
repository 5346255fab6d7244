/**
 * The GA Realtime session (`RealtimeSessionCreateRequestGA` in OpenAI's OpenAPI spec) as Valibot allowlists.
 *
 * Every object is a `strictObject`: a key that is not listed here is an issue naming that key, never something
 * forwarded upstream. Pure module (no Workers or Node globals): the worker validates client requests with it and
 * the local peer validates `session.update` events with it.
 */
import * as v from "valibot";
import { jsonObject } from "./json-object.ts";

import { PCM_RATE, REALTIME_VOICES } from "./protocol.ts";

export { PCM_RATE, REALTIME_VOICES };

/** A built-in voice name from {@link REALTIME_VOICES}. */
export type RealtimeVoiceName = (typeof REALTIME_VOICES)[number];

/** `{type:"audio/pcm", rate:24000}` · `{type:"audio/pcmu"}` · `{type:"audio/pcma"}` (OpenAI `RealtimeAudioFormats`). */
export const AudioFormat = v.variant("type", [
  v.strictObject({ type: v.literal("audio/pcm"), rate: v.optional(v.literal(PCM_RATE)) }),
  v.strictObject({ type: v.literal("audio/pcmu") }),
  v.strictObject({ type: v.literal("audio/pcma") }),
]);

const Iso639 = v.pipe(v.string(), v.regex(/^[a-z]{2,3}(-[A-Za-z0-9]{2,8})?$/, "Expected an ISO-639-1 code"));

/**
 * `audio.input.transcription`: asynchronous transcription of the user's audio, or `null` for none. `keywords` and
 * `languages` are read by gpt-transcribe and gpt-live-transcribe, `delay` by gpt-realtime-whisper.
 */
export const Transcription = jsonObject({
  model: v.optional(v.pipe(v.string(), v.minLength(1), v.maxLength(64))),
  language: v.optional(Iso639),
  languages: v.optional(v.pipe(v.array(Iso639), v.maxLength(16))),
  prompt: v.optional(v.pipe(v.string(), v.maxLength(4_000))),
  keywords: v.optional(v.pipe(v.array(v.pipe(v.string(), v.maxLength(256))), v.maxLength(256))),
  delay: v.optional(v.picklist(["minimal", "low", "medium", "high", "xhigh"])),
});

/** `audio.input.noise_reduction`: the microphone kind and a suppression strength (OpenAI's default 1). */
export const NoiseReduction = jsonObject({
  type: v.optional(v.picklist(["near_field", "far_field"])),
  strength: v.optional(v.pipe(v.number(), v.minValue(0), v.maxValue(1))),
});

const responseFlags = {
  create_response: v.optional(v.boolean()),
  interrupt_response: v.optional(v.boolean()),
};

/** Server VAD: energy/model based end-of-turn detection on OpenAI's side. Times in milliseconds. */
export const ServerVad = v.strictObject({
  type: v.literal("server_vad"),
  threshold: v.optional(v.pipe(v.number(), v.minValue(0), v.maxValue(1))),
  prefix_padding_ms: v.optional(v.pipe(v.number(), v.integer(), v.minValue(0), v.maxValue(10_000))),
  silence_duration_ms: v.optional(v.pipe(v.number(), v.integer(), v.minValue(0), v.maxValue(10_000))),
  idle_timeout_ms: v.optional(
    v.nullable(v.pipe(v.number(), v.integer(), v.minValue(5_000), v.maxValue(30_000))),
  ),
  ...responseFlags,
});

/** Semantic VAD: the model judges whether the user has finished. */
export const SemanticVad = v.strictObject({
  type: v.literal("semantic_vad"),
  eagerness: v.optional(v.picklist(["low", "medium", "high", "auto"])),
  ...responseFlags,
});

/**
 * `audio.input.turn_detection`: server or semantic VAD, or `null` when the client commits turns itself
 * (`input_audio_buffer.commit` then `response.create`), which is what the streaming client uses.
 */
export const TurnDetection = v.nullable(v.variant("type", [ServerVad, SemanticVad]));

/** `audio.output.voice`: a built-in voice or a custom voice id. */
export const Voice = v.union(
  [
    v.picklist(REALTIME_VOICES),
    jsonObject({ id: v.pipe(v.string(), v.regex(/^voice_[A-Za-z0-9_-]{1,64}$/)) }),
  ],
  `Invalid voice: expected one of ${REALTIME_VOICES.join(", ")}, or {"id": "voice_…"}`,
);

/** `audio.input`: format, transcription, noise reduction, turn detection. */
export const AudioInput = jsonObject({
  format: v.optional(AudioFormat),
  transcription: v.optional(v.nullable(Transcription)),
  noise_reduction: v.optional(v.nullable(NoiseReduction)),
  turn_detection: v.optional(TurnDetection),
});

/** `audio.output`: format, voice, speed. */
export const AudioOutput = jsonObject({
  format: v.optional(AudioFormat),
  voice: v.optional(Voice),
  speed: v.optional(v.pipe(v.number(), v.minValue(0.25), v.maxValue(1.5))),
});

/** `audio` of a GA session: input and output. */
export const SessionAudio = jsonObject({
  input: v.optional(AudioInput),
  output: v.optional(AudioOutput),
});

/** A function tool (a plain `strictObject`: it is an option of {@link Tool}'s variant). */
export const FunctionTool = v.strictObject({
  type: v.literal("function"),
  name: v.pipe(v.string(), v.regex(/^[A-Za-z0-9_-]{1,64}$/, "Expected 1–64 characters of [A-Za-z0-9_-]")),
  description: v.optional(v.pipe(v.string(), v.maxLength(1_024))),
  parameters: v.optional(v.record(v.string(), v.unknown())),
});

/**
 * An MCP tool, read only so that the policy can refuse it by name (403 `client_mcp_tools_denied`) and never
 * forwarded: an MCP server URL chosen by a browser would let any visitor point OpenAI at servers of their choice
 * on this deployment's account.
 */
export const McpTool = v.looseObject({ type: v.literal("mcp") });

/** A tool in `tools[]`. */
export const Tool = v.variant(
  "type",
  [FunctionTool, McpTool],
  'Expected a tool with type "function" or "mcp"',
);

/** `tool_choice`: a mode or one named function. */
export const ToolChoice = v.union(
  [
    v.picklist(["auto", "none", "required"]),
    jsonObject({ type: v.literal("function"), name: v.string() }),
    // Parsed to be refused by the policy, like MCP tools.
    jsonObject({
      type: v.literal("mcp"),
      server_label: v.string(),
      name: v.optional(v.nullable(v.string())),
    }),
  ],
  'Expected "auto", "none", "required", {"type": "function", "name": …} or {"type": "mcp", …}',
);

/** `reasoning` (reasoning models such as gpt-realtime-2): how hard the model thinks before answering. */
export const Reasoning = jsonObject({
  effort: v.optional(v.picklist(["minimal", "low", "medium", "high", "xhigh"])),
});

/** `prompt`: a stored prompt template (`pmpt_…`) with its version and variables, or `null` for none. */
export const StoredPrompt = jsonObject({
  id: v.pipe(v.string(), v.minLength(1), v.maxLength(128)),
  version: v.optional(v.nullable(v.pipe(v.string(), v.maxLength(64)))),
  variables: v.optional(v.nullable(v.record(v.string(), v.unknown()))),
});

/** `truncation`: OpenAI's automatic truncation, none, or keep a ratio of the conversation (within a token budget). */
export const Truncation = v.union(
  [
    v.picklist(["auto", "disabled"]),
    jsonObject({
      type: v.literal("retention_ratio"),
      retention_ratio: v.pipe(v.number(), v.minValue(0), v.maxValue(1)),
      token_limits: v.optional(
        jsonObject({ post_instructions: v.optional(v.pipe(v.number(), v.integer(), v.minValue(1))) }),
      ),
    }),
  ],
  'Expected "auto", "disabled" or {"type": "retention_ratio", "retention_ratio": 0–1, "token_limits"?}',
);

/** `max_output_tokens`: 1–4096 or `"inf"`. */
export const MaxOutputTokens = v.union(
  [v.pipe(v.number(), v.integer(), v.minValue(1), v.maxValue(4_096)), v.literal("inf")],
  'Expected an integer 1–4096 or "inf"',
);

// The entries of RealtimeSession, also used as a plain strictObject in the client-secret variant.
const RealtimeSessionEntries = {
  type: v.literal("realtime"),
  model: v.optional(v.pipe(v.string(), v.minLength(1), v.maxLength(64))),
  output_modalities: v.optional(
    v.union(
      [v.strictTuple([v.literal("audio")]), v.strictTuple([v.literal("text")])],
      'Expected ["audio"] or ["text"]',
    ),
  ),
  instructions: v.optional(v.pipe(v.string(), v.maxLength(100_000))),
  audio: v.optional(SessionAudio),
  tools: v.optional(v.pipe(v.array(Tool), v.maxLength(128))),
  tool_choice: v.optional(ToolChoice),
  parallel_tool_calls: v.optional(v.boolean()),
  reasoning: v.optional(Reasoning),
  prompt: v.optional(v.nullable(StoredPrompt)),
  max_output_tokens: v.optional(MaxOutputTokens),
  truncation: v.optional(Truncation),
  tracing: v.optional(
    v.nullable(
      v.union(
        [
          v.literal("auto"),
          jsonObject({
            workflow_name: v.optional(v.pipe(v.string(), v.maxLength(256))),
            group_id: v.optional(v.pipe(v.string(), v.maxLength(256))),
            metadata: v.optional(v.record(v.string(), v.unknown())),
          }),
        ],
        'Expected "auto", null or {"workflow_name"?, "group_id"?, "metadata"?}',
      ),
    ),
  ),
  include: v.optional(v.array(v.picklist(["item.input_audio_transcription.logprobs"]))),
};
/**
 * A GA realtime session as a client may request it: `POST /v1/realtime/client_secrets` `session`, the `session`
 * part of `POST /v1/realtime/calls`, and the `session` of a `session.update` event. Only `type` is required.
 * `output_modalities` is `["audio"]` or `["text"]`, never both.
 */
export const RealtimeSession = jsonObject(RealtimeSessionEntries);

/** A validated GA session (output of {@link RealtimeSession}). */
export type RealtimeSession = v.InferOutput<typeof RealtimeSession>;
/** What a client may send as a GA session (input of {@link RealtimeSession}). */
export type RealtimeSessionInput = v.InferInput<typeof RealtimeSession>;
/** A GA audio format. */
export type AudioFormat = v.InferOutput<typeof AudioFormat>;
/** `audio.input` of a GA session. */
export type AudioInput = v.InferOutput<typeof AudioInput>;
/** `audio.output` of a GA session. */
export type AudioOutput = v.InferOutput<typeof AudioOutput>;
/** GA turn detection (`null` = client-committed turns). */
export type TurnDetection = v.InferOutput<typeof TurnDetection>;
/** A GA voice: a name or `{id}`. */
export type Voice = v.InferOutput<typeof Voice>;
/** A GA function tool. */
export type FunctionTool = v.InferOutput<typeof FunctionTool>;
/** A tool as requested: a function, or an MCP tool the policy refuses. */
export type Tool = v.InferOutput<typeof Tool>;
/** GA `reasoning`. */
export type Reasoning = v.InferOutput<typeof Reasoning>;
/** GA `prompt` (a stored prompt reference). */
export type StoredPrompt = v.InferOutput<typeof StoredPrompt>;
/** GA `tool_choice`. */
export type ToolChoice = v.InferOutput<typeof ToolChoice>;
/** GA `max_output_tokens`. */
export type MaxOutputTokens = v.InferOutput<typeof MaxOutputTokens>;

/**
 * A transcription-only session (`type: "transcription"`): the user's audio is transcribed, the model never
 * answers. Minted by `POST /v1/realtime/client_secrets` like a realtime session.
 */
const TranscriptionSessionEntries = {
  type: v.literal("transcription"),
  audio: v.optional(jsonObject({ input: v.optional(AudioInput) })),
  include: v.optional(v.array(v.picklist(["item.input_audio_transcription.logprobs"]))),
};
export const TranscriptionSession = jsonObject(TranscriptionSessionEntries);
/** A validated transcription session. */
export type TranscriptionSession = v.InferOutput<typeof TranscriptionSession>;

/** `expires_after` of a client secret: seconds after creation, 10–7200 (OpenAI's bounds). */
export const ExpiresAfter = jsonObject({
  anchor: v.literal("created_at"),
  seconds: v.pipe(v.number(), v.integer(), v.minValue(10), v.maxValue(7_200)),
});
/** A validated `expires_after`. */
export type ExpiresAfter = v.InferOutput<typeof ExpiresAfter>;

/** Body of `POST /v1/realtime/client_secrets` (both fields optional, like OpenAI's). */
export const ClientSecretRequest = jsonObject({
  expires_after: v.optional(ExpiresAfter),
  session: v.optional(
    v.variant(
      "type",
      [v.strictObject(RealtimeSessionEntries), v.strictObject(TranscriptionSessionEntries)],
      'Invalid session: expected type "realtime" or "transcription"',
    ),
  ),
});
/** A validated client-secret request. */
export type ClientSecretRequest = v.InferOutput<typeof ClientSecretRequest>;

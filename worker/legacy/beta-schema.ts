/**
 * The legacy (beta) session shapes clients still send to `POST /v1/realtime/sessions` (OpenAI rejects beta shapes
 * upstream since 2026-05-12; `translate.ts` turns them into GA sessions).
 *
 * One allowlist covers the shapes found in the wild: the flat beta session (openai-python `types/beta/realtime`,
 * async-openai `SessionResource`, docs.rs `RealtimeSession`), a nested `config` (openai_rust_sdk), the zero values
 * of a Go DTO (`""`, `[]`, `0`, `null` for unset) optionally inside a `session.update` event envelope. Everything
 * GA dropped or that no API ever had is translated or dropped with a `warnings` entry, never silently.
 * Serialisers that write unset options as `null` (serde without `skip_serializing_if`, pydantic `model_dump`) are
 * read as unset wherever `null` has no meaning of its own.
 */
import * as v from "valibot";
import { jsonObject } from "../schema/json-object.ts";
import { ExpiresAfter, REALTIME_VOICES } from "../schema/session.ts";

const FORMATS = ["pcm16", "g711_ulaw", "g711_alaw"] as const;
/** Misspellings of μ-law seen in client libraries (async-openai), read as `g711_ulaw`. */
export const ULAW_TYPOS = ["g711_law", "g711-ulaw"] as const;
const BetaFormat = v.picklist(
  [...FORMATS, ...ULAW_TYPOS, ""],
  `Invalid audio format: expected one of ${FORMATS.join(", ")}`,
);

const BetaVoice = v.picklist(
  [...REALTIME_VOICES, ""],
  `Invalid voice: expected one of ${REALTIME_VOICES.join(", ")} (fable, onyx and nova are text-to-speech voices, not realtime ones)`,
);

const ms = v.pipe(v.number(), v.integer(), v.minValue(0), v.maxValue(10_000));
const BetaTurnDetection = v.nullable(
  jsonObject({
    type: v.nullish(v.picklist(["server_vad", "semantic_vad", "none"])),
    threshold: v.nullish(v.pipe(v.number(), v.minValue(0), v.maxValue(1))),
    prefix_padding_ms: v.nullish(ms),
    silence_duration_ms: v.nullish(ms),
    idle_timeout_ms: v.nullish(
      v.nullable(v.pipe(v.number(), v.integer(), v.minValue(5_000), v.maxValue(30_000))),
    ),
    eagerness: v.nullish(v.picklist(["low", "medium", "high", "auto"])),
    create_response: v.nullish(v.boolean()),
    interrupt_response: v.nullish(v.boolean()),
  }),
);

/** openai_rust_sdk's invented `config.voice_activity_detection` (no such field upstream). */
const VoiceActivityDetection = jsonObject({
  threshold: v.pipe(v.number(), v.minValue(0), v.maxValue(1)),
  prefix_padding_ms: ms,
  silence_duration_ms: ms,
});

const BetaTool = jsonObject({
  type: v.nullish(v.literal("function")),
  name: v.pipe(v.string(), v.regex(/^[A-Za-z0-9_-]{1,64}$/, "Expected 1–64 characters of [A-Za-z0-9_-]")),
  description: v.nullish(v.pipe(v.string(), v.maxLength(1_024))),
  parameters: v.nullish(v.nullable(v.record(v.string(), v.unknown()))),
});
const BetaTools = v.nullable(v.pipe(v.array(BetaTool), v.maxLength(128)));

const BetaToolChoice = v.union([
  v.picklist(["auto", "none", "required", ""]),
  jsonObject({ type: v.literal("function"), name: v.string() }),
]);

const BetaModalities = v.nullable(v.pipe(v.array(v.picklist(["text", "audio"])), v.maxLength(2)));

const BetaTranscription = v.nullable(
  jsonObject({
    model: v.nullish(v.pipe(v.string(), v.maxLength(64))),
    language: v.nullish(v.pipe(v.string(), v.maxLength(16))),
    prompt: v.nullish(v.pipe(v.string(), v.maxLength(4_000))),
    enabled: v.nullish(v.boolean()),
  }),
);

const BetaConfig = jsonObject({
  input_audio_format: v.nullish(BetaFormat),
  output_audio_format: v.nullish(BetaFormat),
  voice_activity_detection: v.nullish(v.nullable(VoiceActivityDetection)),
  turn_detection: v.nullish(BetaTurnDetection),
  tools: v.nullish(BetaTools),
  tool_choice: v.nullish(BetaToolChoice),
  modalities: v.nullish(BetaModalities),
});

const sessionEntries = {
  model: v.nullish(v.pipe(v.string(), v.maxLength(64))),
  modalities: v.nullish(BetaModalities),
  instructions: v.nullish(v.pipe(v.string(), v.maxLength(100_000))),
  voice: v.nullish(BetaVoice),
  input_audio_format: v.nullish(BetaFormat),
  output_audio_format: v.nullish(BetaFormat),
  input_audio_transcription: v.nullish(BetaTranscription),
  input_audio_noise_reduction: v.nullish(
    v.nullable(jsonObject({ type: v.picklist(["near_field", "far_field"]) })),
  ),
  turn_detection: v.nullish(BetaTurnDetection),
  tools: v.nullish(BetaTools),
  tool_choice: v.nullish(BetaToolChoice),
  temperature: v.nullish(v.nullable(v.pipe(v.number(), v.minValue(0), v.maxValue(2)))),
  max_response_output_tokens: v.nullish(
    v.nullable(
      v.union([v.pipe(v.number(), v.integer(), v.minValue(0), v.maxValue(4_096)), v.literal("inf")]),
    ),
  ),
  speed: v.nullish(v.pipe(v.number(), v.minValue(0.25), v.maxValue(1.5))),
  config: v.nullish(BetaConfig),
  id: v.nullish(v.pipe(v.string(), v.maxLength(128))),
  object: v.nullish(v.pipe(v.string(), v.maxLength(64))),
  client_secret: v.nullish(jsonObject({ expires_after: v.nullish(ExpiresAfter) })),
};

const BetaSession = jsonObject(sessionEntries);

/**
 * Body of `POST /v1/realtime/sessions`: a beta session, or a `session.update` event carrying one (Go relays).
 * Invalid values (voice `nova`) are issues that list the valid ones.
 */
export const LegacySessionRequest = jsonObject({
  ...sessionEntries,
  event_id: v.nullish(v.pipe(v.string(), v.maxLength(128))),
  type: v.nullish(v.literal("session.update")),
  session: v.nullish(BetaSession),
});

/** A validated beta session. */
export type BetaSession = v.InferOutput<typeof BetaSession>;
/** A validated beta `config` (openai_rust_sdk's nesting). */
export type BetaConfig = v.InferOutput<typeof BetaConfig>;
/** A beta audio format name, `""` (a Go zero value) included. */
export type BetaFormat = v.InferOutput<typeof BetaFormat>;
/** A beta turn detection object (not its `null`). */
export type BetaTurn = NonNullable<v.InferOutput<typeof BetaTurnDetection>>;
/** A validated body of the legacy route. */
export type LegacyBody = v.InferOutput<typeof LegacySessionRequest>;
/** What a client may send to the legacy route. */
export type LegacySessionRequestInput = v.InferInput<typeof LegacySessionRequest>;

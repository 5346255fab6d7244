/**
 * The legacy (beta) session shapes clients still send to `POST /v1/realtime/sessions`, and their translation to
 * the GA session (OpenAI rejects beta shapes upstream since 2026-05-12).
 *
 * One allowlist covers the shapes found in the wild: the flat beta session (openai-python `types/beta/realtime`,
 * async-openai `SessionResource`, docs.rs `RealtimeSession`), a nested `config` (openai_rust_sdk), the zero values
 * of a Go DTO (`""`, `[]`, `0`, `null` for unset) optionally inside a `session.update` event envelope. Everything
 * GA dropped or that no API ever had is translated or dropped with a `warnings` entry, never silently.
 * Serialisers that write unset options as `null` (serde without `skip_serializing_if`, pydantic `model_dump`) are
 * read as unset wherever `null` has no meaning of its own.
 */
import * as v from "valibot";
import { jsonObject } from "./json-object.ts";
import {
  type ExpiresAfter,
  ExpiresAfter as ExpiresAfterSchema,
  REALTIME_VOICES,
  type RealtimeSession,
} from "./session.ts";

/** Something translated or dropped, with the pointer of the request field it concerns. */
export interface LegacyWarning {
  pointer: string;
  message: string;
}

/** The beta session translated to GA, plus what the legacy answer needs to speak the client's dialect. */
export interface LegacyTranslation {
  session: RealtimeSession;
  expiresAfter: ExpiresAfter | undefined;
  warnings: LegacyWarning[];
  /** GA pointer (as used by the policy) → pointer of the field in the client's request. */
  sources: Record<string, string>;
  /** The client's own spelling of μ-law (`g711_law`, `g711-ulaw`), echoed in the answer so it can read it back. */
  ulawSpelling: { input?: string; output?: string };
  /** The voice the client asked for, if any (echoed even when GA-only). */
  requestedVoice: string | undefined;
}

const FORMATS = ["pcm16", "g711_ulaw", "g711_alaw"] as const;
const ULAW_TYPOS = ["g711_law", "g711-ulaw"] as const;
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
  client_secret: v.nullish(jsonObject({ expires_after: v.nullish(ExpiresAfterSchema) })),
};

const BetaSession = jsonObject(sessionEntries);
type BetaSession = v.InferOutput<typeof BetaSession>;

/**
 * Body of `POST /v1/realtime/sessions`: a beta session, or a `session.update` event carrying one (Go relays).
 * Its output is the GA translation ({@link LegacyTranslation}); invalid values (voice `nova`) are issues that list
 * the valid ones.
 */
export const LegacySessionRequest = v.pipe(
  jsonObject({
    ...sessionEntries,
    event_id: v.nullish(v.pipe(v.string(), v.maxLength(128))),
    type: v.nullish(v.literal("session.update")),
    session: v.nullish(BetaSession),
  }),
  v.transform(translate),
);
type LegacyBody = BetaSession & {
  event_id?: string | null | undefined;
  type?: "session.update" | null | undefined;
  session?: BetaSession | null | undefined;
};
/** What a client may send to the legacy route. */
export type LegacySessionRequestInput = v.InferInput<typeof LegacySessionRequest>;

type Turn = NonNullable<v.InferOutput<typeof BetaTurnDetection>>;

function translate(body: LegacyBody): LegacyTranslation {
  const warnings: LegacyWarning[] = [];
  const sources: Record<string, string> = {};
  const warn = (pointer: string, message: string) => warnings.push({ pointer, message });

  let src: BetaSession = body;
  let root = "";
  if (body.session !== undefined && body.session !== null) {
    src = body.session;
    root = "/session";
    warn("/type", "session.update event envelope unwrapped; its session was used");
    for (const key of Object.keys(body))
      if (key !== "session" && key !== "type" && key !== "event_id")
        warn(`/${key}`, "ignored: the envelope's session takes precedence");
  }
  const cfg = src.config ?? undefined;
  const at = (key: string) => `${root}/${key}`;
  const atCfg = (key: string) => `${root}/config/${key}`;
  // Top-level fields win over the nested `config`; a field counts as given only when it is not a Go zero value.
  const pick = <K extends keyof BetaSession & keyof NonNullable<typeof cfg>>(key: K) => {
    if (isSet(src[key])) {
      if (cfg !== undefined && isSet(cfg[key])) warn(atCfg(key), `ignored: the top-level ${key} is used`);
      return { value: src[key] as NonNullable<BetaSession[K]>, pointer: at(key) };
    }
    if (cfg !== undefined && isSet(cfg[key])) {
      if (src[key] !== undefined && src[key] !== null) warn(at(key), `empty; config.${key} used instead`);
      return { value: cfg[key] as NonNullable<BetaSession[K]>, pointer: atCfg(key) };
    }
    return undefined;
  };

  const session: RealtimeSession = { type: "realtime" };
  if (isSet(src.model)) {
    session.model = src.model;
    sources["/model"] = at("model");
  }
  if (isSet(src.instructions)) {
    session.instructions = src.instructions;
    sources["/instructions"] = at("instructions");
  }

  const modalities = pick("modalities");
  if (modalities !== undefined)
    session.output_modalities = modalities.value.includes("audio") ? ["audio"] : ["text"];

  const input: NonNullable<RealtimeSession["audio"]>["input"] = {};
  const output: NonNullable<RealtimeSession["audio"]>["output"] = {};
  const ulawSpelling: LegacyTranslation["ulawSpelling"] = {};

  for (const [key, target, side] of [
    ["input_audio_format", input, "input"],
    ["output_audio_format", output, "output"],
  ] as const) {
    const format = pick(key);
    if (format === undefined) continue;
    if ((ULAW_TYPOS as readonly string[]).includes(format.value)) {
      ulawSpelling[side] = format.value;
      warn(format.pointer, `"${format.value}" read as g711_ulaw (μ-law)`);
    }
    target.format = toGaFormat(format.value);
  }

  if (isSet(src.voice)) {
    output.voice = src.voice;
    sources["/audio/output/voice"] = at("voice");
  }
  if (src.speed !== undefined && src.speed !== null) output.speed = src.speed;

  const transcription = src.input_audio_transcription;
  if (transcription === null) input.transcription = null;
  else if (transcription !== undefined) {
    if (transcription.enabled === false) input.transcription = null;
    else if (isSet(transcription.model)) {
      input.transcription = { model: transcription.model };
      if (isSet(transcription.language)) input.transcription.language = transcription.language;
      if (isSet(transcription.prompt)) input.transcription.prompt = transcription.prompt;
    } else warn(at("input_audio_transcription"), "no model given: read as unset (transcription stays off)");
  }
  if (src.input_audio_noise_reduction !== undefined) input.noise_reduction = src.input_audio_noise_reduction;

  const turnPick =
    src.turn_detection !== undefined
      ? { value: src.turn_detection, pointer: at("turn_detection") }
      : cfg?.turn_detection !== undefined
        ? { value: cfg.turn_detection, pointer: atCfg("turn_detection") }
        : undefined;
  const vad = cfg?.voice_activity_detection;
  if (turnPick?.value === null) {
    // Beta clients send null both to mean "off" and as a serialiser's "unset" (Go's nil interface, Rust's
    // None without skip_serializing_if); the safe reading keeps the server's turn detection.
    warn(
      turnPick.pointer,
      'null read as unset (server VAD stays on); send {"type":"none"} to commit turns yourself',
    );
  } else if (turnPick !== undefined) {
    input.turn_detection = toGaTurn(turnPick.value, turnPick.pointer, warn);
  }
  if (vad !== undefined && vad !== null) {
    if (input.turn_detection === undefined) {
      input.turn_detection = {
        type: "server_vad",
        threshold: vad.threshold,
        prefix_padding_ms: vad.prefix_padding_ms,
        silence_duration_ms: vad.silence_duration_ms,
      };
      warn(atCfg("voice_activity_detection"), "not an API field: translated to turn_detection server_vad");
    } else warn(atCfg("voice_activity_detection"), "not an API field: dropped (turn_detection is set)");
  }

  if (Object.keys(input).length > 0 || Object.keys(output).length > 0) {
    session.audio = {};
    if (Object.keys(input).length > 0) session.audio.input = input;
    if (Object.keys(output).length > 0) session.audio.output = output;
  }

  const tools = pick("tools");
  if (tools !== undefined) {
    sources["/tools"] = tools.pointer;
    session.tools = tools.value.map((tool) => {
      const ga: NonNullable<RealtimeSession["tools"]>[number] = { type: "function", name: tool.name };
      if (isSet(tool.description)) ga.description = tool.description;
      if (tool.parameters !== undefined && tool.parameters !== null) ga.parameters = tool.parameters;
      return ga;
    });
  }
  const toolChoice = pick("tool_choice");
  if (toolChoice !== undefined) {
    sources["/tool_choice"] = toolChoice.pointer;
    session.tool_choice = toolChoice.value as Exclude<typeof toolChoice.value, "">;
  }

  const temperature = src.temperature;
  if (temperature === 0)
    warn(at("temperature"), "0 read as unset; temperature is not part of the GA session");
  else if (temperature !== undefined && temperature !== null)
    warn(at("temperature"), "dropped: the GA session has no temperature");

  const tokens = src.max_response_output_tokens;
  if (tokens === 0) warn(at("max_response_output_tokens"), "0 read as unset");
  else if (tokens === null) warn(at("max_response_output_tokens"), 'null read as "inf"');
  else if (tokens !== undefined) {
    session.max_output_tokens = tokens;
    sources["/max_output_tokens"] = at("max_response_output_tokens");
  }

  if (isSet(src.id)) warn(at("id"), "dropped: session ids are assigned by OpenAI");
  if (isSet(src.object)) warn(at("object"), "dropped: not a request field");

  return {
    session,
    expiresAfter: src.client_secret?.expires_after ?? undefined,
    warnings,
    sources,
    ulawSpelling,
    requestedVoice: isSet(src.voice) ? src.voice : undefined,
  };
}

function isSet<T>(value: T): value is Exclude<T, "" | null | undefined> {
  if (value === undefined || value === null || value === "") return false;
  return !Array.isArray(value) || value.length > 0;
}

function toGaFormat(format: string): NonNullable<NonNullable<RealtimeSession["audio"]>["output"]>["format"] {
  if (format === "pcm16") return { type: "audio/pcm", rate: 24_000 };
  if (format === "g711_alaw") return { type: "audio/pcma" };
  return { type: "audio/pcmu" };
}

function toGaTurn(
  turn: Turn,
  pointer: string,
  warn: (pointer: string, message: string) => void,
): NonNullable<NonNullable<RealtimeSession["audio"]>["input"]>["turn_detection"] {
  const flags: { create_response?: boolean; interrupt_response?: boolean } = {};
  if (turn.create_response != null) flags.create_response = turn.create_response;
  if (turn.interrupt_response != null) flags.interrupt_response = turn.interrupt_response;
  if (turn.type === "none") return null;
  if (turn.type === "semantic_vad") {
    for (const key of ["threshold", "prefix_padding_ms", "silence_duration_ms", "idle_timeout_ms"] as const)
      if (turn[key] != null) warn(`${pointer}/${key}`, "dropped: not a semantic_vad setting");
    return turn.eagerness == null
      ? { type: "semantic_vad", ...flags }
      : { type: "semantic_vad", eagerness: turn.eagerness, ...flags };
  }
  if (turn.eagerness != null) warn(`${pointer}/eagerness`, "dropped: not a server_vad setting");
  const ga: NonNullable<NonNullable<NonNullable<RealtimeSession["audio"]>["input"]>["turn_detection"]> = {
    type: "server_vad",
    ...flags,
  };
  if (turn.threshold != null) ga.threshold = turn.threshold;
  if (turn.prefix_padding_ms != null) ga.prefix_padding_ms = turn.prefix_padding_ms;
  if (turn.silence_duration_ms != null) ga.silence_duration_ms = turn.silence_duration_ms;
  if (turn.idle_timeout_ms !== undefined) ga.idle_timeout_ms = turn.idle_timeout_ms;
  return ga;
}

const BETA_PREVIEW_MODEL = /^gpt-4o(-mini)?-realtime-preview(-\d{4}-\d{2}-\d{2})?$/;

/**
 * Beta clients hard-code the preview models of their era (`gpt-4o-realtime-preview-2024-12-17`). When the
 * deployment does not offer the requested one, the request falls back to the default model with a warning
 * instead of failing; any other model outside `allowedModels` is still the policy's 403.
 */
export function retireBetaModel(
  translation: LegacyTranslation,
  allowedModels: readonly string[],
): LegacyTranslation {
  const model = translation.session.model;
  if (model === undefined || !BETA_PREVIEW_MODEL.test(model) || allowedModels.includes(model))
    return translation;
  const { model: _dropped, ...session } = translation.session;
  return {
    ...translation,
    session,
    warnings: [
      ...translation.warnings,
      {
        pointer: translation.sources["/model"] ?? "/model",
        message: `beta preview model "${model}" is not offered here: the default model is used`,
      },
    ],
  };
}

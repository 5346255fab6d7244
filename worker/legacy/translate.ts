/**
 * Beta session → GA session: a plain function of small steps, one per group of beta fields. Each step reads the
 * validated beta body ({@link LegacyBody}), writes its part of the GA session, records where each GA field came
 * from (so that a policy violation points into the client's own request) and warns about everything translated
 * or dropped, never silently.
 */
import type {
  AudioFormat,
  AudioInput,
  AudioOutput,
  ExpiresAfter,
  RealtimeSession,
  TurnDetection,
} from "../schema/session.ts";
import {
  type BetaConfig,
  type BetaFormat,
  type BetaSession,
  type BetaTurn,
  type LegacyBody,
  ULAW_TYPOS,
} from "./beta-schema.ts";

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

/** A beta field that was given (not a Go zero value), with its pointer in the request. */
interface Given<T> {
  value: T;
  pointer: string;
}

/** What every step reads and writes. */
interface Translation {
  /** The beta session (the envelope's `session` when the body was a `session.update` event). */
  src: BetaSession;
  cfg: BetaConfig | undefined;
  /** Pointer of a top-level / `config` field in the request. */
  at(key: string): string;
  atCfg(key: string): string;
  warn(pointer: string, message: string): void;
  session: RealtimeSession;
  input: AudioInput;
  output: AudioOutput;
  sources: Record<string, string>;
  ulawSpelling: LegacyTranslation["ulawSpelling"];
}

/** A beta value that is not a Go zero value. */
type SetValue<T> = Exclude<T, "" | null | undefined>;

/** The keys a beta session and its nested `config` share. */
type SharedKey = keyof BetaSession & keyof BetaConfig;

/** Translates a validated legacy body. Never throws: everything it cannot carry over is a warning. */
export function translateLegacy(body: LegacyBody): LegacyTranslation {
  const warnings: LegacyWarning[] = [];
  const warn = (pointer: string, message: string) => warnings.push({ pointer, message });
  const { src, root } = unwrapEnvelope(body, warn);
  const t: Translation = {
    src,
    cfg: src.config ?? undefined,
    at: (key) => `${root}/${key}`,
    atCfg: (key) => `${root}/config/${key}`,
    warn,
    session: { type: "realtime" },
    input: {},
    output: {},
    sources: {},
    ulawSpelling: {},
  };
  translateText(t);
  translateFormats(t);
  translateVoice(t);
  translateTranscription(t);
  translateTurnDetection(t);
  translateTools(t);
  warnTemperature(t);
  translateTokenLimit(t);
  warnNotRequestFields(t);
  if (Object.keys(t.input).length > 0 || Object.keys(t.output).length > 0) {
    t.session.audio = {};
    if (Object.keys(t.input).length > 0) t.session.audio.input = t.input;
    if (Object.keys(t.output).length > 0) t.session.audio.output = t.output;
  }
  return {
    session: t.session,
    expiresAfter: src.client_secret?.expires_after ?? undefined,
    warnings,
    sources: t.sources,
    ulawSpelling: t.ulawSpelling,
    requestedVoice: isSet(src.voice) ? src.voice : undefined,
  };
}

/** A `session.update` envelope (Go relays) is unwrapped; its other fields are ignored with a warning. */
function unwrapEnvelope(body: LegacyBody, warn: Translation["warn"]): { src: BetaSession; root: string } {
  if (body.session === undefined || body.session === null) return { src: body, root: "" };
  warn("/type", "session.update event envelope unwrapped; its session was used");
  for (const key of Object.keys(body))
    if (key !== "session" && key !== "type" && key !== "event_id")
      warn(`/${key}`, "ignored: the envelope's session takes precedence");
  return { src: body.session, root: "/session" };
}

/** Top-level fields win over the nested `config`; a field counts as given only when it is not a Go zero value. */
function pick<K extends SharedKey>(t: Translation, key: K): Given<SetValue<BetaSession[K]>> | undefined {
  const top = t.src[key];
  const nested = t.cfg?.[key];
  if (isSet(top)) {
    if (isSet(nested)) t.warn(t.atCfg(key), `ignored: the top-level ${key} is used`);
    return { value: top as SetValue<BetaSession[K]>, pointer: t.at(key) };
  }
  if (isSet(nested)) {
    if (top !== undefined && top !== null) t.warn(t.at(key), `empty; config.${key} used instead`);
    return { value: nested as SetValue<BetaSession[K]>, pointer: t.atCfg(key) };
  }
  return undefined;
}

function translateText(t: Translation): void {
  if (isSet(t.src.model)) {
    t.session.model = t.src.model;
    t.sources["/model"] = t.at("model");
  }
  if (isSet(t.src.instructions)) {
    t.session.instructions = t.src.instructions;
    t.sources["/instructions"] = t.at("instructions");
  }
  const modalities = pick(t, "modalities");
  if (modalities !== undefined)
    t.session.output_modalities = modalities.value.includes("audio") ? ["audio"] : ["text"];
}

function translateFormats(t: Translation): void {
  for (const [key, target, side] of [
    ["input_audio_format", t.input, "input"],
    ["output_audio_format", t.output, "output"],
  ] as const) {
    const format = pick(t, key);
    if (format === undefined) continue;
    if ((ULAW_TYPOS as readonly string[]).includes(format.value)) {
      t.ulawSpelling[side] = format.value;
      t.warn(format.pointer, `"${format.value}" read as g711_ulaw (μ-law)`);
    }
    target.format = toGaFormat(format.value);
  }
}

function translateVoice(t: Translation): void {
  if (isSet(t.src.voice)) {
    t.output.voice = t.src.voice;
    t.sources["/audio/output/voice"] = t.at("voice");
  }
  if (t.src.speed !== undefined && t.src.speed !== null) t.output.speed = t.src.speed;
}

function translateTranscription(t: Translation): void {
  const transcription = t.src.input_audio_transcription;
  if (transcription === null) t.input.transcription = null;
  else if (transcription !== undefined) {
    if (transcription.enabled === false) t.input.transcription = null;
    else if (isSet(transcription.model)) {
      t.input.transcription = { model: transcription.model };
      if (isSet(transcription.language)) t.input.transcription.language = transcription.language;
      if (isSet(transcription.prompt)) t.input.transcription.prompt = transcription.prompt;
    } else
      t.warn(t.at("input_audio_transcription"), "no model given: read as unset (transcription stays off)");
  }
  if (t.src.input_audio_noise_reduction !== undefined)
    t.input.noise_reduction = t.src.input_audio_noise_reduction;
}

function translateTurnDetection(t: Translation): void {
  const given: Given<BetaTurn | null> | undefined =
    t.src.turn_detection !== undefined
      ? { value: t.src.turn_detection, pointer: t.at("turn_detection") }
      : t.cfg?.turn_detection !== undefined
        ? { value: t.cfg.turn_detection, pointer: t.atCfg("turn_detection") }
        : undefined;
  if (given?.value === null) {
    // Beta clients send null both to mean "off" and as a serialiser's "unset" (Go's nil interface, Rust's
    // None without skip_serializing_if); the safe reading keeps the server's turn detection.
    t.warn(
      given.pointer,
      'null read as unset (server VAD stays on); send {"type":"none"} to commit turns yourself',
    );
  } else if (given !== undefined) {
    t.input.turn_detection = toGaTurn(given.value, given.pointer, t.warn);
  }
  const vad = t.cfg?.voice_activity_detection;
  if (vad === undefined || vad === null) return;
  if (t.input.turn_detection === undefined) {
    t.input.turn_detection = {
      type: "server_vad",
      threshold: vad.threshold,
      prefix_padding_ms: vad.prefix_padding_ms,
      silence_duration_ms: vad.silence_duration_ms,
    };
    t.warn(t.atCfg("voice_activity_detection"), "not an API field: translated to turn_detection server_vad");
  } else t.warn(t.atCfg("voice_activity_detection"), "not an API field: dropped (turn_detection is set)");
}

function translateTools(t: Translation): void {
  const tools = pick(t, "tools");
  if (tools !== undefined) {
    t.sources["/tools"] = tools.pointer;
    t.session.tools = tools.value.map((tool) => ({
      type: "function",
      name: tool.name,
      ...(isSet(tool.description) ? { description: tool.description } : {}),
      ...(tool.parameters !== undefined && tool.parameters !== null ? { parameters: tool.parameters } : {}),
    }));
  }
  const toolChoice = pick(t, "tool_choice");
  if (toolChoice !== undefined) {
    t.sources["/tool_choice"] = toolChoice.pointer;
    t.session.tool_choice = toolChoice.value;
  }
}

function warnTemperature(t: Translation): void {
  const temperature = t.src.temperature;
  if (temperature === 0)
    t.warn(t.at("temperature"), "0 read as unset; temperature is not part of the GA session");
  else if (temperature !== undefined && temperature !== null)
    t.warn(t.at("temperature"), "dropped: the GA session has no temperature");
}

function translateTokenLimit(t: Translation): void {
  const tokens = t.src.max_response_output_tokens;
  if (tokens === 0) t.warn(t.at("max_response_output_tokens"), "0 read as unset");
  else if (tokens === null) t.warn(t.at("max_response_output_tokens"), 'null read as "inf"');
  else if (tokens !== undefined) {
    t.session.max_output_tokens = tokens;
    t.sources["/max_output_tokens"] = t.at("max_response_output_tokens");
  }
}

/** Response fields some clients echo back in their requests. */
function warnNotRequestFields(t: Translation): void {
  if (isSet(t.src.id)) t.warn(t.at("id"), "dropped: session ids are assigned by OpenAI");
  if (isSet(t.src.object)) t.warn(t.at("object"), "dropped: not a request field");
}

function isSet<T>(value: T): value is SetValue<T> {
  if (value === undefined || value === null || value === "") return false;
  return !Array.isArray(value) || value.length > 0;
}

function toGaFormat(format: Exclude<BetaFormat, "">): AudioFormat {
  if (format === "pcm16") return { type: "audio/pcm", rate: 24_000 };
  if (format === "g711_alaw") return { type: "audio/pcma" };
  return { type: "audio/pcmu" };
}

function toGaTurn(turn: BetaTurn, pointer: string, warn: Translation["warn"]): TurnDetection {
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
  const ga: ServerVadTurn = { type: "server_vad", ...flags };
  if (turn.threshold != null) ga.threshold = turn.threshold;
  if (turn.prefix_padding_ms != null) ga.prefix_padding_ms = turn.prefix_padding_ms;
  if (turn.silence_duration_ms != null) ga.silence_duration_ms = turn.silence_duration_ms;
  if (turn.idle_timeout_ms !== undefined) ga.idle_timeout_ms = turn.idle_timeout_ms;
  return ga;
}

type ServerVadTurn = Extract<TurnDetection, { type: "server_vad" }>;

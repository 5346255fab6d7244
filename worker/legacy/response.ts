/**
 * The answer of `POST /v1/realtime/sessions` in a shape every legacy client can read: the beta session fields
 * (openai-python `Session`, async-openai `SessionResource`, docs.rs `RealtimeSession`), `client_secret
 * {value, expires_at}` (the beta mint response), openai_rust_sdk's `RealtimeSessionResponse` fields (`id`,
 * `object`, `status`, `ephemeral_key`, `webrtc_url`, `config`, RFC 3339 `expires_at` and `created_at`), and the
 * translation's `warnings`. Values come from OpenAI's effective session, falling back to what was sent.
 */
import * as v from "valibot";
import type { UpstreamSession } from "../policy.ts";
import type { MintedSecret } from "../schema/upstream.ts";
import { ReportedSession } from "../schema/upstream.ts";
import type { LegacyTranslation, LegacyWarning } from "./translate.ts";

/** Voices the beta enums know; GA-only voices are echoed only to a client that asked for them. */
const BETA_VOICES = new Set(["alloy", "ash", "ballad", "coral", "echo", "sage", "shimmer", "verse"]);

type BetaFormat = string;
interface BetaTurn {
  type: "server_vad" | "semantic_vad";
  threshold?: number;
  prefix_padding_ms?: number;
  silence_duration_ms?: number;
  eagerness?: string;
  create_response?: boolean;
  interrupt_response?: boolean;
}
interface BetaTool {
  type: "function";
  name: string;
  description: string;
  parameters: Record<string, unknown>;
}

/** The legacy answer (all beta fields plus openai_rust_sdk's response fields and `warnings`). */
export interface LegacySessionResponse {
  id: string;
  object: "realtime.session";
  model: string;
  modalities: Array<"text" | "audio">;
  instructions: string;
  voice?: string;
  input_audio_format: BetaFormat;
  output_audio_format: BetaFormat;
  input_audio_transcription: { model?: string; language?: string; prompt?: string } | null;
  input_audio_noise_reduction: { type: string } | null;
  turn_detection: BetaTurn | null;
  tools: BetaTool[];
  tool_choice: string | { type: string; name: string };
  max_response_output_tokens: number | "inf";
  speed?: number;
  client_secret: { value: string; expires_at: number };
  status: "active";
  ephemeral_key: string;
  webrtc_url: string;
  config: {
    input_audio_format: BetaFormat;
    output_audio_format: BetaFormat;
    voice_activity_detection?: { threshold: number; prefix_padding_ms: number; silence_duration_ms: number };
    turn_detection: {
      type: "server_vad" | "none";
      threshold?: number;
      prefix_padding_ms?: number;
      silence_duration_ms?: number;
    } | null;
    tools: BetaTool[];
    tool_choice?: string;
    modalities: Array<"text" | "audio">;
  };
  expires_at: string;
  created_at: string;
  warnings: LegacyWarning[];
}

/** What {@link legacySessionResponse} combines. `webrtcUrl` is where the `ek_` is used (`{base}/realtime/calls`). */
export interface LegacyResponseInput {
  minted: MintedSecret;
  sent: UpstreamSession;
  translation: LegacyTranslation;
  webrtcUrl: string;
  now: Date;
}

/** Builds the legacy answer; see the module comment for the sources of each field. */
export function legacySessionResponse({
  minted,
  sent,
  translation,
  webrtcUrl,
  now,
}: LegacyResponseInput): LegacySessionResponse {
  const read = v.safeParse(ReportedSession, minted.session);
  const eff: ReportedSession = read.success ? read.output : {};
  const warnings = [...translation.warnings];

  const gaModalities = eff.output_modalities ?? sent.output_modalities ?? ["audio"];
  const modalities: Array<"text" | "audio"> = gaModalities.includes("audio") ? ["text", "audio"] : ["text"];

  const inFormat = betaFormat(
    eff.audio?.input?.format?.type ?? sent.audio?.input?.format?.type,
    translation.ulawSpelling.input,
  );
  const outFormat = betaFormat(
    eff.audio?.output?.format?.type ?? sent.audio?.output?.format?.type,
    translation.ulawSpelling.output,
  );

  const effVoice = eff.audio?.output?.voice ?? sent.audio?.output?.voice;
  const voiceName = typeof effVoice === "string" ? effVoice : effVoice?.id;
  let voice: string | undefined;
  if (voiceName !== undefined) {
    if (BETA_VOICES.has(voiceName) || voiceName === translation.requestedVoice) voice = voiceName;
    else
      warnings.push({
        pointer: "/voice",
        message: `"${voiceName}" is a GA-only voice: left out of this beta-shaped answer`,
      });
  }

  const transcription = pick(eff.audio?.input, sent.audio?.input, "transcription");
  const noise = pick(eff.audio?.input, sent.audio?.input, "noise_reduction");
  const turn = betaTurn(pick(eff.audio?.input, sent.audio?.input, "turn_detection"));
  const tools = (eff.tools ?? sent.tools ?? []).map(
    (tool): BetaTool => ({
      type: "function",
      name: tool.name,
      description: tool.description ?? "",
      parameters: tool.parameters ?? { type: "object", properties: {} },
    }),
  );
  const toolChoice = eff.tool_choice ?? sent.tool_choice ?? "auto";
  const speed = eff.audio?.output?.speed ?? sent.audio?.output?.speed;

  const response: LegacySessionResponse = {
    id: eff.id ?? "",
    object: "realtime.session",
    model: eff.model ?? sent.model ?? "",
    modalities,
    instructions: eff.instructions ?? sent.instructions ?? "",
    input_audio_format: inFormat,
    output_audio_format: outFormat,
    input_audio_transcription:
      transcription === null || transcription === undefined ? null : stripUndefined({ ...transcription }),
    input_audio_noise_reduction: noise === null || noise === undefined ? null : { type: noise.type },
    turn_detection: turn,
    tools,
    tool_choice:
      typeof toolChoice === "string" ? toolChoice : { type: toolChoice.type, name: toolChoice.name },
    max_response_output_tokens: eff.max_output_tokens ?? sent.max_output_tokens ?? "inf",
    client_secret: { value: minted.value, expires_at: minted.expires_at },
    status: "active",
    ephemeral_key: minted.value,
    webrtc_url: webrtcUrl,
    config: {
      input_audio_format: inFormat,
      output_audio_format: outFormat,
      turn_detection:
        turn === null
          ? { type: "none" }
          : turn.type === "server_vad"
            ? {
                type: "server_vad",
                threshold: turn.threshold,
                prefix_padding_ms: turn.prefix_padding_ms,
                silence_duration_ms: turn.silence_duration_ms,
              }
            : null,
      tools,
      modalities,
    },
    expires_at: new Date(minted.expires_at * 1_000).toISOString(),
    created_at: now.toISOString(),
    warnings,
  };
  if (voice !== undefined) response.voice = voice;
  if (speed !== undefined) response.speed = speed;
  if (typeof toolChoice === "string") response.config.tool_choice = toolChoice;
  if (turn?.type === "server_vad")
    response.config.voice_activity_detection = {
      threshold: turn.threshold ?? 0.5,
      prefix_padding_ms: turn.prefix_padding_ms ?? 300,
      silence_duration_ms: turn.silence_duration_ms ?? 500,
    };
  return response;
}

// A key OpenAI reports (even as null) wins over what was sent; an absent key falls back.
function pick<T extends object, K extends keyof T & string>(
  eff: T | undefined,
  sent: Partial<Record<K, unknown>> | undefined,
  key: K,
): T[K] | undefined {
  if (eff !== undefined && key in eff) return eff[key];
  return sent?.[key] as T[K] | undefined;
}

function betaFormat(type: string | undefined, ulawSpelling: string | undefined): BetaFormat {
  if (type === "audio/pcmu") return ulawSpelling ?? "g711_ulaw";
  if (type === "audio/pcma") return "g711_alaw";
  return "pcm16";
}

// async-openai's `ServerVAD` requires threshold, prefix_padding_ms and silence_duration_ms: always fill them.
function betaTurn(turn: { type: string; [key: string]: unknown } | null | undefined): BetaTurn | null {
  if (turn === null) return null;
  const num = (key: string, fallback: number) =>
    typeof turn?.[key] === "number" ? (turn[key] as number) : fallback;
  const flag = (key: string) => (typeof turn?.[key] === "boolean" ? (turn[key] as boolean) : true);
  if (turn?.type === "semantic_vad")
    return {
      type: "semantic_vad",
      eagerness: typeof turn.eagerness === "string" ? turn.eagerness : "auto",
      create_response: flag("create_response"),
      interrupt_response: flag("interrupt_response"),
    };
  return {
    type: "server_vad",
    threshold: num("threshold", 0.5),
    prefix_padding_ms: num("prefix_padding_ms", 300),
    silence_duration_ms: num("silence_duration_ms", 500),
    create_response: flag("create_response"),
    interrupt_response: flag("interrupt_response"),
  };
}

function stripUndefined<T extends Record<string, unknown>>(value: T): T {
  for (const key of Object.keys(value)) if (value[key] === undefined) delete value[key];
  return value;
}

/**
 * The effective GA session a call runs with: OpenAI's defaults (`RealtimeSessionCreateRequestGA`) overlaid with
 * what the client secret or the multipart `session` part asked for, then with each `session.update`. Inputs are
 * validated elsewhere (the worker's Valibot schemas); this module only merges.
 */
import {
  DEFAULT_VOICE,
  PCM_RATE,
  SERVER_VAD_DEFAULTS as PROTOCOL_SERVER_VAD_DEFAULTS,
} from "../../worker/schema/protocol.ts";

/** `audio.input.turn_detection`: server VAD, semantic VAD, or null (the client commits turns). */
export type TurnDetection =
  | {
      type: "server_vad";
      threshold: number;
      prefix_padding_ms: number;
      silence_duration_ms: number;
      create_response: boolean;
      interrupt_response: boolean;
      idle_timeout_ms: number | null;
    }
  | {
      type: "semantic_vad";
      eagerness: "low" | "medium" | "high" | "auto";
      create_response: boolean;
      interrupt_response: boolean;
    }
  | null;

/** The session object as OpenAI returns it (`object: "realtime.session"`), with the fields the peer acts on typed. */
export interface EffectiveSession {
  type: "realtime";
  object: "realtime.session";
  id: string;
  model: string;
  output_modalities: string[];
  instructions: string;
  audio: {
    input: {
      format: { type: string; rate?: number };
      transcription: unknown;
      noise_reduction: unknown;
      turn_detection: TurnDetection;
    };
    output: { format: { type: string; rate?: number }; voice: unknown; speed: number };
  };
  tools: unknown[];
  tool_choice: unknown;
  max_output_tokens: number | "inf";
  expires_at: number;
  [field: string]: unknown;
}

/** OpenAI's server VAD defaults as a full turn detection (values from `worker/schema/protocol.ts`). */
export const SERVER_VAD_DEFAULTS = {
  type: "server_vad",
  ...PROTOCOL_SERVER_VAD_DEFAULTS,
  idle_timeout_ms: null,
} as const;

const SEMANTIC_VAD_DEFAULTS = {
  type: "semantic_vad",
  eagerness: "auto",
  create_response: true,
  interrupt_response: true,
} as const;

/** Builds the default session for `id`, expiring (60-minute session cap) `expiresAt` unix seconds. */
export function defaultSession(id: string, expiresAt: number): EffectiveSession {
  return {
    type: "realtime",
    object: "realtime.session",
    id,
    model: "gpt-realtime",
    output_modalities: ["audio"],
    instructions: "",
    audio: {
      input: {
        format: { type: "audio/pcm", rate: PCM_RATE },
        transcription: null,
        noise_reduction: null,
        turn_detection: { ...SERVER_VAD_DEFAULTS },
      },
      output: { format: { type: "audio/pcm", rate: PCM_RATE }, voice: DEFAULT_VOICE, speed: 1 },
    },
    tools: [],
    tool_choice: "auto",
    max_output_tokens: "inf",
    tracing: null,
    truncation: "auto",
    prompt: null,
    include: null,
    expires_at: expiresAt,
  };
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function deepMerge(base: Record<string, unknown>, patch: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = { ...base };
  for (const [key, value] of Object.entries(patch)) {
    if (value === undefined) continue;
    const current = out[key];
    out[key] = isPlainObject(current) && isPlainObject(value) ? deepMerge(current, value) : value;
  }
  return out;
}

/**
 * Overlays a validated GA session (`session.update`'s `session`, or the session attached at mint time) on
 * `current`. Nested objects merge field by field as OpenAI does; arrays and `null` replace. A turn detection of
 * a different `type` starts from that type's defaults instead of inheriting the other type's fields. `type`,
 * `object`, `id` and `expires_at` never change.
 */
export function mergeSession(current: EffectiveSession, patch: Record<string, unknown>): EffectiveSession {
  const audio = isPlainObject(patch.audio) ? patch.audio : undefined;
  const input = audio && isPlainObject(audio.input) ? audio.input : undefined;
  const requested = input?.turn_detection;
  const merged = deepMerge(current, patch) as EffectiveSession;
  if (isPlainObject(requested)) {
    const previous = current.audio.input.turn_detection;
    const sameType = previous !== null && previous.type === requested.type;
    const base = sameType
      ? previous
      : requested.type === "semantic_vad"
        ? SEMANTIC_VAD_DEFAULTS
        : SERVER_VAD_DEFAULTS;
    merged.audio.input.turn_detection = { ...base, ...requested } as TurnDetection;
  }
  merged.type = "realtime";
  merged.object = "realtime.session";
  merged.id = current.id;
  merged.expires_at = current.expires_at;
  return merged;
}

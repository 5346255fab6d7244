/**
 * The deployment's policy over client-requested sessions: one pure function, no I/O, no Workers globals.
 *
 * The upstream session is built field by field from the policy and the validated request, never by spreading the
 * request. Caveat stated in OpenAI's docs: config attached to a client secret "can also be overridden by the
 * client connection" (`session.update`), so mint-time policy binds an `ek_` holder only until it connects. The
 * `/v1/realtime/calls` route keeps every key away from the browser and leaves the server the hangup lever, but the
 * data channel can still carry `session.update`: keep secret TTLs short and instructions server-owned.
 */
import type { ProblemField } from "./problem.ts";
import type {
  ExpiresAfter,
  FunctionTool,
  RealtimeSession,
  RealtimeVoiceName,
  Voice,
} from "./schema/session.ts";

/** How client-supplied `instructions` combine with the server's `INSTRUCTIONS`. */
export type ClientInstructionsMode = "deny" | "append" | "allow";

/** The parsed configuration (see `config.ts` for the variables and their defaults). */
export interface Policy {
  /** Origins allowed to call the API. Empty: same-origin and Origin-less requests only. `["*"]`: any. */
  allowedOrigins: readonly string[];
  /** Models a client may ask for; always contains `defaultModel`. */
  allowedModels: readonly string[];
  defaultModel: string;
  /** Voices (names or `voice_…` ids) a client may ask for. */
  allowedVoices: readonly string[];
  /** Server-owned instructions ("" = none). */
  instructions: string;
  clientInstructions: ClientInstructionsMode;
  allowClientTools: boolean;
  /** Cap on `max_output_tokens` (1–4096), or "inf" for no cap. */
  maxOutputTokens: number | "inf";
  /** Lifetime of a minted client secret, seconds, 10–7200; clients may ask for less, never more. */
  secretTtlSeconds: number;
  /** Longest client `instructions` accepted, characters. */
  maxInstructionsChars: number;
  /** Base URL of the OpenAI API, without trailing slash (http://127.0.0.1:PORT works for a local peer). */
  openaiBaseUrl: string;
  /** Upstream request timeout, milliseconds. */
  upstreamTimeoutMs: number;
}

/** What a route hands to the policy: a validated GA session (or none) and an optional `expires_after`. */
export interface SessionRequest {
  session?: RealtimeSession | undefined;
  expiresAfter?: ExpiresAfter | undefined;
}

/** The policy's verdict: the exact session and expiry to send upstream, or the violations (pointers into the GA session). */
export type PolicyResult =
  | { ok: true; session: RealtimeSession; expiresAfter: ExpiresAfter }
  | { ok: false; violations: ProblemField[] };

const UPSTREAM_DEFAULT_VOICE = "alloy";

function voiceKey(voice: Voice): string {
  return typeof voice === "string" ? voice : voice.id;
}

// Config parsing has checked every entry against the `Voice` schema.
function toVoice(entry: string): Voice {
  return entry.startsWith("voice_") ? { id: entry } : (entry as RealtimeVoiceName);
}

/**
 * Applies `policy` to `request`. Returns the session to send upstream (with `type`, `model` and, when the policy
 * constrains them, `instructions`, `audio.output.voice` and `max_output_tokens` always set) and the expiry, or
 * every violation found (pointers relative to the GA session, codes `model_not_allowed`, `voice_not_allowed`,
 * `client_instructions_denied`, `instructions_too_long`, `client_tools_denied`).
 */
export function applyPolicy(request: SessionRequest, policy: Policy): PolicyResult {
  const requested = request.session;
  const violations: ProblemField[] = [];
  const session: RealtimeSession = { type: "realtime", model: policy.defaultModel };

  if (requested?.model !== undefined) {
    if (policy.allowedModels.includes(requested.model)) session.model = requested.model;
    else
      violations.push({
        pointer: "/model",
        code: "model_not_allowed",
        detail: `Model "${requested.model}" is not allowed; allowed: ${policy.allowedModels.join(", ")}`,
      });
  }

  if (requested?.output_modalities !== undefined) session.output_modalities = requested.output_modalities;

  const instructions = resolveInstructions(requested?.instructions, policy, violations);
  if (instructions !== "") session.instructions = instructions;

  const input = requested?.audio?.input;
  const output = requested?.audio?.output;
  const audioIn: NonNullable<RealtimeSession["audio"]>["input"] = {};
  if (input?.format !== undefined) audioIn.format = input.format;
  if (input?.transcription !== undefined) audioIn.transcription = input.transcription;
  if (input?.noise_reduction !== undefined) audioIn.noise_reduction = input.noise_reduction;
  if (input?.turn_detection !== undefined) audioIn.turn_detection = input.turn_detection;
  const audioOut: NonNullable<RealtimeSession["audio"]>["output"] = {};
  if (output?.format !== undefined) audioOut.format = output.format;
  if (output?.speed !== undefined) audioOut.speed = output.speed;
  if (output?.voice !== undefined) {
    if (policy.allowedVoices.includes(voiceKey(output.voice))) audioOut.voice = output.voice;
    else
      violations.push({
        pointer: "/audio/output/voice",
        code: "voice_not_allowed",
        detail: `Voice "${voiceKey(output.voice)}" is not allowed; allowed: ${policy.allowedVoices.join(", ")}`,
      });
  } else if (
    !policy.allowedVoices.includes(UPSTREAM_DEFAULT_VOICE) &&
    policy.allowedVoices[0] !== undefined
  ) {
    // OpenAI would pick alloy; a deployment that does not allow alloy gets its first allowed voice instead.
    audioOut.voice = toVoice(policy.allowedVoices[0]);
  }
  if (Object.keys(audioIn).length > 0 || Object.keys(audioOut).length > 0) {
    session.audio = {};
    if (Object.keys(audioIn).length > 0) session.audio.input = audioIn;
    if (Object.keys(audioOut).length > 0) session.audio.output = audioOut;
  }

  const tools = requested?.tools;
  const toolChoice = requested?.tool_choice;
  if (policy.allowClientTools) {
    if (tools !== undefined)
      session.tools = tools.map((tool) => {
        const copy: FunctionTool = { type: "function", name: tool.name };
        if (tool.description !== undefined) copy.description = tool.description;
        if (tool.parameters !== undefined) copy.parameters = tool.parameters;
        return copy;
      });
    if (toolChoice !== undefined) session.tool_choice = toolChoice;
  } else {
    if (tools !== undefined && tools.length > 0)
      violations.push({
        pointer: "/tools",
        code: "client_tools_denied",
        detail: "This deployment does not accept tools from clients (ALLOW_CLIENT_TOOLS=false)",
      });
    if (toolChoice !== undefined && toolChoice !== "auto" && toolChoice !== "none")
      violations.push({
        pointer: "/tool_choice",
        code: "client_tools_denied",
        detail: "tool_choice may only be auto or none when client tools are not allowed",
      });
    if (toolChoice === "none") session.tool_choice = "none";
  }

  const cap = policy.maxOutputTokens;
  const wanted = requested?.max_output_tokens ?? "inf";
  if (cap === "inf") {
    if (requested?.max_output_tokens !== undefined) session.max_output_tokens = requested.max_output_tokens;
  } else {
    session.max_output_tokens = wanted === "inf" ? cap : Math.min(wanted, cap);
  }

  if (requested?.truncation !== undefined) session.truncation = requested.truncation;
  if (requested?.tracing !== undefined) session.tracing = requested.tracing;
  if (requested?.include !== undefined) session.include = [...requested.include];

  if (violations.length > 0) return { ok: false, violations };
  const seconds = Math.min(request.expiresAfter?.seconds ?? policy.secretTtlSeconds, policy.secretTtlSeconds);
  return { ok: true, session, expiresAfter: { anchor: "created_at", seconds } };
}

function resolveInstructions(client: string | undefined, policy: Policy, violations: ProblemField[]): string {
  if (client === undefined || client === "") return policy.instructions;
  if (client.length > policy.maxInstructionsChars) {
    violations.push({
      pointer: "/instructions",
      code: "instructions_too_long",
      detail: `instructions has ${client.length} characters; at most ${policy.maxInstructionsChars} are allowed`,
    });
    return policy.instructions;
  }
  switch (policy.clientInstructions) {
    case "deny":
      violations.push({
        pointer: "/instructions",
        code: "client_instructions_denied",
        detail: "This deployment owns the instructions (CLIENT_INSTRUCTIONS=deny)",
      });
      return policy.instructions;
    case "append":
      return policy.instructions === "" ? client : `${policy.instructions}\n\n${client}`;
    case "allow":
      return client;
  }
}

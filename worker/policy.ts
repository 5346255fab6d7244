/**
 * The deployment's policy over client-requested sessions: one pure function, no I/O, no Workers globals.
 *
 * The upstream session is built field by field from the policy and the validated request, never by spreading the
 * request. Caveat stated in OpenAI's docs: config attached to a client secret "can also be overridden by the
 * client connection" (`session.update`), so mint-time policy binds an `ek_` holder only until it connects. The
 * `/v1/realtime/calls` route keeps every key away from the browser and leaves the server the hangup lever, but the
 * data channel can still carry `session.update`: keep secret TTLs short and instructions server-owned.
 */
import type { LegacyTranslation } from "./legacy/translate.ts";
import type { ProblemField } from "./problem.ts";
import type {
  AudioInput,
  AudioOutput,
  ExpiresAfter,
  FunctionTool,
  RealtimeSession,
  RealtimeVoiceName,
  ToolChoice,
  TranscriptionSession,
  Voice,
} from "./schema/session.ts";

/** How client-supplied `instructions` combine with the server's `INSTRUCTIONS`. */
export type ClientInstructionsMode = "deny" | "append" | "allow";

/**
 * What a deployment allows a client to ask for in a session (parsed from the variables by `config.ts`, which adds
 * the deployment's other settings to make a `Config`).
 */
export interface Policy {
  /** Models a client may ask for; always contains `defaultModel`. */
  allowedModels: readonly string[];
  defaultModel: string;
  /** Voices (names or `voice_…` ids) a client may ask for. */
  allowedVoices: readonly string[];
  /** Server-owned instructions ("" = none). */
  instructions: string;
  clientInstructions: ClientInstructionsMode;
  allowClientTools: boolean;
  /** Whether clients may set `reasoning` (its effort drives cost and latency). */
  allowClientReasoning: boolean;
  /** Whether clients may name a stored prompt (`prompt`), whose text would replace the server's instructions. */
  allowStoredPrompts: boolean;
  /** Cap on `max_output_tokens` (1–4096), or "inf" for no cap. */
  maxOutputTokens: number | "inf";
  /** Lifetime of a minted client secret, seconds, 10–7200; clients may ask for less, never more. */
  secretTtlSeconds: number;
  /** Longest client `instructions` accepted, characters. */
  maxInstructionsChars: number;
}

/** The {@link Policy} part of `config` alone (a plain object: the call guard stores it with the call). */
export function policyOf(config: Policy): Policy {
  return {
    allowedModels: [...config.allowedModels],
    defaultModel: config.defaultModel,
    allowedVoices: [...config.allowedVoices],
    instructions: config.instructions,
    clientInstructions: config.clientInstructions,
    allowClientTools: config.allowClientTools,
    allowClientReasoning: config.allowClientReasoning,
    allowStoredPrompts: config.allowStoredPrompts,
    maxOutputTokens: config.maxOutputTokens,
    secretTtlSeconds: config.secretTtlSeconds,
    maxInstructionsChars: config.maxInstructionsChars,
  };
}

/** What a route hands to the policy: a validated GA session (or none) and an optional `expires_after`. */
export interface SessionRequest {
  session?: RealtimeSession | undefined;
  expiresAfter?: ExpiresAfter | undefined;
}

/** A `tool_choice` the policy forwards: never an MCP one. */
export type UpstreamToolChoice = Exclude<ToolChoice, { type: "mcp" }>;

/** The realtime session the policy sends upstream: function tools only, never an MCP `tool_choice`. */
export type UpstreamSession = Omit<RealtimeSession, "tools" | "tool_choice"> & {
  tools?: FunctionTool[];
  tool_choice?: UpstreamToolChoice;
};

/** The policy's verdict: the exact session and expiry to send upstream, or the violations (pointers into the GA session). */
export type PolicyResult<TSession = UpstreamSession> =
  | { ok: true; session: TSession; expiresAfter: ExpiresAfter }
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
 * `client_instructions_denied`, `instructions_too_long`, `client_tools_denied`, `client_mcp_tools_denied`,
 * `client_reasoning_denied`, `stored_prompt_denied`).
 */
export function applyPolicy(request: SessionRequest, policy: Policy): PolicyResult {
  const { session, violations } = judgeSession(request.session, policy);
  if (violations.length > 0) return { ok: false, violations };
  return { ok: true, session, expiresAfter: expiryOf(request.expiresAfter, policy) };
}

/**
 * The rules behind {@link applyPolicy}, without the verdict: the session the policy would send for `requested`
 * (refused fields left out or replaced by the policy's value) together with every violation. The call guard runs
 * a live call's reported session through it to tell a client's allowed choice from drift.
 */
export function judgeSession(
  requested: RealtimeSession | undefined,
  policy: Policy,
): { session: UpstreamSession; violations: ProblemField[] } {
  const violations: ProblemField[] = [];
  const session: UpstreamSession = { type: "realtime", model: policy.defaultModel };

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

  const output = requested?.audio?.output;
  const audioIn = copyAudioInput(requested?.audio?.input);
  const audioOut: AudioOutput = {};
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

  applyTools(requested, policy, session, violations);
  applyOptIn(requested, policy, session, violations);

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
  return { session, violations };
}

/**
 * Applies `policy` to a transcription session: its audio input and `include` are copied field by field (nothing
 * in it reaches a model that answers, so the policy only bounds the secret's lifetime).
 */
export function applyTranscriptionPolicy(
  session: TranscriptionSession,
  expiresAfter: ExpiresAfter | undefined,
  policy: Policy,
): PolicyResult<TranscriptionSession> {
  const sent: TranscriptionSession = { type: "transcription" };
  const input = copyAudioInput(session.audio?.input);
  if (Object.keys(input).length > 0) sent.audio = { input };
  if (session.include !== undefined) sent.include = [...session.include];
  return { ok: true, session: sent, expiresAfter: expiryOf(expiresAfter, policy) };
}

function expiryOf(requested: ExpiresAfter | undefined, policy: Policy): ExpiresAfter {
  const seconds = Math.min(requested?.seconds ?? policy.secretTtlSeconds, policy.secretTtlSeconds);
  return { anchor: "created_at", seconds };
}

function copyAudioInput(input: AudioInput | undefined): AudioInput {
  const copy: AudioInput = {};
  if (input?.format !== undefined) copy.format = input.format;
  if (input?.transcription !== undefined) copy.transcription = input.transcription;
  if (input?.noise_reduction !== undefined) copy.noise_reduction = input.noise_reduction;
  if (input?.turn_detection !== undefined) copy.turn_detection = input.turn_detection;
  return copy;
}

/** Tools and `tool_choice`: function tools only with `ALLOW_CLIENT_TOOLS`, MCP never. */
function applyTools(
  requested: RealtimeSession | undefined,
  policy: Policy,
  session: UpstreamSession,
  violations: ProblemField[],
): void {
  const functions: FunctionTool[] = [];
  for (const [index, tool] of (requested?.tools ?? []).entries()) {
    if (tool.type === "mcp") {
      violations.push({
        pointer: `/tools/${index}`,
        code: "client_mcp_tools_denied",
        detail:
          "MCP tools are never accepted from clients: the server they name would run on this deployment's account",
      });
      continue;
    }
    const copy: FunctionTool = { type: "function", name: tool.name };
    if (tool.description !== undefined) copy.description = tool.description;
    if (tool.parameters !== undefined) copy.parameters = tool.parameters;
    functions.push(copy);
  }
  const toolChoice = requested?.tool_choice;
  if (typeof toolChoice === "object" && toolChoice.type === "mcp") {
    violations.push({
      pointer: "/tool_choice",
      code: "client_mcp_tools_denied",
      detail: "tool_choice may not name an MCP server",
    });
    return;
  }
  if (policy.allowClientTools) {
    if (requested?.tools !== undefined) session.tools = functions;
    if (toolChoice !== undefined) session.tool_choice = toolChoice;
  } else {
    if (functions.length > 0)
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
  if (requested?.parallel_tool_calls !== undefined)
    session.parallel_tool_calls = requested.parallel_tool_calls;
}

/** Fields a site owner opts into: `reasoning` (ALLOW_CLIENT_REASONING), `prompt` (ALLOW_STORED_PROMPTS). */
function applyOptIn(
  requested: RealtimeSession | undefined,
  policy: Policy,
  session: UpstreamSession,
  violations: ProblemField[],
): void {
  if (requested?.reasoning !== undefined) {
    if (policy.allowClientReasoning) session.reasoning = { ...requested.reasoning };
    else
      violations.push({
        pointer: "/reasoning",
        code: "client_reasoning_denied",
        detail: "This deployment sets reasoning itself (ALLOW_CLIENT_REASONING=false)",
      });
  }
  const prompt = requested?.prompt;
  if (prompt !== undefined && prompt !== null) {
    if (policy.allowStoredPrompts) session.prompt = prompt;
    else
      violations.push({
        pointer: "/prompt",
        code: "stored_prompt_denied",
        detail: "This deployment does not accept stored prompts from clients (ALLOW_STORED_PROMPTS=false)",
      });
  }
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
      // A text that already starts with the server's (a session read back and sent again, a live session the
      // client added to) keeps it once, not twice.
      return policy.instructions === "" || client.startsWith(policy.instructions)
        ? client
        : `${policy.instructions}\n\n${client}`;
    case "allow":
      return client;
  }
}

const BETA_PREVIEW_MODEL = /^gpt-4o(-mini)?-realtime-preview(-\d{4}-\d{2}-\d{2})?$/;

/**
 * Beta clients hard-code the preview models of their era (`gpt-4o-realtime-preview-2024-12-17`). When the
 * deployment does not offer the requested one, the request falls back to the default model with a warning
 * instead of failing; any other model outside `allowedModels` is still {@link applyPolicy}'s 403.
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

/**
 * Environment variables → {@link Config}: the session {@link Policy} plus where the upstream is and who may call. Variables are input too: each is validated with Valibot, an unset or
 * empty variable takes its default, and a malformed one makes every API request answer 500
 * `server_misconfigured` (failing closed) instead of guessing.
 */
import * as v from "valibot";
import { int, list } from "./config-values.ts";
import type { Policy } from "./policy.ts";
import { Voice } from "./schema/session.ts";

/** Defaults of every variable (the README's configuration table). */
export const DEFAULTS = {
  OPENAI_BASE_URL: "https://api.openai.com/v1",
  ALLOWED_ORIGINS: "",
  ALLOWED_MODELS: "gpt-realtime,gpt-realtime-mini",
  DEFAULT_MODEL: "gpt-realtime",
  ALLOWED_VOICES: "alloy,ash,ballad,coral,echo,sage,shimmer,verse,marin,cedar",
  INSTRUCTIONS: "",
  CLIENT_INSTRUCTIONS: "append",
  ALLOW_CLIENT_TOOLS: "false",
  ALLOW_CLIENT_REASONING: "false",
  ALLOW_STORED_PROMPTS: "false",
  MAX_OUTPUT_TOKENS: "4096",
  SECRET_TTL_SECONDS: "60",
  MAX_INSTRUCTIONS_CHARS: "4000",
  UPSTREAM_TIMEOUT_MS: "10000",
} as const;

/** The variables the worker reads (all strings; unset ones take {@link DEFAULTS}). */
export type ConfigVars = { [K in keyof typeof DEFAULTS]?: string | undefined };

/** The parsed variables: the session policy and the deployment's own settings. */
export interface Config extends Policy {
  /** Origins allowed to call the API. Empty: same-origin and Origin-less requests only. `["*"]`: any. */
  allowedOrigins: readonly string[];
  /** Base URL of the OpenAI API, without trailing slash (http://127.0.0.1:PORT works for a local peer). */
  openaiBaseUrl: string;
  /** Upstream request timeout, milliseconds. */
  upstreamTimeoutMs: number;
}

/** Thrown by {@link parseConfig}; the message names the variable, never a value that could be a secret. */
export class ConfigError extends Error {
  override readonly name = "ConfigError";
}

const flag = v.pipe(v.string(), v.trim(), v.toLowerCase(), v.picklist(["true", "false"]));
const origin = v.pipe(
  v.string(),
  v.check((s) => s === "*" || URL.canParse(s), "an origin such as https://example.com, or *"),
  v.transform((s) => (s === "*" ? s : new URL(s).origin)),
);

const Vars = v.object({
  OPENAI_BASE_URL: v.pipe(
    v.string(),
    v.check((s) => URL.canParse(s) && /^https?:$/.test(new URL(s).protocol), "an http(s) URL"),
    v.transform((s) => s.replace(/\/+$/, "")),
  ),
  ALLOWED_ORIGINS: v.pipe(list, v.array(origin)),
  ALLOWED_MODELS: list,
  DEFAULT_MODEL: v.pipe(v.string(), v.trim(), v.minLength(1)),
  ALLOWED_VOICES: v.pipe(
    list,
    v.array(
      v.pipe(
        v.string(),
        v.check((s) => v.is(Voice, s.startsWith("voice_") ? { id: s } : s), "a realtime voice"),
      ),
    ),
    v.minLength(1),
  ),
  INSTRUCTIONS: v.string(),
  CLIENT_INSTRUCTIONS: v.pipe(v.string(), v.trim(), v.picklist(["deny", "append", "allow"])),
  ALLOW_CLIENT_TOOLS: flag,
  ALLOW_CLIENT_REASONING: flag,
  ALLOW_STORED_PROMPTS: flag,
  MAX_OUTPUT_TOKENS: v.union([v.pipe(v.string(), v.trim(), v.literal("inf")), int(1, 4_096)]),
  // Clamped, not rejected: the bounds are OpenAI's, and an operator asking for "a day" gets the longest allowed.
  SECRET_TTL_SECONDS: v.pipe(
    v.string(),
    v.regex(/^\s*\d+\s*$/),
    v.transform((s) => Math.min(7_200, Math.max(10, Number(s)))),
  ),
  MAX_INSTRUCTIONS_CHARS: int(0, 100_000),
  UPSTREAM_TIMEOUT_MS: int(100, 120_000),
});

/**
 * Parses `vars` (the Worker's `env`) into a {@link Config}. Throws {@link ConfigError} naming the first bad variable.
 * `ALLOWED_MODELS` always gains `DEFAULT_MODEL`.
 */
export function parseConfig(vars: ConfigVars): Config {
  const raw: Record<string, string> = {};
  for (const key of Object.keys(DEFAULTS) as Array<keyof typeof DEFAULTS>) {
    const value = vars[key];
    raw[key] = typeof value === "string" && value.trim() !== "" ? value : DEFAULTS[key];
  }
  const parsed = v.safeParse(Vars, raw);
  if (!parsed.success) {
    const key = parsed.issues[0].path?.[0]?.key;
    throw new ConfigError(`Variable ${String(key)} is malformed: ${parsed.issues[0].message}`);
  }
  const c = parsed.output;
  const allowedModels = c.ALLOWED_MODELS.includes(c.DEFAULT_MODEL)
    ? c.ALLOWED_MODELS
    : [...c.ALLOWED_MODELS, c.DEFAULT_MODEL];
  return {
    allowedOrigins: c.ALLOWED_ORIGINS,
    allowedModels,
    defaultModel: c.DEFAULT_MODEL,
    allowedVoices: c.ALLOWED_VOICES,
    instructions: c.INSTRUCTIONS.trim(),
    clientInstructions: c.CLIENT_INSTRUCTIONS,
    allowClientTools: c.ALLOW_CLIENT_TOOLS === "true",
    allowClientReasoning: c.ALLOW_CLIENT_REASONING === "true",
    allowStoredPrompts: c.ALLOW_STORED_PROMPTS === "true",
    maxOutputTokens: c.MAX_OUTPUT_TOKENS,
    secretTtlSeconds: c.SECRET_TTL_SECONDS,
    maxInstructionsChars: c.MAX_INSTRUCTIONS_CHARS,
    openaiBaseUrl: c.OPENAI_BASE_URL,
    upstreamTimeoutMs: c.UPSTREAM_TIMEOUT_MS,
  };
}

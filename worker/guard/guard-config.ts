/**
 * The variables of the access and call-guard layer (who may call, budgets, the per-call guard) → {@link GuardConfig}.
 * Like `config.ts`: validated with Valibot, an unset or empty variable takes its default, a malformed one answers
 * 500 `server_misconfigured`. Three of them are secrets (`wrangler secret put`): `CLIENT_API_KEYS`,
 * `AUTH_JWT_SECRET`, `TURNSTILE_SECRET_KEY`.
 */
import * as v from "valibot";
import { ConfigError } from "../config.ts";
import { int, list } from "../config-values.ts";

/** Defaults of every variable (the README's configuration table). "" means off / unlimited. */
export const GUARD_DEFAULTS = {
  CLIENT_API_KEYS: "",
  AUTH_JWT_SECRET: "",
  AUTH_JWKS_URL: "",
  AUTH_JWT_AUDIENCE: "",
  TURNSTILE_SECRET_KEY: "",
  TURNSTILE_VERIFY_URL: "https://challenges.cloudflare.com/turnstile/v0/siteverify",
  BROWSER_CLIENT_SECRETS: "deny",
  MAX_CONCURRENT_CALLS_PER_CLIENT: "2",
  DAILY_CALL_SECONDS_PER_CLIENT: "1800",
  DAILY_CALL_SECONDS_TOTAL: "",
  CALL_GUARD: "on",
  MAX_CALL_SECONDS: "600",
  IDLE_HANGUP_SECONDS: "120",
  ON_SESSION_DRIFT: "reassert",
} as const;

/** The variables read here (all strings). */
export type GuardVars = { [K in keyof typeof GUARD_DEFAULTS]?: string | undefined };

/** What a drift in the call's session triggers. */
export type DriftAction = "reassert" | "hangup";

/** The parsed access and guard configuration. */
export interface GuardConfig {
  /** Bearer keys for server-side callers (compared as SHA-256 digests). */
  clientApiKeys: readonly string[];
  /** HS256 secret for site-issued JWTs, or null. */
  jwtSecret: string | null;
  /** JWKS URL for site-issued JWTs (RS/ES/PS/EdDSA), or null. */
  jwksUrl: string | null;
  /** Required `aud` of JWTs, or null (not checked). */
  jwtAudience: string | null;
  /** Turnstile secret: when set, browser requests that start billable work need a valid token. */
  turnstileSecret: string | null;
  turnstileVerifyUrl: string;
  /** Whether a browser (an Origin, no bearer) may mint `ek_` client secrets, which bypass the call guard. */
  browserClientSecrets: boolean;
  maxConcurrentCallsPerClient: number;
  /** Call seconds per identity per UTC day. */
  dailyCallSecondsPerClient: number;
  /** Call seconds per UTC day for the whole deployment, or null for unlimited. */
  dailyCallSecondsTotal: number | null;
  /** Whether each call gets a guard (a Durable Object on the sideband). */
  callGuard: boolean;
  maxCallSeconds: number;
  idleHangupSeconds: number;
  onSessionDrift: DriftAction;
}

const optionalInt = (min: number, max: number) =>
  v.union([
    v.pipe(
      v.literal(""),
      v.transform(() => null),
    ),
    int(min, max),
  ]);
const url = v.pipe(
  v.string(),
  v.trim(),
  v.check((s) => s === "" || (URL.canParse(s) && /^https?:$/.test(new URL(s).protocol)), "an http(s) URL"),
);
const toggle = <On extends string, Off extends string>(on: On, off: Off) =>
  v.pipe(v.string(), v.trim(), v.toLowerCase(), v.picklist([on, off]));
const orNull = (s: string) => (s.trim() === "" ? null : s.trim());

const Vars = v.object({
  CLIENT_API_KEYS: list,
  AUTH_JWT_SECRET: v.string(),
  AUTH_JWKS_URL: url,
  AUTH_JWT_AUDIENCE: v.string(),
  TURNSTILE_SECRET_KEY: v.string(),
  TURNSTILE_VERIFY_URL: url,
  BROWSER_CLIENT_SECRETS: toggle("allow", "deny"),
  MAX_CONCURRENT_CALLS_PER_CLIENT: int(1, 10_000),
  DAILY_CALL_SECONDS_PER_CLIENT: int(1, 100_000_000),
  DAILY_CALL_SECONDS_TOTAL: optionalInt(1, 1_000_000_000),
  CALL_GUARD: toggle("on", "off"),
  // OpenAI ends every session at 60 minutes.
  MAX_CALL_SECONDS: int(1, 3_600),
  IDLE_HANGUP_SECONDS: int(1, 3_600),
  ON_SESSION_DRIFT: toggle("reassert", "hangup"),
});

// `env` is the same object for every request of an isolate.
const cache = new WeakMap<object, GuardConfig>();

/** Parses `vars` (the Worker's `env`); throws {@link ConfigError} naming the first bad variable. Cached per `env`. */
export function parseGuardConfig(vars: GuardVars): GuardConfig {
  const cached = cache.get(vars);
  if (cached !== undefined) return cached;
  const raw: Record<string, string> = {};
  for (const key of Object.keys(GUARD_DEFAULTS) as Array<keyof typeof GUARD_DEFAULTS>) {
    const value = vars[key];
    // DAILY_CALL_SECONDS_TOTAL's default is "" (unlimited); "" is also how an operator says "unlimited".
    raw[key] = typeof value === "string" && value.trim() !== "" ? value : GUARD_DEFAULTS[key];
  }
  const parsed = v.safeParse(Vars, raw);
  if (!parsed.success) {
    const key = parsed.issues[0].path?.[0]?.key;
    throw new ConfigError(`Variable ${String(key)} is malformed: ${parsed.issues[0].message}`);
  }
  const c = parsed.output;
  const config: GuardConfig = {
    clientApiKeys: c.CLIENT_API_KEYS,
    jwtSecret: orNull(c.AUTH_JWT_SECRET),
    jwksUrl: orNull(c.AUTH_JWKS_URL),
    jwtAudience: orNull(c.AUTH_JWT_AUDIENCE),
    turnstileSecret: orNull(c.TURNSTILE_SECRET_KEY),
    turnstileVerifyUrl: c.TURNSTILE_VERIFY_URL,
    browserClientSecrets: c.BROWSER_CLIENT_SECRETS === "allow",
    maxConcurrentCallsPerClient: c.MAX_CONCURRENT_CALLS_PER_CLIENT,
    dailyCallSecondsPerClient: c.DAILY_CALL_SECONDS_PER_CLIENT,
    dailyCallSecondsTotal: c.DAILY_CALL_SECONDS_TOTAL,
    callGuard: c.CALL_GUARD === "on",
    maxCallSeconds: c.MAX_CALL_SECONDS,
    idleHangupSeconds: c.IDLE_HANGUP_SECONDS,
    onSessionDrift: c.ON_SESSION_DRIFT,
  };
  cache.set(vars, config);
  return config;
}

/**
 * Who may use `/v1/*`: one of three ways, else 401 `authentication_required`.
 * (a) A browser: `Origin` is this worker's own or in `ALLOWED_ORIGINS` (the origin guard before this middleware
 *     has refused any other; a same-origin GET carries `Sec-Fetch-Site: same-origin` instead), plus, when `TURNSTILE_SECRET_KEY` is set, a Turnstile token in
 *     `CF-Turnstile-Response` on every request that starts billable work (mint, call).
 * (b) `Authorization: Bearer <JWT>` signed by the site's backend: HS256 with `AUTH_JWT_SECRET`, or a key from
 *     `AUTH_JWKS_URL`; `exp` required and checked, `aud` checked when `AUTH_JWT_AUDIENCE` is set, `sub` required.
 * (c) `Authorization: Bearer <key>` with a key from `CLIENT_API_KEYS` (server-side callers, e.g. OpenAI SDKs
 *     pointed at this worker as their base URL).
 * A bearer that is present but invalid is refused even from an allowed origin: a page that sends one means it.
 * Requests with neither `Origin` nor a bearer are refused: anything can forge "no Origin" (curl, scripts), so it
 * proves nothing. Sets `c.var.identity` and `c.var.guard`.
 */
import type { MiddlewareHandler } from "hono";
// The functions under Hono's jwt/jwk middleware, without the middleware (cookies, realm) this flow does not use.
import { verify, verifyWithJwks } from "hono/utils/jwt/jwt";
import type { AppEnv } from "../app-env.ts";
import { ConfigError } from "../config.ts";
import { type GuardConfig, type GuardVars, parseGuardConfig } from "../guard/guard-config.ts";
import { Problem } from "../problem.ts";
import { type Identity, sha256Hex } from "./identity.ts";
import { verifyTurnstile } from "./turnstile.ts";

/** Paths whose POST starts billable work (a Turnstile token is required there when Turnstile is on). */
const BILLABLE = new Set(["/v1/realtime/client_secrets", "/v1/realtime/sessions", "/v1/realtime/calls"]);
const JWT_SHAPE = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*$/;
const JWKS_ALGORITHMS = [
  "RS256",
  "RS384",
  "RS512",
  "PS256",
  "PS384",
  "PS512",
  "ES256",
  "ES384",
  "ES512",
  "EdDSA",
] as const;
/** Header the embed sends the Turnstile token in (Cloudflare's own form field is `cf-turnstile-response`). */
export const TURNSTILE_HEADER = "CF-Turnstile-Response";

function refuse(detail: string): Problem {
  return new Problem("authentication_required", {
    detail,
    headers: { "WWW-Authenticate": 'Bearer realm="realtime"' },
  });
}

/** The guard configuration of this request's `env`; a malformed variable is 500 `server_misconfigured`. */
export function guardConfigOf(env: Env): GuardConfig {
  try {
    return parseGuardConfig(env as unknown as GuardVars);
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    console.error(error.message);
    throw new Problem("server_misconfigured");
  }
}

async function fromJwt(token: string, config: GuardConfig): Promise<Identity> {
  const verification = {
    exp: true,
    nbf: true,
    iat: true,
    ...(config.jwtAudience === null ? {} : { aud: config.jwtAudience }),
  };
  let payload: Record<string, unknown>;
  try {
    payload =
      config.jwtSecret !== null
        ? await verify(token, config.jwtSecret, { alg: "HS256", ...verification })
        : await verifyWithJwks(
            token,
            {
              jwks_uri: config.jwksUrl ?? "",
              verification,
              allowedAlgorithms: JWKS_ALGORITHMS,
            },
            // The JWKS from Cloudflare's cache for 5 minutes, not from the site on every request.
            { cf: { cacheTtl: 300, cacheEverything: true } },
          );
  } catch (error) {
    // Hono names the failure (JwtTokenExpired, JwtTokenSignatureMismatched, JwtTokenAudience…): safe to say.
    const name = error instanceof Error ? error.name : "invalid";
    throw refuse(`The bearer token is not a valid JWT for this deployment (${name})`);
  }
  if (typeof payload.exp !== "number") throw refuse("The JWT has no exp: issue short-lived tokens");
  const sub = payload.sub;
  if (typeof sub !== "string" || sub === "" || sub.length > 256)
    throw refuse("The JWT has no sub (the end user it stands for)");
  return { kind: "jwt", key: `sub:${sub}` };
}

// Digests of the configured keys, once per configuration (that is, per isolate).
const keyDigests = new WeakMap<GuardConfig, Promise<string[]>>();

async function fromKey(token: string, config: GuardConfig): Promise<Identity | null> {
  if (config.clientApiKeys.length === 0) return null;
  let digests = keyDigests.get(config);
  if (digests === undefined) {
    digests = Promise.all(config.clientApiKeys.map(sha256Hex));
    keyDigests.set(config, digests);
  }
  // Digests compared, not the keys: the comparison time does not depend on how much of a guess is right.
  const digest = await sha256Hex(token);
  return (await digests).includes(digest) ? { kind: "key", key: `key:${digest.slice(0, 16)}` } : null;
}

/** The authentication middleware (see the module comment). */
export function authenticate(): MiddlewareHandler<AppEnv> {
  return async function authenticate(c, next) {
    const config = guardConfigOf(c.env);
    c.set("guard", config);
    const authorization = c.req.header("Authorization");
    const bearer = /^Bearer\s+(\S+)\s*$/i.exec(authorization ?? "")?.[1];
    if (authorization !== undefined && bearer === undefined)
      throw refuse("Authorization must be Bearer <JWT or client key>");
    if (bearer !== undefined) {
      const jwtConfigured = config.jwtSecret !== null || config.jwksUrl !== null;
      const identity =
        (await fromKey(bearer, config)) ??
        (jwtConfigured && JWT_SHAPE.test(bearer) ? await fromJwt(bearer, config) : null);
      if (identity === null)
        throw refuse(
          // OpenAI's browser SDKs (agents-realtime) take an ek_ client secret as their key. A call started with one
          // would skip this worker's budget and guard, so the worker does not take it; say what it takes instead.
          bearer.startsWith("ek_")
            ? "An ek_ client secret is for OpenAI itself; through this worker, send a JWT from the site (or a client key) as the bearer"
            : "The bearer token is not a client key or JWT of this deployment",
        );
      c.set("identity", identity);
      return next();
    }

    // The origin guard ran first: an Origin here is this worker's own or an allowed one. Browsers send no Origin
    // on a same-origin GET (the page reading its call's summary), but always `Sec-Fetch-Site`, which page
    // scripts cannot set: `same-origin` stands for the worker's own origin.
    const origin =
      c.req.header("Origin") ??
      (c.req.header("Sec-Fetch-Site") === "same-origin" ? new URL(c.req.url).origin : undefined);
    if (origin === undefined)
      throw refuse("Send a browser Origin allowed by ALLOWED_ORIGINS, a JWT or a client key");
    const ip = c.req.header("CF-Connecting-IP");
    if (
      config.turnstileSecret !== null &&
      c.req.method === "POST" &&
      BILLABLE.has(c.req.path.replace(/\/+$/, ""))
    ) {
      const verdict = await verifyTurnstile({
        token: c.req.header(TURNSTILE_HEADER) ?? "",
        secret: config.turnstileSecret,
        verifyUrl: config.turnstileVerifyUrl,
        hostname: new URL(origin).hostname,
        remoteIp: ip,
        timeoutMs: c.var.config.upstreamTimeoutMs,
      });
      if (!verdict.ok) throw refuse(`Turnstile check failed (${verdict.reason}): solve the challenge again`);
    }
    c.set("identity", { kind: "origin", key: `ip:${ip ?? "unknown"}` });
    return next();
  };
}

/**
 * `BROWSER_CLIENT_SECRETS=deny` (default): a browser (authenticated by its Origin alone) may not mint `ek_` client
 * secrets. A call started with an `ek_` goes from the browser straight to OpenAI: no budget reservation, no call
 * guard, and the browser can `session.update` anything. Bearer callers (a site's backend) still mint.
 */
export function browserMinting(): MiddlewareHandler<AppEnv> {
  return async function browserMinting(c, next) {
    if (c.req.method === "POST" && c.var.identity.kind === "origin" && !c.var.guard.browserClientSecrets)
      throw new Problem("browser_minting_disabled", {
        detail: "Use the SDP proxy (signaling: proxy); BROWSER_CLIENT_SECRETS=allow enables browser minting",
      });
    await next();
  };
}

import type { Context, MiddlewareHandler } from "hono";
import { cors } from "hono/cors";
import type { AppEnv } from "../app-env.ts";
import { Problem } from "../problem.ts";

/**
 * Whether the request's `Origin` may use the API. Requests without `Origin` (SDKs, curl, servers: nothing a
 * browser page can send cross-origin without one) and same-origin requests (the demo page served by this
 * worker) are always allowed. With `ALLOWED_ORIGINS` empty that is all; otherwise the listed origins too, or any
 * origin with `*`.
 */
export function originAllowed(c: Context<AppEnv>): boolean {
  const origin = c.req.header("Origin");
  if (origin === undefined) return true;
  if (origin === new URL(c.req.url).origin) return true;
  const allowed = c.var.policy.allowedOrigins;
  return allowed.includes("*") || allowed.includes(origin);
}

/**
 * CORS for allowed origins only (Hono's `cors`, so preflights are answered there), then 403
 * `origin_not_allowed` for any other origin, preflight included: a disallowed origin gets no CORS header at all.
 */
export function originGuard(): MiddlewareHandler<AppEnv> {
  const allowCors = cors({
    origin: (origin) => origin,
    allowMethods: ["GET", "POST", "OPTIONS"],
    // No fixed list: the request headers a preflight asks for are echoed (for allowed origins only), because
    // OpenAI SDKs pointed at this worker send their own (Authorization, X-Stainless-*, OpenAI-Beta…).
    exposeHeaders: ["Location", "Retry-After"],
    maxAge: 600,
  });
  return async function originGuard(c, next) {
    if (!originAllowed(c))
      throw new Problem("origin_not_allowed", { detail: "Set ALLOWED_ORIGINS to allow it" });
    if (c.req.header("Origin") === undefined) return next();
    return allowCors(c, next);
  };
}

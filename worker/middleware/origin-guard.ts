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
  const allowed = c.var.config.allowedOrigins;
  return allowed.includes("*") || allowed.includes(origin);
}

/** Response headers a page may read besides the CORS-safelisted ones (the call's URL, the rate-limit wait). */
const EXPOSED_HEADERS = ["Location", "Retry-After"];

/**
 * CORS (Hono's `cors`, so preflights are answered there), then 403 `origin_not_allowed` for an origin that may not
 * use the API. The refusal itself is readable by the refused page: its preflight passes (it grants nothing, the
 * request that follows is refused) and the 403 carries CORS headers for that origin, so the page reads the
 * problem instead of an opaque `TypeError: Failed to fetch`.
 */
export function originGuard(): MiddlewareHandler<AppEnv> {
  const allowCors = cors({
    origin: (origin) => origin,
    allowMethods: ["GET", "POST", "OPTIONS"],
    // No fixed list: the request headers a preflight asks for are echoed, because OpenAI SDKs pointed at this
    // worker send their own (Authorization, X-Stainless-*, OpenAI-Beta…).
    exposeHeaders: EXPOSED_HEADERS,
    maxAge: 600,
  });
  return async function originGuard(c, next) {
    const origin = c.req.header("Origin");
    if (origin === undefined) return next();
    if (originAllowed(c) || c.req.method === "OPTIONS") return allowCors(c, next);
    throw new Problem("origin_not_allowed", {
      detail: `Origin ${origin} is not in ALLOWED_ORIGINS; add it there to allow it`,
      headers: {
        "Access-Control-Allow-Origin": origin,
        "Access-Control-Expose-Headers": EXPOSED_HEADERS.join(", "),
        Vary: "Origin",
      },
    });
  };
}

import type { MiddlewareHandler } from "hono";
import type { AppEnv } from "../app-env.ts";
import { Problem } from "../problem.ts";

/** Must equal `simple.period` of the `[[ratelimits]]` binding in wrangler.toml (the binding does not expose it). */
export const RATE_LIMIT_PERIOD_SECONDS = 60;

/**
 * Per-client rate limit with the `RATE_LIMITER` binding, keyed by `CF-Connecting-IP` (set by Cloudflare's edge,
 * not forgeable by the client), on every request but reads (GET). Over the limit: 429 `rate_limited` with `Retry-After`.
 */
export function rateLimit(): MiddlewareHandler<AppEnv> {
  return async function rateLimit(c, next) {
    // Only requests that mint, start or end something count: a page polling its call's summary must not use up
    // the budget of its next call.
    if (c.req.method === "GET") return next();
    const key = c.req.header("CF-Connecting-IP") ?? "unknown";
    const { success } = await c.env.RATE_LIMITER.limit({ key });
    if (!success)
      throw new Problem("rate_limited", {
        detail: `At most the configured number of requests per ${RATE_LIMIT_PERIOD_SECONDS} s per client`,
        headers: { "Retry-After": String(RATE_LIMIT_PERIOD_SECONDS) },
      });
    await next();
  };
}

import type { MiddlewareHandler } from "hono";
import type { AppEnv } from "../app-env.ts";
import { Problem } from "../problem.ts";

/** Must equal `simple.period` of the `[[ratelimits]]` binding in wrangler.toml (the binding does not expose it). */
export const RATE_LIMIT_PERIOD_SECONDS = 60;

/**
 * Seconds until the current rate-limit period ends, 1…`period`. The binding says only whether a request passed,
 * not when its window resets, so this estimates the window as aligned to multiples of `period` in Unix time: the
 * true wait is at most this long, and a client that honours it (the OpenAI SDKs retry 429 twice, honouring
 * `Retry-After`) waits at most one period instead of a fixed full period per retry.
 */
export function secondsToPeriodEnd(nowMs: number, period: number = RATE_LIMIT_PERIOD_SECONDS): number {
  return Math.ceil(msToPeriodEnd(nowMs, period) / 1000);
}

/** Milliseconds until the current rate-limit period ends, 1…`period` × 1000 (see {@link secondsToPeriodEnd}). */
export function msToPeriodEnd(nowMs: number, period: number = RATE_LIMIT_PERIOD_SECONDS): number {
  return period * 1000 - (Math.floor(nowMs) % (period * 1000));
}

/**
 * Per-client rate limit with the `RATE_LIMITER` binding, keyed by `CF-Connecting-IP` (set by Cloudflare's edge,
 * not forgeable by the client), on every request but reads (GET). Over the limit: 429 `rate_limited` with `Retry-After` from
 * {@link secondsToPeriodEnd} and `retry-after-ms` from {@link msToPeriodEnd}.
 */
export function rateLimit(): MiddlewareHandler<AppEnv> {
  return async function rateLimit(c, next) {
    // Only requests that mint, start or end something count: a page polling its call's summary must not use up
    // the budget of its next call.
    if (c.req.method === "GET") return next();
    const key = c.req.header("CF-Connecting-IP") ?? "unknown";
    const { success } = await c.env.RATE_LIMITER.limit({ key });
    if (!success) {
      const now = Date.now();
      const wait = secondsToPeriodEnd(now);
      throw new Problem("rate_limited", {
        detail: `Too many requests from this client in the current ${RATE_LIMIT_PERIOD_SECONDS} s window; retry in ${wait} s`,
        // `retry-after-ms` is OpenAI's own finer header; openai-node and openai-python prefer it.
        headers: { "Retry-After": String(wait), "retry-after-ms": String(msToPeriodEnd(now)) },
      });
    }
    await next();
  };
}

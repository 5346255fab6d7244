/**
 * The edge worker: app assembly only. Order matters: security headers on everything; for the API, the
 * configuration first, then origin allowlist + CORS (preflights end there), authentication (Origin + Turnstile, JWT or
 * client key), the per-client rate limit, the body limit, the call guard's budgets and hooks, and the routes. Every error, thrown anywhere, is rendered once in `onError` as RFC 9457 problem details.
 * Static assets (the demo page and browser bundles) are served by `[assets]` before the worker runs.
 * `hono/tiny` (PatternRouter): a handful of routes needs no compiled RegExp router, and the bundle is ~4 KB smaller.
 */
import { bodyLimit } from "hono/body-limit";
import { HTTPException } from "hono/http-exception";
import { secureHeaders } from "hono/secure-headers";
import { Hono } from "hono/tiny";
import type { AppEnv } from "./app-env.ts";
import { authenticate, browserMinting } from "./auth/authenticate.ts";
import { callStatus, guardCalls, guardHangup } from "./guard/call-routes.ts";
import { loadConfig } from "./middleware/load-config.ts";
import { originGuard } from "./middleware/origin-guard.ts";
import { rateLimit } from "./middleware/rate-limit.ts";
import { Problem } from "./problem.ts";
import { redact } from "./redact.ts";
import { calls } from "./routes/calls.ts";
import { clientSecrets } from "./routes/client-secrets.ts";
import { legacySessions } from "./routes/legacy-sessions.ts";

/** Largest request body accepted on the API, bytes (sessions with tools and instructions, SDP offers). */
const MAX_BODY_BYTES = 64 * 1024;

const app = new Hono<AppEnv>();

app.use(secureHeaders());
app.get("/healthz", (c) => c.json({ ok: true }));

app.use("/v1/*", loadConfig(), originGuard(), authenticate(), rateLimit());
app.use(
  "/v1/*",
  bodyLimit({
    maxSize: MAX_BODY_BYTES,
    onError: () => {
      throw new Problem("payload_too_large", { detail: `At most ${MAX_BODY_BYTES} bytes` });
    },
  }),
);
app.use("/v1/realtime/client_secrets", browserMinting());
app.use("/v1/realtime/sessions", browserMinting());
app.use("/v1/realtime/calls", guardCalls());
app.use("/v1/realtime/calls/:id/hangup", guardHangup());
app.route("/v1/realtime/client_secrets", clientSecrets);
app.route("/v1/realtime/sessions", legacySessions);
app.route("/v1/realtime/calls", calls);
app.route("/v1/realtime/calls", callStatus);

app.notFound((c) => new Problem("not_found").toResponse(c.req.path));

app.onError((error, c) => {
  if (error instanceof Problem) return error.toResponse(c.req.path);
  if (error instanceof HTTPException && error.status < 500) {
    // Hono's own 4xx (e.g. a body the validator cannot read): keep the status, speak problem details.
    const code = error.status === 413 ? "payload_too_large" : "invalid_request";
    return new Problem(code, { detail: error.message }).toResponse(c.req.path);
  }
  const message = error instanceof Error ? (error.stack ?? error.message) : String(error);
  console.error(`unhandled: ${redact(message, [c.env.OPENAI_API_KEY])}`);
  return new Problem("internal_error").toResponse(c.req.path);
});

export default app;
// Durable Objects: one per call (the guard), one per client identity and one for the deployment (budgets).
export { Budget } from "./budget/budget.ts";
export { CallGuard } from "./guard/call-guard.ts";

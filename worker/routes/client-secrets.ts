/**
 * `POST /v1/realtime/client_secrets`: GA body `{expires_after?, session?}` (a realtime or a transcription
 * session) → policy → OpenAI → `{value,
 * expires_at, session}` (OpenAI's reply shape, so SDKs pointed at this worker read it unchanged).
 */
import { vValidator } from "@hono/valibot-validator";
import { Hono } from "hono/tiny";
import type { AppEnv } from "../app-env.ts";
import { jsonBody } from "../middleware/json-body.ts";
import { mintClientSecret, upstreamOf } from "../openai.ts";
import { applyPolicy, applyTranscriptionPolicy } from "../policy.ts";
import { methodNotAllowed, policyProblem } from "../problem.ts";
import { ClientSecretRequest } from "../schema/session.ts";
import { rejectInvalid } from "../validation.ts";

/** Routes under `/v1/realtime/client_secrets`. */
export const clientSecrets = new Hono<AppEnv>()
  .post("/", jsonBody(), vValidator("json", ClientSecretRequest, rejectInvalid()), async (c) => {
    const body = c.req.valid("json");
    const verdict =
      body.session?.type === "transcription"
        ? applyTranscriptionPolicy(body.session, body.expires_after, c.var.config)
        : applyPolicy({ session: body.session, expiresAfter: body.expires_after }, c.var.config);
    if (!verdict.ok) throw policyProblem(verdict.violations, (pointer) => `/session${pointer}`);
    const minted = await mintClientSecret(upstreamOf(c.var.config, c.env.OPENAI_API_KEY), {
      expires_after: verdict.expiresAfter,
      session: verdict.session,
    });
    return c.json({ value: minted.value, expires_at: minted.expires_at, session: minted.session });
  })
  .all("/", methodNotAllowed);

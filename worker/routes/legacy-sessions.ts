/**
 * `POST /v1/realtime/sessions`: the beta mint endpoint for clients that still speak it. Beta body → GA
 * translation (with warnings) → policy → OpenAI's GA mint → an answer every legacy client can read.
 */
import { vValidator } from "@hono/valibot-validator";
import { Hono } from "hono/tiny";
import type { AppEnv } from "../app-env.ts";
import { LegacySessionRequest } from "../legacy/beta-schema.ts";
import { legacySessionResponse } from "../legacy/response.ts";
import { translateLegacy } from "../legacy/translate.ts";
import { jsonBody } from "../middleware/json-body.ts";
import { mintClientSecret, upstreamOf } from "../openai.ts";
import { applyPolicy, retireBetaModel } from "../policy.ts";
import { methodNotAllowed, policyProblem } from "../problem.ts";
import { rejectInvalid } from "../validation.ts";

/** Routes under `/v1/realtime/sessions`. */
export const legacySessions = new Hono<AppEnv>()
  .post("/", jsonBody(), vValidator("json", LegacySessionRequest, rejectInvalid()), async (c) => {
    const config = c.var.config;
    const translation = retireBetaModel(translateLegacy(c.req.valid("json")), config.allowedModels);
    const verdict = applyPolicy(
      { session: translation.session, expiresAfter: translation.expiresAfter },
      config,
    );
    if (!verdict.ok) throw policyProblem(verdict.violations, (pointer) => translation.sources[pointer] ?? "");
    const minted = await mintClientSecret(upstreamOf(config, c.env.OPENAI_API_KEY), {
      expires_after: verdict.expiresAfter,
      session: verdict.session,
    });
    return c.json(
      legacySessionResponse({
        minted,
        sent: verdict.session,
        translation,
        webrtcUrl: `${config.openaiBaseUrl}/realtime/calls`,
        now: new Date(),
      }),
    );
  })
  .all("/", methodNotAllowed);

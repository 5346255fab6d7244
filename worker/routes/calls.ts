/**
 * `POST /v1/realtime/calls`: the SDP proxy (OpenAI's unified interface). The browser posts its offer as
 * `application/sdp` (session from the `model`/`voice` query and the policy) or as `multipart/form-data` with parts
 * `sdp` and `session` (a GA session, JSON); the worker checks the offer, polices the session and posts both
 * upstream with the server key. Answer: 201, the SDP answer, `Location: /v1/realtime/calls/{call_id}`.
 * No key of any kind reaches the browser. The browser still holds the `oai-events` data channel, so it can send
 * `session.update` (OpenAI keeps the model, and the voice once audio has played); the server's levers over a live
 * call are the hangup below and OpenAI's sideband WebSocket.
 *
 * `POST /v1/realtime/calls/{call_id}/hangup`: ends a call with the server key.
 */
import { vValidator } from "@hono/valibot-validator";
import { Hono } from "hono/tiny";
import * as v from "valibot";
import type { AppEnv } from "../app-env.ts";
import { CALL_ID, createCall, hangupCall, upstreamOf } from "../openai.ts";
import { applyPolicy } from "../policy.ts";
import { issuesToFields, methodNotAllowed, Problem, policyProblem } from "../problem.ts";
import { readCallBody } from "../schema/call-body.ts";
import { REALTIME_VOICES, type RealtimeSession } from "../schema/session.ts";
import { checkOffer } from "../sdp.ts";
import { rejectInvalid } from "../validation.ts";

const CallQuery = v.strictObject({
  model: v.optional(v.pipe(v.string(), v.minLength(1), v.maxLength(64))),
  voice: v.optional(
    v.picklist(REALTIME_VOICES, `Invalid voice: expected one of ${REALTIME_VOICES.join(", ")}`),
  ),
});

const CallParam = v.object({ id: v.pipe(v.string(), v.regex(CALL_ID, "Expected a call id rtc_…")) });

interface CallRequest {
  sdp: string;
  session: RealtimeSession;
  /** Where the session came from, to point policy violations at it. */
  pointerBase: string;
}

async function readCallRequest(req: Request, query: v.InferOutput<typeof CallQuery>): Promise<CallRequest> {
  const fromQuery: RealtimeSession = { type: "realtime" };
  if (query.model !== undefined) fromQuery.model = query.model;
  if (query.voice !== undefined) fromQuery.audio = { output: { voice: query.voice } };
  const body = await readCallBody(req);
  if (body.ok)
    return body.session
      ? { sdp: body.sdp, session: body.session, pointerBase: "/session" }
      : { sdp: body.sdp, session: fromQuery, pointerBase: "/query" };
  switch (body.reason) {
    case "unsupported_media_type":
      throw new Problem("unsupported_media_type", {
        detail: "Send the offer as application/sdp, or as multipart/form-data with parts sdp and session",
      });
    case "malformed_body":
      throw new Problem("malformed_body");
    case "unexpected_parts":
      throw new Problem("invalid_request", {
        errors: body.parts.map((part) => ({
          pointer: `/${part.name}`,
          detail: part.duplicate
            ? "Part given more than once"
            : "Unknown part: only sdp and session are allowed",
        })),
      });
    case "missing_sdp":
      throw new Problem("invalid_request", {
        errors: [{ pointer: "/sdp", detail: "Missing part: the SDP offer" }],
      });
    case "malformed_session":
      throw new Problem("malformed_json", { detail: "The session part is not valid JSON" });
    case "invalid_session":
      throw new Problem("invalid_request", { errors: issuesToFields(body.issues, ["session"]) });
  }
}

/** Routes under `/v1/realtime/calls`. */
export const calls = new Hono<AppEnv>()
  .post("/", vValidator("query", CallQuery, rejectInvalid(["query"])), async (c) => {
    const request = await readCallRequest(c.req.raw, c.req.valid("query"));
    const offer = checkOffer(request.sdp);
    const verdict = applyPolicy({ session: request.session }, c.var.config);
    if (!verdict.ok)
      throw policyProblem(verdict.violations, (pointer) =>
        request.pointerBase === "/query"
          ? `/query/${pointer === "/audio/output/voice" ? "voice" : pointer.slice(1)}`
          : `/session${pointer}`,
      );
    const call = await createCall(upstreamOf(c.var.config, c.env.OPENAI_API_KEY), offer, verdict.session);
    c.set("callSession", verdict.session);
    return c.body(call.answer, 201, {
      "Content-Type": "application/sdp",
      Location: `/v1/realtime/calls/${call.callId}`,
    });
  })
  .post("/:id/hangup", vValidator("param", CallParam, rejectInvalid(["path"])), async (c) => {
    await hangupCall(upstreamOf(c.var.config, c.env.OPENAI_API_KEY), c.req.valid("param").id);
    return c.body(null, 204);
  })
  .all("/", methodNotAllowed)
  .all("/:id/hangup", methodNotAllowed);

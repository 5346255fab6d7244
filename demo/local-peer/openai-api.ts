/**
 * The OpenAI-compatible routes of the local peer, as a Hono app: `POST /v1/realtime/client_secrets` (mint an
 * `ek_`), `POST /v1/realtime/calls` (answer an SDP offer, with the server key or an `ek_`) and
 * `POST /v1/realtime/calls/{call_id}/hangup`. Call bodies are read by the worker's own parser
 * (`worker/schema/call-body.ts`) and sessions checked by the worker's GA schema, so the peer accepts exactly
 * what the worker forwards. Errors are OpenAI's envelope (`{error: {type, code, message, param}}`), rendered by
 * the app that mounts this one.
 */
import { Hono } from "hono/tiny";
import * as v from "valibot";
import { readCallBody } from "../../worker/schema/call-body.ts";
import { MAX_SESSION_SECONDS } from "../../worker/schema/protocol.ts";
import { ClientSecretRequest } from "../../worker/schema/session.ts";
import { Call } from "./call.ts";
import { newId } from "./ids.ts";
import { bearer, findCall, type PeerContext, requireServerKey } from "./peer-context.ts";
import { describeIssues, RealtimeHttpError } from "./realtime-error.ts";
import { inspectOffer } from "./sdp-offer.ts";
import { defaultSession, type EffectiveSession, mergeSession } from "./session-config.ts";

const DEFAULT_SECRET_TTL_S = 600;

/** Builds the app; `context` is shared with the inspection API and the sideband. */
export function openaiApi(context: PeerContext) {
  return new Hono()
    .post("/v1/realtime/client_secrets", async (c) => {
      requireServerKey(context, c.req.header("authorization"));
      const body = v.safeParse(ClientSecretRequest, await readJson(c.req.raw));
      if (!body.success) throw invalid(body.issues);
      const ttl = body.output.expires_after?.seconds ?? DEFAULT_SECRET_TTL_S;
      const secret = context.secrets.issue(ttl, body.output.session as Record<string, unknown> | undefined);
      const session = mergeSession(defaultSession(newId("sess"), secret.expiresAt), secret.session ?? {});
      return c.json({ value: secret.value, expires_at: secret.expiresAt, session }, 200, NO_STORE);
    })
    .post("/v1/realtime/calls", async (c) => {
      const { offer, session } = await readCall(context, c.req.raw);
      const summary = inspectOffer(offer);
      if (!summary?.audio)
        throw new RealtimeHttpError(
          400,
          "invalid_offer",
          summary
            ? "The SDP offer has no audio media section; the realtime API requires one (add an audio transceiver)."
            : "The body is not an SDP offer.",
          { param: "sdp" },
        );
      const id = newId("rtc");
      let answered: { call: Call; answer: string };
      try {
        answered = await Call.answer({
          id,
          offer,
          audio: summary.audio,
          session,
          recorder: context.recorder,
          engines: context.engines,
          onEnded: () => undefined,
        });
      } catch (error) {
        throw new RealtimeHttpError(
          400,
          "invalid_offer",
          `The SDP offer could not be answered: ${String(error)}`,
          {
            param: "sdp",
          },
        );
      }
      context.calls.set(id, answered.call);
      return c.body(answered.answer, 201, {
        "content-type": "application/sdp",
        location: `/v1/realtime/calls/${id}`,
      });
    })
    .post("/v1/realtime/calls/:id/hangup", (c) => {
      requireServerKey(context, c.req.header("authorization"));
      findCall(context, c.req.param("id")).end("hangup");
      return c.json({}, 200, NO_STORE);
    });
}

const NO_STORE = { "cache-control": "no-store" };

/**
 * The offer and the session a call starts with. With an `ek_`: the offer alone (`application/sdp`), the session
 * minted with the secret. With the server key: the offer alone (default session) or multipart with a session.
 */
async function readCall(
  context: PeerContext,
  request: Request,
): Promise<{ offer: string; session: EffectiveSession }> {
  const token = bearer(request.headers.get("authorization"));
  const session = defaultSession(newId("sess"), Math.floor(context.now() / 1000) + MAX_SESSION_SECONDS);
  if (token.startsWith("ek_")) {
    const lookup = context.secrets.resolve(token);
    if (!lookup.ok)
      throw new RealtimeHttpError(
        401,
        lookup.reason === "expired" ? "client_secret_expired" : "invalid_api_key",
        lookup.reason === "expired"
          ? "The client secret has expired; mint a new one."
          : "Incorrect API key provided: the client secret is unknown.",
      );
    if (!/^application\/sdp\s*(;|$)/i.test(request.headers.get("content-type") ?? ""))
      throw new RealtimeHttpError(
        415,
        "unsupported_content_type",
        "With a client secret, send the SDP offer as 'application/sdp'.",
      );
    return { offer: await request.text(), session: mergeSession(session, lookup.secret.session ?? {}) };
  }
  requireServerKey(context, request.headers.get("authorization"));
  const body = await readCallBody(request);
  if (body.ok)
    return {
      offer: body.sdp,
      session: body.session ? mergeSession(session, body.session as Record<string, unknown>) : session,
    };
  switch (body.reason) {
    case "unsupported_media_type":
      throw new RealtimeHttpError(
        415,
        "unsupported_content_type",
        "Send the offer as 'multipart/form-data' (parts 'sdp' and 'session') or as 'application/sdp'.",
      );
    case "malformed_body":
      throw new RealtimeHttpError(
        400,
        "invalid_multipart",
        "The multipart/form-data body could not be parsed.",
      );
    case "unexpected_parts": {
      const part = body.parts[0] as { name: string; duplicate: boolean };
      throw new RealtimeHttpError(
        400,
        part.duplicate ? "invalid_value" : "unknown_parameter",
        part.duplicate
          ? `Part '${part.name}' given more than once.`
          : `Unknown part '${part.name}': only 'sdp' and 'session' are allowed.`,
        { param: part.name },
      );
    }
    case "missing_sdp":
      throw new RealtimeHttpError(400, "missing_required_parameter", "Missing required part: 'sdp'.", {
        param: "sdp",
      });
    case "malformed_session":
      throw new RealtimeHttpError(400, "invalid_json", "The 'session' part is not valid JSON.", {
        param: "session",
      });
    case "invalid_session":
      throw invalid(body.issues, "session");
  }
}

/** A 400 in OpenAI's shape from Valibot issues (`unknown_parameter` for an unknown key, else `invalid_value`). */
export function invalid(issues: ReadonlyArray<v.BaseIssue<unknown>>, prefix = ""): RealtimeHttpError {
  const { code, message, param } = describeIssues(issues, prefix);
  return new RealtimeHttpError(400, code, message, { param });
}

/** The JSON body, `{}` when empty; 400 `invalid_json` otherwise. */
export async function readJson(request: Request): Promise<unknown> {
  const text = await request.text();
  if (text.trim() === "") return {};
  try {
    return JSON.parse(text);
  } catch {
    throw new RealtimeHttpError(400, "invalid_json", "The request body is not valid JSON.");
  }
}

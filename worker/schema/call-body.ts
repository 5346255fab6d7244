/**
 * The body of `POST /v1/realtime/calls` (OpenAI's WebRTC signalling), read the same way by the worker and the
 * local peer: `application/sdp` (the offer alone) or `multipart/form-data` with part `sdp` (the offer) and an
 * optional part `session` (a GA session, JSON, checked against {@link RealtimeSession}). Each runtime renders a
 * failure in its own error shape (problem details in the worker, OpenAI's error envelope on the peer).
 * Pure module over the Fetch API's `Request`: no Workers or Node globals.
 */
import * as v from "valibot";
import { RealtimeSession } from "./session.ts";

/** What the body holds; `session` is null when the offer came alone. */
export interface CallBody {
  sdp: string;
  session: RealtimeSession | null;
}

/** Why a body cannot be read, one case per answer a client needs. */
export type CallBodyFailure =
  /** Neither `application/sdp` nor `multipart/form-data`. */
  | { reason: "unsupported_media_type" }
  /** The multipart body does not parse. */
  | { reason: "malformed_body" }
  /** Parts other than `sdp` and `session`, or one of them more than once. */
  | { reason: "unexpected_parts"; parts: Array<{ name: string; duplicate: boolean }> }
  | { reason: "missing_sdp" }
  /** The `session` part is not JSON. */
  | { reason: "malformed_session" }
  /** The `session` part is JSON but not a GA session. */
  | { reason: "invalid_session"; issues: ReadonlyArray<v.BaseIssue<unknown>> };

const SDP_TYPE = /^application\/sdp\s*(;|$)/i;
const MULTIPART_TYPE = /^multipart\/form-data\s*;/i;
const PARTS = new Set(["sdp", "session"]);

/**
 * An `application/sdp` body as text. SDP is UTF-8 (RFC 8866 §5), but workerd warns on `.text()` for any type
 * outside `text/*` and JSON, once per request; decoding the bytes says the same without the warning.
 */
export async function sdpText(body: Request | Response): Promise<string> {
  return new TextDecoder().decode(await body.arrayBuffer());
}

/** Reads a call request's body; never throws for a client's mistake. */
export async function readCallBody(
  request: Request,
): Promise<({ ok: true } & CallBody) | ({ ok: false } & CallBodyFailure)> {
  const type = request.headers.get("Content-Type") ?? "";
  if (SDP_TYPE.test(type)) return { ok: true, sdp: await sdpText(request), session: null };
  if (!MULTIPART_TYPE.test(type)) return { ok: false, reason: "unsupported_media_type" };
  let form: FormData;
  try {
    form = await request.formData();
  } catch {
    return { ok: false, reason: "malformed_body" };
  }
  const unexpected = [...new Set(form.keys())]
    .filter((name) => !PARTS.has(name) || form.getAll(name).length > 1)
    .map((name) => ({ name, duplicate: PARTS.has(name) }));
  if (unexpected.length > 0) return { ok: false, reason: "unexpected_parts", parts: unexpected };
  const sdpPart = form.get("sdp");
  if (sdpPart === null) return { ok: false, reason: "missing_sdp" };
  const sdp = typeof sdpPart === "string" ? sdpPart : await sdpPart.text();
  const sessionPart = form.get("session");
  if (sessionPart === null) return { ok: true, sdp, session: null };
  let json: unknown;
  try {
    json = JSON.parse(typeof sessionPart === "string" ? sessionPart : await sessionPart.text());
  } catch {
    return { ok: false, reason: "malformed_session" };
  }
  const parsed = v.safeParse(RealtimeSession, json);
  if (!parsed.success) return { ok: false, reason: "invalid_session", issues: parsed.issues };
  return { ok: true, sdp, session: parsed.output };
}

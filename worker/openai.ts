/**
 * The upstream client: mint a client secret, create a call (multipart SDP + session), hang up a call. GA shapes
 * only (OpenAI rejects `OpenAI-Beta: realtime=v1` since 2026-05-12), server key in `Authorization`, a timeout on
 * every request (headers and body), and one mapping of upstream failures to problems:
 * timeout → 504 `upstream_timeout`; network error, 5xx, other 4xx or an unreadable reply → 502 `upstream_error`;
 * 401/403 → 502 `upstream_auth_failed`; 429 → 503 `upstream_rate_limited` with `Retry-After`.
 * Upstream error bodies are logged (redacted), never forwarded.
 */
import * as v from "valibot";
import type { Config } from "./config.ts";
import type { UpstreamSession } from "./policy.ts";
import { Problem, type ProblemCode } from "./problem.ts";
import { redact } from "./redact.ts";
import { sdpText } from "./schema/call-body.ts";
import type { ExpiresAfter, TranscriptionSession } from "./schema/session.ts";
import { MintedSecret, UpstreamError } from "./schema/upstream.ts";

/** Where and how to reach OpenAI. `baseUrl` has no trailing slash; plain http (a local peer) is fine. */
export interface Upstream {
  baseUrl: string;
  apiKey: string;
  timeoutMs: number;
}

/** The upstream of a deployment: its configured base URL and timeout, and the server key. */
export function upstreamOf(config: Config, apiKey: string): Upstream {
  return { baseUrl: config.openaiBaseUrl, apiKey, timeoutMs: config.upstreamTimeoutMs };
}

/** The SDP answer and the id (`rtc_…`) of a created call. */
export interface CreatedCall {
  answer: string;
  callId: string;
}

/** A realtime call id as OpenAI issues them. */
export const CALL_ID = /^rtc_[A-Za-z0-9_-]{1,128}$/;
const MAX_REPLY_BYTES = 256 * 1024;

/**
 * `POST {base}/realtime/client_secrets` with a JSON body built by the caller from policy output.
 * Returns `{value, expires_at, session}`; throws {@link Problem} (502/503/504) otherwise.
 */
export async function mintClientSecret(
  upstream: Upstream,
  body: { expires_after: ExpiresAfter; session: UpstreamSession | TranscriptionSession },
): Promise<MintedSecret> {
  return call(upstream, "/realtime/client_secrets", JSON.stringify(body), "application/json", async (res) => {
    const parsed = v.safeParse(MintedSecret, await res.json());
    if (!parsed.success)
      throw fail("upstream_error", "mint reply does not match { value, expires_at, session }");
    return parsed.output;
  });
}

/**
 * `POST {base}/realtime/calls` as multipart: part `sdp` (the offer) and part `session` (the GA session, JSON).
 * Returns the SDP answer and the call id from `Location`; throws {@link Problem} otherwise (an upstream
 * `invalid_offer` becomes our 400 `invalid_offer`).
 */
export async function createCall(
  upstream: Upstream,
  sdp: string,
  session: UpstreamSession,
): Promise<CreatedCall> {
  // String parts, as in OpenAI's own server example for the unified interface.
  const form = new FormData();
  form.set("sdp", sdp);
  form.set("session", JSON.stringify(session));
  return call(upstream, "/realtime/calls", form, undefined, async (res) => {
    const answer = await sdpText(res);
    const location = res.headers.get("Location") ?? "";
    const callId = /\/calls\/([^/?#]+)\/?(?:[?#].*)?$/.exec(location)?.[1] ?? "";
    if (!answer.startsWith("v=0")) throw fail("upstream_error", "call reply is not an SDP answer");
    if (!CALL_ID.test(callId)) throw fail("upstream_error", "call reply has no Location with a call id");
    return { answer, callId };
  });
}

/** `POST {base}/realtime/calls/{id}/hangup`. An unknown call is a 404 `call_not_found`. */
export async function hangupCall(upstream: Upstream, callId: string): Promise<void> {
  if (!CALL_ID.test(callId)) throw new Problem("invalid_call_id");
  await call(upstream, `/realtime/calls/${callId}/hangup`, undefined, undefined, async (res) => {
    await res.body?.cancel();
  });
}

async function call<T>(
  upstream: Upstream,
  path: string,
  body: BodyInit | undefined,
  contentType: string | undefined,
  read: (res: Response) => Promise<T>,
): Promise<T> {
  const headers: Record<string, string> = { Authorization: `Bearer ${upstream.apiKey}` };
  if (contentType !== undefined) headers["Content-Type"] = contentType;
  // One signal for the whole exchange: a reply whose body stalls times out like one that never starts.
  const signal = AbortSignal.timeout(upstream.timeoutMs);
  try {
    const res = await fetch(`${upstream.baseUrl}${path}`, { method: "POST", headers, body, signal });
    if (res.ok) return await read(res);
    throw await failure(res, path, upstream.apiKey);
  } catch (error) {
    if (error instanceof Problem) throw error;
    if (
      signal.aborted ||
      (error instanceof Error && (error.name === "TimeoutError" || error.name === "AbortError"))
    )
      throw fail("upstream_timeout", `${path} did not answer within ${upstream.timeoutMs} ms`);
    const message = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
    console.error(`upstream ${path}: ${redact(message, [upstream.apiKey])}`);
    throw fail("upstream_error", `${path} failed`);
  }
}

async function failure(res: Response, path: string, apiKey: string): Promise<Problem> {
  const text = await readCapped(res);
  const parsed = v.safeParse(UpstreamError, safeJson(text));
  const raw = parsed.success ? (parsed.output.error.code ?? parsed.output.error.type ?? "") : "";
  const code = /^[a-z0-9_.]{1,64}$/.test(raw) ? raw : "";
  console.error(`upstream ${path} answered ${res.status}: ${redact(text.slice(0, 2_000), [apiKey])}`);
  if (res.status === 401 || res.status === 403)
    return fail("upstream_auth_failed", `${path} answered ${res.status}`);
  if (res.status === 429) {
    const retry = res.headers.get("Retry-After")?.trim() ?? "";
    const seconds = /^\d{1,4}$/.test(retry) ? retry : "5";
    return new Problem("upstream_rate_limited", {
      detail: "Try again later",
      headers: { "Retry-After": seconds },
    });
  }
  if (res.status === 404 && path.endsWith("/hangup")) return new Problem("call_not_found");
  if (res.status === 400 && code === "invalid_offer")
    return new Problem("invalid_offer", { detail: "OpenAI could not use the SDP offer" });
  return fail("upstream_error", `${path} answered ${res.status}${code === "" ? "" : ` (${code})`}`);
}

function fail(code: ProblemCode, detail: string): Problem {
  return new Problem(code, { detail });
}

async function readCapped(res: Response): Promise<string> {
  const bytes = new Uint8Array(await res.arrayBuffer());
  return new TextDecoder().decode(bytes.subarray(0, MAX_REPLY_BYTES));
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/**
 * HTTP to the worker: the SDP offer/answer exchange through its `/v1/realtime/calls` (proxy: no key in the
 * browser), or with an `ek_` client secret minted at its `/v1/realtime/client_secrets` and posted to the
 * upstream's `/realtime/calls` (ephemeral); and the call's summary after a loss. See OpenAI "Realtime API with
 * WebRTC". Every request takes the attempt's `AbortSignal`.
 */
import { RealtimeVoiceError } from "./realtime-voice-error.ts";

/** What {@link exchangeSdp} needs. */
export interface SignalingRequest {
  /** The worker's base URL, without a trailing slash. */
  url: string;
  signaling: "proxy" | "ephemeral";
  /** Upstream base URL for `ephemeral` (`https://api.openai.com/v1`), without a trailing slash. */
  upstreamUrl: string;
  session: Record<string, unknown> | undefined;
  /** Headers for the worker: the application's, plus `Authorization` and Turnstile's when configured. */
  headers: Record<string, string>;
}

/**
 * Posts `offer` and returns the SDP answer and the call id (the last segment of the 201's `Location`, null when
 * absent). Rejects with {@link RealtimeVoiceError}: an HTTP code (see `httpError`), `network_error` or
 * `invalid_answer`; with the signal's reason when aborted.
 */
export async function exchangeSdp(
  offer: string,
  request: SignalingRequest,
  signal: AbortSignal,
): Promise<{ sdp: string; callId: string | null }> {
  const { url, headers, session } = request;
  let response: Response;
  if (request.signaling === "ephemeral") {
    const minted = await send(`${url}/v1/realtime/client_secrets`, signal, {
      method: "POST",
      headers: { ...headers, "content-type": "application/json" },
      body: JSON.stringify(session ? { session } : {}),
    });
    const secret = (await minted.json().catch(() => null)) as { value?: unknown } | null;
    if (typeof secret?.value !== "string") {
      throw new RealtimeVoiceError("signaling_failed", "the client_secrets answer has no `value`", {
        status: minted.status,
      });
    }
    response = await send(`${request.upstreamUrl}/realtime/calls`, signal, {
      method: "POST",
      headers: { authorization: `Bearer ${secret.value}`, "content-type": "application/sdp" },
      body: offer,
    });
  } else {
    let body: BodyInit = offer;
    if (session) {
      const form = new FormData();
      form.set("sdp", new Blob([offer], { type: "application/sdp" }));
      form.set("session", new Blob([JSON.stringify(session)], { type: "application/json" }));
      body = form;
    }
    response = await send(`${url}/v1/realtime/calls`, signal, {
      method: "POST",
      headers: session ? headers : { ...headers, "content-type": "application/sdp" },
      body,
    });
  }
  const sdp = await response.text();
  // Without this check an error body or an HTML page would reach setRemoteDescription and surface as an opaque
  // "Failed to parse SessionDescription".
  if (!sdp.startsWith("v=0")) {
    throw new RealtimeVoiceError(
      "invalid_answer",
      `the calls endpoint answered ${response.status} without SDP`,
      {
        status: response.status,
      },
    );
  }
  return { sdp, callId: response.headers.get("location")?.split("/").pop() || null };
}

/**
 * The worker's summary of a call (`GET {url}/v1/realtime/calls/{callId}`, same headers as the call), or null
 * when there is none to read (404, network error, not JSON). Never rejects.
 */
export async function callSummary(
  url: string,
  callId: string,
  headers: Record<string, string>,
  signal: AbortSignal,
): Promise<unknown> {
  try {
    const response = await send(`${url}/v1/realtime/calls/${encodeURIComponent(callId)}`, signal, {
      headers,
    });
    return await response.json();
  } catch {
    return null;
  }
}

async function send(url: string, signal: AbortSignal, init: RequestInit): Promise<Response> {
  let response: Response;
  try {
    response = await fetch(url, { ...init, signal });
  } catch (error) {
    if (signal.aborted) throw signal.reason;
    throw new RealtimeVoiceError("network_error", `request to ${url} failed: ${String(error)}`, {
      cause: error,
    });
  }
  if (response.ok) return response;
  throw await httpError(response);
}

/**
 * Maps a non-2xx answer to a typed error with the server's own message. The worker answers RFC 9457 problem
 * details (`code`, `detail`) that also carry OpenAI's envelope (`error: {message, code}`); OpenAI answers the
 * envelope alone. Whichever is there is read.
 */
export async function httpError(response: Response): Promise<RealtimeVoiceError> {
  const text = await response.text().catch(() => "");
  let message = text.slice(0, 300) || response.statusText;
  let serverCode: string | undefined;
  try {
    const body = JSON.parse(text) as {
      detail?: unknown;
      title?: unknown;
      code?: unknown;
      error?: { message?: unknown; code?: unknown } | null;
    };
    const envelope = typeof body.error === "object" ? body.error : null;
    const detail = body.detail ?? envelope?.message ?? body.title;
    if (typeof detail === "string" && detail) message = detail;
    const code = body.code ?? envelope?.code;
    if (typeof code === "string") serverCode = code;
  } catch {
    // Not JSON: keep the text.
  }
  const status = response.status;
  const seconds = retryAfterSeconds(response.headers.get("retry-after"));
  const code =
    status === 401
      ? "authentication_required"
      : status === 429
        ? serverCode === "budget_exhausted"
          ? "budget_exhausted"
          : "rate_limited"
        : serverCode === "origin_not_allowed"
          ? "origin_not_allowed"
          : "signaling_failed";
  return new RealtimeVoiceError(code, `${status}: ${message}`, {
    status,
    serverCode,
    retryAfter: status === 429 ? seconds : undefined,
  });
}

/** `Retry-After` as seconds from now: delta-seconds or an HTTP date (RFC 9110 §10.2.3); undefined when absent. */
function retryAfterSeconds(value: string | null): number | undefined {
  if (value === null || value.trim() === "") return undefined;
  const seconds = /^\d+$/.test(value.trim()) ? Number(value) : (Date.parse(value) - Date.now()) / 1000;
  return Number.isFinite(seconds) ? Math.max(0, Math.ceil(seconds)) : undefined;
}

/**
 * The SDP offer/answer exchange over HTTP: through the worker's `/v1/realtime/calls` (proxy: no key in the
 * browser), or with an `ek_` client secret minted at the worker's `/v1/realtime/client_secrets` and posted to the
 * upstream's `/realtime/calls` (ephemeral). See OpenAI "Realtime API with WebRTC".
 */
import { RealtimeVoiceError } from "./realtime-voice-error.ts";

/** What {@link exchangeSdp} needs. */
export interface SignalingRequest {
  /** The worker's base URL, without a trailing slash. */
  base: string;
  signaling: "proxy" | "ephemeral";
  /** Upstream base URL for `ephemeral` (`https://api.openai.com/v1`), without a trailing slash. */
  upstream: string;
  session: Record<string, unknown> | undefined;
  headers: Record<string, string>;
}

/**
 * Posts `offer` and returns the SDP answer and the call id from `Location` (null when absent). `stillWanted`
 * is checked between the two requests of the ephemeral path. Rejects with {@link RealtimeVoiceError}:
 * `signaling_failed` (non-2xx, with the server's message), `network_error`, or `invalid_answer`.
 */
export async function exchangeSdp(
  offer: string,
  request: SignalingRequest,
  stillWanted: () => void,
): Promise<{ sdp: string; callId: string | null }> {
  const { base, headers, session } = request;
  let response: Response;
  if (request.signaling === "ephemeral") {
    const minted = await post(`${base}/v1/realtime/client_secrets`, {
      headers: { ...headers, "content-type": "application/json" },
      body: JSON.stringify(session ? { session } : {}),
    });
    const secret = (await minted.json().catch(() => null)) as { value?: unknown } | null;
    if (typeof secret?.value !== "string") {
      throw new RealtimeVoiceError("signaling_failed", "the client_secrets answer has no `value`", {
        status: minted.status,
      });
    }
    stillWanted();
    response = await post(`${request.upstream}/realtime/calls`, {
      headers: { authorization: `Bearer ${secret.value}`, "content-type": "application/sdp" },
      body: offer,
    });
  } else if (session) {
    const form = new FormData();
    form.set("sdp", new Blob([offer], { type: "application/sdp" }));
    form.set("session", new Blob([JSON.stringify(session)], { type: "application/json" }));
    response = await post(`${base}/v1/realtime/calls`, { headers, body: form });
  } else {
    response = await post(`${base}/v1/realtime/calls`, {
      headers: { ...headers, "content-type": "application/sdp" },
      body: offer,
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
  const callUrl = response.headers.get("location");
  return { sdp, callId: callUrl?.split("/").pop() ?? null };
}

async function post(url: string, init: RequestInit): Promise<Response> {
  let response: Response;
  try {
    response = await fetch(url, { ...init, method: "POST" });
  } catch (error) {
    throw new RealtimeVoiceError("network_error", `request to ${url} failed: ${String(error)}`, {
      cause: error,
    });
  }
  if (response.ok) return response;
  throw await httpError(response);
}

/** Maps a non-2xx answer to an error with the server's own message: problem details or OpenAI's `error`. */
async function httpError(response: Response): Promise<RealtimeVoiceError> {
  const text = await response.text().catch(() => "");
  let message = text.slice(0, 300) || response.statusText;
  let serverCode: string | undefined;
  try {
    const body = JSON.parse(text) as {
      detail?: unknown;
      title?: unknown;
      code?: unknown;
      error?: { message?: unknown; code?: unknown };
    };
    if (body.error && typeof body.error === "object") {
      message = String(body.error.message ?? message);
      if (typeof body.error.code === "string") serverCode = body.error.code;
    } else {
      message = String(body.detail ?? body.title ?? message);
      if (typeof body.code === "string") serverCode = body.code;
    }
  } catch {
    // Not JSON: keep the text.
  }
  return new RealtimeVoiceError("signaling_failed", `${response.status}: ${message}`, {
    status: response.status,
    serverCode,
  });
}

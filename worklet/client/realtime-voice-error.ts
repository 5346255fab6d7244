/** The one error type of the client: a stable `code` plus the server's own status, code and message. */

/** Stable error codes carried by {@link RealtimeVoiceError}. */
export type ErrorCode =
  | "invalid_options"
  | "webrtc_unsupported"
  | "microphone_denied"
  | "microphone_unavailable"
  | "audio_failed"
  | "worklet_load_failed"
  | "worklet_error"
  | "capture_stalled"
  | "signaling_failed"
  | "authentication_required"
  | "origin_not_allowed"
  | "rate_limited"
  | "budget_exhausted"
  | "network_error"
  | "invalid_answer"
  | "connection_failed"
  | "channel_closed"
  | "frames_dropped"
  | "server_error"
  | "cleanup_failed";

/** What an error may carry besides its code and message. */
export interface ErrorDetails {
  /** HTTP status of the answer that failed. */
  status?: number;
  /** The server's own code: problem details `code`, or OpenAI `error.code`. */
  serverCode?: string;
  /** Seconds to wait before trying again (`Retry-After` of a 429). */
  retryAfter?: number;
  cause?: unknown;
}

/**
 * Every failure of a session. `code` is stable. HTTP failures carry `status` and `serverCode`, and their
 * `message` is the server's (problem details `detail`, or OpenAI `error.message`): 401 is
 * `authentication_required`, 403 `origin_not_allowed` (when the server says so), 429 `rate_limited` or
 * `budget_exhausted` with `retryAfter` in seconds, any other non-2xx `signaling_failed`.
 */
export class RealtimeVoiceError extends Error {
  readonly code: ErrorCode;
  readonly status: number | undefined;
  readonly serverCode: string | undefined;
  readonly retryAfter: number | undefined;
  constructor(code: ErrorCode, message: string, details: ErrorDetails = {}) {
    super(message, { cause: details.cause });
    this.name = "RealtimeVoiceError";
    this.code = code;
    this.status = details.status;
    this.serverCode = details.serverCode;
    this.retryAfter = details.retryAfter;
  }
}

/** `error` as a {@link RealtimeVoiceError}: itself, or wrapped under `code`. */
export function asVoiceError(error: unknown, code: ErrorCode = "connection_failed"): RealtimeVoiceError {
  return error instanceof RealtimeVoiceError
    ? error
    : new RealtimeVoiceError(code, String(error), { cause: error });
}

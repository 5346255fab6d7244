/** The one error type of the client: a stable `code` plus the server's own status, code and message. */

/** Stable error codes carried by {@link RealtimeVoiceError}. */
export type ErrorCode =
  | "invalid_options"
  | "microphone_denied"
  | "microphone_unavailable"
  | "audio_failed"
  | "worklet_load_failed"
  | "worklet_error"
  | "signaling_failed"
  | "network_error"
  | "invalid_answer"
  | "connection_failed"
  | "channel_closed"
  | "frames_dropped"
  | "server_error"
  | "cleanup_failed";

/**
 * Every failure of a session. `code` is stable; for `signaling_failed` `status` is the HTTP status and
 * `serverCode` the server's own code (problem details `code`, or OpenAI `error.code`); `message` carries the
 * server's message (problem details `detail`, or OpenAI `error.message`).
 */
export class RealtimeVoiceError extends Error {
  readonly code: ErrorCode;
  readonly status: number | undefined;
  readonly serverCode: string | undefined;
  constructor(
    code: ErrorCode,
    message: string,
    extra: { status?: number; serverCode?: string; cause?: unknown } = {},
  ) {
    super(message, { cause: extra.cause });
    this.name = "RealtimeVoiceError";
    this.code = code;
    this.status = extra.status;
    this.serverCode = extra.serverCode;
  }
}

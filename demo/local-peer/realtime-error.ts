/**
 * OpenAI's error shape, used both as an HTTP body (`{error: {…}}`) and inside the `error` server event on the
 * data channel. `type` is OpenAI's error class (`invalid_request_error`, `server_error`, …), `code` a stable
 * machine-readable reason (`invalid_offer`, `input_audio_buffer_commit_empty`, …), `param` the offending field
 * as a dotted path or null.
 */
export interface RealtimeErrorBody {
  type: string;
  code: string | null;
  message: string;
  param: string | null;
  event_id?: string | null;
}

/** An HTTP failure rendered by the peer's router as `status` + `{error: body}` (see `RealtimeErrorBody`). */
export class RealtimeHttpError extends Error {
  readonly status: number;
  readonly body: RealtimeErrorBody;

  constructor(
    status: number,
    code: string,
    message: string,
    options: { type?: string; param?: string | null } = {},
  ) {
    super(message);
    this.name = "RealtimeHttpError";
    this.status = status;
    this.body = {
      type: options.type ?? (status >= 500 ? "server_error" : "invalid_request_error"),
      code,
      message,
      param: options.param ?? null,
    };
  }
}

/** Turns Valibot issues into one message and the first issue's dotted path (OpenAI's `param` style). */
export function describeIssues(
  issues: ReadonlyArray<{ message: string; path?: ReadonlyArray<{ key: unknown }> }>,
  prefix = "",
): { message: string; param: string | null } {
  const first = issues[0];
  const path = first?.path?.map((step) => String(step.key)).join(".") ?? "";
  const param = prefix && path ? `${prefix}.${path}` : prefix || path || null;
  const message = issues
    .slice(0, 5)
    .map((issue) => {
      const where = issue.path?.map((step) => String(step.key)).join(".");
      return where ? `${where}: ${issue.message}` : issue.message;
    })
    .join("; ");
  return { message: message || "Invalid value.", param };
}

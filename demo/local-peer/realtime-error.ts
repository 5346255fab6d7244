/**
 * OpenAI's error shape, used both as an HTTP body (`{error: {…}}`) and inside the `error` server event on the
 * data channel. `type` is OpenAI's error class (`invalid_request_error`, `server_error`, …), `code` a stable
 * machine-readable reason (`invalid_offer`, `input_audio_buffer_commit_empty`, …), `param` the offending field
 * as a dotted path or null.
 */
import type { BaseIssue } from "valibot";
import { issueDetail, issueKeys, isUnknownKey } from "../../worker/schema/issues.ts";

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

/**
 * Turns Valibot issues into OpenAI's error fields: the first issue's dotted path as `param` (under `prefix`),
 * up to five issues in the worker's words as `message`, and `unknown_parameter` as the `code` when the first
 * issue is a key the schema does not list (else `invalid_value`).
 */
export function describeIssues(
  issues: ReadonlyArray<BaseIssue<unknown>>,
  prefix = "",
): { code: "unknown_parameter" | "invalid_value"; message: string; param: string | null } {
  const first = issues[0];
  const path = first ? issueKeys(first).map(String).join(".") : "";
  const param = prefix && path ? `${prefix}.${path}` : prefix || path || null;
  const message = issues
    .slice(0, 5)
    .map((issue) => {
      const where = issueKeys(issue).map(String).join(".");
      return where ? `${where}: ${issueDetail(issue)}` : issueDetail(issue);
    })
    .join("; ");
  return {
    code: first && isUnknownKey(first) ? "unknown_parameter" : "invalid_value",
    message: message || "Invalid value.",
    param,
  };
}

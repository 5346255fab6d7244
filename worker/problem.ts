/**
 * RFC 9457 problem details: the one error shape of the worker, thrown anywhere as {@link Problem} and rendered in
 * one place (`app.onError`). `code` is stable and machine-readable; `errors[].pointer` is an RFC 6901 JSON pointer
 * into the request body (for a multipart body, into the part named by the first segment; `/query/…` and
 * `/path/…` point at query and path parameters).
 *
 * Every body also carries OpenAI's error envelope as an extension member (RFC 9457 §3.2),
 * `error: {message, type, code, param}`, because the official SDKs build their exception message from
 * `error.message` (openai-node: `"403 This origin may not use the API: …"`) and would otherwise print the raw JSON.
 */

import { HTTPException } from "hono/http-exception";
import type { ContentfulStatusCode } from "hono/utils/http-status";
import type { BaseIssue } from "valibot";
import { issueDetail, issueKeys } from "./schema/issues.ts";

/**
 * 5xx codes a retry cannot fix (the deployment's key or variables): answered with `x-should-retry: false`, which
 * the OpenAI SDKs obey instead of retrying every 5xx twice.
 */
const NOT_RETRYABLE: ReadonlySet<string> = new Set(["server_misconfigured", "upstream_auth_failed"]);

/** Every `code` the worker answers with, with its HTTP status and title. */
export const PROBLEMS = {
  invalid_request: [400, "The request does not match the schema"],
  malformed_json: [400, "The body is not valid JSON"],
  malformed_body: [400, "The multipart body cannot be read"],
  invalid_offer: [400, "The SDP offer is not usable"],
  invalid_call_id: [400, "The call id is not a realtime call id"],
  authentication_required: [401, "Authenticate with an allowed Origin, a JWT or a client key"],
  origin_not_allowed: [403, "This origin may not use the API"],
  browser_minting_disabled: [403, "Browsers may not mint client secrets on this deployment"],
  policy_violation: [403, "The request asks for something this deployment does not allow"],
  not_found: [404, "No such route"],
  call_not_found: [404, "No such call"],
  method_not_allowed: [405, "This route only accepts POST"],
  payload_too_large: [413, "The body is too large"],
  offer_too_large: [413, "The SDP offer is too large"],
  unsupported_media_type: [415, "Unsupported content type"],
  rate_limited: [429, "Too many requests from this client"],
  budget_exhausted: [429, "This client's call budget is used up"],
  server_misconfigured: [500, "The worker is misconfigured"],
  internal_error: [500, "Internal error"],
  upstream_error: [502, "OpenAI answered with an error or an unreadable reply"],
  upstream_auth_failed: [502, "OpenAI refused this deployment's API key"],
  upstream_rate_limited: [503, "OpenAI is rate limiting this deployment"],
  upstream_timeout: [504, "OpenAI did not answer in time"],
} as const satisfies Record<string, readonly [ContentfulStatusCode, string]>;

/** A stable problem `code`. */
export type ProblemCode = keyof typeof PROBLEMS;

/** One bad field: where (JSON pointer), what is wrong, and optionally a finer stable code. */
export interface ProblemField {
  pointer: string;
  detail: string;
  code?: string;
}

/** What a thrower states; status and title follow from `code`. */
export interface ProblemInit {
  detail?: string;
  errors?: ProblemField[];
  headers?: Record<string, string>;
  cause?: unknown;
}

/**
 * OpenAI's error envelope, as `{"error": …}` in OpenAI's own answers. `type` is `invalid_request_error` for a
 * 4xx and `server_error` for a 5xx; `code` is the problem's `code` (finer codes stay in `errors[]`); `param` is
 * the first bad field as OpenAI names parameters (`session.audio.output.voice`), or null.
 */
export interface OpenAiError {
  message: string;
  type: "invalid_request_error" | "server_error";
  code: string;
  param: string | null;
}

/** The JSON body of a problem response (`application/problem+json`). */
export interface ProblemBody {
  type: string;
  title: string;
  status: number;
  code: ProblemCode;
  detail?: string;
  instance?: string;
  errors?: ProblemField[];
  /** Extension member for OpenAI's clients: see {@link OpenAiError}. */
  error: OpenAiError;
}

/** An HTTP error carrying problem details; throw it from any handler or middleware. */
export class Problem extends HTTPException {
  readonly code: ProblemCode;
  readonly detail: string | undefined;
  readonly errors: ProblemField[] | undefined;
  readonly headers: Record<string, string>;

  constructor(code: ProblemCode, init: ProblemInit = {}) {
    const [status, title] = PROBLEMS[code];
    super(status, { message: init.detail ?? title, cause: init.cause });
    this.code = code;
    this.detail = init.detail;
    this.errors = init.errors;
    this.headers = init.headers ?? {};
  }

  /** Renders the problem; `instance` is the request path. */
  toResponse(instance?: string): Response {
    const [status, title] = PROBLEMS[this.code];
    const body: ProblemBody = {
      type: `urn:realtime-voice-edge:problem:${this.code}`,
      title,
      status,
      code: this.code,
      error: openAiError(status, title, this.code, this.detail, this.errors),
    };
    if (this.detail !== undefined) body.detail = this.detail;
    if (instance !== undefined) body.instance = instance;
    if (this.errors !== undefined) body.errors = this.errors;
    const headers: Record<string, string> = { ...this.headers, "Content-Type": "application/problem+json" };
    if (NOT_RETRYABLE.has(this.code)) headers["x-should-retry"] = "false";
    return new Response(JSON.stringify(body), { status, headers });
  }
}

/** One sentence for OpenAI's `error.message`: the title, then the detail or the first bad field. */
function openAiError(
  status: number,
  title: string,
  code: ProblemCode,
  detail: string | undefined,
  errors: ReadonlyArray<ProblemField> | undefined,
): OpenAiError {
  const first = errors?.[0];
  let message = title;
  if (detail !== undefined && detail !== title) message += `: ${detail}`;
  else if (first !== undefined) {
    message += `: ${first.pointer === "" ? "the body" : pointerToParam(first.pointer)}: ${first.detail}`;
    if (errors !== undefined && errors.length > 1) message += ` (and ${errors.length - 1} more in errors[])`;
  }
  return {
    message: /[.!?]$/.test(message) ? message : `${message}.`,
    type: status >= 500 ? "server_error" : "invalid_request_error",
    code,
    param: first === undefined || first.pointer === "" ? null : pointerToParam(first.pointer),
  };
}

/** `/session/tools/0/name` → `session.tools[0].name` (OpenAI's way of naming a parameter). */
export function pointerToParam(pointer: string): string {
  let param = "";
  for (const raw of pointer.split("/").slice(1)) {
    const key = raw.replaceAll("~1", "/").replaceAll("~0", "~");
    param += /^\d+$/.test(key) ? `[${key}]` : param === "" ? key : `.${key}`;
  }
  return param;
}

/** RFC 6901: `~` → `~0`, `/` → `~1`, segments joined with `/` after a leading `/`. */
export function jsonPointer(path: ReadonlyArray<string | number>): string {
  return path.map((key) => `/${String(key).replaceAll("~", "~0").replaceAll("/", "~1")}`).join("");
}

/** Valibot issues → fields. `prefix` is the pointer of the validated value inside the body ("" for the body). */
export function issuesToFields(
  issues: ReadonlyArray<BaseIssue<unknown>>,
  prefix: ReadonlyArray<string | number> = [],
): ProblemField[] {
  return issues.map((issue) => {
    return { pointer: jsonPointer([...prefix, ...issueKeys(issue)]), detail: issueDetail(issue) };
  });
}

/** Handler for any other method on a POST-only route: 405 with `Allow`. */
export function methodNotAllowed(): never {
  throw new Problem("method_not_allowed", { headers: { Allow: "POST, OPTIONS" } });
}

/** Policy violations (pointers relative to the GA session) → 403 `policy_violation`, pointers mapped into the body. */
export function policyProblem(
  violations: ReadonlyArray<ProblemField>,
  toBody: (pointer: string) => string,
): Problem {
  return new Problem("policy_violation", {
    detail: violations.map((field) => field.detail).join("; "),
    errors: violations.map((field) => ({ ...field, pointer: toBody(field.pointer) })),
  });
}

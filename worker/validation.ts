import type { BaseIssue } from "valibot";
import { issuesToFields, Problem } from "./problem.ts";

interface ValidationResult {
  success: boolean;
  issues?: ReadonlyArray<BaseIssue<unknown>> | undefined;
}

/**
 * Hook for `vValidator`: a failed parse becomes 400 `invalid_request` with one JSON pointer per issue, prefixed
 * with `prefix` (e.g. `["query"]` for query parameters; the body is the root). Throwing (not returning) keeps
 * every error on the single `onError` path.
 */
export function rejectInvalid(prefix: ReadonlyArray<string> = []): (result: ValidationResult) => void {
  return function rejectInvalid(result) {
    if (!result.success)
      throw new Problem("invalid_request", { errors: issuesToFields(result.issues ?? [], prefix) });
  };
}

import type { BaseIssue } from "valibot";
import { issuesToFields, Problem } from "./problem.ts";

/**
 * Hook for `vValidator`: a failed parse becomes 400 `invalid_request` with one JSON pointer per issue.
 * Throwing (not returning) keeps every error on the single `onError` path.
 */
export function rejectInvalid(result: {
  success: boolean;
  issues?: ReadonlyArray<BaseIssue<unknown>> | undefined;
}): void {
  if (!result.success) throw new Problem("invalid_request", { errors: issuesToFields(result.issues ?? []) });
}

/**
 * Valibot issues in the project's words, shared by the worker (problem details) and the local peer (OpenAI error
 * events): one sentence per issue, and whether an issue is an unknown key (OpenAI's `unknown_parameter`).
 * Pure module: no Workers, DOM or Node globals.
 */
import type { BaseIssue } from "valibot";

/** True when `issue` is a key that a `strictObject` allowlist does not list. */
export function isUnknownKey(issue: BaseIssue<unknown>): boolean {
  return issue.type === "strict_object" && issue.expected === "never";
}

/** One issue as a sentence: `Unknown field "x": not allowed here` for unknown keys, else Valibot's message. */
export function issueDetail(issue: BaseIssue<unknown>): string {
  return isUnknownKey(issue) ? `Unknown field ${issue.received}: not allowed here` : issue.message;
}

/** The issue's path as keys (`["audio", "output", "voice"]`). */
export function issueKeys(issue: BaseIssue<unknown>): Array<string | number> {
  return (issue.path ?? []).map((item) => item.key as string | number);
}

/**
 * Which fields of a live call's session the deployment watches, and whether a `session.updated` stays within the
 * policy. Pure functions. The expected values start as the session the call was created with (what the policy
 * allowed), and for watched fields that session left to OpenAI, the value of the first `session.updated` after the
 * guard asserted it.
 *
 * A `session.updated` whose watched field differs from the expected value is run through the same rules a creation
 * request gets (`judgeSession` in `policy.ts`): a value the policy would have accepted at creation (input
 * transcription, an allowed voice, instructions under `CLIENT_INSTRUCTIONS=allow`, or under `append` while they
 * still start with the server's text, tools under `ALLOW_CLIENT_TOOLS`, a token cap within `MAX_OUTPUT_TOKENS`)
 * becomes the new expected value; a value it would refuse or override is drift, put back with the policy's value
 * for that field (the server's instructions, or under `append` the server's followed by the client's text; the
 * cap) or, when the policy has none, the expected one.
 *
 * Matching is by containment: every field of the expected value must be in the effective one with the same value
 * (arrays element by element, same length). OpenAI echoes sessions with extra defaulted fields (a transcription
 * object gains `language: null`, a tool gains `strict`), which are not changes.
 */
import { judgeSession, type Policy } from "../policy.ts";
import type { ProblemField } from "../problem.ts";
import type { RealtimeSession } from "../schema/session.ts";

/** Fields the guard watches, as paths into a GA session (and JSON pointers in logs). */
export const OWNED_FIELDS: ReadonlyArray<readonly string[]> = [
  ["model"],
  ["reasoning"],
  ["instructions"],
  ["tools"],
  ["tool_choice"],
  ["max_output_tokens"],
  ["output_modalities"],
  ["prompt"],
  ["audio", "output", "voice"],
  ["audio", "input", "transcription"],
];

/** Owned values by JSON pointer (`/audio/output/voice`). */
export type OwnedValues = Record<string, unknown>;

function pointer(path: readonly string[]): string {
  return `/${path.join("/")}`;
}

function at(value: unknown, path: readonly string[]): unknown {
  let node = value;
  for (const key of path) {
    if (typeof node !== "object" || node === null || Array.isArray(node)) return undefined;
    node = (node as Record<string, unknown>)[key];
  }
  return node;
}

/** Whether `actual` holds `expected` (see the module comment). */
export function holds(expected: unknown, actual: unknown): boolean {
  if (Array.isArray(expected))
    return (
      Array.isArray(actual) &&
      actual.length === expected.length &&
      expected.every((item, i) => holds(item, actual[i]))
    );
  if (typeof expected === "object" && expected !== null) {
    if (typeof actual !== "object" || actual === null || Array.isArray(actual)) return false;
    return Object.entries(expected).every(([key, value]) =>
      holds(value, (actual as Record<string, unknown>)[key]),
    );
  }
  return expected === actual;
}

/** The owned values: the policy session's, else the effective session's (fields neither has are not owned). */
export function ownedValues(policy: RealtimeSession, effective: unknown): OwnedValues {
  const owned: OwnedValues = {};
  for (const path of OWNED_FIELDS) {
    const value = at(policy, path) ?? at(effective, path);
    if (value !== undefined) owned[pointer(path)] = value;
  }
  return owned;
}

/**
 * Pointers of the watched fields `effective` changed: an expected value it no longer holds, or a field with no
 * expected value that it now sets.
 */
export function changed(owned: OwnedValues, effective: unknown): string[] {
  return OWNED_FIELDS.filter((path) => {
    const ptr = pointer(path);
    const now = at(effective, path);
    return ptr in owned ? !holds(owned[ptr], now) : now !== undefined;
  }).map(pointer);
}

/** {@link review}'s verdict on one `session.updated`. */
export interface Review {
  /** The expected values from now on: accepted changes taken over, drifted fields at the value to put back. */
  owned: OwnedValues;
  /** Pointers of the changes the policy refuses or overrides (empty when the session stays within the policy). */
  drifted: string[];
}

function put(target: Record<string, unknown>, path: readonly string[], value: unknown): void {
  let node = target;
  for (const key of path.slice(0, -1)) {
    const next = (node[key] ?? {}) as Record<string, unknown>;
    node[key] = next;
    node = next;
  }
  node[path[path.length - 1] as string] = value;
}

/**
 * Runs the changed watched fields of `effective` (a reported session) through `policy` (see the module comment).
 * A change the policy cannot read (a malformed value) is drift.
 */
export function review(owned: OwnedValues, effective: unknown, policy: Policy): Review {
  const fields = changed(owned, effective);
  if (fields.length === 0) return { owned, drifted: [] };
  const request: Record<string, unknown> = { type: "realtime" };
  for (const ptr of fields) {
    const value = at(effective, ptr.slice(1).split("/"));
    if (value !== undefined) put(request, ptr.slice(1).split("/"), value);
  }
  let verdict: { session: unknown; violations: ProblemField[] };
  try {
    verdict = judgeSession(request as RealtimeSession, policy);
  } catch {
    verdict = {
      session: {},
      violations: fields.map((ptr) => ({ pointer: ptr, code: "malformed", detail: "" })),
    };
  }
  const next: OwnedValues = { ...owned };
  const drifts: string[] = [];
  for (const ptr of fields) {
    const path = ptr.slice(1).split("/");
    const reported = at(effective, path);
    const allowed = at(verdict.session, path);
    const refused = verdict.violations.some((v) => v.pointer === ptr || v.pointer.startsWith(`${ptr}/`));
    // No policy value for an accepted field means the policy leaves it to the client (`tools: []` without client
    // tools, `tool_choice: "auto"`, `prompt: null`).
    if (!refused && reported !== undefined && (allowed === undefined || holds(allowed, reported))) {
      next[ptr] = reported;
      continue;
    }
    drifts.push(ptr);
    const restore = allowed ?? owned[ptr];
    if (restore !== undefined) next[ptr] = restore;
  }
  return { owned: next, drifted: drifts };
}

/**
 * The `session` of a `session.update` that puts back `fields` (pointers) from `owned`. `/model` is never sent
 * (a live session's model cannot change; its drift is answered with a hangup).
 */
export function restoring(owned: OwnedValues, fields: readonly string[]): Record<string, unknown> {
  const session: Record<string, unknown> = { type: "realtime" };
  for (const ptr of fields) {
    if (ptr === "/model" || !(ptr in owned)) continue;
    const path = ptr.slice(1).split("/");
    let node = session;
    for (const key of path.slice(0, -1)) {
      const next = (node[key] ?? {}) as Record<string, unknown>;
      node[key] = next;
      node = next;
    }
    node[path[path.length - 1] as string] = owned[ptr];
  }
  return session;
}

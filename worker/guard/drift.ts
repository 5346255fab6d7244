/**
 * Which fields of a live call's session the deployment owns, and whether a `session.updated` still holds them.
 * Pure functions. The owned values are the session the call was created with (what the policy allowed), and for
 * owned fields that session left to OpenAI, the value of the first `session.updated` after the guard asserted it.
 *
 * Matching is by containment: every field of the owned value must be in the effective one with the same value
 * (arrays element by element, same length). OpenAI echoes sessions with extra defaulted fields (a transcription
 * object gains `language: null`, a tool gains `strict`), which are not drift; a changed, removed or added tool,
 * other instructions, another voice or token cap are.
 */
import type { RealtimeSession } from "../schema/session.ts";

/** Fields the guard enforces, as paths into a GA session (and JSON pointers in logs). */
export const OWNED_FIELDS: ReadonlyArray<readonly string[]> = [
  ["model"],
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

/** Pointers of the owned fields `effective` no longer holds. */
export function drifted(owned: OwnedValues, effective: unknown): string[] {
  return Object.entries(owned)
    .filter(([ptr, value]) => !holds(value, at(effective, ptr.slice(1).split("/"))))
    .map(([ptr]) => ptr);
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

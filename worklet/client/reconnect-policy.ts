/**
 * When to open a new call after a lost one, as data: the backoff schedule, and whether the server's record of
 * the call says it ended on purpose (then the session closes with that reason instead of reconnecting).
 */
import type { ReconnectSettings } from "./options.ts";
import { type CloseReason, SERVER_END_REASONS } from "./types.ts";

/** The longest wait between two attempts, in ms. */
export const MAX_BACKOFF_MS = 8000;

/** The wait before each reconnect attempt, in ms: `graceMs × 2^k` capped at {@link MAX_BACKOFF_MS}; one per attempt. */
export function backoffSchedule(settings: ReconnectSettings): number[] {
  return Array.from({ length: settings.attempts }, (_, k) =>
    Math.min(MAX_BACKOFF_MS, settings.graceMs * 2 ** k),
  );
}

/**
 * The end reason in the worker's summary of a call (`GET /v1/realtime/calls/{id}`): the reason when the JSON
 * says `status: "ended"` with a known `end_reason`, else null (still active, unknown, or no summary), which
 * means the loss was the network's and the session reconnects.
 */
export function serverEndReason(summary: unknown): CloseReason | null {
  const record = summary as { status?: unknown; end_reason?: unknown } | null;
  if (record?.status !== "ended") return null;
  const reason = record.end_reason as CloseReason;
  return SERVER_END_REASONS.includes(reason) ? reason : null;
}

/**
 * The session a call asks the realtime API for, and what the client must know of it: with client turns the
 * server's turn detection is switched off; with server turns the gate leaves room for its `silence_duration_ms`.
 */
import { SERVER_VAD_DEFAULTS } from "../../worker/schema/protocol.ts";

/** The caller's session, with `audio.input.turn_detection: null` for client turns (other fields kept). */
export function requestedSession(
  session: Record<string, unknown> | undefined,
  turns: "server" | "client",
): Record<string, unknown> | undefined {
  if (turns !== "client") return session;
  const base = session ?? { type: "realtime" };
  const audio = (base.audio ?? {}) as Record<string, unknown>;
  const input = (audio.input ?? {}) as Record<string, unknown>;
  return { ...base, audio: { ...audio, input: { ...input, turn_detection: null } } };
}

/** The requested server VAD's `silence_duration_ms`, or OpenAI's default. */
export function silenceDurationMs(session: Record<string, unknown> | undefined): number {
  const audio = session?.audio as
    | { input?: { turn_detection?: { silence_duration_ms?: unknown } } }
    | undefined;
  const value = audio?.input?.turn_detection?.silence_duration_ms;
  return typeof value === "number" ? value : SERVER_VAD_DEFAULTS.silence_duration_ms;
}

/**
 * Reads one message of `oai-events` (or of a sideband WebSocket) into a typed client event, or into the error
 * OpenAI would answer it with: binary frames, invalid JSON, a missing or unknown `type`, and schema failures
 * (unknown fields as `unknown_parameter` in the worker's words, other failures as `invalid_value`). Also returns
 * what the call's event log keeps of the message (append events without their audio).
 */
import * as v from "valibot";
import { CLIENT_EVENT_TYPES, ClientEvent } from "./client-events.ts";
import type { ReceivedEvent } from "./event-log.ts";
import { describeIssues, type RealtimeErrorBody } from "./realtime-error.ts";

/** An error event's fields, without `type` and `event_id` (added by the session). */
export type EventError = Omit<RealtimeErrorBody, "type" | "event_id">;

export interface ReadEvent {
  /** What the event log records (sequence number added by the log). */
  entry: Omit<ReceivedEvent, "seq">;
  eventId: string | null;
  outcome: { ok: true; event: ClientEvent } | { ok: false; error: EventError };
}

/** Parses `message`, received at `receivedAt` (unix ms). Never throws. */
export function readClientEvent(message: string | Buffer | ArrayBuffer, receivedAt: number): ReadEvent {
  if (typeof message !== "string")
    return failure({ received_at: receivedAt, type: "(binary)", event_id: null }, null, {
      code: "invalid_event",
      message: "Binary messages are not supported on oai-events; send JSON text events.",
      param: null,
    });
  let parsed: unknown;
  try {
    parsed = JSON.parse(message);
  } catch {
    return failure({ received_at: receivedAt, type: "(invalid json)", event_id: null }, null, {
      code: "invalid_json",
      message: "The event is not valid JSON.",
      param: null,
    });
  }
  const envelope = (typeof parsed === "object" && parsed !== null ? parsed : {}) as Record<string, unknown>;
  const type = typeof envelope.type === "string" ? envelope.type : "(missing type)";
  const eventId = typeof envelope.event_id === "string" ? envelope.event_id : null;
  const { type: _t, event_id: _e, audio: _a, ...extra } = envelope;
  const isAppend = type === "input_audio_buffer.append";
  const entry: Omit<ReceivedEvent, "seq"> = {
    received_at: receivedAt,
    type,
    event_id: eventId,
    ...(Object.keys(extra).length > 0 && isAppend ? { client: extra } : {}),
    ...(isAppend ? {} : { event: parsed }),
  };
  if (typeof envelope.type !== "string")
    return failure(entry, eventId, {
      code: "missing_required_parameter",
      message: "Missing required parameter: 'type'.",
      param: "type",
    });
  if (!(CLIENT_EVENT_TYPES as string[]).includes(type))
    return failure(entry, eventId, {
      code: "invalid_value",
      message: `Invalid value: '${type.slice(0, 100)}'. Supported values are: ${CLIENT_EVENT_TYPES.map((t) => `'${t}'`).join(", ")}.`,
      param: "type",
    });
  const result = v.safeParse(ClientEvent, parsed);
  if (!result.success) {
    const { code, message: detail, param } = describeIssues(result.issues);
    return failure(entry, eventId, { code, message: `Invalid '${type}' event: ${detail}`, param });
  }
  return { entry, eventId, outcome: { ok: true, event: result.output } };
}

function failure(entry: Omit<ReceivedEvent, "seq">, eventId: string | null, error: EventError): ReadEvent {
  return { entry, eventId, outcome: { ok: false, error } };
}

/**
 * Client → server events the peer understands on `oai-events` (OpenAI GA `RealtimeClientEvent`), as Valibot
 * schemas. Envelopes are loose (extra fields such as a client's own sequence number are kept for the event log);
 * session payloads are strict, using the worker's GA schema so the peer accepts exactly what the worker sends.
 */
import * as v from "valibot";
import { RealtimeSession } from "../../worker/schema/session.ts";

const EventId = v.optional(v.pipe(v.string(), v.maxLength(512)));

export const SessionUpdate = v.looseObject({
  type: v.literal("session.update"),
  event_id: EventId,
  session: RealtimeSession,
});

export const InputAudioBufferAppend = v.looseObject({
  type: v.literal("input_audio_buffer.append"),
  event_id: EventId,
  audio: v.string(),
});

export const InputAudioBufferCommit = v.looseObject({
  type: v.literal("input_audio_buffer.commit"),
  event_id: EventId,
});

export const InputAudioBufferClear = v.looseObject({
  type: v.literal("input_audio_buffer.clear"),
  event_id: EventId,
});

export const ResponseCreate = v.looseObject({
  type: v.literal("response.create"),
  event_id: EventId,
  response: v.optional(
    v.looseObject({
      output_modalities: v.optional(
        v.union([v.strictTuple([v.literal("audio")]), v.strictTuple([v.literal("text")])]),
      ),
      instructions: v.optional(v.string()),
      conversation: v.optional(v.string()),
      metadata: v.optional(v.nullable(v.record(v.string(), v.string()))),
    }),
  ),
});

export const ResponseCancel = v.looseObject({
  type: v.literal("response.cancel"),
  event_id: EventId,
  response_id: v.optional(v.string()),
});

export const OutputAudioBufferClear = v.looseObject({
  type: v.literal("output_audio_buffer.clear"),
  event_id: EventId,
});

export const ConversationItemCreate = v.looseObject({
  type: v.literal("conversation.item.create"),
  event_id: EventId,
  previous_item_id: v.optional(v.nullable(v.string())),
  item: v.looseObject({
    type: v.string(),
    id: v.optional(v.string()),
    call_id: v.optional(v.string()),
    output: v.optional(v.string()),
  }),
});

export const ConversationItemTruncate = v.looseObject({
  type: v.literal("conversation.item.truncate"),
  event_id: EventId,
  item_id: v.string(),
  content_index: v.pipe(v.number(), v.integer(), v.minValue(0)),
  audio_end_ms: v.pipe(v.number(), v.integer(), v.minValue(0)),
});

export const ConversationItemRetrieve = v.looseObject({
  type: v.literal("conversation.item.retrieve"),
  event_id: EventId,
  item_id: v.string(),
});

export const ConversationItemDelete = v.looseObject({
  type: v.literal("conversation.item.delete"),
  event_id: EventId,
  item_id: v.string(),
});

export const ClientEvent = v.variant("type", [
  SessionUpdate,
  InputAudioBufferAppend,
  InputAudioBufferCommit,
  InputAudioBufferClear,
  ResponseCreate,
  ResponseCancel,
  OutputAudioBufferClear,
  ConversationItemCreate,
  ConversationItemTruncate,
  ConversationItemRetrieve,
  ConversationItemDelete,
]);

export type ClientEvent = v.InferOutput<typeof ClientEvent>;

/** The event types above, for the `invalid_value` error's message. */
export const CLIENT_EVENT_TYPES = ClientEvent.options.map((option) => option.entries.type.literal);

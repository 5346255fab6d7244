/**
 * A call's inspection log: every client event received on `oai-events` and every server event sent, in order,
 * with a per-call sequence number and a receive (or send) time in unix milliseconds with sub-millisecond
 * resolution. Append events are logged without their audio payload (byte count, the stream position where
 * their samples landed, and the client's own fields instead), so a long call stays small.
 */

/** One received client event. `client` holds the event's extra top-level fields (e.g. a client-side `seq`). */
export interface ReceivedEvent {
  seq: number;
  received_at: number;
  type: string;
  event_id: string | null;
  /** `input_audio_buffer.append` only: decoded bytes, and the stream sample where the audio was placed. */
  bytes?: number;
  start_sample?: number;
  samples?: number;
  /** Set when the peer answered the event with an `error` event. */
  error?: string;
  client?: Record<string, unknown>;
  /** The whole event, for event types other than `input_audio_buffer.append`. */
  event?: unknown;
}

/** One server event as sent. */
export interface SentEvent {
  seq: number;
  sent_at: number;
  event: Record<string, unknown>;
}

/** Wall-clock milliseconds with the monotonic clock's resolution. */
export function nowMs(): number {
  return performance.timeOrigin + performance.now();
}

export class EventLog {
  readonly received: ReceivedEvent[] = [];
  readonly sent: SentEvent[] = [];

  /** Records a received event and returns the record (so the handler can add `error` or stream positions). */
  receive(entry: Omit<ReceivedEvent, "seq">): ReceivedEvent {
    const record = { seq: this.received.length, ...entry };
    this.received.push(record);
    return record;
  }

  send(event: Record<string, unknown>): void {
    this.sent.push({ seq: this.sent.length, sent_at: nowMs(), event });
  }
}

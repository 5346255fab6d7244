/**
 * The realtime protocol of one call, independent of the transport: reads client events (`client-event-reader.ts`)
 * from `oai-events` and from sideband sockets, dispatches them to the input side (`input-turns.ts`: buffer,
 * server VAD, commits), the conversation (`conversation.ts`) and the response side (`response-lifecycle.ts`),
 * runs input transcription for each committed turn, and fans every server event out to the data channel and
 * every attached listener. Every server event carries a fresh `event_id`; a malformed or unknown client event is
 * answered with an `error` event naming the client's `event_id`, never with an exception.
 */
import { PCM_RATE } from "../../worker/schema/protocol.ts";
import { type EventError, readClientEvent } from "./client-event-reader.ts";
import type { ClientEvent } from "./client-events.ts";
import { Conversation, type ConversationItem } from "./conversation.ts";
import { type EventLog, nowMs, type ReceivedEvent } from "./event-log.ts";
import { newId } from "./ids.ts";
import { type InputStats, InputTurns, type Turn } from "./input-turns.ts";
import type { Recorder } from "./recorder.ts";
import { ResponseLifecycle, type ResponseStats, type Voice } from "./response-lifecycle.ts";
import { type EffectiveSession, mergeSession } from "./session-config.ts";
import { describingEngines, type RecognizerStream, type SpeechEngines } from "./speech-engines.ts";

export { MIN_COMMIT_SAMPLES, type Turn } from "./input-turns.ts";
export type { Voice } from "./response-lifecycle.ts";

/** Longest turn streamed to the recognizer while spoken: 30 s at 24 kHz. */
const MAX_STREAMED_SAMPLES = 30 * PCM_RATE;

export interface CallSessionOptions {
  callId: string;
  session: EffectiveSession;
  /** Transmits one server event (JSON text) on `oai-events`; returns false when the channel is not open. */
  transmit: (json: string) => boolean;
  voice: () => Voice | null;
  recorder: Recorder;
  log: EventLog;
  /** Recognition, synthesis and the assistant; the engine-free stand-in by default. */
  engines?: SpeechEngines;
}

/** Counters and state for the inspection API. */
export interface CallSessionStats extends InputStats, ResponseStats {
  errors: number;
  transcriptions: number;
  failed_transcriptions: number;
}

export class CallSession {
  session: EffectiveSession;
  readonly stats: CallSessionStats = {
    appends: 0,
    append_bytes: 0,
    track_samples: 0,
    samples: 0,
    buffered_samples: 0,
    errors: 0,
    responses: 0,
    cancelled_responses: 0,
    speech: false,
    transcriptions: 0,
    failed_transcriptions: 0,
  };
  readonly conversation = new Conversation();
  readonly #options: CallSessionOptions;
  readonly #engines: SpeechEngines;
  readonly #inputs: InputTurns;
  readonly #responses: ResponseLifecycle;
  readonly #listeners = new Set<(json: string) => void>();
  /** The latest turn not yet answered by a response: its audio and its transcript (when transcribing). */
  #unanswered: { samples: Int16Array; transcript: Promise<string | null> | null } | null = null;
  #userAudioMs = 0;
  /** The server VAD turn being recognised while it is spoken. */
  #stream: RecognizerStream | null = null;
  #streamed = 0;
  #closed = false;

  constructor(options: CallSessionOptions) {
    this.#options = options;
    this.#engines = options.engines ?? describingEngines();
    this.session = options.session;
    const emit = (type: string, fields: Record<string, unknown>) => this.#emit(type, fields);
    this.#inputs = new InputTurns(this.session, {
      callId: options.callId,
      recorder: options.recorder,
      conversation: this.conversation,
      stats: this.stats,
      emit,
      onSpeechStarted: () => this.#responses.interrupt(),
      onTurn: (turn, samples, createResponse) => this.#turnCommitted(turn, samples, createResponse),
      onTurnAudio: (samples, first) => {
        if (first) {
          this.#stream?.cancel();
          this.#stream = this.#engines.recognizer.stream?.() ?? null;
          this.#streamed = 0;
        }
        this.#streamed += samples.length;
        // The recognizer decodes one turn at a time for every call: a turn longer than this is decoded whole
        // at commit instead of holding it.
        if (this.#streamed > MAX_STREAMED_SAMPLES) {
          this.#stream?.cancel();
          this.#stream = null;
        }
        this.#stream?.write(samples);
      },
      onTurnAbandoned: () => {
        this.#stream?.cancel();
        this.#stream = null;
      },
    });
    this.#responses = new ResponseLifecycle({
      conversation: this.conversation,
      engines: this.#engines,
      voice: options.voice,
      session: () => this.session,
      stats: this.stats,
      emit,
      userAudioMs: () => this.#userAudioMs,
    });
  }

  /** Every sample the call received (appends and track audio), for recordings. */
  get input() {
    return this.#inputs.input;
  }

  /** Committed turns, in order. */
  get turns(): readonly Turn[] {
    return this.#inputs.turns;
  }

  /** Emits `session.created`; called once, when the call is created (the call holds it until its channel opens). */
  start(): void {
    this.#emit("session.created", { session: this.session });
  }

  /** Adds a receiver of every later server event (a sideband socket); returns its removal. */
  listen(listener: (json: string) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** Handles one client event (a data channel or sideband message). */
  handle(message: string | Buffer | ArrayBuffer): void {
    const read = readClientEvent(message, nowMs());
    const record = this.#options.log.receive(read.entry);
    if (this.#closed) return;
    if (!read.outcome.ok) this.#fail(record, read.eventId, read.outcome.error);
    else this.#dispatch(read.outcome.event, record);
  }

  /** Audio decoded from the WebRTC track, 24 kHz PCM16: fed to the same input buffer and VAD as appends. */
  receiveTrackAudio(samples: Int16Array): void {
    if (!this.#closed) this.#inputs.appendTrack(samples);
  }

  /** Ends the session: stops the voice and writes the call's recording. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#stream?.cancel();
    this.#stream = null;
    this.#responses.close();
    this.#options.voice()?.stop();
    this.#options.recorder.write(`${this.#options.callId}.wav`, this.#inputs.input.slice());
  }

  #dispatch(event: ClientEvent, record: ReceivedEvent): void {
    const eventId = event.event_id ?? null;
    const fail = (error: EventError | null) => {
      if (error) this.#fail(record, eventId, error);
    };
    switch (event.type) {
      case "session.update":
        this.session = mergeSession(this.session, event.session as Record<string, unknown>);
        this.#inputs.configure(this.session);
        this.#emit("session.updated", { session: this.session });
        return;
      case "input_audio_buffer.append": {
        const appended = this.#inputs.appendBase64(event.audio);
        if ("code" in appended) fail(appended);
        else Object.assign(record, appended);
        return;
      }
      case "input_audio_buffer.commit":
        fail(this.#inputs.commit());
        return;
      case "input_audio_buffer.clear":
        this.#inputs.clear();
        return;
      case "response.create": {
        const modality = (event.response?.output_modalities ?? this.session.output_modalities)[0];
        fail(this.#createResponse(modality === "text" ? "text" : "audio", event.response?.instructions));
        return;
      }
      case "response.cancel":
        if (!this.#responses.cancel(event.response_id))
          fail({
            code: "response_cancel_not_active",
            message: "Cancellation failed: no active response found",
            param: null,
          });
        return;
      case "output_audio_buffer.clear":
        this.#responses.clearAudio();
        return;
      case "conversation.item.create": {
        const item = {
          ...event.item,
          id: event.item.id ?? newId("item"),
          object: "realtime.item",
        } as ConversationItem;
        if (item.type === "function_call_output" && typeof item.call_id === "string")
          this.#responses.addToolOutput(item.call_id, typeof item.output === "string" ? item.output : "");
        const previous = event.previous_item_id ?? this.conversation.lastId;
        this.conversation.add(item);
        this.#emit("conversation.item.added", { previous_item_id: previous, item });
        this.#emit("conversation.item.done", { previous_item_id: previous, item });
        return;
      }
      case "conversation.item.truncate":
        fail(this.#responses.truncate(event.item_id, event.content_index, event.audio_end_ms));
        return;
      case "conversation.item.retrieve": {
        const item = this.conversation.get(event.item_id);
        if (item) this.#emit("conversation.item.retrieved", { item });
        else fail(notFound(event.item_id));
        return;
      }
      case "conversation.item.delete":
        if (this.conversation.delete(event.item_id))
          this.#emit("conversation.item.deleted", { item_id: event.item_id });
        else fail(notFound(event.item_id));
        return;
    }
  }

  #createResponse(modality: "audio" | "text", instructions?: string): EventError | null {
    const turn = this.#unanswered;
    const error = this.#responses.create({
      modality,
      ...(instructions !== undefined ? { instructions } : {}),
      heard: turn?.samples ?? null,
      transcript: turn?.transcript ?? Promise.resolve(this.#latestUserText()),
    });
    if (!error) this.#unanswered = null;
    return error;
  }

  /** The text of the newest item when it is a user text message (`conversation.item.create`), else null. */
  #latestUserText(): string | null {
    const last = this.conversation.lastId ? this.conversation.get(this.conversation.lastId) : undefined;
    if (last?.type !== "message" || last.role !== "user" || !Array.isArray(last.content)) return null;
    const texts = (last.content as Array<{ type?: string; text?: unknown }>)
      .filter((part) => part.type === "input_text" && typeof part.text === "string")
      .map((part) => part.text as string);
    return texts.length > 0 ? texts.join(" ") : null;
  }

  /**
   * A committed turn: recognised (the assistant answers its words, as the model hears audio whether or not the
   * session asks for transcripts), transcription events when the session asks for them, then the response
   * server VAD asks for.
   */
  #turnCommitted(turn: Turn, samples: Int16Array, createResponse: boolean): void {
    this.#userAudioMs += turn.audio_end_ms - turn.audio_start_ms;
    // The turn was streamed to the recognizer while spoken: only its finalisation is left.
    const stream = this.#stream;
    this.#stream = null;
    const transcript = this.#transcribe(
      turn,
      samples,
      Boolean(this.session.audio.input.transcription),
      stream,
    );
    this.#unanswered = { samples, transcript };
    if (createResponse && !this.#responses.activeId)
      this.#createResponse(this.session.output_modalities[0] === "text" ? "text" : "audio");
  }

  /**
   * Transcribes a turn and emits `…input_audio_transcription.delta` then `.completed` (or `.failed`), as OpenAI
   * does after `input_audio_buffer.committed`. The final text is sent at once: PocketSphinx's partial hypotheses
   * rewrite earlier words, so streaming them would show text that later changes.
   */
  async #transcribe(
    turn: Turn,
    samples: Int16Array,
    announce: boolean,
    stream: RecognizerStream | null,
  ): Promise<string | null> {
    const where = { item_id: turn.item_id, content_index: 0 };
    const recognizer = this.#engines.recognizer;
    const seconds = samples.length / PCM_RATE;
    const recognise = () => (stream ? stream.finish() : recognizer.transcribe(samples));
    if (!announce)
      return recognizer.available
        ? recognise().then(
            (t) => t.text,
            () => null,
          )
        : null;
    try {
      if (!recognizer.available) throw new Error(recognizer.reason ?? "no speech recognizer is installed");
      const { text } = await recognise();
      if (this.#closed) return text;
      this.stats.transcriptions++;
      if (text !== "")
        this.#emit("conversation.item.input_audio_transcription.delta", { ...where, delta: text });
      this.#emit("conversation.item.input_audio_transcription.completed", {
        ...where,
        transcript: text,
        usage: { type: "duration", seconds: Math.round(seconds * 1000) / 1000 },
      });
      this.conversation.update(turn.item_id, (item) => ({
        ...item,
        content: [{ type: "input_audio", transcript: text }],
      }));
      return text;
    } catch (error) {
      if (this.#closed) return null;
      this.stats.failed_transcriptions++;
      this.#emit("conversation.item.input_audio_transcription.failed", {
        ...where,
        error: {
          type: "transcription_error",
          code: "transcription_unavailable",
          message: `Transcription failed: ${error instanceof Error ? error.message : String(error)}`,
          param: null,
        },
      });
      return null;
    }
  }

  #fail(record: ReceivedEvent, eventId: string | null, error: EventError): void {
    record.error = error.code ?? "error";
    this.stats.errors++;
    this.#emit("error", { error: { type: "invalid_request_error", ...error, event_id: eventId } });
  }

  #emit(type: string, fields: Record<string, unknown>): void {
    const event = { type, event_id: newId("event"), ...fields };
    this.#options.log.send(event);
    const json = JSON.stringify(event);
    this.#options.transmit(json);
    for (const listener of this.#listeners) listener(json);
  }
}

function notFound(itemId: string): EventError {
  return {
    code: "item_not_found",
    message: `Item with item_id '${itemId.slice(0, 64)}' not found.`,
    param: "item_id",
  };
}

/**
 * The realtime protocol of one call, independent of the transport: parses client events from `oai-events`,
 * keeps the input audio buffer and the session, runs server VAD, records turns, and produces OpenAI GA server
 * events (`session.created`, `input_audio_buffer.*`, `conversation.item.*`, `response.*`,
 * `output_audio_buffer.*`, `error`). Every server event carries a fresh `event_id`; a malformed or unknown client
 * event is answered with an `error` event naming the client's `event_id`, never with an exception.
 */
import * as v from "valibot";
import { rmsDbfs } from "./audio-level.ts";
import { CLIENT_EVENT_TYPES, ClientEvent } from "./client-events.ts";
import { type EventLog, nowMs, type ReceivedEvent } from "./event-log.ts";
import { newId } from "./ids.ts";
import { InputAudio } from "./input-audio.ts";
import { InputDecoder } from "./input-decoder.ts";
import { describeIssues, type RealtimeErrorBody } from "./realtime-error.ts";
import type { Recorder } from "./recorder.ts";
import { ServerVad, segmenterOptions } from "./server-vad.ts";
import { type EffectiveSession, mergeSession } from "./session-config.ts";
import type { UtteranceEnd } from "./voice-track.ts";

/** OpenAI's cap on one `input_audio_buffer.append`: 15 MiB of decoded audio. */
export const MAX_APPEND_BYTES = 15 * 1024 * 1024;
/** `input_audio_buffer.commit` needs at least 100 ms buffered (2400 samples at 24 kHz). */
export const MIN_COMMIT_SAMPLES = 2400;
const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

/** What the session needs from the voice track (absent when the offer gave the peer no way to send audio). */
export interface Voice {
  readonly open: boolean;
  readonly speaking: boolean;
  speak(samples: Int16Array, onEnd: (end: UtteranceEnd) => void): number;
  stop(): boolean;
}

export interface CallSessionOptions {
  callId: string;
  session: EffectiveSession;
  /** Transmits one server event (JSON text); returns false when the channel is not open. */
  transmit: (json: string) => boolean;
  voice: () => Voice | null;
  recorder: Recorder;
  log: EventLog;
}

/** One committed user turn. */
export interface Turn {
  n: number;
  item_id: string;
  start_sample: number;
  end_sample: number;
  audio_start_ms: number;
  audio_end_ms: number;
  source: "server_vad" | "commit";
  file: string;
  rms_dbfs: number;
}

interface ActiveResponse {
  id: string;
  itemId: string;
  modality: "audio" | "text";
  text: string;
  speaking: boolean;
  created_at: number;
}

type ResponseEnd =
  | { status: "completed" }
  | { status: "cancelled"; reason: "client_cancelled" | "turn_detected" };

/** Counters and state for the inspection API. */
export interface CallSessionStats {
  appends: number;
  append_bytes: number;
  samples: number;
  buffered_samples: number;
  errors: number;
  responses: number;
  cancelled_responses: number;
  speech: boolean;
}

export class CallSession {
  session: EffectiveSession;
  readonly input = new InputAudio();
  readonly turns: Turn[] = [];
  readonly stats: CallSessionStats = {
    appends: 0,
    append_bytes: 0,
    samples: 0,
    buffered_samples: 0,
    errors: 0,
    responses: 0,
    cancelled_responses: 0,
    speech: false,
  };
  readonly #options: CallSessionOptions;
  readonly #decoder = new InputDecoder();
  #vad: ServerVad | null = null;
  /** Item id announced by `speech_started`, reused by the matching `speech_stopped` and `committed`. */
  #speechItemId: string | null = null;
  #speechStart = 0;
  #lastItemId: string | null = null;
  /** The latest turn not yet answered by a response. */
  #unanswered: Turn | null = null;
  #unansweredAudio: Int16Array | null = null;
  #response: ActiveResponse | null = null;
  #lastResponseId: string | null = null;
  #closed = false;

  constructor(options: CallSessionOptions) {
    this.#options = options;
    this.session = options.session;
    this.#configureVad();
  }

  /** Sends `session.created`; called once the data channel is open. */
  start(): void {
    this.#emit("session.created", { session: this.session });
  }

  /** Handles one data channel message. */
  handle(message: string | Buffer | ArrayBuffer): void {
    const receivedAt = nowMs();
    if (typeof message !== "string") {
      const record = this.#options.log.receive({ received_at: receivedAt, type: "(binary)", event_id: null });
      this.#fail(record, null, {
        code: "invalid_event",
        message: "Binary messages are not supported on oai-events; send JSON text events.",
        param: null,
      });
      return;
    }
    let parsed: unknown;
    try {
      parsed = JSON.parse(message);
    } catch {
      const record = this.#options.log.receive({
        received_at: receivedAt,
        type: "(invalid json)",
        event_id: null,
      });
      this.#fail(record, null, {
        code: "invalid_json",
        message: "The event is not valid JSON.",
        param: null,
      });
      return;
    }
    const envelope = (typeof parsed === "object" && parsed !== null ? parsed : {}) as Record<string, unknown>;
    const type = typeof envelope.type === "string" ? envelope.type : "(missing type)";
    const eventId = typeof envelope.event_id === "string" ? envelope.event_id : null;
    const { type: _t, event_id: _e, audio: _a, ...extra } = envelope;
    const record = this.#options.log.receive({
      received_at: receivedAt,
      type,
      event_id: eventId,
      ...(Object.keys(extra).length > 0 && type === "input_audio_buffer.append" ? { client: extra } : {}),
      ...(type === "input_audio_buffer.append" ? {} : { event: parsed }),
    });
    if (this.#closed) return;
    if (typeof envelope.type !== "string") {
      this.#fail(record, eventId, {
        code: "missing_required_parameter",
        message: "Missing required parameter: 'type'.",
        param: "type",
      });
      return;
    }
    if (!(CLIENT_EVENT_TYPES as string[]).includes(type)) {
      this.#fail(record, eventId, {
        code: "invalid_value",
        message: `Invalid value: '${type.slice(0, 100)}'. Supported values are: ${CLIENT_EVENT_TYPES.map((t) => `'${t}'`).join(", ")}.`,
        param: "type",
      });
      return;
    }
    const result = v.safeParse(ClientEvent, parsed);
    if (!result.success) {
      const { message: detail, param } = describeIssues(result.issues);
      this.#fail(record, eventId, {
        code: "invalid_value",
        message: `Invalid '${type}' event: ${detail}`,
        param,
      });
      return;
    }
    this.#dispatch(result.output, record);
  }

  /** Ends the session: stops the voice and writes the call's recording. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#options.voice()?.stop();
    this.#options.recorder.write(`${this.#options.callId}.wav`, this.input.slice());
  }

  #dispatch(event: ClientEvent, record: ReceivedEvent): void {
    const eventId = event.event_id ?? null;
    switch (event.type) {
      case "session.update":
        this.session = mergeSession(this.session, event.session as Record<string, unknown>);
        this.#configureVad();
        this.#emit("session.updated", { session: this.session });
        return;
      case "input_audio_buffer.append":
        this.#append(event.audio, eventId, record);
        return;
      case "input_audio_buffer.commit": {
        const buffered = this.input.buffered;
        if (buffered < MIN_COMMIT_SAMPLES) {
          this.#fail(record, eventId, {
            code: "input_audio_buffer_commit_empty",
            message: `Error committing input audio buffer: buffer too small. Expected at least 100ms of audio, but buffer only has ${((buffered / 24_000) * 1000).toFixed(2)}ms of audio.`,
            param: null,
          });
          return;
        }
        const itemId = this.#speechItemId ?? newId("item");
        this.#speechItemId = null;
        this.#vad?.reset(this.input.length);
        this.stats.speech = false;
        this.#commit(this.input.bufferStart, this.input.length, itemId, "commit");
        return;
      }
      case "input_audio_buffer.clear":
        this.input.consumeTo(this.input.length);
        this.#vad?.reset(this.input.length);
        this.#speechItemId = null;
        this.stats.speech = false;
        this.stats.buffered_samples = 0;
        this.#emit("input_audio_buffer.cleared", {});
        return;
      case "response.create": {
        if (this.#response) {
          this.#fail(record, eventId, {
            code: "conversation_already_has_active_response",
            message: `Conversation already has an active response in progress: ${this.#response.id}. Wait until the response is finished before creating a new one.`,
            param: null,
          });
          return;
        }
        const modality = (event.response?.output_modalities ?? this.session.output_modalities)[0];
        this.#startResponse(modality === "text" ? "text" : "audio");
        return;
      }
      case "response.cancel": {
        const active = this.#response;
        if (!active || (event.response_id !== undefined && event.response_id !== active.id)) {
          this.#fail(record, eventId, {
            code: "response_cancel_not_active",
            message: "Cancellation failed: no active response found",
            param: null,
          });
          return;
        }
        this.#stopVoice(active, "output_audio_buffer.stopped");
        this.#finishResponse(active, { status: "cancelled", reason: "client_cancelled" });
        return;
      }
      case "output_audio_buffer.clear": {
        const active = this.#response;
        const responseId = active?.id ?? this.#lastResponseId;
        if (active) this.#stopVoice(active, null);
        this.#emit("output_audio_buffer.cleared", { response_id: responseId });
        if (active) this.#finishResponse(active, { status: "cancelled", reason: "client_cancelled" });
        return;
      }
      case "conversation.item.create": {
        const item = { ...event.item, id: event.item.id ?? newId("item"), object: "realtime.item" };
        const previous = event.previous_item_id ?? this.#lastItemId;
        this.#lastItemId = item.id;
        this.#emit("conversation.item.added", { previous_item_id: previous, item });
        this.#emit("conversation.item.done", { previous_item_id: previous, item });
        return;
      }
      case "conversation.item.truncate":
        this.#emit("conversation.item.truncated", {
          item_id: event.item_id,
          content_index: event.content_index,
          audio_end_ms: event.audio_end_ms,
        });
        return;
    }
  }

  #append(audio: string, eventId: string | null, record: ReceivedEvent): void {
    // Checked before decoding: Buffer.from(…, "base64") silently skips invalid characters.
    if (audio.length % 4 !== 0 || !BASE64.test(audio)) {
      this.#fail(record, eventId, {
        code: "invalid_value",
        message: "Invalid 'audio'. Expected base64-encoded audio bytes.",
        param: "audio",
      });
      return;
    }
    const padding = audio.endsWith("==") ? 2 : audio.endsWith("=") ? 1 : 0;
    const byteLength = (audio.length / 4) * 3 - padding;
    if (byteLength > MAX_APPEND_BYTES) {
      this.#fail(record, eventId, {
        code: "string_above_max_length",
        message: `Invalid 'audio': the decoded audio is ${byteLength} bytes, above the maximum of ${MAX_APPEND_BYTES} bytes (15 MiB) per event.`,
        param: "audio",
      });
      return;
    }
    if (byteLength % this.#decoder.bytesPerSample !== 0) {
      this.#fail(record, eventId, {
        code: "invalid_value",
        message: `Invalid 'audio': PCM16 audio has 2 bytes per sample, but ${byteLength} bytes were sent.`,
        param: "audio",
      });
      return;
    }
    const bytes = Buffer.from(audio, "base64");
    const samples = this.#decoder.decode(bytes);
    const start = this.input.append(samples);
    record.bytes = bytes.length;
    record.start_sample = start;
    record.samples = samples.length;
    this.stats.appends++;
    this.stats.append_bytes += bytes.length;
    this.stats.samples = this.input.length;
    this.stats.buffered_samples = this.input.buffered;
    if (!this.#vad) return;
    for (const boundary of this.#vad.push(samples, start)) {
      if (boundary.type === "speechstart") this.#speechStarted(boundary.sample);
      else this.#speechStopped(boundary.sample);
    }
  }

  #speechStarted(sample: number): void {
    this.stats.speech = true;
    this.#speechStart = Math.max(sample, this.input.bufferStart);
    this.#speechItemId = newId("item");
    this.#emit("input_audio_buffer.speech_started", {
      audio_start_ms: Math.round(this.#speechStart / 24),
      item_id: this.#speechItemId,
    });
    const td = this.session.audio.input.turn_detection;
    const active = this.#response;
    if (active && td?.interrupt_response) {
      // OpenAI's server-side barge-in: the user's speech cancels the response and clears its queued audio.
      const wasSpeaking = active.speaking;
      this.#stopVoice(active, null);
      if (wasSpeaking) this.#emit("output_audio_buffer.cleared", { response_id: active.id });
      this.#finishResponse(active, { status: "cancelled", reason: "turn_detected" });
    }
  }

  #speechStopped(sample: number): void {
    this.stats.speech = false;
    const itemId = this.#speechItemId ?? newId("item");
    this.#speechItemId = null;
    const end = Math.min(Math.max(sample, this.#speechStart), this.input.length);
    this.#emit("input_audio_buffer.speech_stopped", { audio_end_ms: Math.round(end / 24), item_id: itemId });
    if (end - this.#speechStart <= 0) return;
    this.#commit(this.#speechStart, end, itemId, "server_vad");
    const td = this.session.audio.input.turn_detection;
    if (td?.create_response && !this.#response) {
      const modality = this.session.output_modalities[0] === "text" ? "text" : "audio";
      this.#startResponse(modality);
    }
  }

  #commit(start: number, end: number, itemId: string, source: Turn["source"]): void {
    const samples = this.input.slice(start, end);
    this.input.consumeTo(end);
    this.stats.buffered_samples = this.input.buffered;
    const n = this.turns.length + 1;
    const file = `${this.#options.callId}-turn-${n}.wav`;
    this.#options.recorder.write(file, samples);
    const turn: Turn = {
      n,
      item_id: itemId,
      start_sample: start,
      end_sample: end,
      audio_start_ms: Math.round(start / 24),
      audio_end_ms: Math.round(end / 24),
      source,
      file,
      rms_dbfs: rmsDbfs(samples),
    };
    this.turns.push(turn);
    this.#unanswered = turn;
    this.#unansweredAudio = samples;
    const previous = this.#lastItemId;
    this.#lastItemId = itemId;
    this.#emit("input_audio_buffer.committed", { previous_item_id: previous, item_id: itemId });
    const item = {
      id: itemId,
      type: "message",
      object: "realtime.item",
      status: "completed",
      role: "user",
      content: [{ type: "input_audio", transcript: null }],
    };
    this.#emit("conversation.item.added", { previous_item_id: previous, item });
    this.#emit("conversation.item.done", { previous_item_id: previous, item });
    if (this.session.audio.input.transcription) {
      // No speech recogniser here: the "transcript" says what was heard, in brackets so no one mistakes it for words.
      const level = Number.isFinite(turn.rms_dbfs) ? `${turn.rms_dbfs.toFixed(0)} dBFS` : "silence";
      this.#emit("conversation.item.input_audio_transcription.completed", {
        item_id: itemId,
        content_index: 0,
        transcript: `[${((end - start) / 24_000).toFixed(1)} s of audio, ${level}]`,
        usage: { type: "duration", seconds: (end - start) / 24_000 },
      });
    }
  }

  #startResponse(modality: "audio" | "text"): void {
    const turn = this.#unanswered;
    const heard = this.#unansweredAudio;
    this.#unanswered = null;
    this.#unansweredAudio = null;
    const text = turn
      ? `Heard ${((turn.end_sample - turn.start_sample) / 24_000).toFixed(1)} s of audio at ${Number.isFinite(turn.rms_dbfs) ? turn.rms_dbfs.toFixed(0) : "-inf"} dBFS.`
      : "Heard no new audio since the last response.";
    const response: ActiveResponse = {
      id: newId("resp"),
      itemId: newId("item"),
      modality,
      text,
      speaking: false,
      created_at: Math.floor(Date.now() / 1000),
    };
    this.#response = response;
    this.#lastResponseId = response.id;
    this.stats.responses++;
    this.#emit("response.created", { response: this.#responseObject(response, "in_progress", null, []) });
    const item = this.#assistantItem(response, "in_progress", false);
    this.#emit("response.output_item.added", { response_id: response.id, output_index: 0, item });
    this.#emit("conversation.item.added", { previous_item_id: this.#lastItemId, item });
    this.#lastItemId = response.itemId;
    const part = modality === "audio" ? { type: "audio", transcript: "" } : { type: "text", text: "" };
    const where = { response_id: response.id, item_id: response.itemId, output_index: 0, content_index: 0 };
    this.#emit("response.content_part.added", { ...where, part });
    const deltaType =
      modality === "audio" ? "response.output_audio_transcript.delta" : "response.output_text.delta";
    for (const word of text.split(/(?<= )/)) this.#emit(deltaType, { ...where, delta: word });
    const voice = modality === "audio" ? this.#options.voice() : null;
    if (voice?.open) {
      // An echo of the user's turn (what the peer heard) is the answer; with nothing heard, a short chime.
      response.speaking = true;
      this.#emit("output_audio_buffer.started", { response_id: response.id });
      voice.speak(heard && heard.length > 0 ? heard : chime(), (end) => {
        if (end !== "completed" || this.#response !== response) return;
        response.speaking = false;
        this.#emit("output_audio_buffer.stopped", { response_id: response.id });
        this.#finishResponse(response, { status: "completed" });
      });
      return;
    }
    setImmediate(() => {
      if (this.#response === response) this.#finishResponse(response, { status: "completed" });
    });
  }

  #stopVoice(response: ActiveResponse, announce: "output_audio_buffer.stopped" | null): void {
    if (!response.speaking) return;
    response.speaking = false;
    this.#options.voice()?.stop();
    if (announce) this.#emit(announce, { response_id: response.id });
  }

  #finishResponse(response: ActiveResponse, end: ResponseEnd): void {
    if (this.#response !== response) return;
    this.#response = null;
    if (end.status === "cancelled") this.stats.cancelled_responses++;
    const complete = end.status === "completed";
    const where = { response_id: response.id, item_id: response.itemId, output_index: 0, content_index: 0 };
    if (response.modality === "audio") {
      this.#emit("response.output_audio.done", where);
      this.#emit("response.output_audio_transcript.done", { ...where, transcript: response.text });
      this.#emit("response.content_part.done", {
        ...where,
        part: { type: "audio", transcript: response.text },
      });
    } else {
      this.#emit("response.output_text.done", { ...where, text: response.text });
      this.#emit("response.content_part.done", { ...where, part: { type: "text", text: response.text } });
    }
    const item = this.#assistantItem(response, complete ? "completed" : "incomplete", true);
    this.#emit("response.output_item.done", { response_id: response.id, output_index: 0, item });
    this.#emit("conversation.item.done", { item });
    const details = end.status === "cancelled" ? { type: "cancelled", reason: end.reason } : null;
    this.#emit("response.done", { response: this.#responseObject(response, end.status, details, [item]) });
  }

  #assistantItem(response: ActiveResponse, status: string, withContent: boolean): Record<string, unknown> {
    const content = !withContent
      ? []
      : response.modality === "audio"
        ? [{ type: "output_audio", transcript: response.text }]
        : [{ type: "output_text", text: response.text }];
    return {
      id: response.itemId,
      type: "message",
      object: "realtime.item",
      status,
      role: "assistant",
      content,
    };
  }

  #responseObject(
    response: ActiveResponse,
    status: string,
    statusDetails: Record<string, unknown> | null,
    output: unknown[],
  ): Record<string, unknown> {
    const words = response.text.split(" ").length;
    return {
      id: response.id,
      object: "realtime.response",
      status,
      status_details: statusDetails,
      output,
      conversation_id: `conv_${this.session.id.slice(5)}`,
      output_modalities: [response.modality],
      max_output_tokens: this.session.max_output_tokens,
      audio: { output: { format: this.session.audio.output.format, voice: this.session.audio.output.voice } },
      metadata: null,
      usage:
        status === "in_progress"
          ? null
          : { total_tokens: words, input_tokens: 0, output_tokens: words, input_token_details: null },
    };
  }

  #configureVad(): void {
    this.#decoder.setFormat(this.session.audio.input.format.type);
    const options = segmenterOptions(this.session.audio.input.turn_detection);
    if (!options) {
      this.#vad = null;
      this.#speechItemId = null;
      return;
    }
    if (this.#vad) this.#vad.configure(options);
    else {
      this.#vad = new ServerVad(options);
      this.#vad.reset(this.input.length);
    }
  }

  #fail(
    record: ReceivedEvent,
    eventId: string | null,
    error: Omit<RealtimeErrorBody, "type" | "event_id">,
  ): void {
    record.error = error.code ?? "error";
    this.stats.errors++;
    this.#emit("error", { error: { type: "invalid_request_error", ...error, event_id: eventId } });
  }

  #emit(type: string, fields: Record<string, unknown>): void {
    const event = { type, event_id: newId("event"), ...fields };
    this.#options.log.send(event);
    this.#options.transmit(JSON.stringify(event));
  }
}

/** 600 ms two-tone chime (660 Hz then 880 Hz, −12 dBFS, 10 ms fades), 24 kHz PCM16. */
function chime(): Int16Array {
  const out = new Int16Array(14_400);
  for (let i = 0; i < out.length; i++) {
    const t = i / 24_000;
    const frequency = i < 7200 ? 660 : 880;
    const local = i % 7200;
    const fade = Math.min(1, local / 240, (7200 - local) / 240);
    out[i] = Math.round(0.25 * fade * Math.sin(2 * Math.PI * frequency * t) * 32767);
  }
  return out;
}

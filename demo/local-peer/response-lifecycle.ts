/**
 * The response side of a call: `response.create` → `response.created`, the assistant's answer (a message streamed
 * as `response.output_audio_transcript.delta` / `response.output_text.delta` and spoken on the audio track, or a
 * function call streamed as `response.function_call_arguments.delta` / `.done`), then `response.done` with
 * `usage`. Cancellation (`response.cancel`, `output_audio_buffer.clear`, server VAD barge-in) cuts the voice
 * mid-word; the transcript then holds only what was spoken, and `conversation.item.truncate` shortens it further.
 */
import { PCM_RATE } from "../../worker/schema/protocol.ts";
import type { EventError } from "./client-event-reader.ts";
import type { Conversation, ConversationItem } from "./conversation.ts";
import { newId } from "./ids.ts";
import type { EffectiveSession } from "./session-config.ts";
import { splitSentences } from "./speech/synthesizer.ts";
import type { Reply, SpeechEngines, ToolDefinition } from "./speech-engines.ts";
import { estimateUsage, type ResponseUsage } from "./usage.ts";
import type { UtteranceEnd } from "./voice-track.ts";

/** What the responses need from the voice track (absent when the offer gave the peer no way to send audio). */
export interface Voice {
  readonly open: boolean;
  readonly speaking: boolean;
  /** Milliseconds of the current (or last) utterance sent so far. */
  readonly playedMs: number;
  /** Speaks mono PCM16 at `sampleRate` Hz; `onEnd` gets how it ended and the milliseconds sent. Returns ms. */
  speak(
    samples: Int16Array,
    onEnd: (end: UtteranceEnd, playedMs: number) => void,
    sampleRate?: number,
  ): number;
  /** Lengthens the utterance being sent; the new duration in ms, or null when nothing is playing. */
  append?(samples: Int16Array, sampleRate?: number): number | null;
  stop(): boolean;
}

/** Counters of the response side. */
export interface ResponseStats {
  responses: number;
  cancelled_responses: number;
}

/** What a response answers: the latest unanswered turn (its audio and transcript), if any. */
export interface ResponseInput {
  modality: "audio" | "text";
  instructions?: string;
  heard: Int16Array | null;
  transcript: Promise<string | null> | null;
}

export interface ResponseLifecycleOptions {
  conversation: Conversation;
  engines: SpeechEngines;
  voice: () => Voice | null;
  session: () => EffectiveSession;
  stats: ResponseStats;
  emit: (type: string, fields: Record<string, unknown>) => void;
  /** Milliseconds of user audio committed so far (input audio tokens). */
  userAudioMs: () => number;
}

type CancelReason = "client_cancelled" | "turn_detected";

interface ActiveResponse {
  id: string;
  modality: "audio" | "text";
  /** The output item once the answer is known. */
  item: ConversationItem | null;
  text: string;
  speaking: boolean;
  /** The utterance's length and the part sent before it ended, for the spoken part on a cancel. */
  speakMs: number;
  spokenMs: number;
  /** Milliseconds spoken by earlier utterances of this response (when the voice ran dry between sentences). */
  spokenBase: number;
  /** Sentences still being synthesised; the voice waits for them instead of completing. */
  pendingParts: number;
}

const WHERE = (r: ActiveResponse) => ({
  response_id: r.id,
  item_id: r.item?.id,
  output_index: 0,
  content_index: 0,
});

export class ResponseLifecycle {
  readonly #options: ResponseLifecycleOptions;
  #active: ActiveResponse | null = null;
  #lastResponseId: string | null = null;
  /** Function outputs added since the last response. */
  #toolOutputs: Array<{ call_id: string; name?: string; output: string }> = [];
  /** The input the previous response read, for cached tokens. */
  #previousInput: { text_tokens: number; audio_tokens: number } | null = null;
  /** Milliseconds of assistant audio in the conversation (input audio of later responses). */
  #assistantAudioMs = 0;
  /** Assistant audio lengths by item id, for truncation. */
  readonly #spoken = new Map<string, { ms: number; text: string }>();

  constructor(options: ResponseLifecycleOptions) {
    this.#options = options;
  }

  /** The response in progress, if any. */
  get activeId(): string | null {
    return this.#active?.id ?? null;
  }

  /** Remembers a `function_call_output` item for the next response. */
  addToolOutput(callId: string, output: string): void {
    const call = this.#options.conversation
      .items()
      .find((item) => item.type === "function_call" && item.call_id === callId);
    const name = typeof call?.name === "string" ? call.name : undefined;
    this.#toolOutputs.push({ call_id: callId, ...(name ? { name } : {}), output });
  }

  /** Starts a response; an error when one is already in progress. */
  create(input: ResponseInput): EventError | null {
    if (this.#active)
      return {
        code: "conversation_already_has_active_response",
        message: `Conversation already has an active response in progress: ${this.#active.id}. Wait until the response is finished before creating a new one.`,
        param: null,
      };
    const response: ActiveResponse = {
      id: newId("resp"),
      modality: input.modality,
      item: null,
      text: "",
      speaking: false,
      speakMs: 0,
      spokenMs: 0,
      spokenBase: 0,
      pendingParts: 0,
    };
    this.#active = response;
    this.#lastResponseId = response.id;
    this.#options.stats.responses++;
    this.#options.emit("response.created", { response: this.#object(response, "in_progress", null, null) });
    this.#answer(response, input).catch((error: unknown) => {
      console.error("[local-peer] response failed:", error);
      if (this.#active === response) this.#finish(response, { status: "failed" });
    });
    return null;
  }

  /** `response.cancel`: false when nothing (or not `responseId`) is in progress. */
  cancel(responseId: string | undefined): boolean {
    const active = this.#active;
    if (!active || (responseId !== undefined && responseId !== active.id)) return false;
    this.#stopVoice(active, true);
    this.#finish(active, { status: "cancelled", reason: "client_cancelled" });
    return true;
  }

  /** `output_audio_buffer.clear` (WebRTC): stops the voice and ends the response it belonged to. */
  clearAudio(): void {
    const active = this.#active;
    if (active) this.#stopVoice(active, false);
    this.#options.emit("output_audio_buffer.cleared", { response_id: active?.id ?? this.#lastResponseId });
    if (active) this.#finish(active, { status: "cancelled", reason: "client_cancelled" });
  }

  /** Server VAD barge-in: the user's speech cancels the response and clears its queued audio. */
  interrupt(): void {
    const active = this.#active;
    if (!active) return;
    const wasSpeaking = active.speaking;
    this.#stopVoice(active, false);
    if (wasSpeaking) this.#options.emit("output_audio_buffer.cleared", { response_id: active.id });
    this.#finish(active, { status: "cancelled", reason: "turn_detected" });
  }

  /**
   * `conversation.item.truncate` of an assistant audio item: the transcript keeps the words spoken before
   * `audio_end_ms` (by their share of the utterance), so the model's context holds only what the user heard.
   */
  truncate(itemId: string, contentIndex: number, audioEndMs: number): EventError | null {
    const item = this.#options.conversation.get(itemId);
    if (!item)
      return {
        code: "invalid_value",
        message: `Item with item_id '${itemId.slice(0, 64)}' not found.`,
        param: "item_id",
      };
    const spoken = this.#spoken.get(itemId);
    if (spoken) {
      const end = Math.min(audioEndMs, spoken.ms);
      const text = wordsWithin(spoken.text, spoken.ms > 0 ? end / spoken.ms : 0);
      this.#assistantAudioMs -= spoken.ms - end;
      this.#spoken.set(itemId, { ms: end, text });
      this.#options.conversation.update(itemId, (old) => ({
        ...old,
        content: [{ type: "output_audio", transcript: text }],
      }));
    }
    this.#options.emit("conversation.item.truncated", {
      item_id: itemId,
      content_index: contentIndex,
      audio_end_ms: audioEndMs,
    });
    return null;
  }

  /** Ends any response without events (the call is over). */
  close(): void {
    const active = this.#active;
    this.#active = null;
    if (active?.speaking) this.#options.voice()?.stop();
  }

  async #answer(response: ActiveResponse, input: ResponseInput): Promise<void> {
    const session = this.#options.session();
    const transcript = input.transcript ? await input.transcript.catch(() => null) : null;
    const toolOutputs = this.#toolOutputs.splice(0);
    const reply: Reply = await this.#options.engines.reply({
      transcript,
      instructions: input.instructions ?? session.instructions,
      tools: (session.tools as ToolDefinition[]).filter((tool) => tool.type === "function"),
      toolChoice: session.tool_choice,
      now: Date.now(),
      toolOutputs,
      heard: input.heard,
    });
    if (this.#active !== response) return;
    if (reply.type === "function_call") {
      this.#functionCall(response, reply.name, reply.arguments);
      return;
    }
    response.text = reply.text;
    const item: ConversationItem = {
      id: newId("item"),
      type: "message",
      object: "realtime.item",
      status: "in_progress",
      role: "assistant",
      content: [],
    };
    response.item = item;
    this.#options.emit("response.output_item.added", { response_id: response.id, output_index: 0, item });
    const previous = this.#options.conversation.add(item);
    this.#options.emit("conversation.item.added", { previous_item_id: previous, item });
    const audio = response.modality === "audio";
    const part = audio ? { type: "audio", transcript: "" } : { type: "text", text: "" };
    this.#options.emit("response.content_part.added", { ...WHERE(response), part });
    const deltaType = audio ? "response.output_audio_transcript.delta" : "response.output_text.delta";
    for (const word of reply.text.split(/(?<= )/))
      this.#options.emit(deltaType, { ...WHERE(response), delta: word });
    const voice = audio ? this.#options.voice() : null;
    if (!voice?.open) {
      setImmediate(() => {
        if (this.#active === response) this.#finish(response, { status: "completed" });
      });
      return;
    }
    // Sentence by sentence: the first goes out as soon as it is synthesised while the rest are synthesised and
    // appended to the same utterance, so the time to the first voice packet does not grow with the answer.
    const sentences = this.#options.engines.synthesize ? splitSentences(reply.text) : [];
    const later = sentences.slice(1).map((sentence) => this.#synthesized(sentence));
    response.pendingParts = later.length;
    const speech = await this.#voiceOf(sentences[0] ?? reply.text, input.heard);
    if (this.#active !== response) return;
    response.speaking = true;
    this.#options.emit("output_audio_buffer.started", { response_id: response.id });
    const onEnd = (end: UtteranceEnd, playedMs: number) => {
      if (end !== "completed" || this.#active !== response) return;
      response.spokenMs = response.spokenBase + playedMs;
      // The voice ran dry before the next sentence was ready: it restarts when that sentence arrives.
      if (response.pendingParts > 0) return;
      response.speaking = false;
      this.#options.emit("output_audio_buffer.stopped", { response_id: response.id });
      this.#finish(response, { status: "completed" });
    };
    response.speakMs = voice.speak(speech.pcm, onEnd, speech.sampleRate);
    for (const part of later) {
      const next = await part;
      if (this.#active !== response || !response.speaking) return;
      response.pendingParts--;
      const total = next
        ? (voice.append?.(next.pcm, next.sampleRate) ?? null)
        : response.speakMs - response.spokenBase;
      if (total !== null) response.speakMs = response.spokenBase + total;
      else if (next) {
        response.spokenBase = response.spokenMs;
        response.speakMs = response.spokenBase + voice.speak(next.pcm, onEnd, next.sampleRate);
      }
      // The last sentence failed to synthesise after the voice ran dry: the response is complete as spoken.
      if (response.pendingParts === 0 && !voice.speaking && this.#active === response) onEnd("completed", 0);
    }
  }

  /** One sentence synthesised, or null when synthesis failed (the rest of the answer still plays). */
  async #synthesized(text: string): Promise<{ pcm: Int16Array; sampleRate: number } | null> {
    try {
      const speech = await this.#options.engines.synthesize?.(text);
      return speech && speech.pcm.length > 0 ? speech : null;
    } catch (error) {
      console.error("[local-peer] synthesis failed for a sentence:", error);
      return null;
    }
  }

  /** The answer's voice: synthesized speech, else an echo of what was heard (24 kHz), else a chime. */
  async #voiceOf(text: string, heard: Int16Array | null): Promise<{ pcm: Int16Array; sampleRate: number }> {
    const synthesize = this.#options.engines.synthesize;
    if (synthesize && text.trim() !== "") {
      try {
        const speech = await synthesize(text);
        if (speech.pcm.length > 0) return speech;
      } catch (error) {
        console.error("[local-peer] synthesis failed, echoing instead:", error);
      }
    }
    return { pcm: heard && heard.length > 0 ? heard : chime(), sampleRate: PCM_RATE };
  }

  #functionCall(response: ActiveResponse, name: string, args: string): void {
    const callId = newId("call");
    const item: ConversationItem = {
      id: newId("item"),
      type: "function_call",
      object: "realtime.item",
      status: "in_progress",
      name,
      call_id: callId,
      arguments: "",
    };
    response.item = item;
    this.#options.emit("response.output_item.added", { response_id: response.id, output_index: 0, item });
    const previous = this.#options.conversation.add(item);
    this.#options.emit("conversation.item.added", { previous_item_id: previous, item });
    const where = { response_id: response.id, item_id: item.id, output_index: 0, call_id: callId };
    for (let i = 0; i < args.length; i += 16)
      this.#options.emit("response.function_call_arguments.delta", {
        ...where,
        delta: args.slice(i, i + 16),
      });
    this.#options.emit("response.function_call_arguments.done", { ...where, name, arguments: args });
    response.item = { ...item, arguments: args };
    this.#finish(response, { status: "completed" });
  }

  #stopVoice(response: ActiveResponse, announce: boolean): void {
    if (!response.speaking) return;
    response.speaking = false;
    const voice = this.#options.voice();
    voice?.stop();
    response.spokenMs = Math.min(response.speakMs, response.spokenBase + (voice?.playedMs ?? 0));
    if (announce) this.#options.emit("output_audio_buffer.stopped", { response_id: response.id });
  }

  #finish(
    response: ActiveResponse,
    end: { status: "completed" | "failed" } | { status: "cancelled"; reason: CancelReason },
  ): void {
    if (this.#active !== response) return;
    this.#active = null;
    if (end.status === "cancelled") this.#options.stats.cancelled_responses++;
    const output: ConversationItem[] = [];
    let item = response.item;
    if (item?.type === "message") {
      const where = WHERE(response);
      // A voice cut mid-word keeps the words spoken so far.
      const cut = end.status !== "completed" && response.speakMs > 0;
      const text = cut ? wordsWithin(response.text, response.spokenMs / response.speakMs) : response.text;
      if (response.modality === "audio") {
        this.#options.emit("response.output_audio.done", where);
        this.#options.emit("response.output_audio_transcript.done", { ...where, transcript: text });
        this.#options.emit("response.content_part.done", {
          ...where,
          part: { type: "audio", transcript: text },
        });
        this.#spoken.set(item.id, { ms: response.spokenMs, text });
        this.#assistantAudioMs += response.spokenMs;
      } else {
        this.#options.emit("response.output_text.done", { ...where, text });
        this.#options.emit("response.content_part.done", { ...where, part: { type: "text", text } });
      }
      const content =
        response.modality === "audio"
          ? [{ type: "output_audio", transcript: text }]
          : [{ type: "output_text", text }];
      item = { ...item, status: end.status === "completed" ? "completed" : "incomplete", content };
    } else if (item) item = { ...item, status: end.status === "completed" ? "completed" : "incomplete" };
    if (item) {
      this.#options.conversation.update(item.id, () => item as ConversationItem);
      this.#options.emit("response.output_item.done", { response_id: response.id, output_index: 0, item });
      this.#options.emit("conversation.item.done", { item });
      output.push(item);
    }
    const details =
      end.status === "cancelled"
        ? { type: "cancelled", reason: end.reason }
        : end.status === "failed"
          ? { type: "failed", error: { type: "server_error", code: "response_failed" } }
          : null;
    this.#options.emit("response.done", {
      response: this.#object(response, end.status, details, output, this.#usage(response, item)),
    });
  }

  #usage(response: ActiveResponse, item: ConversationItem | null): ResponseUsage {
    const session = this.#options.session();
    const items = this.#options.conversation.items();
    let textChars = session.instructions.length + JSON.stringify(session.tools).length;
    for (const each of items)
      if (each.type !== "message" || each.role !== "user") textChars += JSON.stringify(each).length;
    const outputText = item?.type === "function_call" ? String(item.arguments ?? "") : response.text;
    const spokenBefore = this.#assistantAudioMs - (response.modality === "audio" ? response.spokenMs : 0);
    const usage = estimateUsage({
      inputTextChars: textChars,
      userAudioMs: this.#options.userAudioMs(),
      assistantAudioMs: Math.max(0, spokenBefore),
      previous: this.#previousInput,
      outputTextChars: outputText.length,
      outputAudioMs: response.modality === "audio" ? response.spokenMs : 0,
    });
    this.#previousInput = {
      text_tokens: usage.input_token_details.text_tokens,
      audio_tokens: usage.input_token_details.audio_tokens,
    };
    return usage;
  }

  #object(
    response: ActiveResponse,
    status: string,
    statusDetails: Record<string, unknown> | null,
    output: ConversationItem[] | null,
    usage: ResponseUsage | null = null,
  ): Record<string, unknown> {
    const session = this.#options.session();
    return {
      id: response.id,
      object: "realtime.response",
      status,
      status_details: statusDetails,
      output: output ?? [],
      conversation_id: `conv_${session.id.slice(5)}`,
      output_modalities: [response.modality],
      max_output_tokens: session.max_output_tokens,
      audio: { output: { format: session.audio.output.format, voice: session.audio.output.voice } },
      metadata: null,
      usage,
    };
  }
}

/** The leading words of `text` that fit in `fraction` (0..1) of its length, by characters. */
export function wordsWithin(text: string, fraction: number): string {
  if (fraction >= 1) return text;
  const limit = Math.max(0, fraction) * text.length;
  let out = "";
  for (const word of text.split(/(?<= )/)) {
    if (out.length + word.trimEnd().length > limit) break;
    out += word;
  }
  return out.trimEnd();
}

/** 600 ms two-tone chime (660 Hz then 880 Hz, −12 dBFS, 10 ms fades), 24 kHz PCM16. */
function chime(): Int16Array {
  const out = new Int16Array(14_400);
  for (let i = 0; i < out.length; i++) {
    const t = i / PCM_RATE;
    const frequency = i < 7200 ? 660 : 880;
    const local = i % 7200;
    const fade = Math.min(1, local / 240, (7200 - local) / 240);
    out[i] = Math.round(0.25 * fade * Math.sin(2 * Math.PI * frequency * t) * 32767);
  }
  return out;
}

/**
 * The demo's conversation panel: the user's transcribed turns and the assistant's answers in item order, each
 * with its audio, live lines while someone speaks, and the turn timing. It only reads the session's `server`
 * events (plus the client's `speechend` with client turns):
 * - user items come from `input_audio_buffer.committed` / `conversation.item.added`, their text from
 *   `conversation.item.input_audio_transcription.delta|completed|failed`, their audio (what the model heard) from
 *   the local peer's recording of the turn (`GET {peer}/debug/calls/{call}` → `turns[].file`, else the
 *   `{call}-turn-{n}.wav` naming);
 * - assistant items from `response.output_item.added`, their text from `response.output_audio_transcript.*` or
 *   `response.output_text.*`, function calls from `response.function_call_arguments.done`, and their audio (what
 *   it said) recorded in the page from the remote track between `output_audio_buffer.started` and
 *   `stopped|cleared` (MediaRecorder, where the browser has it);
 * - timing: speech end (`input_audio_buffer.speech_stopped`, or the client's local speech end) → transcript, and
 *   speech end → first audio (`output_audio_buffer.started`), measured on this page's clock.
 * Rows carry `data-item-id`, `data-role` and `data-state` (`live | final | failed | cut`) for tests.
 */
import type { ServerEvent } from "../worklet/index.ts";

type Role = "user" | "assistant" | "tool";

interface Row {
  itemId: string;
  role: Role;
  element: HTMLLIElement;
  text: HTMLParagraphElement;
  timing: HTMLSpanElement;
  media: HTMLSpanElement;
  /** Page time of the speech end this item answers or transcribes, when known. */
  speechEnd: number | null;
}

const ROLE_LABEL: Record<Role, string> = { user: "You", assistant: "Assistant", tool: "Tool" };

function str(value: unknown): string | null {
  return typeof value === "string" ? value : null;
}

export class ConversationPanel {
  /** The element the session plays the model's voice into (pass it as `connect({output})`). */
  readonly output: HTMLAudioElement;
  readonly #list: HTMLOListElement;
  readonly #empty: HTMLElement;
  readonly #rows = new Map<string, Row>();
  #callId: string | null = null;
  #peer = "";
  #committed = 0;
  /** The live "speaking…" line between speech start and commit. */
  #live: HTMLLIElement | null = null;
  #lastSpeechEnd: number | null = null;
  /** Speech end of the latest user turn, for the response that answers it. */
  #turnSpeechEnd: number | null = null;
  readonly #responseItems = new Map<string, string>();
  #recorder: MediaRecorder | null = null;

  constructor(list: HTMLOListElement, empty: HTMLElement) {
    this.#list = list;
    this.#empty = empty;
    this.output = document.createElement("audio");
    this.output.autoplay = true;
  }

  /** Clears the panel for a new session; `peer` is the local peer's base URL ("" when there is none). */
  reset(peer: string): void {
    this.#list.replaceChildren();
    this.#rows.clear();
    this.#responseItems.clear();
    this.#callId = null;
    this.#peer = peer.replace(/\/+$/, "");
    this.#committed = 0;
    this.#live = null;
    this.#lastSpeechEnd = null;
    this.#turnSpeechEnd = null;
    this.#stopRecording();
    this.#empty.hidden = false;
  }

  /** The call id, once connected (for the peer's recordings). */
  setCall(callId: string | null): void {
    this.#callId = callId;
  }

  /** The client's own speech end (client turns: the server sends no `speech_stopped`). */
  speechEnded(): void {
    this.#lastSpeechEnd = performance.now();
  }

  /** Feeds one server event. Unknown events are ignored. */
  handle(event: ServerEvent): void {
    const now = performance.now();
    const itemId = str(event.item_id);
    switch (event.type) {
      case "input_audio_buffer.speech_started":
        this.#showLive("Listening…");
        break;
      case "input_audio_buffer.speech_stopped":
        this.#lastSpeechEnd = now;
        this.#showLive("Transcribing…");
        break;
      case "input_audio_buffer.committed": {
        this.#clearLive();
        if (!itemId) break;
        this.#committed++;
        const row = this.#row(itemId, "user", str(event.previous_item_id));
        row.speechEnd = this.#lastSpeechEnd ?? now;
        this.#turnSpeechEnd = row.speechEnd;
        this.#lastSpeechEnd = null;
        row.text.textContent = "…";
        row.element.dataset.state = "live";
        void this.#attachTurnAudio(row, this.#committed);
        break;
      }
      case "conversation.item.added": {
        const item = event.item as Record<string, unknown> | undefined;
        const id = str(item?.id);
        if (!id || this.#rows.has(id)) break;
        if (item?.type === "function_call_output") {
          const row = this.#row(id, "tool", str(event.previous_item_id));
          row.text.textContent = `Result: ${str(item.output) ?? ""}`;
          row.element.dataset.state = "final";
        } else if (item?.type === "message" && item.role === "user") {
          // A typed message (conversation.item.create) rather than a spoken turn.
          const row = this.#row(id, "user", str(event.previous_item_id));
          const content = Array.isArray(item.content) ? (item.content as Array<Record<string, unknown>>) : [];
          const text = content
            .map((c) => str(c.text) ?? str(c.transcript) ?? "")
            .join(" ")
            .trim();
          if (text) {
            row.text.textContent = text;
            row.element.dataset.state = "final";
          }
        }
        break;
      }
      case "conversation.item.input_audio_transcription.delta": {
        const row = itemId ? this.#rows.get(itemId) : undefined;
        if (!row) break;
        if (row.element.dataset.state !== "live" || row.text.textContent === "…") row.text.textContent = "";
        row.element.dataset.state = "live";
        row.text.textContent += str(event.delta) ?? "";
        break;
      }
      case "conversation.item.input_audio_transcription.completed": {
        const row = itemId ? this.#rows.get(itemId) : undefined;
        if (!row) break;
        const transcript = (str(event.transcript) ?? "").trim();
        row.text.textContent = transcript || "(nothing recognised)";
        row.element.dataset.state = "final";
        if (row.speechEnd !== null) this.#addTiming(row, `transcript ${Math.round(now - row.speechEnd)} ms`);
        break;
      }
      case "conversation.item.input_audio_transcription.failed": {
        const row = itemId ? this.#rows.get(itemId) : undefined;
        if (!row) break;
        const error = event.error as { message?: unknown } | undefined;
        row.text.textContent = `Transcription failed: ${str(error?.message) ?? "unknown error"}`;
        row.element.dataset.state = "failed";
        break;
      }
      case "response.output_item.added": {
        const item = event.item as Record<string, unknown> | undefined;
        const id = str(item?.id);
        if (!id) break;
        const responseId = str(event.response_id);
        if (responseId) this.#responseItems.set(responseId, id);
        const row = this.#row(id, "assistant", null);
        row.speechEnd = this.#turnSpeechEnd;
        row.element.dataset.state = "live";
        if (item?.type === "function_call") row.text.textContent = `Calling ${str(item.name) ?? "a tool"}…`;
        break;
      }
      case "response.output_audio_transcript.delta":
      case "response.output_text.delta": {
        const row = itemId ? this.#rows.get(itemId) : undefined;
        if (row) row.text.textContent += str(event.delta) ?? "";
        break;
      }
      case "response.output_audio_transcript.done":
      case "response.output_text.done": {
        const row = itemId ? this.#rows.get(itemId) : undefined;
        if (!row) break;
        row.text.textContent = str(event.transcript) ?? str(event.text) ?? row.text.textContent;
        if (row.element.dataset.state === "live") row.element.dataset.state = "final";
        break;
      }
      case "response.function_call_arguments.done": {
        const row = itemId ? this.#rows.get(itemId) : undefined;
        if (!row) break;
        row.text.textContent = `Called ${str(event.name) ?? "a tool"}(${str(event.arguments) ?? ""})`;
        row.element.dataset.state = "final";
        break;
      }
      case "output_audio_buffer.started": {
        const responseId = str(event.response_id);
        const id = responseId ? (this.#responseItems.get(responseId) ?? null) : null;
        const row = id ? this.#rows.get(id) : undefined;
        if (row?.speechEnd != null) this.#addTiming(row, `first audio ${Math.round(now - row.speechEnd)} ms`);
        this.#startRecording(id);
        break;
      }
      case "output_audio_buffer.stopped":
      case "output_audio_buffer.cleared":
        this.#stopRecording();
        break;
      case "conversation.item.truncated": {
        const row = itemId ? this.#rows.get(itemId) : undefined;
        if (!row) break;
        row.element.dataset.state = "cut";
        this.#addTiming(row, `cut at ${Number(event.audio_end_ms ?? 0)} ms`);
        break;
      }
      case "response.done": {
        const response = event.response as { status?: unknown; output?: unknown } | undefined;
        if (response?.status !== "cancelled" || !Array.isArray(response.output)) break;
        for (const item of response.output as Array<{ id?: unknown }>) {
          const row = this.#rows.get(str(item.id) ?? "");
          if (row && row.element.dataset.state !== "cut") {
            row.element.dataset.state = "cut";
            this.#addTiming(row, "interrupted");
          }
        }
        break;
      }
    }
  }

  #row(itemId: string, role: Role, previousItemId: string | null): Row {
    const existing = this.#rows.get(itemId);
    if (existing) return existing;
    const element = document.createElement("li");
    element.dataset.itemId = itemId;
    element.dataset.role = role;
    const who = document.createElement("strong");
    who.textContent = ROLE_LABEL[role];
    const text = document.createElement("p");
    const foot = document.createElement("div");
    foot.className = "foot-line";
    const media = document.createElement("span");
    media.className = "media";
    const timing = document.createElement("span");
    timing.className = "timing";
    foot.append(media, timing);
    element.append(who, text, foot);
    // Item order: after the item it follows when that one is shown (previous_item_id), else at the end.
    const previous = previousItemId ? this.#rows.get(previousItemId)?.element : undefined;
    if (previous) previous.after(element);
    else if (this.#live) this.#live.before(element);
    else this.#list.append(element);
    this.#empty.hidden = true;
    const row: Row = { itemId, role, element, text, timing, media, speechEnd: null };
    this.#rows.set(itemId, row);
    // Scroll the list, not the page, to the newest row.
    this.#list.scrollTop = this.#list.scrollHeight;
    return row;
  }

  #addTiming(row: Row, text: string): void {
    row.timing.textContent = row.timing.textContent ? `${row.timing.textContent} · ${text}` : text;
  }

  #showLive(text: string): void {
    if (!this.#live) {
      this.#live = document.createElement("li");
      this.#live.dataset.role = "user";
      this.#live.dataset.state = "speaking";
      const who = document.createElement("strong");
      who.textContent = ROLE_LABEL.user;
      this.#live.append(who, document.createElement("p"));
      this.#list.append(this.#live);
      this.#empty.hidden = true;
    }
    const line = this.#live.querySelector("p");
    if (line) line.textContent = text;
  }

  #clearLive(): void {
    this.#live?.remove();
    this.#live = null;
  }

  /** The peer's recording of the n-th committed turn (written at commit), when a peer URL is set. */
  async #attachTurnAudio(row: Row, n: number): Promise<void> {
    const callId = this.#callId;
    if (!this.#peer || !callId) return;
    let file = `${callId}-turn-${n}.wav`;
    try {
      const response = await fetch(`${this.#peer}/debug/calls/${encodeURIComponent(callId)}`);
      if (response.ok) {
        const body = (await response.json()) as { turns?: Array<{ item_id?: unknown; file?: unknown }> };
        const turn = body.turns?.find((t) => t.item_id === row.itemId);
        if (typeof turn?.file === "string") file = turn.file;
      }
    } catch {
      // The peer's inspection API is optional; the file naming is the fallback.
    }
    this.#attachAudio(row, `${this.#peer}/recordings/${encodeURIComponent(file)}`, "what the model heard");
  }

  #attachAudio(row: Row, url: string, label: string): void {
    const audio = document.createElement("audio");
    audio.controls = true;
    audio.preload = "none";
    audio.src = url;
    audio.title = label;
    audio.setAttribute("aria-label", label);
    row.media.replaceChildren(audio);
  }

  #startRecording(itemId: string | null): void {
    this.#stopRecording();
    const stream = this.output.srcObject;
    if (!(stream instanceof MediaStream) || typeof MediaRecorder === "undefined") return;
    try {
      const recorder = new MediaRecorder(stream);
      const recording = { itemId, chunks: [] as Blob[] };
      recorder.ondataavailable = (e) => {
        if (e.data.size > 0) recording.chunks.push(e.data);
      };
      recorder.onstop = () => {
        const row = recording.itemId ? this.#rows.get(recording.itemId) : undefined;
        if (!row || recording.chunks.length === 0) return;
        const blob = new Blob(recording.chunks, { type: recorder.mimeType });
        this.#attachAudio(row, URL.createObjectURL(blob), "what the assistant said");
      };
      recorder.start();
      this.#recorder = recorder;
    } catch {
      // No recorder for this stream (an old browser): the answer keeps its text only.
    }
  }

  #stopRecording(): void {
    if (this.#recorder && this.#recorder.state !== "inactive") this.#recorder.stop();
    this.#recorder = null;
  }
}

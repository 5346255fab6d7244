/**
 * The demo page: one start/stop button over `connect()`, with a live level meter, the VAD timeline, counters,
 * the conversation, the server events and the turns the peer recorded. Settings come from the form, pre-filled
 * from the query string (`?signaling=ephemeral&upstream=…&peer=…&processing=off&vad={…}&frameMs=20`), so links
 * and tests can choose them. The session asks for input transcription unless `?transcription=off`.
 */
import type { ConnectOptions, FrameStats, RealtimeVoiceSession } from "../worklet/index.ts";
import { connect } from "../worklet/index.ts";
import { ConversationPanel } from "./conversation-panel.ts";
import type { DemoLog } from "./demo-log.ts";
import { showGuard } from "./guard-panel.ts";

/** What the page observed during the last session, for people in the console and for the browser tests. */
export interface DemoRecord extends DemoLog {
  session: RealtimeVoiceSession | null;
}

declare global {
  interface Window {
    realtimeVoiceDemo: DemoRecord;
  }
}

const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;
const toggle = $<HTMLButtonElement>("toggle");
const toggleLabel = $("toggle-label");
const statePill = $("state");
const message = $("message");
const levelFill = $("level");
const levelValue = $<HTMLOutputElement>("level-value");
const canvas = $<HTMLCanvasElement>("timeline");
const eventsList = $<HTMLOListElement>("events");
const eventCount = $("event-count");
const turnsList = $<HTMLOListElement>("turns");
const turnsEmpty = $("turns-empty");
const form = $<HTMLFormElement>("settings");
const conversation = new ConversationPanel($<HTMLOListElement>("conversation"), $("conversation-empty"));

const record: DemoRecord = {
  session: null,
  frames: [],
  speech: [],
  server: [],
  errors: [],
  states: [],
  callId: null,
  bargeIns: [],
  drops: [],
  maxQueued: 0,
};
window.realtimeVoiceDemo = record;

const TIMELINE_SECONDS = 10;
/** The transcription model the demo asks for (the local peer answers any with PocketSphinx). */
const TRANSCRIPTION_MODEL = "gpt-4o-mini-transcribe";
const MAX_EVENTS = 200;
const numberFormat = new Intl.NumberFormat("en");

// Query string → form, so a link (or a test) picks the settings.
const params = new URLSearchParams(location.search);
for (const name of ["signaling", "upstream", "peer", "turns", "bargeInMs", "audio"]) {
  const value = params.get(name);
  const field = form.elements.namedItem(name);
  if (value && (field instanceof HTMLInputElement || field instanceof HTMLSelectElement)) field.value = value;
}
const processingField = form.elements.namedItem("processing") as HTMLInputElement;
if (params.get("processing") === "off") processingField.checked = false;
const gateField = form.elements.namedItem("gate") as HTMLInputElement;
if (params.get("gate") === "1") gateField.checked = true;

function setting(name: string): string {
  const field = form.elements.namedItem(name);
  return field instanceof HTMLInputElement || field instanceof HTMLSelectElement ? field.value.trim() : "";
}

function options(): ConnectOptions {
  const result: ConnectOptions = { signaling: setting("signaling") === "ephemeral" ? "ephemeral" : "proxy" };
  result.turns = setting("turns") === "client" ? "client" : "server";
  result.gate = gateField.checked;
  result.audio = setting("audio") === "track" ? "track" : "datachannel";
  // The conversation panel records the model's voice from this element's stream.
  result.output = conversation.output;
  // The panel shows what the model heard as text: OpenAI sends `input_audio_transcription` events only when the
  // session asks for them (`?transcription=off` leaves them out).
  if (params.get("transcription") !== "off") {
    result.session = {
      type: "realtime",
      audio: { input: { transcription: { model: TRANSCRIPTION_MODEL } } },
    };
  }
  const bargeInMs = Number(setting("bargeInMs"));
  if (Number.isFinite(bargeInMs) && setting("bargeInMs") !== "") result.bargeInMs = bargeInMs;
  const upstream = setting("upstream");
  if (upstream) result.upstreamUrl = upstream;
  // Tuning for links and tests: `?vad={"hangoverMs":600}&frameMs=40&maxQueueMs=2000&highWaterMark=65536`.
  const vad = params.get("vad");
  if (vad) result.vad = JSON.parse(vad) as ConnectOptions["vad"];
  const frameMs = Number(params.get("frameMs"));
  if (frameMs) result.frameMs = frameMs;
  const maxQueueMs = Number(params.get("maxQueueMs"));
  if (maxQueueMs) result.maxQueueMs = maxQueueMs;
  const highWaterMark = Number(params.get("highWaterMark"));
  if (highWaterMark) result.highWaterMark = highWaterMark;
  if (!processingField.checked) {
    result.audioConstraints = { echoCancellation: false, noiseSuppression: false, autoGainControl: false };
  }
  return result;
}

function showMessage(text: string, error = false): void {
  message.textContent = text;
  message.classList.toggle("error", error);
}

function start(): void {
  record.frames = [];
  record.speech = [];
  record.server = [];
  record.errors = [];
  record.states = [];
  record.callId = null;
  record.bargeIns = [];
  record.drops = [];
  record.maxQueued = 0;
  eventsList.replaceChildren();
  eventCount.textContent = "0";
  conversation.reset(setting("peer"));
  showMessage("");
  let session: RealtimeVoiceSession;
  let stopGuard: () => void = () => {};
  try {
    session = connect(options());
  } catch (error) {
    showMessage(String(error), true);
    return;
  }
  record.session = session;
  session.on("state", (state) => {
    record.states.push(state.status);
    statePill.dataset.status = state.status;
    statePill.textContent = state.status;
    const live = state.status !== "closed" && state.status !== "failed";
    toggle.setAttribute("aria-pressed", String(live));
    toggleLabel.textContent = live ? "Stop" : "Start talking";
    if (state.status === "connected") {
      record.callId = state.callId;
      stopGuard();
      stopGuard = showGuard(state.callId);
      conversation.setCall(state.callId);
      showMessage("Listening. Speak, pause, speak again.");
    }
    if (state.status === "failed") showMessage(state.error.message, true);
    if (state.status === "reconnecting") showMessage(`Connection lost (${state.reason}); reconnecting…`);
    if (state.status === "closed" || state.status === "failed") stopGuard();
    if (state.status === "closed") {
      if (state.reason !== "client") showMessage(`The server ended the call (${state.reason}).`);
      levelFill.style.width = "0";
      levelValue.textContent = "— dBFS";
      // The peer writes the last turn when the call ends.
      setTimeout(() => void loadTurns(), 500);
    }
  });
  session.on("level", ({ dbfs }) => {
    const clamped = Math.max(-90, Math.min(0, dbfs));
    levelFill.style.width = `${((clamped + 90) / 90) * 100}%`;
    levelValue.textContent = `${dbfs.toFixed(1)} dBFS`;
  });
  session.on("drop", ({ seq }) => record.drops.push(seq));
  session.on("frame", (frame) => {
    record.maxQueued = Math.max(record.maxQueued, session.stats.framesQueued);
    record.frames.push(frame);
    timeline.push(frame);
  });
  session.on("speechstart", ({ sample }) => record.speech.push({ type: "speechstart", sample }));
  session.on("speechend", ({ sample }) => {
    record.speech.push({ type: "speechend", sample });
    // With client turns the server sends no speech_stopped: the local speech end starts the turn's clock.
    if (setting("turns") === "client") conversation.speechEnded();
  });
  session.on("server", (event) => {
    record.server.push(event);
    logEvent(event);
    conversation.handle(event);
    if (event.type === "input_audio_buffer.committed") setTimeout(() => void loadTurns(), 300);
  });
  session.on("bargein", (event) => {
    record.bargeIns.push(event);
    logEvent({ type: "client · barge-in (response.cancel)" });
  });
  session.on("commit", ({ samples }) =>
    logEvent({ type: `client · commit ${(samples / 24).toFixed(0)} ms + response.create` }),
  );
  session.on("error", (error) => {
    record.errors.push({ code: error.code, message: error.message });
    logEvent({ type: `error · ${error.code}`, message: error.message }, true);
  });
}

toggle.addEventListener("click", () => {
  const session = record.session;
  const live = session && session.state.status !== "closed" && session.state.status !== "failed";
  if (live) {
    void session.close().catch((error: unknown) => showMessage(String(error), true));
  } else {
    start();
  }
});

function logEvent(event: { type: string; [key: string]: unknown }, error = false): void {
  eventCount.textContent = numberFormat.format(record.server.length + record.errors.length);
  // Runs of the same event (transcript deltas) collapse into one row with a count.
  const top = eventsList.firstElementChild;
  const topType = top?.querySelector(".type");
  if (topType?.textContent === event.type) {
    const count = Number(top?.getAttribute("data-count") ?? 1) + 1;
    top?.setAttribute("data-count", String(count));
    const badge = top?.querySelector(".count") ?? document.createElement("span");
    badge.className = "count";
    badge.textContent = `×${count}`;
    top?.append(badge);
    return;
  }
  const item = document.createElement("li");
  const time = document.createElement("time");
  time.textContent = new Date().toISOString().slice(14, 23);
  const type = document.createElement("span");
  type.className = error || event.type === "error" ? "type error" : "type";
  type.textContent = event.type;
  type.title = JSON.stringify(event);
  item.append(time, type);
  eventsList.prepend(item);
  while (eventsList.childElementCount > MAX_EVENTS) eventsList.lastElementChild?.remove();
}

// Counters refresh at display rate rather than per frame.
function renderCounters(): void {
  const stats = record.session?.stats;
  if (stats) {
    $("frames-sent").textContent = numberFormat.format(stats.framesSent);
    $("bytes-sent").textContent = formatBytes(stats.bytesSent);
    $("frames-withheld").textContent = numberFormat.format(stats.framesWithheld + stats.framesDropped);
    $("buffered").textContent = formatBytes(stats.bufferedAmount);
    $("input-rate").textContent = stats.inputRate ? `${(stats.inputRate / 1000).toFixed(1)} kHz` : "—";
    $("segments").textContent = numberFormat.format(
      record.speech.filter((s) => s.type === "speechstart").length,
    );
  }
}

function formatBytes(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(1)} KiB`;
  return `${(bytes / 1024 / 1024).toFixed(2)} MiB`;
}

/** The last ten seconds of frames, drawn as probability over shaded speech segments. */
const timeline = {
  frames: [] as FrameStats[],
  push(frame: FrameStats): void {
    this.frames.push(frame);
    const oldest = frame.timestamp - TIMELINE_SECONDS * 24000;
    while ((this.frames[0]?.timestamp ?? oldest) < oldest) this.frames.shift();
  },
  draw(): void {
    const ratio = window.devicePixelRatio || 1;
    const width = canvas.clientWidth;
    const height = canvas.clientHeight;
    if (canvas.width !== Math.round(width * ratio) || canvas.height !== Math.round(height * ratio)) {
      canvas.width = Math.round(width * ratio);
      canvas.height = Math.round(height * ratio);
    }
    const g = canvas.getContext("2d");
    if (!g) return;
    const style = getComputedStyle(document.documentElement);
    g.setTransform(ratio, 0, 0, ratio, 0, 0);
    g.clearRect(0, 0, width, height);
    g.fillStyle = style.getPropertyValue("--held");
    g.fillRect(0, 0, width, height);
    const last = this.frames.at(-1);
    const end = last ? last.timestamp + 480 : TIMELINE_SECONDS * 24000;
    const start = end - TIMELINE_SECONDS * 24000;
    const x = (sample: number) => ((sample - start) / (end - start)) * width;
    g.fillStyle = style.getPropertyValue("--speech");
    for (const frame of this.frames) {
      if (frame.speech)
        g.fillRect(x(frame.timestamp), 0, Math.max(1, (480 / (end - start)) * width) + 0.5, height);
    }
    // A strip along the bottom: what went out (green) and what the gate withheld (grey).
    for (const frame of this.frames) {
      g.fillStyle = style.getPropertyValue(frame.fate === "held" ? "--held" : "--ok");
      g.fillRect(x(frame.timestamp), height - 4, Math.max(1, (480 / (end - start)) * width) + 0.5, 4);
    }
    g.strokeStyle = style.getPropertyValue("--line");
    g.setLineDash([4, 4]);
    g.beginPath();
    g.moveTo(0, height * 0.5);
    g.lineTo(width, height * 0.5);
    g.stroke();
    g.setLineDash([]);
    g.strokeStyle = style.getPropertyValue("--accent");
    g.lineWidth = 2;
    g.beginPath();
    this.frames.forEach((frame, i) => {
      const px = x(frame.timestamp);
      const py = height - 6 - frame.probability * (height - 12);
      if (i === 0) g.moveTo(px, py);
      else g.lineTo(px, py);
    });
    g.stroke();
  },
};

function frameLoop(): void {
  timeline.draw();
  renderCounters();
  requestAnimationFrame(frameLoop);
}
requestAnimationFrame(frameLoop);

/** A turn the local peer recorded, as listed by its recordings API. */
interface Turn {
  url: string;
  label: string;
  detail: string;
}

async function loadTurns(): Promise<void> {
  const peer = setting("peer").replace(/\/+$/, "");
  if (!peer) {
    turnsEmpty.textContent = "Set the local peer's URL in the settings to list what it recorded.";
    return;
  }
  let turns: Turn[];
  try {
    const response = await fetch(`${peer}/recordings/`);
    if (!response.ok) throw new Error(`${response.status}`);
    turns = parseTurns((await response.json()) as unknown, peer);
  } catch (error) {
    turnsEmpty.textContent = `Cannot list recordings: ${String(error)}`;
    return;
  }
  turnsEmpty.hidden = turns.length > 0;
  turnsList.replaceChildren(
    ...turns.map((turn) => {
      const item = document.createElement("li");
      const play = document.createElement("button");
      play.className = "play";
      play.type = "button";
      play.textContent = "▶";
      play.setAttribute("aria-label", `Play ${turn.label}`);
      const audio = new Audio(turn.url);
      audio.preload = "none";
      play.addEventListener("click", () => {
        if (audio.paused) void audio.play();
        else audio.pause();
      });
      audio.addEventListener("play", () => {
        play.textContent = "❚❚";
      });
      for (const type of ["pause", "ended"]) audio.addEventListener(type, () => (play.textContent = "▶"));
      const meta = document.createElement("div");
      meta.className = "meta";
      meta.textContent = turn.label;
      const small = document.createElement("small");
      small.textContent = turn.detail;
      meta.append(small);
      item.append(play, meta);
      return item;
    }),
  );
}

/** Reads the peer's `GET /recordings/` listing (newest first); tolerant of fields it does not know. */
function parseTurns(body: unknown, peer: string): Turn[] {
  const list = Array.isArray(body) ? body : ((body as { recordings?: unknown })?.recordings ?? []);
  if (!Array.isArray(list)) return [];
  const turns: Turn[] = [];
  for (const entry of list as Array<Record<string, unknown>>) {
    const file = typeof entry?.file === "string" ? entry.file : null;
    if (!file) continue;
    const kind =
      entry.kind === "turn" ? `Turn ${entry.turn}` : entry.kind === "track" ? "Audio track" : "Whole call";
    const seconds = typeof entry.duration_s === "number" ? ` · ${entry.duration_s.toFixed(2)} s` : "";
    turns.push({
      url: `${peer}/recordings/${encodeURIComponent(file)}`,
      label: `${kind}${seconds}`,
      detail: String(entry.call_id ?? file),
    });
  }
  return turns.slice(0, 30);
}

$("refresh").addEventListener("click", () => void loadTurns());
void loadTurns();

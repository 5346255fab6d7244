/**
 * The script-tag entry (`realtime-voice.js`, global `RealtimeVoice`). Any element with a `data-realtime-voice`
 * attribute becomes a start/stop button: a click starts a session, the next click ends it. The attribute's value,
 * when not empty, is JSON `ConnectOptions` (for example `{"session":{"instructions":"Be brief."}}`). The element
 * gets `data-state` (`idle` | `connecting` | `connected` | `failed`) and `aria-pressed`, and receives
 * `realtime-voice:state` and `realtime-voice:error` DOM events (`detail` is the state or the error).
 */
import type { ConnectOptions, RealtimeVoiceSession } from "./client.ts";
import { connect as connectWith, RealtimeVoiceError } from "./client.ts";

export { RealtimeVoiceError, RealtimeVoiceSession } from "./client.ts";

// Only valid while this script is being evaluated: captured now, used later.
const script = document.currentScript as HTMLScriptElement | null;
const scriptUrl = script?.src ? new URL(script.src) : null;
const defaults = {
  url: scriptUrl?.origin,
  workletUrl: scriptUrl ? new URL("capture-processor.js", scriptUrl).href : undefined,
};

/** Starts a voice session; the worker URL defaults to the origin this script came from. */
export function connect(options: ConnectOptions = {}): RealtimeVoiceSession {
  return connectWith(options, defaults);
}

const ATTRIBUTE = "data-realtime-voice";
const sessions = new WeakMap<Element, RealtimeVoiceSession>();

/** The running session of a `data-realtime-voice` element, if any. */
export function sessionOf(element: Element): RealtimeVoiceSession | undefined {
  return sessions.get(element);
}

function toggle(element: HTMLElement): void {
  const running = sessions.get(element);
  if (running) {
    sessions.delete(element);
    void running.close().catch(() => {});
    return;
  }
  const fire = (type: string, detail: unknown) =>
    element.dispatchEvent(new CustomEvent(`realtime-voice:${type}`, { detail, bubbles: true }));
  let options: ConnectOptions;
  try {
    const value = element.getAttribute(ATTRIBUTE)?.trim();
    options = value ? (JSON.parse(value) as ConnectOptions) : {};
    const session = connect(options);
    sessions.set(element, session);
    session.on("state", (state) => {
      const closed = state.status === "closed" || state.status === "failed";
      element.dataset.state = state.status === "closed" ? "idle" : state.status;
      element.setAttribute("aria-pressed", String(!closed));
      if (closed && sessions.get(element) === session) sessions.delete(element);
      fire("state", state);
    });
    session.on("error", (error) => fire("error", error));
  } catch (error) {
    element.dataset.state = "failed";
    fire(
      "error",
      error instanceof RealtimeVoiceError ? error : new RealtimeVoiceError("invalid_options", String(error)),
    );
  }
}

// Delegation: one listener serves elements added at any time, and the click is the gesture the AudioContext needs.
document.addEventListener("click", (event) => {
  const element = (event.target as Element | null)?.closest?.(`[${ATTRIBUTE}]`);
  if (element instanceof HTMLElement) {
    event.preventDefault();
    toggle(element);
  }
});

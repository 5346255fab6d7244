/**
 * The script-tag entry (`realtime-voice.js`, global `RealtimeVoice`). Any element with a `data-realtime-voice`
 * attribute becomes a start/stop button: a click starts a session, the next click ends it. The attribute's value,
 * when not empty, is JSON `ConnectOptions` plus `turnstileSiteKey` (for example
 * `{"session":{"instructions":"Be brief."}}`). The element gets `data-state` (`idle` | `connecting` |
 * `connected` | `reconnecting` | `failed`), `aria-pressed`, and on an error `data-error` (the error's code) with
 * the message as `title` and `aria-description`; it receives `realtime-voice:state` and `realtime-voice:error`
 * DOM events (`detail` is the state or the error).
 */
import type { ConnectOptions, EntryDefaults } from "./client/options.ts";
import { asVoiceError, type RealtimeVoiceError } from "./client/realtime-voice-error.ts";
import { connect as connectWith, type RealtimeVoiceSession } from "./client/session.ts";
import { turnstileHeaders } from "./turnstile.ts";

export { RealtimeVoiceError } from "./client/realtime-voice-error.ts";
export { RealtimeVoiceSession } from "./client/session.ts";

// Only valid while this script is being evaluated: captured now, used later.
const script = document.currentScript as HTMLScriptElement | null;
const scriptUrl = script?.src ? new URL(script.src) : null;
const defaults: EntryDefaults = {
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

/** Shows `error` on the element (code, message) and dispatches `realtime-voice:error`. */
function showError(element: HTMLElement, error: RealtimeVoiceError): void {
  element.dataset.error = error.code;
  element.title = error.message;
  element.setAttribute("aria-description", error.message);
  element.dispatchEvent(new CustomEvent("realtime-voice:error", { detail: error, bubbles: true }));
}

function clearError(element: HTMLElement): void {
  delete element.dataset.error;
  element.removeAttribute("title");
  element.removeAttribute("aria-description");
}

function toggle(element: HTMLElement): void {
  const running = sessions.get(element);
  if (running) {
    sessions.delete(element);
    void running.close().catch(() => {});
    return;
  }
  clearError(element);
  try {
    const value = element.getAttribute(ATTRIBUTE)?.trim();
    const { turnstileSiteKey, ...options } = (value ? JSON.parse(value) : {}) as ConnectOptions & {
      turnstileSiteKey?: string;
    };
    const session = connectWith(options, {
      ...defaults,
      callHeaders: turnstileSiteKey ? turnstileHeaders(turnstileSiteKey, element) : undefined,
    });
    sessions.set(element, session);
    session.on("state", (state) => {
      const closed = state.status === "closed" || state.status === "failed";
      element.dataset.state = state.status === "closed" ? "idle" : state.status;
      element.setAttribute("aria-pressed", String(!closed));
      if (state.status === "connected") clearError(element);
      if (closed && sessions.get(element) === session) sessions.delete(element);
      element.dispatchEvent(new CustomEvent("realtime-voice:state", { detail: state, bubbles: true }));
    });
    session.on("error", (error) => showError(element, error));
  } catch (error) {
    element.dataset.state = "failed";
    showError(element, asVoiceError(error, "invalid_options"));
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

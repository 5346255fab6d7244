/**
 * The call guard's view of the current call, as the worker reports it at `GET /v1/realtime/calls/{id}`: status
 * and end reason, time left before the guard hangs up, duration, tokens metered from `response.done`, and every
 * drift of the session the guard saw (and what it did). Polls every 2 s while the call lives; the page is
 * same-origin, so its Origin authenticates the request.
 */

interface GuardSummary {
  status: "active" | "ended";
  end_reason: string | null;
  duration_s: number;
  time_left_s: number;
  usage: { responses?: number; input_tokens?: number; output_tokens?: number; total_tokens?: number };
  drift: Array<{ at: number; fields: string[]; action: string }>;
  limits: { max_call_seconds: number; idle_hangup_seconds: number; on_session_drift: string };
}

const POLL_MS = 2_000;

function card(): HTMLElement {
  const existing = document.getElementById("guard");
  if (existing !== null) return existing;
  const section = document.createElement("section");
  section.id = "guard";
  section.className = "card";
  section.setAttribute("aria-label", "Call guard");
  const head = document.createElement("div");
  head.className = "card-head";
  const title = document.createElement("h2");
  title.textContent = "Call guard";
  head.append(title);
  const stats = document.createElement("div");
  stats.className = "stats";
  for (const [id, label] of [
    ["guard-status", "Status"],
    ["guard-left", "Time left"],
    ["guard-duration", "Duration"],
    ["guard-tokens", "Tokens (in / out)"],
    ["guard-drift-count", "Drift events"],
  ]) {
    const stat = document.createElement("div");
    stat.className = "stat";
    const name = document.createElement("span");
    name.textContent = label as string;
    const value = document.createElement("strong");
    value.id = id as string;
    value.textContent = "—";
    stat.append(name, value);
    stats.append(stat);
  }
  const drift = document.createElement("ul");
  drift.id = "guard-drift";
  drift.className = "message";
  section.append(head, stats, drift);
  (document.querySelector("main") ?? document.body).append(section);
  return section;
}

function set(id: string, text: string): void {
  const element = document.getElementById(id);
  if (element !== null) element.textContent = text;
}

function render(summary: GuardSummary): void {
  set("guard-status", summary.status === "ended" ? `ended (${summary.end_reason ?? "?"})` : "active");
  set("guard-left", `${summary.time_left_s} s`);
  set("guard-duration", `${summary.duration_s.toFixed(1)} s`);
  set("guard-tokens", `${summary.usage.input_tokens ?? 0} / ${summary.usage.output_tokens ?? 0}`);
  set("guard-drift-count", String(summary.drift.length));
  const list = document.getElementById("guard-drift");
  if (list === null) return;
  list.replaceChildren(
    ...summary.drift.map((event) => {
      const item = document.createElement("li");
      const time = new Date(event.at * 1000).toLocaleTimeString();
      item.textContent = `${time}: ${event.fields.join(", ")} → ${event.action}`;
      return item;
    }),
  );
}

/**
 * Shows the guard's view of `callId` under the page's main content and keeps it current. Returns a function
 * that stops polling after one last refresh (call it when the call closes). A call the worker does not guard
 * (`CALL_GUARD=off`, ephemeral signalling) shows "not guarded".
 */
export function showGuard(callId: string | null, base = ""): () => void {
  card();
  if (callId === null) {
    set("guard-status", "not guarded");
    return () => {};
  }
  let stopped = false;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const refresh = async (): Promise<boolean> => {
    try {
      const response = await fetch(`${base}/v1/realtime/calls/${encodeURIComponent(callId)}`);
      if (!response.ok) {
        set("guard-status", response.status === 404 ? "not guarded" : `error ${response.status}`);
        return false;
      }
      const summary = (await response.json()) as GuardSummary;
      render(summary);
      return summary.status === "active";
    } catch {
      return true;
    }
  };
  const loop = async () => {
    if (stopped) return;
    if (await refresh()) timer = setTimeout(() => void loop(), POLL_MS);
  };
  void loop();
  return () => {
    stopped = true;
    if (timer !== undefined) clearTimeout(timer);
    // The guard needs a moment to notice the end (the sideband closes, or the re-dial is refused).
    setTimeout(() => void refresh(), 1_500);
  };
}

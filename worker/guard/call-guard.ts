/**
 * The call guard: one Durable Object per call (`idFromName(call_id)`), started when `POST /v1/realtime/calls`
 * answers 201. It holds OpenAI's sideband WebSocket for the call (`{OPENAI_BASE_URL}/realtime?call_id=…`, server
 * key, opened with a fetch upgrade because `new WebSocket()` cannot send `Authorization`) and, for the whole call:
 * - asserts the policy session on attach (no `session.created` arrives on a sideband) and runs every
 *   `session.updated` through the policy (see `drift.ts`): a change the policy allows a client becomes the
 *   expected session; one it refuses or overrides is drift, put back with a `session.update` carrying the
 *   policy's values for those fields (`ON_SESSION_DRIFT=reassert`) or ending the call (`hangup`, also when the
 *   model drifts or three re-asserts in a row do not stick), and is logged;
 * - re-attaches by `call_id` when the socket closes while the call lives (a clean close can be proxy rotation);
 *   a refused re-dial means the call is over;
 * - hangs up (`POST /realtime/calls/{id}/hangup`) at `MAX_CALL_SECONDS`, after `IDLE_HANGUP_SECONDS` with no
 *   speech and no response, and when the caller's (or the deployment's) daily seconds run out. One alarm
 *   multiplexes those deadlines and a heartbeat; alarms are at-least-once, so every step is idempotent;
 * - meters every `response.done.usage` for the call and for the caller's budget;
 * - on the end, releases the budget slot, writes one JSON log line and keeps the summary for a day
 *   (`GET /v1/realtime/calls/{id}`).
 * Cost: an outbound WebSocket cannot hibernate, so this object stays in memory for the call's length.
 */
import { DurableObject } from "cloudflare:workers";
import type { Budget } from "../budget/budget.ts";
import { hangupCall } from "../openai.ts";
import type { Policy } from "../policy.ts";
import { Problem } from "../problem.ts";
import { redact } from "../redact.ts";
import type { RealtimeSession } from "../schema/session.ts";
import { type OwnedValues, ownedValues, restoring, review } from "./drift.ts";
import type { DriftAction } from "./guard-config.ts";
import { addUsage, type Usage } from "./usage.ts";

/** Why a call ended. The first four are the guard's hangups. */
export type EndReason =
  | "max_duration"
  | "idle"
  | "budget"
  | "policy"
  | "guard_unavailable"
  | "hangup"
  | "ended";

const GUARD_HANGUPS: ReadonlySet<EndReason> = new Set([
  "max_duration",
  "idle",
  "budget",
  "policy",
  "guard_unavailable",
]);
/** How often a live call is checked even when nothing happens (dropped socket, budget). */
export const HEARTBEAT_MS = 30_000;
/** How long an ended call's summary stays readable. */
const RETAIN_MS = 86_400_000;
/** Attach attempts in a row that may fail before the guard gives up and hangs up (fail closed). */
const MAX_ATTACH_FAILURES = 3;
/** Re-asserts in a row that may fail to stick before a drift ends the call. */
const MAX_REASSERTS = 3;
const MAX_DRIFT_EVENTS = 50;
/** Events that show someone is there: speech, a committed turn, a response. */
const ACTIVITY = new Set([
  "input_audio_buffer.speech_started",
  "input_audio_buffer.speech_stopped",
  "input_audio_buffer.committed",
  "conversation.item.input_audio_transcription.completed",
  "response.created",
  "response.done",
]);

/** What the worker hands the guard when the call is created. */
export interface GuardStart {
  callId: string;
  /** Identity key of the creator (`sub:…`, `key:…`, `ip:…`). */
  owner: string;
  /** Budget reservation to finish when the call ends. */
  ticket: string;
  /** The session the call was created with (the policy's output). */
  session: RealtimeSession;
  /** The deployment's policy: a live session's changes are judged by the rules its creation request met. */
  policy: Policy;
  baseUrl: string;
  timeoutMs: number;
  maxCallSeconds: number;
  idleHangupSeconds: number;
  onSessionDrift: DriftAction;
  /** Daily seconds of the creator, and of the deployment (null = unlimited, not tracked). */
  dailySeconds: number;
  totalDailySeconds: number | null;
}

/** One drift the guard saw. */
export interface DriftEvent {
  /** Unix milliseconds. */
  at: number;
  /** JSON pointers into the session. */
  fields: string[];
  action: DriftAction;
}

interface CallRecord extends GuardStart {
  startedAt: number;
  lastActivityAt: number;
  endedAt: number | null;
  endReason: EndReason | null;
  usage: Usage;
  responses: number;
  drift: DriftEvent[];
  driftCount: number;
  owned: OwnedValues | null;
  attaches: number;
  /** When the budget runs out at the current pace (unix ms), or null. */
  budgetAt: number | null;
}

/** `GET /v1/realtime/calls/{id}`: the guard's view of a call. Times in unix seconds, durations in seconds. */
export interface CallSummary {
  id: string;
  object: "realtime.call";
  status: "active" | "ended";
  end_reason: EndReason | null;
  started_at: number;
  ended_at: number | null;
  duration_s: number;
  /** Seconds until the guard hangs up at the latest (duration cap or budget); 0 once ended. */
  time_left_s: number;
  usage: Usage & { responses: number };
  drift: Array<{ at: number; fields: string[]; action: DriftAction }>;
  /** Whether the guard holds the call's sideband now, and how often it attached. */
  sideband: { attached: boolean; attaches: number };
  limits: {
    max_call_seconds: number;
    idle_hangup_seconds: number;
    on_session_drift: DriftAction;
    daily_call_seconds: number;
  };
}

/** The sideband URL for a call: `OPENAI_BASE_URL` (http(s), as `fetch` needs it for the upgrade) + `/realtime`. */
export function sidebandUrl(baseUrl: string, callId: string): string {
  return `${baseUrl}/realtime?call_id=${encodeURIComponent(callId)}`;
}

export class CallGuard extends DurableObject<Env> {
  private socket: WebSocket | null = null;
  private attaching: Promise<void> | null = null;
  private attachFailures = 0;
  private reassertsInARow = 0;
  private cached: CallRecord | null = null;

  private get record(): CallRecord | null {
    this.cached ??= this.ctx.storage.kv.get<CallRecord>("call") ?? null;
    return this.cached;
  }

  private save(record: CallRecord): void {
    this.cached = record;
    this.ctx.storage.kv.put("call", record);
  }

  private budget(name: string): DurableObjectStub<Budget> {
    return this.env.BUDGETS.get(this.env.BUDGETS.idFromName(name));
  }

  /** Starts guarding a call (idempotent: a second start of the same call does nothing). */
  async start(init: GuardStart): Promise<void> {
    if (this.record !== null) return;
    const now = Date.now();
    this.save({
      ...init,
      startedAt: now,
      lastActivityAt: now,
      endedAt: null,
      endReason: null,
      usage: {},
      responses: 0,
      drift: [],
      driftCount: 0,
      owned: null,
      attaches: 0,
      budgetAt: null,
    });
    // The budget deadline from the start, not from the first heartbeat: a client with seconds left for less than
    // a heartbeat would otherwise overrun them.
    const record = this.record;
    if (record !== null && (await this.budgetRanOut(record, now))) return this.end("budget");
    await this.schedule(now);
    await this.attach();
  }

  /** The summary, for `owner` (or any caller when `privileged`); null when unknown or not theirs. */
  summary(owner: string, privileged: boolean): CallSummary | null {
    const r = this.record;
    if (r === null || (!privileged && r.owner !== owner)) return null;
    const now = Date.now();
    const end = r.endedAt ?? now;
    const deadline = Math.min(r.startedAt + r.maxCallSeconds * 1000, r.budgetAt ?? Number.POSITIVE_INFINITY);
    return {
      id: r.callId,
      object: "realtime.call",
      status: r.endedAt === null ? "active" : "ended",
      end_reason: r.endReason,
      started_at: Math.floor(r.startedAt / 1000),
      ended_at: r.endedAt === null ? null : Math.floor(r.endedAt / 1000),
      duration_s: Math.round((end - r.startedAt) / 100) / 10,
      time_left_s: r.endedAt === null ? Math.max(0, Math.round((deadline - now) / 1000)) : 0,
      usage: { ...r.usage, responses: r.responses },
      drift: r.drift.map((d) => ({ at: Math.floor(d.at / 1000), fields: d.fields, action: d.action })),
      sideband: { attached: this.socket !== null && r.owned !== null, attaches: r.attaches },
      limits: {
        max_call_seconds: r.maxCallSeconds,
        idle_hangup_seconds: r.idleHangupSeconds,
        on_session_drift: r.onSessionDrift,
        daily_call_seconds: r.dailySeconds,
      },
    };
  }

  /** Whether `owner` may act on this call; null when the guard never saw it. */
  ownedBy(owner: string): boolean | null {
    const r = this.record;
    return r === null ? null : r.owner === owner;
  }

  /** The call was hung up through the worker's hangup route: end without another hangup. */
  async hungUp(): Promise<void> {
    await this.end("hangup");
  }

  override async alarm(): Promise<void> {
    const r = this.record;
    if (r === null) return;
    const now = Date.now();
    if (r.endedAt !== null) {
      if (now >= r.endedAt + RETAIN_MS) {
        this.cached = null;
        await this.ctx.storage.deleteAll();
      } else await this.ctx.storage.setAlarm(r.endedAt + RETAIN_MS);
      return;
    }
    this.save(r);
    if (now >= r.startedAt + r.maxCallSeconds * 1000) return this.end("max_duration");
    if (now >= r.lastActivityAt + r.idleHangupSeconds * 1000) return this.end("idle");
    if (await this.budgetRanOut(r, now)) return this.end("budget");
    // The heartbeat: a socket lost while this object was evicted (or whose close was never reported) comes back.
    if (this.socket === null) await this.attach();
    if (this.record?.endedAt === null) await this.schedule(now);
  }

  /** Asks the budgets what is left; sets `budgetAt` (all of a client's live calls drain its seconds together). */
  private async budgetRanOut(r: CallRecord, now: number): Promise<boolean> {
    let budgetAt: number | null = null;
    const checks: Array<[string, number | null]> = [
      [`client:${r.owner}`, r.dailySeconds],
      ["total", r.totalDailySeconds],
    ];
    for (const [name, limit] of checks) {
      if (limit === null) continue;
      try {
        const status = await this.budget(name).check(limit);
        if (status.secondsLeft === null) continue;
        if (status.secondsLeft <= 0) return true;
        const at = now + (status.secondsLeft / Math.max(1, status.activeCalls)) * 1000;
        budgetAt = budgetAt === null ? at : Math.min(budgetAt, at);
      } catch (error) {
        console.error(`call guard ${r.callId}: budget check failed: ${String(error)}`);
      }
    }
    const current = this.record;
    if (current !== null) this.save({ ...current, budgetAt });
    return false;
  }

  private async schedule(now: number): Promise<void> {
    const r = this.record;
    if (r === null || r.endedAt !== null) return;
    const next = Math.min(
      r.startedAt + r.maxCallSeconds * 1000,
      r.lastActivityAt + r.idleHangupSeconds * 1000,
      r.budgetAt ?? Number.POSITIVE_INFINITY,
      now + HEARTBEAT_MS,
    );
    await this.ctx.storage.setAlarm(Math.max(next, now + 1));
  }

  private attach(): Promise<void> {
    // One dial at a time: a close and the heartbeat may both ask for one.
    this.attaching ??= this.dial().finally(() => {
      this.attaching = null;
    });
    return this.attaching;
  }

  private async dial(): Promise<void> {
    const r = this.record;
    if (r === null || r.endedAt !== null || this.socket !== null) return;
    let res: Response;
    try {
      res = await withTimeout(
        fetch(sidebandUrl(r.baseUrl, r.callId), {
          headers: { Upgrade: "websocket", Authorization: `Bearer ${this.env.OPENAI_API_KEY}` },
        }),
        r.timeoutMs,
      );
    } catch (error) {
      return this.attachFailed(
        r,
        `sideband unreachable: ${error instanceof Error ? error.message : String(error)}`,
      );
    }
    const ws = res.webSocket;
    if (ws === null) {
      await res.body?.cancel();
      // A call that ended refuses the re-dial: it is over, nobody needs to hang it up.
      if (res.status === 404 || res.status === 410) return this.end("ended");
      return this.attachFailed(r, `sideband refused with ${res.status}`);
    }
    ws.accept();
    this.socket = ws;
    this.attachFailures = 0;
    const current = this.record ?? r;
    // owned is recomputed from the next session.updated, which answers this session.update.
    this.save({ ...current, attaches: current.attaches + 1, owned: current.owned });
    ws.addEventListener("message", (event) => {
      if (typeof event.data === "string") void this.onEvent(event.data);
    });
    ws.addEventListener("close", () => void this.onClose(ws));
    ws.addEventListener("error", () => void this.onClose(ws));
    const { model: _model, ...session } = current.session;
    this.send({ type: "session.update", session });
  }

  private async attachFailed(r: CallRecord, why: string): Promise<void> {
    this.attachFailures++;
    console.error(`call guard ${r.callId}: ${redact(why, [this.env.OPENAI_API_KEY])}`);
    if (this.attachFailures >= MAX_ATTACH_FAILURES) return this.end("guard_unavailable");
    await this.ctx.storage.setAlarm(Date.now() + 1000 * 2 ** this.attachFailures);
  }

  private async onClose(ws: WebSocket): Promise<void> {
    if (this.socket !== ws) return;
    this.socket = null;
    if (this.record?.endedAt === null) await this.attach();
  }

  private send(event: Record<string, unknown>): void {
    try {
      this.socket?.send(JSON.stringify(event));
    } catch {
      // A socket closing under us: its close handler re-attaches.
    }
  }

  /** One server event from the sideband. Unknown events are ignored. */
  async onEvent(text: string): Promise<void> {
    let event: { type?: unknown; session?: unknown; response?: { usage?: unknown } };
    try {
      event = JSON.parse(text) as typeof event;
    } catch {
      return;
    }
    const r = this.record;
    if (r === null || r.endedAt !== null || typeof event.type !== "string") return;
    if (ACTIVITY.has(event.type)) r.lastActivityAt = Date.now();
    if (event.type === "response.done") {
      const usage = event.response?.usage;
      this.save({ ...r, usage: addUsage(r.usage, usage), responses: r.responses + 1 });
      try {
        await this.budget(`client:${r.owner}`).meter(addUsage({}, usage));
      } catch (error) {
        console.error(`call guard ${r.callId}: metering failed: ${String(error)}`);
      }
      return;
    }
    if (event.type === "session.updated") return this.onSessionUpdated(r, event.session);
    if (event.type === "error")
      console.error(
        `call guard ${r.callId}: sideband error ${redact(text.slice(0, 500), [this.env.OPENAI_API_KEY])}`,
      );
  }

  private async onSessionUpdated(r: CallRecord, session: unknown): Promise<void> {
    const verdict = review(r.owned ?? ownedValues(r.session, session), session, r.policy);
    const { owned, drifted: fields } = verdict;
    if (fields.length === 0) {
      this.reassertsInARow = 0;
      this.save({ ...r, owned });
      return;
    }
    const action: DriftAction =
      r.onSessionDrift === "hangup" || fields.includes("/model") || this.reassertsInARow >= MAX_REASSERTS
        ? "hangup"
        : "reassert";
    const drift =
      r.drift.length < MAX_DRIFT_EVENTS ? [...r.drift, { at: Date.now(), fields, action }] : r.drift;
    this.save({ ...r, owned, drift, driftCount: r.driftCount + 1 });
    console.log(JSON.stringify({ event: "call.drift", call_id: r.callId, fields, action }));
    if (action === "hangup") return this.end("policy");
    this.reassertsInARow++;
    this.send({ type: "session.update", session: restoring(owned, fields) });
  }

  /** Ends the call once: hangs up when the guard decided it, closes the sideband, finishes the budgets, logs. */
  private async end(reason: EndReason): Promise<void> {
    const r = this.record;
    if (r === null || r.endedAt !== null) return;
    const now = Date.now();
    this.save({ ...r, endedAt: now, endReason: reason });
    const ws = this.socket;
    this.socket = null;
    if (GUARD_HANGUPS.has(reason)) {
      try {
        await hangupCall(
          { baseUrl: r.baseUrl, apiKey: this.env.OPENAI_API_KEY, timeoutMs: r.timeoutMs },
          r.callId,
        );
      } catch (error) {
        // Already gone is what a hangup wants; anything else is logged (hangupCall has redacted it).
        if (!(error instanceof Problem && error.code === "call_not_found"))
          console.error(
            `call guard ${r.callId}: hangup failed: ${error instanceof Error ? error.message : String(error)}`,
          );
      }
    }
    try {
      ws?.close(1000, reason);
    } catch {
      // Already closed.
    }
    for (const name of [`client:${r.owner}`, ...(r.totalDailySeconds === null ? [] : ["total"])]) {
      try {
        await this.budget(name).finish(r.ticket);
      } catch (error) {
        console.error(`call guard ${r.callId}: budget finish failed: ${String(error)}`);
      }
    }
    const summary = this.summary(r.owner, true);
    console.log(
      JSON.stringify({
        event: "call.ended",
        call_id: r.callId,
        owner: r.owner,
        end_reason: reason,
        duration_s: summary?.duration_s,
        usage: summary?.usage,
        drift_events: r.driftCount,
        drift: summary?.drift,
        attaches: r.attaches,
      }),
    );
    await this.ctx.storage.setAlarm(now + RETAIN_MS);
  }
}

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => {
    if (timer !== undefined) clearTimeout(timer);
  });
}

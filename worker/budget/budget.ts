/**
 * One budget counter: a Durable Object per identity (`idFromName("client:" + identity.key)`) and one for the
 * deployment (`"total"`). Every method reads and writes storage synchronously (the SQLite-backed `kv` API) with no
 * `await` in between, so requests reaching one object run one after another: two concurrent reservations cannot
 * both take the last slot or the last seconds. Days are UTC days.
 *
 * Seconds are charged live: an active call counts `now − startedAt` against the day before it ends, so a new call
 * is refused while calls in progress already use up the budget, and `secondsLeft` falls as they run.
 */
import { DurableObject } from "cloudflare:workers";
import { addUsage, type Usage } from "../guard/usage.ts";

const DAY_MS = 86_400_000;
/** How long past its longest duration an unfinished reservation is kept. */
const STALE_GRACE_MS = 60_000;

/** A call counted by this budget: reserved before the upstream request, confirmed with its call id after. */
interface Active {
  startedAt: number;
  callId: string | null;
  /** When the entry is dropped if nobody finishes it (a guard that died): its longest possible call plus a minute. */
  staleAt: number;
}

interface State {
  /** UTC day number (`floor(ms / DAY_MS)`) the counters belong to. */
  day: number;
  usedSeconds: number;
  usage: Usage;
  active: Record<string, Active>;
}

/** Limits of one reservation. `null` = unlimited. */
export interface BudgetLimits {
  maxConcurrent: number | null;
  dailySeconds: number | null;
  /** The call's longest duration, seconds (bounds how long an unfinished reservation is held). */
  maxCallSeconds: number;
}

/** Answer of {@link Budget.reserve}. `retryAfter` is in whole seconds. */
export type Reservation =
  | { ok: true }
  | { ok: false; reason: "concurrency" | "daily"; retryAfter: number; detail: string };

/** What is left, for the call guard's budget deadline. */
export interface BudgetStatus {
  /** Seconds left today once live calls are counted; null = unlimited. */
  secondsLeft: number | null;
  /** Calls counted now (all of them drain `secondsLeft` together). */
  activeCalls: number;
  /** Seconds to the next UTC midnight. */
  resetIn: number;
}

export class Budget extends DurableObject<Env> {
  private load(now: number): State {
    const day = Math.floor(now / DAY_MS);
    const state = this.ctx.storage.kv.get<State>("state") ?? {
      day,
      usedSeconds: 0,
      usage: {},
      active: {},
    };
    if (state.day !== day) {
      // A new day: calls still running count from midnight on.
      state.day = day;
      state.usedSeconds = 0;
      state.usage = {};
      for (const entry of Object.values(state.active))
        entry.startedAt = Math.max(entry.startedAt, day * DAY_MS);
    }
    // Nobody finished it (no guard, or a guard that died): the call may have run its longest, so charge that.
    for (const [ticket, entry] of Object.entries(state.active))
      if (entry.staleAt <= now) {
        state.usedSeconds += Math.max(0, entry.staleAt - STALE_GRACE_MS - entry.startedAt) / 1000;
        delete state.active[ticket];
      }
    return state;
  }

  private save(state: State): void {
    this.ctx.storage.kv.put("state", state);
  }

  private liveSeconds(state: State, now: number): number {
    let live = 0;
    for (const entry of Object.values(state.active)) live += Math.max(0, now - entry.startedAt) / 1000;
    return live;
  }

  private status(state: State, now: number, dailySeconds: number | null): BudgetStatus {
    const used = state.usedSeconds + this.liveSeconds(state, now);
    return {
      secondsLeft: dailySeconds === null ? null : Math.max(0, dailySeconds - used),
      activeCalls: Object.keys(state.active).length,
      resetIn: Math.ceil(((state.day + 1) * DAY_MS - now) / 1000),
    };
  }

  /** Takes a slot for `ticket` if the limits allow one more call now. */
  reserve(ticket: string, limits: BudgetLimits): Reservation {
    const now = Date.now();
    const state = this.load(now);
    const status = this.status(state, now, limits.dailySeconds);
    if (status.secondsLeft !== null && status.secondsLeft < 1) {
      this.save(state);
      return {
        ok: false,
        reason: "daily",
        retryAfter: status.resetIn,
        detail: `The daily budget of ${limits.dailySeconds} call seconds is used up; it resets at 00:00 UTC`,
      };
    }
    if (limits.maxConcurrent !== null && status.activeCalls >= limits.maxConcurrent) {
      // The earliest moment a slot surely frees: the oldest call reaching its longest duration.
      const oldest = Math.min(...Object.values(state.active).map((entry) => entry.startedAt));
      const retryAfter = Math.max(1, Math.ceil((oldest + limits.maxCallSeconds * 1000 - now) / 1000));
      this.save(state);
      return {
        ok: false,
        reason: "concurrency",
        retryAfter,
        detail: `At most ${limits.maxConcurrent} calls at once per client`,
      };
    }
    state.active[ticket] = {
      startedAt: now,
      callId: null,
      staleAt: now + limits.maxCallSeconds * 1000 + STALE_GRACE_MS,
    };
    this.save(state);
    return { ok: true };
  }

  /** Attaches the upstream call id to a reservation (the call exists now). */
  confirm(ticket: string, callId: string): void {
    const state = this.load(Date.now());
    const entry = state.active[ticket];
    if (entry !== undefined) entry.callId = callId;
    this.save(state);
  }

  /** Drops a reservation without charging it (the upstream refused the call). */
  release(ticket: string): void {
    const state = this.load(Date.now());
    delete state.active[ticket];
    this.save(state);
  }

  /** Ends a call: charges its seconds (from its start, or midnight) to the day. Idempotent. */
  finish(ticket: string): void {
    const now = Date.now();
    const state = this.load(now);
    const entry = state.active[ticket];
    if (entry !== undefined) {
      state.usedSeconds += Math.max(0, now - entry.startedAt) / 1000;
      delete state.active[ticket];
    }
    this.save(state);
  }

  /** Adds one `response.done.usage` to today's tokens of this identity. */
  meter(usage: Usage): void {
    const state = this.load(Date.now());
    state.usage = addUsage(state.usage, usage);
    this.save(state);
  }

  /** What is left now under `dailySeconds`, and today's tokens. */
  check(dailySeconds: number | null): BudgetStatus & { usedSeconds: number; usage: Usage } {
    const now = Date.now();
    const state = this.load(now);
    this.save(state);
    return {
      ...this.status(state, now, dailySeconds),
      usedSeconds: state.usedSeconds + this.liveSeconds(state, now),
      usage: state.usage,
    };
  }
}

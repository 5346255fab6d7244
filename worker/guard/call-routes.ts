/**
 * The guard around `/v1/realtime/calls`:
 * - `POST /v1/realtime/calls`: reserves a budget slot for the caller (and the deployment) before anything goes
 *   upstream, 429 `budget_exhausted` with `Retry-After` when none is left; on 201 confirms it and starts the call's
 *   guard in `waitUntil` (the SDP answer is not delayed); on any other outcome releases it.
 * - `POST /v1/realtime/calls/{id}/hangup`: only the call's creator (or a client key); tells the guard why it ended.
 * - `GET /v1/realtime/calls/{id}`: the guard's summary (status, end_reason, duration, time left, usage, drift),
 *   to the creator or a client key; anyone else gets 404 `call_not_found`.
 */
import type { Context, MiddlewareHandler } from "hono";
import { Hono } from "hono/tiny";
import type { AppEnv } from "../app-env.ts";
import type { Budget, BudgetLimits } from "../budget/budget.ts";
import { CALL_ID } from "../openai.ts";
import { policyOf } from "../policy.ts";
import { Problem } from "../problem.ts";
import type { CallGuard } from "./call-guard.ts";

function budgetStub(env: Env, name: string): DurableObjectStub<Budget> {
  return env.BUDGETS.get(env.BUDGETS.idFromName(name));
}

function guardStub(env: Env, callId: string): DurableObjectStub<CallGuard> {
  return env.CALL_GUARDS.get(env.CALL_GUARDS.idFromName(callId));
}

function nextTurn(): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, 0));
}

/** Runs `work` after the response (`waitUntil`), or detached when there is no execution context (unit tests). */
function afterResponse(c: Context<AppEnv>, work: Promise<unknown>): void {
  const logged = work.catch((error: unknown) => {
    console.error(`call guard: ${error instanceof Error ? error.message : String(error)}`);
  });
  try {
    c.executionCtx.waitUntil(logged);
  } catch {
    // No ExecutionContext: the promise runs on its own.
  }
}

/** Middleware on `POST /v1/realtime/calls`: budgets before, the guard after. */
export function guardCalls(): MiddlewareHandler<AppEnv> {
  return async function guardCalls(c, next) {
    if (c.req.method !== "POST") return next();
    const config = c.var.guard;
    const owner = c.var.identity.key;
    const ticket = crypto.randomUUID();
    const limits: BudgetLimits = {
      maxConcurrent: config.maxConcurrentCallsPerClient,
      dailySeconds: config.dailyCallSecondsPerClient,
      maxCallSeconds: config.maxCallSeconds,
    };
    const reserved: Array<DurableObjectStub<Budget>> = [];
    const release = () => Promise.all(reserved.map((stub) => stub.release(ticket)));
    const budgets: Array<[string, BudgetLimits]> = [[`client:${owner}`, limits]];
    if (config.dailyCallSecondsTotal !== null)
      budgets.push([
        "total",
        {
          maxConcurrent: null,
          dailySeconds: config.dailyCallSecondsTotal,
          maxCallSeconds: config.maxCallSeconds,
        },
      ]);
    for (const [name, limit] of budgets) {
      const stub = budgetStub(c.env, name);
      const answer = await stub.reserve(ticket, limit);
      if (!answer.ok) {
        await release();
        throw new Problem("budget_exhausted", {
          detail: name === "total" ? "The deployment's daily call budget is used up" : answer.detail,
          headers: { "Retry-After": String(answer.retryAfter) },
        });
      }
      reserved.push(stub);
    }

    try {
      await next();
    } catch (error) {
      await release();
      throw error;
    }
    const callId = /\/calls\/([^/?#]+)$/.exec(c.res.headers.get("Location") ?? "")?.[1];
    const session = c.var.callSession;
    if (c.res.status !== 201 || callId === undefined || session === undefined) {
      await release();
      return;
    }
    await Promise.all(reserved.map((stub) => stub.confirm(ticket, callId)));
    if (!config.callGuard) return;
    const stub = guardStub(c.env, callId);
    afterResponse(
      c,
      // A turn of the event loop first: the answer leaves before the guard's object is created (a new Durable
      // Object sets up its storage, which measured ~20 ms on the response's path when called inline).
      nextTurn().then(() =>
        stub.start({
          callId,
          owner,
          ticket,
          session,
          policy: policyOf(c.var.config),
          baseUrl: c.var.config.openaiBaseUrl,
          timeoutMs: c.var.config.upstreamTimeoutMs,
          maxCallSeconds: config.maxCallSeconds,
          idleHangupSeconds: config.idleHangupSeconds,
          onSessionDrift: config.onSessionDrift,
          dailySeconds: config.dailyCallSecondsPerClient,
          totalDailySeconds: config.dailyCallSecondsTotal,
        }),
      ),
    );
  };
}

/** Middleware on `POST /v1/realtime/calls/{id}/hangup`: the creator only; the guard learns the reason. */
export function guardHangup(): MiddlewareHandler<AppEnv> {
  return async function guardHangup(c, next) {
    const id = c.req.param("id") ?? "";
    if (c.req.method !== "POST" || !CALL_ID.test(id) || !c.var.guard.callGuard) return next();
    const guard = guardStub(c.env, id);
    const mine = await guard.ownedBy(c.var.identity.key);
    // A call this guard never saw (started elsewhere) keeps the plain hangup; someone else's call does not exist.
    if (mine === false && c.var.identity.kind !== "key") throw new Problem("call_not_found");
    await next();
    if (c.res.status === 204 && mine !== null) await guard.hungUp();
  };
}

/** `GET /v1/realtime/calls/{id}`: the guard's summary of a call. */
export const callStatus = new Hono<AppEnv>().get("/:id", async (c) => {
  const id = c.req.param("id");
  if (!CALL_ID.test(id))
    throw new Problem("invalid_call_id", {
      errors: [{ pointer: "/path/id", detail: "Expected a call id rtc_…" }],
    });
  const summary = c.var.guard.callGuard
    ? await guardStub(c.env, id).summary(c.var.identity.key, c.var.identity.kind === "key")
    : null;
  if (summary === null) throw new Problem("call_not_found");
  return c.json(summary, 200, { "Cache-Control": "no-store" });
});

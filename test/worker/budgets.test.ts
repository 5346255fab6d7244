import { env } from "cloudflare:workers";
import { sign } from "hono/jwt";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { FakeSideband } from "./fake-sideband.ts";
import { OFFER, send } from "./harness.ts";

const SECRET = "budget-test-secret-0123456789";
let sideband: FakeSideband;

beforeEach(() => {
  // Live sidebands keep the calls alive (a refused attach would end them and free their slots).
  sideband = new FakeSideband();
  sideband.install();
  vi.spyOn(console, "log").mockImplementation(() => {});
  vi.spyOn(console, "error").mockImplementation(() => {});
});
afterEach(() => {
  vi.restoreAllMocks();
});

async function tokenFor(sub: string): Promise<string> {
  return sign({ sub, exp: Math.floor(Date.now() / 1000) + 300 }, SECRET, "HS256");
}

async function call(sub: string, vars: Record<string, string>, scenario?: string) {
  return send(
    "/v1/realtime/calls",
    {
      body: OFFER,
      headers: { "Content-Type": "application/sdp", Authorization: `Bearer ${await tokenFor(sub)}` },
    },
    { vars: { AUTH_JWT_SECRET: SECRET, ...vars }, ...(scenario === undefined ? {} : { scenario }) },
  );
}

describe("budgets", () => {
  it("MAX_CONCURRENT_CALLS_PER_CLIENT across concurrent requests: exactly the limit passes, the rest are 429 before any upstream call", async () => {
    const vars = { MAX_CONCURRENT_CALLS_PER_CLIENT: "2" };
    const sent = await Promise.all(Array.from({ length: 8 }, () => call("carol", vars)));
    const statuses = sent.map(({ res }) => res.status).sort();
    expect(statuses).toEqual([201, 201, 429, 429, 429, 429, 429, 429]);
    for (const { res, upstream } of sent.filter(({ res }) => res.status === 429)) {
      const body = (await res.json()) as { code: string; detail: string };
      expect(body.code).toBe("budget_exhausted");
      expect(body.detail).toContain("2 calls at once");
      const retry = Number(res.headers.get("Retry-After"));
      expect(retry).toBeGreaterThan(590);
      expect(retry).toBeLessThanOrEqual(600);
      expect(await upstream()).toEqual([]);
    }
    // Another identity has its own budget.
    expect((await call("dave", vars)).res.status).toBe(201);
  });

  it("the budget object never double-spends: 50 concurrent reservations, 3 slots", async () => {
    const budget = env.BUDGETS.get(env.BUDGETS.idFromName("client:sub:race"));
    const answers = await Promise.all(
      Array.from({ length: 50 }, () =>
        budget.reserve(crypto.randomUUID(), { maxConcurrent: 3, dailySeconds: 1_800, maxCallSeconds: 600 }),
      ),
    );
    expect(answers.filter((answer) => answer.ok)).toHaveLength(3);
    expect((await budget.check(1_800)).activeCalls).toBe(3);
  });

  it("an upstream failure releases the slot", async () => {
    const vars = { MAX_CONCURRENT_CALLS_PER_CLIENT: "1" };
    for (let i = 0; i < 3; i++) expect((await call("erin", vars, "status-500")).res.status).toBe(502);
    expect((await call("erin", vars)).res.status).toBe(201);
    expect((await call("erin", vars)).res.status).toBe(429);
  });

  it("DAILY_CALL_SECONDS_PER_CLIENT counts live seconds; exhausted → 429 with Retry-After to 00:00 UTC", async () => {
    const vars = { DAILY_CALL_SECONDS_PER_CLIENT: "1", MAX_CONCURRENT_CALLS_PER_CLIENT: "5" };
    expect((await call("frank", vars)).res.status).toBe(201);
    await new Promise((resolve) => setTimeout(resolve, 1_100));
    const { res } = await call("frank", vars);
    expect(res.status).toBe(429);
    const body = (await res.json()) as { code: string; detail: string };
    expect(body.detail).toContain("daily budget");
    const midnight = Math.ceil((Math.floor(Date.now() / 86_400_000 + 1) * 86_400_000 - Date.now()) / 1000);
    expect(Math.abs(Number(res.headers.get("Retry-After")) - midnight)).toBeLessThanOrEqual(2);
  });

  it("DAILY_CALL_SECONDS_TOTAL caps the whole deployment", async () => {
    const vars = { DAILY_CALL_SECONDS_TOTAL: "1", MAX_CONCURRENT_CALLS_PER_CLIENT: "5" };
    expect((await call("gina", vars)).res.status).toBe(201);
    await new Promise((resolve) => setTimeout(resolve, 1_100));
    const { res } = await call("hank", vars);
    expect(res.status).toBe(429);
    expect(((await res.json()) as { detail: string }).detail).toContain("deployment");
  });

  it("CALL_GUARD=off: no guard dials, the call keeps its slot, and it has no summary", async () => {
    const vars = { CALL_GUARD: "off", MAX_CONCURRENT_CALLS_PER_CLIENT: "1" };
    const first = await call("ivan", vars);
    expect(first.res.status).toBe(201);
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(sideband.dials).toEqual([]);
    expect((await call("ivan", vars)).res.status).toBe(429);
    const id = (first.res.headers.get("Location") ?? "").split("/").pop() as string;
    const summary = await send(
      `/v1/realtime/calls/${id}`,
      { method: "GET", headers: { Authorization: `Bearer ${await tokenFor("ivan")}` } },
      { vars: { AUTH_JWT_SECRET: SECRET, ...vars } },
    );
    expect(summary.res.status).toBe(404);
  });
});

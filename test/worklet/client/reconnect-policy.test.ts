import { describe, expect, it } from "vitest";
import {
  backoffSchedule,
  MAX_BACKOFF_MS,
  serverEndReason,
} from "../../../worklet/client/reconnect-policy.ts";

describe("reconnect policy", () => {
  it("doubles from the grace period and caps at 8 s, one wait per attempt", () => {
    expect(backoffSchedule({ attempts: 6, graceMs: 500, rotateAfterMs: 0 })).toEqual([
      500, 1000, 2000, 4000, 8000, 8000,
    ]);
    expect(backoffSchedule({ attempts: 0, graceMs: 500, rotateAfterMs: 0 })).toEqual([]);
    expect(Math.max(...backoffSchedule({ attempts: 20, graceMs: 3000, rotateAfterMs: 0 }))).toBe(
      MAX_BACKOFF_MS,
    );
  });

  it("closes only on a call the server says it ended, for a known reason", () => {
    for (const reason of ["max_duration", "idle", "policy", "budget", "hangup"]) {
      expect(serverEndReason({ status: "ended", end_reason: reason })).toBe(reason);
    }
    expect(serverEndReason({ status: "active" })).toBeNull();
    expect(serverEndReason({ status: "ended", end_reason: "weather" })).toBeNull();
    expect(serverEndReason(null)).toBeNull();
    expect(serverEndReason("ended")).toBeNull();
  });
});

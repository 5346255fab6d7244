import { exports } from "cloudflare:workers";
import { expect, it } from "vitest";
import * as main from "../../worker/index.ts";

it("answers /healthz", async () => {
  const res = await exports.default.fetch("https://edge.test/healthz");
  expect(res.status).toBe(200);
  expect(await res.json()).toEqual({ ok: true });
});

it("the main module exports its handler and its Durable Objects (workerd refuses to start on any other export)", () => {
  expect(Object.keys(main).sort()).toEqual(["Budget", "CallGuard", "default"]);
});

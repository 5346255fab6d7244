/**
 * Drives the worker in workerd with the fake OpenAI behind miniflare's `outboundService`
 * (test/fixtures/fake-openai.ts). Each call gets its own upstream run (to read back exactly the upstream
 * requests it caused) and its own client IP (so the rate limiter only bites where a test wants it to).
 */
import { env } from "cloudflare:workers";
import type { GuardVars } from "../../worker/guard/guard-config.ts";
import app from "../../worker/index.ts";
import { type CapturedRequest, WORKER_CLIENT_KEY } from "../fixtures/fake-openai.ts";

export const ORIGIN = "https://edge.test";

export interface SendOptions {
  /** Fake upstream scenario: ok, timeout, status-NNN, garbage, invalid-offer. */
  scenario?: string;
  /** Variables overriding wrangler.toml's for this request. */
  vars?: Partial<Record<keyof Env | keyof GuardVars, string>>;
  /** CF-Connecting-IP; a fresh one per request unless given. */
  ip?: string;
  /** Scheme of the upstream base URL (the local peer under `wrangler dev` is plain http). */
  scheme?: "http" | "https";
  /** Send no credentials: without it, a request with neither Origin nor Authorization carries the test client key. */
  anonymous?: boolean;
}

export interface Sent {
  res: Response;
  /** The upstream requests this call caused, in order. */
  upstream: () => Promise<CapturedRequest[]>;
}

let ipCounter = 0;

/** Sends `init` to `path` on the worker; `json` sets a JSON body and content type. */
export async function send(
  path: string,
  init: RequestInit & { json?: unknown } = {},
  options: SendOptions = {},
): Promise<Sent> {
  const run = crypto.randomUUID();
  const base = `${options.scheme ?? "https"}://openai.test/${run}/${options.scenario ?? "ok"}/v1`;
  const headers = new Headers(init.headers);
  ipCounter++;
  headers.set(
    "CF-Connecting-IP",
    options.ip ?? `10.${(ipCounter >> 16) & 255}.${(ipCounter >> 8) & 255}.${ipCounter & 255}`,
  );
  if (!options.anonymous && !headers.has("Origin") && !headers.has("Authorization"))
    headers.set("Authorization", `Bearer ${WORKER_CLIENT_KEY}`);
  let body = init.body;
  if ("json" in init) {
    body = JSON.stringify(init.json);
    if (!headers.has("Content-Type")) headers.set("Content-Type", "application/json");
  }
  const request = new Request(`${ORIGIN}${path}`, { method: init.method ?? "POST", headers, body });
  const res = await app.fetch(request, { ...env, OPENAI_BASE_URL: base, ...options.vars });
  return {
    res,
    upstream: async () =>
      (await (await fetch(`https://openai.test/${run}/__requests`)).json()) as CapturedRequest[],
  };
}

/** Sends a JSON body with POST. */
export function postJson(path: string, json: unknown, options?: SendOptions): Promise<Sent> {
  return send(path, { json }, options);
}

export { OFFER } from "../fixtures/sample-offer.ts";

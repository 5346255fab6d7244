import { sign } from "hono/jwt";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { OFFER, ORIGIN, send } from "./harness.ts";

const mint = "/v1/realtime/client_secrets";
const SECRET = "jwt-test-secret-0123456789abcdef";
const now = () => Math.floor(Date.now() / 1000);

interface ProblemJson {
  code: string;
  detail?: string;
}

async function expectCode(res: Response, status: number, code: string): Promise<ProblemJson> {
  expect(res.status).toBe(status);
  const body = (await res.json()) as ProblemJson;
  expect(body.code).toBe(code);
  return body;
}

function bearer(token: string): Record<string, string> {
  return { Authorization: `Bearer ${token}` };
}

const realFetch = globalThis.fetch;
/** Fake services reached by the worker (siteverify, a JWKS endpoint); everything else goes to the fake OpenAI. */
let services: Map<string, (request: Request) => Promise<Response> | Response>;

beforeEach(() => {
  services = new Map();
  vi.spyOn(console, "error").mockImplementation(() => {});
  vi.spyOn(globalThis, "fetch").mockImplementation(async (input, init) => {
    const request = new Request(input, init);
    const service = services.get(new URL(request.url).origin + new URL(request.url).pathname);
    return service === undefined ? realFetch(request) : service(request);
  });
});
afterEach(() => {
  vi.restoreAllMocks();
});

describe("authentication", () => {
  it("401 authentication_required for a request with neither Origin nor bearer, before any upstream call", async () => {
    const { res, upstream } = await send(mint, { json: {} }, { anonymous: true });
    const body = await expectCode(res, 401, "authentication_required");
    expect(body.detail).toContain("ALLOWED_ORIGINS");
    expect(res.headers.get("WWW-Authenticate")).toContain("Bearer");
    expect(await upstream()).toEqual([]);
    const call = await send(
      "/v1/realtime/calls",
      { body: OFFER, headers: { "Content-Type": "application/sdp" } },
      { anonymous: true },
    );
    await expectCode(call.res, 401, "authentication_required");
    expect(await call.upstream()).toEqual([]);
  });

  it("client keys: a listed key passes, another key or a malformed header is 401", async () => {
    const vars = { CLIENT_API_KEYS: "ck-one, ck-two" };
    expect((await send(mint, { json: {}, headers: bearer("ck-two") }, { vars })).res.status).toBe(200);
    await expectCode(
      (await send(mint, { json: {}, headers: bearer("ck-three") }, { vars })).res,
      401,
      "authentication_required",
    );
    await expectCode(
      (await send(mint, { json: {}, headers: { Authorization: "Basic Y2s6b25l" } }, { vars })).res,
      401,
      "authentication_required",
    );
    // An invalid bearer is refused even from an allowed origin.
    await expectCode(
      (await send(mint, { json: {}, headers: { ...bearer("ck-three"), Origin: ORIGIN } }, { vars })).res,
      401,
      "authentication_required",
    );
  });

  it("an ek_ client secret as the bearer of a call is 401 naming what to send instead, without the secret", async () => {
    const secret = "ek_68af0b2c1d3e4f5a6b7c8d9e";
    const call = await send(
      "/v1/realtime/calls",
      { body: OFFER, headers: { ...bearer(secret), Origin: ORIGIN, "Content-Type": "application/sdp" } },
      { vars: { AUTH_JWT_SECRET: SECRET } },
    );
    const body = await expectCode(call.res, 401, "authentication_required");
    expect(body.detail).toContain("JWT");
    expect(JSON.stringify(body)).not.toContain(secret.slice(3));
    expect(await call.upstream()).toEqual([]);
  });

  describe("JWT (HS256, AUTH_JWT_SECRET)", () => {
    const vars = { AUTH_JWT_SECRET: SECRET, AUTH_JWT_AUDIENCE: "realtime-edge" };

    it("valid: sub and aud match, not expired", async () => {
      const token = await sign({ sub: "alice", aud: "realtime-edge", exp: now() + 60 }, SECRET, "HS256");
      const { res } = await send(mint, { json: {}, headers: bearer(token) }, { vars });
      expect(res.status).toBe(200);
    });

    it.each([
      ["expired", { sub: "alice", aud: "realtime-edge", exp: now() - 5 }, SECRET, "JwtTokenExpired"],
      ["wrong audience", { sub: "alice", aud: "another-app", exp: now() + 60 }, SECRET, "Audience"],
      [
        "forged (other secret)",
        { sub: "alice", aud: "realtime-edge", exp: now() + 60 },
        "not-the-secret-at-all",
        "Signature",
      ],
      ["no exp", { sub: "alice", aud: "realtime-edge" }, SECRET, "exp"],
      ["no sub", { aud: "realtime-edge", exp: now() + 60 }, SECRET, "sub"],
    ])("401 when %s", async (_name, payload, key, mention) => {
      const token = await sign(payload, key, "HS256");
      const { res, upstream } = await send(mint, { json: {}, headers: bearer(token) }, { vars });
      const body = await expectCode(res, 401, "authentication_required");
      expect(body.detail).toContain(mention);
      expect(await upstream()).toEqual([]);
    });

    it("alg none is refused", async () => {
      const b64 = (value: unknown) =>
        btoa(JSON.stringify(value)).replace(/=+$/, "").replace(/\+/g, "-").replace(/\//g, "_");
      const token = `${b64({ alg: "none", typ: "JWT" })}.${b64({ sub: "mallory", aud: "realtime-edge", exp: now() + 60 })}.`;
      await expectCode(
        (await send(mint, { json: {}, headers: bearer(token) }, { vars })).res,
        401,
        "authentication_required",
      );
    });
  });

  it("JWT from AUTH_JWKS_URL (RS256): the right key passes, another key pair is refused", async () => {
    const pair = (await crypto.subtle.generateKey(
      {
        name: "RSASSA-PKCS1-v1_5",
        modulusLength: 2048,
        publicExponent: new Uint8Array([1, 0, 1]),
        hash: "SHA-256",
      },
      true,
      ["sign", "verify"],
    )) as CryptoKeyPair;
    const other = (await crypto.subtle.generateKey(
      {
        name: "RSASSA-PKCS1-v1_5",
        modulusLength: 2048,
        publicExponent: new Uint8Array([1, 0, 1]),
        hash: "SHA-256",
      },
      true,
      ["sign", "verify"],
    )) as CryptoKeyPair;
    const jwk = (await crypto.subtle.exportKey("jwk", pair.publicKey)) as JsonWebKey;
    services.set("https://site.test/.well-known/jwks.json", () =>
      Response.json({ keys: [{ ...jwk, kid: "k1", alg: "RS256", use: "sig" }] }),
    );
    const vars = { AUTH_JWKS_URL: "https://site.test/.well-known/jwks.json" };
    const header = { alg: "RS256", typ: "JWT", kid: "k1" } as const;
    // Signed by hand: hono's sign() puts no kid in the header, and the JWKS lookup needs one.
    const withKid = async (key: CryptoKey) => {
      const enc = (value: unknown) =>
        btoa(JSON.stringify(value)).replace(/=+$/, "").replace(/\+/g, "-").replace(/\//g, "_");
      const body = `${enc(header)}.${enc({ sub: "bob", exp: now() + 60 })}`;
      const signature = new Uint8Array(
        await crypto.subtle.sign("RSASSA-PKCS1-v1_5", key, new TextEncoder().encode(body)),
      );
      return `${body}.${btoa(String.fromCharCode(...signature))
        .replace(/=+$/, "")
        .replace(/\+/g, "-")
        .replace(/\//g, "_")}`;
    };
    expect(
      (await send(mint, { json: {}, headers: bearer(await withKid(pair.privateKey)) }, { vars })).res.status,
    ).toBe(200);
    await expectCode(
      (await send(mint, { json: {}, headers: bearer(await withKid(other.privateKey)) }, { vars })).res,
      401,
      "authentication_required",
    );
  });

  describe("Turnstile (TURNSTILE_SECRET_KEY) against a fake siteverify", () => {
    const VERIFY = "https://turnstile.test/siteverify";
    const vars = {
      TURNSTILE_SECRET_KEY: "0x-test-secret",
      TURNSTILE_VERIFY_URL: VERIFY,
      BROWSER_CLIENT_SECRETS: "allow",
    };
    const used = new Set<string>();
    const seen: Array<Record<string, string>> = [];
    beforeEach(() => {
      // Tokens: "ok-<hostname>-<n>" solved on <hostname>; each is good once, like Cloudflare's.
      services.set(VERIFY, async (request) => {
        const form = Object.fromEntries((await request.formData()) as unknown as Iterable<[string, string]>);
        seen.push(form);
        const token = form.response ?? "";
        if (form.secret !== "0x-test-secret")
          return Response.json({ success: false, "error-codes": ["invalid-input-secret"] });
        const hostname = /^ok-(.+)-\d+$/.exec(token)?.[1];
        if (hostname === undefined)
          return Response.json({ success: false, "error-codes": ["invalid-input-response"] });
        if (used.has(token))
          return Response.json({ success: false, "error-codes": ["timeout-or-duplicate"] });
        used.add(token);
        return Response.json({ success: true, hostname, challenge_ts: new Date().toISOString() });
      });
    });

    it("valid once; reused, missing or solved on another hostname is 401; the secret and client IP go to siteverify", async () => {
      const headers = { Origin: ORIGIN, "CF-Turnstile-Response": "ok-edge.test-1" };
      const first = await send(mint, { json: {}, headers }, { vars, ip: "198.51.100.9" });
      expect(first.res.status).toBe(200);
      expect(seen.at(-1)).toMatchObject({
        secret: "0x-test-secret",
        response: "ok-edge.test-1",
        remoteip: "198.51.100.9",
      });

      const reused = await send(mint, { json: {}, headers }, { vars });
      expect((await expectCode(reused.res, 401, "authentication_required")).detail).toContain(
        "timeout-or-duplicate",
      );
      expect(await reused.upstream()).toEqual([]);

      const elsewhere = await send(
        mint,
        { json: {}, headers: { Origin: ORIGIN, "CF-Turnstile-Response": "ok-evil.example-2" } },
        { vars },
      );
      expect((await expectCode(elsewhere.res, 401, "authentication_required")).detail).toContain(
        "hostname_mismatch",
      );

      const missing = await send(mint, { json: {}, headers: { Origin: ORIGIN } }, { vars });
      await expectCode(missing.res, 401, "authentication_required");

      const call = await send(
        "/v1/realtime/calls",
        {
          body: OFFER,
          headers: {
            Origin: ORIGIN,
            "Content-Type": "application/sdp",
            "CF-Turnstile-Response": "ok-edge.test-3",
          },
        },
        { vars },
      );
      expect(call.res.status).toBe(201);
    });

    it("a bearer caller needs no Turnstile token", async () => {
      const { res } = await send(mint, { json: {} }, { vars });
      expect(res.status).toBe(200);
    });

    it("an unreachable siteverify refuses (fails closed)", async () => {
      const { res } = await send(
        mint,
        { json: {}, headers: { Origin: ORIGIN, "CF-Turnstile-Response": "ok-edge.test-9" } },
        { vars: { ...vars, TURNSTILE_VERIFY_URL: "https://down.test/siteverify" } },
      );
      expect((await expectCode(res, 401, "authentication_required")).detail).toContain(
        "siteverify_unreachable",
      );
    });
  });

  it("BROWSER_CLIENT_SECRETS=deny (default): a browser may not mint, a bearer caller may, calls are unaffected", async () => {
    const browser = await send(mint, { json: {}, headers: { Origin: ORIGIN } });
    await expectCode(browser.res, 403, "browser_minting_disabled");
    expect(await browser.upstream()).toEqual([]);
    const legacy = await send("/v1/realtime/sessions", { json: {}, headers: { Origin: ORIGIN } });
    await expectCode(legacy.res, 403, "browser_minting_disabled");
    expect((await send(mint, { json: {} })).res.status).toBe(200);
    const call = await send("/v1/realtime/calls", {
      body: OFFER,
      headers: { Origin: ORIGIN, "Content-Type": "application/sdp" },
    });
    expect(call.res.status).toBe(201);
  });

  it("a malformed variable is 500 server_misconfigured", async () => {
    const { res } = await send(mint, { json: {} }, { vars: { MAX_CALL_SECONDS: "ten" } });
    await expectCode(res, 500, "server_misconfigured");
  });
});

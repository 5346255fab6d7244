/**
 * The local realtime peer: an HTTP server on 127.0.0.1 that answers like OpenAI's realtime endpoints
 * (`openai-api.ts`), plus recordings and an inspection API (`inspection-api.ts`), both Hono apps behind a small
 * Node bridge (`node-bridge.ts`), and OpenAI's sideband WebSocket (`sideband.ts`) on the same port. See
 * `README.md` in this folder for the routes.
 */
import { randomBytes } from "node:crypto";
import type { AddressInfo } from "node:net";
import { resolve } from "node:path";
import { Hono } from "hono";
import { bodyLimit } from "hono/body-limit";
import { cors } from "hono/cors";
import type { Call } from "./call.ts";
import { ClientSecretStore } from "./client-secret-store.ts";
import { inspectionApi } from "./inspection-api.ts";
import { createFetchServer } from "./node-bridge.ts";
import { openaiApi } from "./openai-api.ts";
import type { PeerContext } from "./peer-context.ts";
import { RealtimeHttpError } from "./realtime-error.ts";
import { Recorder } from "./recorder.ts";
import { acceptSidebands } from "./sideband.ts";
import { createSpeechEngines, describingEngines, type SpeechEngines } from "./speech-engines.ts";

export interface LocalPeerOptions {
  /** TCP port; 0 (default) picks a free one. The server binds 127.0.0.1 only. */
  port?: number;
  /** Server key clients must present as `Authorization: Bearer <apiKey>`; random `sk-local-…` by default. */
  apiKey?: string;
  /** Folder for WAV recordings; default `<project>/recordings`. Created when missing. */
  recordings?: string;
  /** Clock in unix milliseconds (client secret expiry); injectable for tests. */
  now?: () => number;
  /**
   * Speech engines; default PocketSphinx + Flite + the built-in assistant (`createSpeechEngines()`), or
   * `"describe"` for the engine-free stand-in (no words: transcripts describe the audio, the voice echoes it).
   */
  speech?: SpeechEngines | "describe";
}

export interface LocalPeer {
  /** `http://127.0.0.1:<port>`; OpenAI's base URL equivalent is `${url}/v1`. */
  url: string;
  apiKey: string;
  recordings: string;
  /** Every call of this process by id (live and ended). */
  calls: ReadonlyMap<string, Call>;
  /** Ends every live call (writing its recordings) and stops the server. */
  close(): Promise<void>;
}

/** Largest request body accepted (an SDP offer is a few KB; a session a few KB more). */
const MAX_BODY_BYTES = 1024 * 1024;

/** Routes and the methods they take, for 405 answers. */
const ROUTES: Record<string, string> = {
  "/health": "GET",
  "/healthz": "GET",
  "/v1/realtime/client_secrets": "POST",
  "/v1/realtime/calls": "POST",
  "/v1/realtime/calls/:id/hangup": "POST",
  "/recordings": "GET",
  "/recordings/": "GET",
  "/recordings/:file": "GET",
  "/debug/calls": "GET",
  "/debug/calls/:id": "GET",
  "/debug/calls/:id/events": "GET",
  "/debug/calls/:id/server-events": "GET",
  "/debug/calls/:id/control": "POST",
};

/** The peer's whole HTTP surface: CORS, body limit, both apps, 404/405 and one error renderer. */
export function peerApp(context: PeerContext): Hono {
  const app = new Hono();
  // Like the worker, echo whatever headers a page asks for (`X-OpenAI-Agents-SDK`, `OpenAI-Beta`, …): the peer is a
  // development stand-in for api.openai.com, which also answers any origin.
  app.use(
    cors({ origin: "*", allowMethods: ["GET", "POST", "OPTIONS"], exposeHeaders: ["Location"], maxAge: 600 }),
  );
  app.use(
    bodyLimit({
      maxSize: MAX_BODY_BYTES,
      onError: () => {
        throw new RealtimeHttpError(
          413,
          "request_too_large",
          `The request body exceeds ${MAX_BODY_BYTES} bytes.`,
        );
      },
    }),
  );
  app.route("/", openaiApi(context));
  app.route("/", inspectionApi(context));
  for (const [path, method] of Object.entries(ROUTES))
    app.all(path, (c) => {
      throw new RealtimeHttpError(
        405,
        "method_not_allowed",
        `Method ${c.req.method} is not allowed here; use ${method}.`,
      );
    });
  app.notFound((c) => {
    throw new RealtimeHttpError(404, "not_found", `Unknown route: ${c.req.method} ${c.req.path}`);
  });
  app.onError((error, c) => {
    if (!(error instanceof RealtimeHttpError)) console.error("[local-peer]", error);
    const failure =
      error instanceof RealtimeHttpError
        ? error
        : new RealtimeHttpError(500, "internal_error", "The local peer failed to handle the request.", {
            type: "server_error",
          });
    return c.json({ error: failure.body }, failure.status as 400, { "cache-control": "no-store" });
  });
  return app;
}

/** Starts the peer; resolves once it listens. */
export async function startLocalPeer(options: LocalPeerOptions = {}): Promise<LocalPeer> {
  const now = options.now ?? Date.now;
  const engines =
    options.speech === "describe" ? describingEngines() : (options.speech ?? createSpeechEngines());
  const context: PeerContext = {
    apiKey: options.apiKey ?? `sk-local-${randomBytes(18).toString("base64url")}`,
    calls: new Map(),
    secrets: new ClientSecretStore(now),
    recorder: new Recorder(options.recordings ?? resolve(import.meta.dirname, "../../recordings")),
    now,
    engines,
  };
  const server = createFetchServer(peerApp(context).fetch);
  const sidebands = acceptSidebands(server, context);
  await new Promise<void>((resolveListen, reject) => {
    server.once("error", reject);
    server.listen(options.port ?? 0, "127.0.0.1", () => resolveListen());
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    apiKey: context.apiKey,
    recordings: context.recorder.directory,
    calls: context.calls,
    async close() {
      for (const call of context.calls.values()) call.end("server_closed");
      sidebands.close();
      server.closeAllConnections();
      await new Promise<void>((done) => server.close(() => done()));
      if (options.speech === undefined) await engines.close?.();
    },
  };
}

/**
 * The local realtime peer: an HTTP server on 127.0.0.1 that answers like OpenAI's realtime endpoints, plus
 * recordings and an inspection API. See `README.md` in this folder for the routes.
 */
import { randomBytes } from "node:crypto";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { resolve } from "node:path";
import * as v from "valibot";
import { ClientSecretRequest, RealtimeSession } from "../../worker/schema/session.ts";
import { Call } from "./call.ts";
import { ClientSecretStore } from "./client-secret-store.ts";
import { newId } from "./ids.ts";
import { describeIssues, RealtimeHttpError } from "./realtime-error.ts";
import { parseRecordingName, Recorder } from "./recorder.ts";
import { inspectOffer } from "./sdp-offer.ts";
import { defaultSession, type EffectiveSession, mergeSession } from "./session-config.ts";
import { encodeWav } from "./wav.ts";

export interface LocalPeerOptions {
  /** TCP port; 0 (default) picks a free one. The server binds 127.0.0.1 only. */
  port?: number;
  /** Server key clients must present as `Authorization: Bearer <apiKey>`; random `sk-local-…` by default. */
  apiKey?: string;
  /** Folder for WAV recordings; default `<project>/recordings`. Created when missing. */
  recordings?: string;
  /** Clock in unix milliseconds (client secret expiry); injectable for tests. */
  now?: () => number;
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
const DEFAULT_SECRET_TTL_S = 600;
const CORS_HEADERS = {
  "access-control-allow-origin": "*",
  "access-control-allow-methods": "GET, POST, OPTIONS",
  "access-control-allow-headers": "authorization, content-type",
  "access-control-expose-headers": "location",
  "access-control-max-age": "600",
};

/** Starts the peer; resolves once it listens. */
export async function startLocalPeer(options: LocalPeerOptions = {}): Promise<LocalPeer> {
  const apiKey = options.apiKey ?? `sk-local-${randomBytes(18).toString("base64url")}`;
  const recorder = new Recorder(options.recordings ?? resolve(import.meta.dirname, "../../recordings"));
  const now = options.now ?? Date.now;
  const secrets = new ClientSecretStore(now);
  const calls = new Map<string, Call>();

  const server = createServer((request, response) => {
    route(request, response).catch((error: unknown) => {
      const failure =
        error instanceof RealtimeHttpError
          ? error
          : new RealtimeHttpError(500, "internal_error", "The local peer failed to handle the request.", {
              type: "server_error",
            });
      if (!(error instanceof RealtimeHttpError)) console.error("[local-peer]", error);
      if (!response.headersSent) sendJson(response, failure.status, { error: failure.body });
      else response.end();
    });
  });

  async function route(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const url = new URL(request.url ?? "/", "http://127.0.0.1");
    const path = url.pathname;
    const method = request.method ?? "GET";
    if (method === "OPTIONS") {
      response.writeHead(204, CORS_HEADERS).end();
      return;
    }
    if (path === "/health" || path === "/healthz") {
      allow(method, ["GET"]);
      const live = [...calls.values()].filter((call) => call.endedAt === null).length;
      sendJson(response, 200, { status: "ok", calls: calls.size, live_calls: live });
      return;
    }
    if (path === "/v1/realtime/client_secrets") {
      allow(method, ["POST"]);
      requireServerKey(request);
      const body = v.safeParse(ClientSecretRequest, await readJson(request));
      if (!body.success) throw invalid(body.issues);
      const ttl = body.output.expires_after?.seconds ?? DEFAULT_SECRET_TTL_S;
      const secret = secrets.issue(ttl, body.output.session as Record<string, unknown> | undefined);
      const session = effectiveSession(secret.session, secret.expiresAt);
      sendJson(response, 200, { value: secret.value, expires_at: secret.expiresAt, session });
      return;
    }
    if (path === "/v1/realtime/calls") {
      allow(method, ["POST"]);
      await createCall(request, response);
      return;
    }
    const hangup = /^\/v1\/realtime\/calls\/([^/]+)\/hangup$/.exec(path);
    if (hangup) {
      allow(method, ["POST"]);
      requireServerKey(request);
      const call = findCall(hangup[1] ?? "");
      call.end("hangup");
      sendJson(response, 200, {});
      return;
    }
    if (path === "/recordings" || path === "/recordings/") {
      allow(method, ["GET"]);
      const files = recorder.list().map((entry) => ({ ...entry, url: `/recordings/${entry.file}` }));
      const live = [...calls.values()]
        .filter((call) => call.endedAt === null)
        .map((call) => ({
          call_id: call.id,
          url: `/recordings/${call.id}.wav`,
          samples: call.session.input.length,
        }));
      sendJson(response, 200, { sample_rate: 24_000, recordings: files, live }, true);
      return;
    }
    const recording = /^\/recordings\/([^/]+)$/.exec(path);
    if (recording) {
      allow(method, ["GET"]);
      const file = recording[1] ?? "";
      const bytes = liveRecording(file) ?? recorder.read(file);
      if (!bytes) throw new RealtimeHttpError(404, "recording_not_found", `No recording named '${file}'.`);
      response.writeHead(200, {
        ...CORS_HEADERS,
        "content-type": "audio/wav",
        "content-length": bytes.length,
        "cache-control": "no-store",
      });
      response.end(bytes);
      return;
    }
    if (path === "/debug/calls") {
      allow(method, ["GET"]);
      sendJson(response, 200, { calls: [...calls.values()].map(summary) }, true);
      return;
    }
    const debug = /^\/debug\/calls\/([^/]+)(?:\/(events|server-events|control))?$/.exec(path);
    if (debug) {
      const call = findCall(debug[1] ?? "");
      const view = debug[2];
      if (view === "control") {
        allow(method, ["POST"]);
        sendJson(response, 200, control(call, await readJson(request)), true);
        return;
      }
      allow(method, ["GET"]);
      const since = Number(url.searchParams.get("since") ?? 0) || 0;
      const type = url.searchParams.get("type");
      if (view === "events") {
        const events = call.log.received.slice(since).filter((e) => !type || e.type === type);
        sendJson(response, 200, { call_id: call.id, next: call.log.received.length, events }, true);
      } else if (view === "server-events") {
        const events = call.log.sent.slice(since).filter((e) => !type || e.event.type === type);
        sendJson(response, 200, { call_id: call.id, next: call.log.sent.length, events }, true);
      } else sendJson(response, 200, summary(call), true);
      return;
    }
    throw new RealtimeHttpError(404, "not_found", `Unknown route: ${method} ${path}`);
  }

  async function createCall(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const token = bearer(request);
    // The multipart boundary is case-sensitive: keep the header as sent, compare the media type case-insensitively.
    const rawContentType = request.headers["content-type"] ?? "";
    const contentType = rawContentType.toLowerCase();
    let offer: string;
    let session: EffectiveSession;
    const sessionId = newId("sess");
    const expiresAt = Math.floor(now() / 1000) + 3600;
    if (token.startsWith("ek_")) {
      const lookup = secrets.resolve(token);
      if (!lookup.ok)
        throw new RealtimeHttpError(
          401,
          lookup.reason === "expired" ? "client_secret_expired" : "invalid_api_key",
          lookup.reason === "expired"
            ? "The client secret has expired; mint a new one."
            : "Incorrect API key provided: the client secret is unknown.",
        );
      if (!contentType.startsWith("application/sdp"))
        throw new RealtimeHttpError(
          415,
          "unsupported_content_type",
          "With a client secret, send the SDP offer as 'application/sdp'.",
        );
      offer = await readText(request);
      session = mergeSession(defaultSession(sessionId, expiresAt), lookup.secret.session ?? {});
    } else {
      requireServerKey(request);
      if (contentType.startsWith("multipart/form-data")) {
        const form = await readForm(request, rawContentType);
        const sdp = form.get("sdp");
        if (sdp === null)
          throw new RealtimeHttpError(400, "missing_required_parameter", "Missing required part: 'sdp'.", {
            param: "sdp",
          });
        offer = typeof sdp === "string" ? sdp : await sdp.text();
        const part = form.get("session");
        let requested: Record<string, unknown> = {};
        if (part !== null) {
          let json: unknown;
          try {
            json = JSON.parse(typeof part === "string" ? part : await part.text());
          } catch {
            throw new RealtimeHttpError(400, "invalid_json", "The 'session' part is not valid JSON.", {
              param: "session",
            });
          }
          const parsed = v.safeParse(RealtimeSession, json);
          if (!parsed.success) throw invalid(parsed.issues, "session");
          requested = parsed.output as Record<string, unknown>;
        }
        session = mergeSession(defaultSession(sessionId, expiresAt), requested);
      } else if (contentType.startsWith("application/sdp")) {
        offer = await readText(request);
        session = defaultSession(sessionId, expiresAt);
      } else
        throw new RealtimeHttpError(
          415,
          "unsupported_content_type",
          "Send the offer as 'multipart/form-data' (parts 'sdp' and 'session') or as 'application/sdp'.",
        );
    }
    const summaryOfOffer = inspectOffer(offer);
    if (!summaryOfOffer?.audio)
      throw new RealtimeHttpError(
        400,
        "invalid_offer",
        summaryOfOffer
          ? "The SDP offer has no audio media section; the realtime API requires one (add an audio transceiver)."
          : "The body is not an SDP offer.",
        { param: "sdp" },
      );
    const id = newId("rtc");
    let answered: { call: Call; answer: string };
    try {
      answered = await Call.answer({
        id,
        offer,
        audio: summaryOfOffer.audio,
        session,
        recorder,
        onEnded: () => undefined,
      });
    } catch (error) {
      throw new RealtimeHttpError(
        400,
        "invalid_offer",
        `The SDP offer could not be answered: ${String(error)}`,
        {
          param: "sdp",
        },
      );
    }
    calls.set(id, answered.call);
    response.writeHead(201, {
      ...CORS_HEADERS,
      "content-type": "application/sdp",
      location: `/v1/realtime/calls/${id}`,
    });
    response.end(answered.answer);
  }

  function effectiveSession(
    requested: Record<string, unknown> | undefined,
    expiresAt: number,
  ): EffectiveSession {
    return mergeSession(defaultSession(newId("sess"), expiresAt), requested ?? {});
  }

  function liveRecording(file: string): Uint8Array | null {
    const name = parseRecordingName(file);
    const call = name ? calls.get(name.call_id) : undefined;
    if (!name || !call || call.endedAt !== null) return null;
    if (name.kind === "call") return encodeWav(call.session.input.slice(), 24_000);
    if (name.kind === "track" && call.receiver) return encodeWav(call.receiver.pcm(), 24_000);
    return null;
  }

  function findCall(id: string): Call {
    const call = calls.get(id);
    if (!call) throw new RealtimeHttpError(404, "call_not_found", `No call with id '${id.slice(0, 64)}'.`);
    return call;
  }

  function requireServerKey(request: IncomingMessage): void {
    if (bearer(request) !== apiKey)
      throw new RealtimeHttpError(401, "invalid_api_key", "Incorrect API key provided.");
  }

  await new Promise<void>((resolveListen, reject) => {
    server.once("error", reject);
    server.listen(options.port ?? 0, "127.0.0.1", () => resolveListen());
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    apiKey,
    recordings: recorder.directory,
    calls,
    async close() {
      for (const call of calls.values()) call.end("server_closed");
      server.closeAllConnections();
      await new Promise<void>((done) => server.close(() => done()));
    },
  };
}

/** What `GET /debug/calls/{id}` returns. */
function summary(call: Call): Record<string, unknown> {
  return {
    id: call.id,
    state: call.state,
    created_at: call.createdAt,
    data_channel_opened_at: call.dataChannelOpenedAt,
    ended_at: call.endedAt,
    end_reason: call.endReason,
    session: call.session.session,
    audio_codec: call.codec,
    input: call.session.stats,
    turns: call.session.turns,
    voice: call.voice ? { ...call.voice.stats, speaking: call.voice.speaking } : null,
    track: call.receiver ? call.receiver.stats : null,
    received_events: call.log.received.length,
    sent_events: call.log.sent.length,
    recording: `/recordings/${call.id}.wav`,
  };
}

const Control = v.strictObject({ action: v.picklist(["drop_data_channel", "hangup"]) });

/** `POST /debug/calls/{id}/control`: fault injection for tests. */
function control(call: Call, body: unknown): Record<string, unknown> {
  const parsed = v.safeParse(Control, body);
  if (!parsed.success) throw invalid(parsed.issues);
  if (parsed.output.action === "drop_data_channel") return { dropped: call.dropDataChannel() };
  call.end("hangup");
  return { ended: true };
}

function allow(method: string, methods: string[]): void {
  if (!methods.includes(method))
    throw new RealtimeHttpError(405, "method_not_allowed", `Method ${method} is not allowed here.`);
}

function bearer(request: IncomingMessage): string {
  const header = request.headers.authorization ?? "";
  const match = /^Bearer\s+(\S+)$/i.exec(header);
  if (!match?.[1])
    throw new RealtimeHttpError(
      401,
      "missing_api_key",
      "You didn't provide an API key. Provide it in the Authorization header as 'Bearer <key>'.",
    );
  return match[1];
}

function invalid(
  issues: ReadonlyArray<{ message: string; path?: ReadonlyArray<{ key: unknown }> }>,
  prefix = "",
): RealtimeHttpError {
  const { message, param } = describeIssues(issues, prefix);
  return new RealtimeHttpError(400, "invalid_value", message, { param });
}

async function readBody(request: IncomingMessage): Promise<Buffer> {
  const declared = Number(request.headers["content-length"] ?? 0);
  if (declared > MAX_BODY_BYTES) throw tooLarge();
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of request) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY_BYTES) throw tooLarge();
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}

function tooLarge(): RealtimeHttpError {
  return new RealtimeHttpError(413, "request_too_large", `The request body exceeds ${MAX_BODY_BYTES} bytes.`);
}

async function readText(request: IncomingMessage): Promise<string> {
  return (await readBody(request)).toString("utf8");
}

async function readJson(request: IncomingMessage): Promise<unknown> {
  const text = await readText(request);
  if (text.trim() === "") return {};
  try {
    return JSON.parse(text);
  } catch {
    throw new RealtimeHttpError(400, "invalid_json", "The request body is not valid JSON.");
  }
}

async function readForm(request: IncomingMessage, contentType: string): Promise<FormData> {
  const body = await readBody(request);
  try {
    // The WHATWG multipart parser built into Node (undici) instead of a hand-rolled one.
    return await new Response(body, { headers: { "content-type": contentType } }).formData();
  } catch {
    throw new RealtimeHttpError(
      400,
      "invalid_multipart",
      "The multipart/form-data body could not be parsed.",
    );
  }
}

function sendJson(response: ServerResponse, status: number, body: unknown, cors = false): void {
  const text = JSON.stringify(body);
  response.writeHead(status, {
    ...(cors || status >= 400 ? CORS_HEADERS : {}),
    "content-type": "application/json",
    "content-length": Buffer.byteLength(text),
    "cache-control": "no-store",
  });
  response.end(text);
}

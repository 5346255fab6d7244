/**
 * OpenAI's sideband for a WebRTC call: `GET /v1/realtime?call_id=rtc_…` upgraded to a WebSocket with the server
 * key (`Authorization: Bearer sk-…`; the subprotocol `realtime` is accepted when offered). As at OpenAI, no
 * `session.created` is sent on attach (pydantic-ai PR #6676): the server sends `session.update` and waits for
 * `session.updated`. Every server event of the call from then on is fanned out to the socket, and client events
 * sent on it are handled exactly like those on `oai-events`. Closing the socket leaves the call running; the
 * call's end (hangup, browser gone, session limit) closes the socket with 1000. A call that does not exist or
 * has ended refuses the upgrade with 404, a wrong key with 401 (OpenAI's error envelope as the HTTP body).
 */
import type { IncomingMessage, Server } from "node:http";
import type { Duplex } from "node:stream";
import { WebSocketServer } from "ws";
import { bearer, type PeerContext } from "./peer-context.ts";
import { RealtimeHttpError } from "./realtime-error.ts";

/** Handles the server's `upgrade` events; `close()` ends every sideband. */
export function acceptSidebands(server: Server, context: PeerContext): { close(): void } {
  const sockets = new WebSocketServer({
    noServer: true,
    // 16 MiB: a sideband may append audio like the data channel (15 MiB of decoded audio per event at most).
    maxPayload: 21 * 1024 * 1024,
    handleProtocols: (protocols) => (protocols.has("realtime") ? "realtime" : false),
  });
  server.on("upgrade", (request: IncomingMessage, socket: Duplex, head: Buffer) => {
    const url = new URL(request.url ?? "/", "http://127.0.0.1");
    try {
      if (url.pathname !== "/v1/realtime")
        throw new RealtimeHttpError(404, "not_found", `Unknown route: GET ${url.pathname}`);
      if (bearer(request.headers.authorization) !== context.apiKey)
        throw new RealtimeHttpError(401, "invalid_api_key", "Incorrect API key provided.");
      const id = url.searchParams.get("call_id");
      if (!id)
        throw new RealtimeHttpError(
          400,
          "missing_required_parameter",
          "Missing required parameter: 'call_id'.",
          {
            param: "call_id",
          },
        );
      const call = context.calls.get(id);
      // A call that ended refuses the re-dial, as OpenAI's does (pydantic-ai#7364).
      if (!call || call.endedAt !== null)
        throw new RealtimeHttpError(404, "call_not_found", `No live call with id '${id.slice(0, 64)}'.`);
      sockets.handleUpgrade(request, socket, head, (ws) => call.attachSideband(ws));
    } catch (error) {
      refuse(
        socket,
        error instanceof RealtimeHttpError
          ? error
          : new RealtimeHttpError(500, "internal_error", "Upgrade failed."),
      );
    }
  });
  return {
    close() {
      for (const ws of sockets.clients) ws.terminate();
      sockets.close();
    },
  };
}

function refuse(socket: Duplex, error: RealtimeHttpError): void {
  const body = JSON.stringify({ error: error.body });
  socket.end(
    `HTTP/1.1 ${error.status} ${error.status === 404 ? "Not Found" : error.status === 401 ? "Unauthorized" : "Bad Request"}\r\n` +
      `Content-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
  );
}

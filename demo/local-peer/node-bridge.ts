/**
 * A Node `http.Server` in front of a Fetch-API handler (a Hono app's `fetch`): each `IncomingMessage` becomes a
 * `Request` whose body streams from the socket, and the `Response` is written back with its status, headers and
 * body. About what `@hono/node-server` does, for the few routes of the local peer. WebSocket upgrades are not
 * requests here: the server's `upgrade` event stays free for the caller.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { Readable } from "node:stream";

/** A Fetch-API handler; `fetch` of a Hono app fits. */
export type FetchHandler = (request: Request) => Response | Promise<Response>;

/** Converts one Node request into a Fetch `Request` (body streamed, never buffered here). */
export function toRequest(incoming: IncomingMessage): Request {
  const url = new URL(incoming.url ?? "/", `http://${incoming.headers.host ?? "127.0.0.1"}`);
  const headers = new Headers();
  for (const [name, value] of Object.entries(incoming.headers)) {
    if (value === undefined) continue;
    for (const item of Array.isArray(value) ? value : [value]) headers.append(name, item);
  }
  const method = incoming.method ?? "GET";
  const hasBody = method !== "GET" && method !== "HEAD";
  return new Request(url, {
    method,
    headers,
    body: hasBody ? (Readable.toWeb(incoming) as ReadableStream<Uint8Array>) : null,
    // Required by the Fetch spec for a streamed request body.
    ...(hasBody ? { duplex: "half" } : {}),
  } as RequestInit);
}

/**
 * Writes a Fetch `Response` to a Node response. When the handler answered without reading the whole request body
 * (a 413 decided from `Content-Length`), the connection is closed after the response: Node does not drain a
 * body that has a reader attached, so a kept-alive socket would stall the client's next request.
 */
export async function writeResponse(
  response: Response,
  outgoing: ServerResponse,
  incoming?: IncomingMessage,
): Promise<void> {
  const headers: Record<string, string | string[]> = {};
  response.headers.forEach((value, name) => {
    headers[name] = value;
  });
  const cookies = response.headers.getSetCookie();
  if (cookies.length > 0) headers["set-cookie"] = cookies;
  const body = response.body ? Buffer.from(await response.arrayBuffer()) : null;
  if (body && !response.headers.has("content-length")) headers["content-length"] = String(body.length);
  if (incoming && !incoming.complete) headers.connection = "close";
  outgoing.writeHead(response.status, headers);
  outgoing.end(body ?? undefined);
}

/** A Node HTTP server that answers every request with `handler`; a handler that throws gets a bare 500. */
export function createFetchServer(handler: FetchHandler): Server {
  return createServer((incoming, outgoing) => {
    Promise.resolve()
      .then(() => handler(toRequest(incoming)))
      .then((response) => writeResponse(response, outgoing, incoming))
      .catch((error: unknown) => {
        console.error("[local-peer]", error);
        if (!outgoing.headersSent) outgoing.writeHead(500, { "content-type": "text/plain" });
        outgoing.end("Internal error");
      });
  });
}

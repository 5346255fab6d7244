/**
 * A fake of OpenAI's sideband for one test file, in workerd: `install()` stubs `fetch` (the worker and its Durable
 * Objects share the test's isolate) so that a WebSocket upgrade to `…/realtime?call_id=…` is answered with one end
 * of a `WebSocketPair` (or refused with `refuseWith`), and `…/hangup` is recorded and answered 200. Everything else
 * goes to the fake OpenAI. The fake echoes a `session.updated` with the merged session for each `session.update`,
 * as OpenAI does, and lets a test push server events and drop the socket. The sockets are created inside the
 * guard's Durable Object (its `fetch`), so the test touches them from inside that object (`runInDurableObject`).
 */
import { runInDurableObject } from "cloudflare:test";
import { vi } from "vitest";

type Json = Record<string, unknown>;

function merge(base: Json, over: Json): Json {
  const out: Json = { ...base };
  for (const [key, value] of Object.entries(over)) {
    const current = base[key];
    out[key] =
      typeof value === "object" &&
      value !== null &&
      !Array.isArray(value) &&
      typeof current === "object" &&
      current !== null &&
      !Array.isArray(current)
        ? merge(current as Json, value as Json)
        : value;
  }
  return out;
}

/** One dial the guard made. */
export interface Dial {
  url: string;
  authorization: string | null;
  /** The server end (null when refused). */
  socket: WebSocket | null;
  /** Client events received on this socket, parsed. */
  received: Json[];
}

export class FakeSideband {
  readonly dials: Dial[] = [];
  readonly hangups: string[] = [];
  /** Answer the next dials with this status instead of a socket. */
  refuseWith: number | null = null;
  /** Receive `session.update` but neither apply nor confirm it (an upstream that does not take it). */
  ignoreUpdates = false;
  /** The effective session, as the fake upstream holds it. */
  session: Json = {
    type: "realtime",
    model: "gpt-realtime",
    instructions: "Default instructions of the upstream.",
    tools: [],
    tool_choice: "auto",
    max_output_tokens: "inf",
    output_modalities: ["audio"],
    audio: { input: { transcription: null }, output: { voice: "alloy" } },
  };

  install(): void {
    const realFetch = globalThis.fetch;
    vi.spyOn(globalThis, "fetch").mockImplementation(async (input, init) => {
      const request = new Request(input, init);
      const url = new URL(request.url);
      if (request.headers.get("Upgrade")?.toLowerCase() === "websocket" && url.pathname.endsWith("/realtime"))
        return this.dial(request);
      const hangup = /\/realtime\/calls\/([^/]+)\/hangup$/.exec(url.pathname);
      if (hangup !== null && request.method === "POST") {
        this.hangups.push(hangup[1] as string);
        return new Response(null, { status: 200 });
      }
      return realFetch(request);
    });
  }

  private dial(request: Request): Response {
    const dial: Dial = {
      url: request.url,
      authorization: request.headers.get("Authorization"),
      socket: null,
      received: [],
    };
    this.dials.push(dial);
    if (this.refuseWith !== null) return new Response(null, { status: this.refuseWith });
    const [client, server] = Object.values(new WebSocketPair()) as [WebSocket, WebSocket];
    server.accept();
    dial.socket = server;
    server.addEventListener("message", (event) => {
      const parsed = JSON.parse(String(event.data)) as Json;
      dial.received.push(parsed);
      if (parsed.type === "session.update" && !this.ignoreUpdates) {
        this.session = merge(this.session, (parsed.session ?? {}) as Json);
        server.send(JSON.stringify({ type: "session.updated", session: this.session }));
      }
    });
    return new Response(null, { status: 101, webSocket: client });
  }

  /** The latest dial. */
  get last(): Dial {
    const dial = this.dials.at(-1);
    if (dial === undefined) throw new Error("the guard has not dialled");
    return dial;
  }

  /** Sends a server event on the latest socket, from inside the guard `stub`. */
  async push(stub: DurableObjectStub, event: Json): Promise<void> {
    const socket = this.last.socket;
    await runInDurableObject(stub, () => socket?.send(JSON.stringify(event)));
  }

  /** Closes the latest socket from the server side. */
  async drop(stub: DurableObjectStub, code: number, reason: string): Promise<void> {
    const socket = this.last.socket;
    await runInDurableObject(stub, () => socket?.close(code, reason));
  }

  /** What the browser's `session.update` over the data channel does: the upstream session changes. */
  async browserUpdate(stub: DurableObjectStub, session: Json): Promise<void> {
    this.session = merge(this.session, session);
    await this.push(stub, { type: "session.updated", session: this.session });
  }
}

/** Resolves once `check` holds, polling every 10 ms; rejects after `ms`. */
export async function until(check: () => boolean, ms = 3_000, what = "condition"): Promise<void> {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

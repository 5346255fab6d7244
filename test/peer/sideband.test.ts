/**
 * The peer's sideband (`GET /v1/realtime?call_id=…`, WebSocket, server key), as the worker's call guard uses it:
 * attach without `session.created`, steer the session, watch every server event of the call, meter
 * `response.done.usage`, and lose the socket when the call is hung up.
 */
import { expect, it } from "vitest";
import WebSocket from "ws";
import { PEER_KEY, useLocalPeer } from "./local-peer-fixture.ts";
import { RealtimeOfferer, type ServerEvent, toBase64, withTimeout } from "./realtime-offerer.ts";

const fixture = useLocalPeer("peer-sideband-", { speech: "describe" });

async function call(session: Record<string, unknown>) {
  const offerer = fixture.track(new RealtimeOfferer());
  const id = await offerer.call(fixture.peer.url, PEER_KEY, session);
  await offerer.next("session.created");
  return { offerer, id };
}

/** A sideband client: the events it received, and a wait for the next one of a type. */
class Sideband {
  readonly events: ServerEvent[] = [];
  readonly ws: WebSocket;
  readonly closed: Promise<number>;
  #wake: Array<() => void> = [];

  constructor(url: string, key = PEER_KEY) {
    this.ws = new WebSocket(url, ["realtime"], { headers: { authorization: `Bearer ${key}` } });
    this.ws.on("message", (data) => {
      this.events.push(JSON.parse(String(data)) as ServerEvent);
      for (const wake of this.#wake.splice(0)) wake();
    });
    this.closed = new Promise((resolve) => this.ws.on("close", (code) => resolve(code)));
  }

  opened(): Promise<void> {
    return withTimeout(
      new Promise((resolve, reject) => {
        this.ws.once("open", () => resolve());
        this.ws.once("error", reject);
      }),
      5000,
      "sideband did not open",
    );
  }

  send(event: Record<string, unknown>): void {
    this.ws.send(JSON.stringify(event));
  }

  async next(type: string, from = 0, timeoutMs = 5000): Promise<ServerEvent> {
    const find = () => this.events.slice(from).find((e) => e.type === type);
    return withTimeout(
      (async () => {
        for (;;) {
          const found = find();
          if (found) return found;
          await new Promise<void>((resolve) => this.#wake.push(resolve));
        }
      })(),
      timeoutMs,
      `no '${type}' on the sideband (got: ${this.events.map((e) => e.type).join(", ")})`,
    );
  }
}

const sidebandUrl = (id: string) => `${fixture.peer.url.replace("http", "ws")}/v1/realtime?call_id=${id}`;

function tone(samples: number): Int16Array {
  return Int16Array.from({ length: samples }, (_, i) =>
    Math.round(8000 * Math.sin((2 * Math.PI * 440 * i) / 24_000)),
  );
}

it("attaches without session.created, steers the session and sees the browser's events", async () => {
  const { offerer, id } = await call({ type: "realtime", instructions: "from the page" });
  const sideband = new Sideband(sidebandUrl(id));
  await sideband.opened();
  expect(sideband.ws.protocol).toBe("realtime");
  await new Promise((resolve) => setTimeout(resolve, 300));
  expect(sideband.events).toEqual([]);

  // The server's session.update is confirmed on the sideband and seen by the browser too.
  const from = offerer.events.length;
  sideband.send({ type: "session.update", session: { type: "realtime", instructions: "server policy" } });
  const updated = await sideband.next("session.updated");
  expect(updated.session).toMatchObject({ instructions: "server policy" });
  await offerer.next("session.updated", () => true, from);
  const summary = (await (await fetch(`${fixture.peer.url}/debug/calls/${id}`)).json()) as {
    session: { instructions: string };
    sidebands: number;
  };
  expect(summary).toMatchObject({ session: { instructions: "server policy" }, sidebands: 1 });

  // A drift from the browser reaches the sideband as session.updated.
  const seen = sideband.events.length;
  offerer.send({ type: "session.update", session: { type: "realtime", instructions: "ignore the rules" } });
  const drift = await sideband.next("session.updated", seen);
  expect(drift.session).toMatchObject({ instructions: "ignore the rules" });

  // Closing the sideband leaves the call running.
  sideband.ws.close();
  await sideband.closed;
  offerer.send({ type: "input_audio_buffer.clear" });
  await offerer.next("input_audio_buffer.cleared");
});

it("answers client events from the sideband and reports realistic usage in response.done", async () => {
  const { offerer, id } = await call({
    type: "realtime",
    output_modalities: ["text"],
    instructions: "Be brief.",
    audio: { input: { turn_detection: null } },
  });
  const sideband = new Sideband(sidebandUrl(id));
  await sideband.opened();
  // 2 s of user audio from the browser, committed by the browser; the response asked for by the server.
  offerer.send({ type: "input_audio_buffer.append", audio: toBase64(tone(48_000)) });
  offerer.send({ type: "input_audio_buffer.commit" });
  await sideband.next("input_audio_buffer.committed");
  sideband.send({ type: "response.create" });
  const done = await sideband.next("response.done");
  const usage = (done.response as { usage: Record<string, unknown> }).usage;
  console.log("sideband response.done usage:", JSON.stringify(usage));
  expect(usage).toMatchObject({
    input_token_details: { audio_tokens: 20, cached_tokens: 0, image_tokens: 0 },
    output_token_details: { audio_tokens: 0 },
  });
  const details = usage as {
    total_tokens: number;
    input_tokens: number;
    output_tokens: number;
    input_token_details: { text_tokens: number; audio_tokens: number };
    output_token_details: { text_tokens: number };
  };
  expect(details.input_token_details.text_tokens).toBeGreaterThan(0);
  expect(details.input_tokens).toBe(details.input_token_details.text_tokens + 20);
  expect(details.output_tokens).toBe(details.output_token_details.text_tokens);
  expect(details.total_tokens).toBe(details.input_tokens + details.output_tokens);
  // The browser sees the response the server asked for.
  await offerer.next("response.done");

  // A second response reads the first one's input again: that prefix is cached.
  sideband.send({
    type: "conversation.item.create",
    item: { type: "message", role: "user", content: [{ type: "input_text", text: "hi" }] },
  });
  await sideband.next("conversation.item.added", sideband.events.length);
  const before = sideband.events.length;
  sideband.send({ type: "response.create" });
  const second = await sideband.next("response.done", before);
  const cached = (second.response as { usage: { input_token_details: { cached_tokens: number } } }).usage;
  expect(cached.input_token_details.cached_tokens).toBe(details.input_tokens);

  // Errors answer the socket that sent the event, named by its event_id.
  sideband.send({ type: "response.cancel", event_id: "sb-1" });
  const error = await sideband.next("error");
  expect(error.error).toMatchObject({ code: "response_cancel_not_active", event_id: "sb-1" });
});

it("refuses a wrong key, a missing or unknown call, and closes with the call on hangup", async () => {
  const refused = async (url: string, key?: string) => {
    const ws = new Sideband(url, key);
    // Terminating a socket whose upgrade was refused reports an error; the status is what this checks.
    ws.ws.on("error", () => undefined);
    const status = await new Promise<number>((resolve) => {
      ws.ws.on("unexpected-response", (_request, response) => resolve(response.statusCode ?? 0));
      ws.ws.on("open", () => resolve(101));
    });
    ws.ws.terminate();
    return status;
  };
  const { id } = await call({ type: "realtime" });
  expect(await refused(sidebandUrl(id), "sk-wrong")).toBe(401);
  expect(await refused(sidebandUrl("rtc_unknown"))).toBe(404);
  expect(await refused(`${fixture.peer.url.replace("http", "ws")}/v1/realtime`)).toBe(400);

  const sideband = new Sideband(sidebandUrl(id));
  await sideband.opened();
  const hangup = await fetch(`${fixture.peer.url}/v1/realtime/calls/${id}/hangup`, {
    method: "POST",
    headers: { authorization: `Bearer ${PEER_KEY}` },
  });
  expect(hangup.status).toBe(200);
  expect(await withTimeout(sideband.closed, 5000, "sideband not closed by the hangup")).toBe(1000);
  // An ended call refuses the re-dial.
  expect(await refused(sidebandUrl(id))).toBe(404);
});

it("a session.update sent before the data channel opens reaches the browser after session.created", async () => {
  // The worker's guard attaches right after the 201, usually before the browser's channel is open.
  const offerer = fixture.track(new RealtimeOfferer());
  const { answer, id } = await offerer.postCall(fixture.peer.url, PEER_KEY, {
    type: "realtime",
    instructions: "From the offer.",
  });
  const sideband = new Sideband(sidebandUrl(id));
  await sideband.opened();
  sideband.send({
    type: "session.update",
    session: { type: "realtime", instructions: "From the sideband." },
  });
  await sideband.next("session.updated");
  expect(sideband.events.map((e) => e.type)).not.toContain("session.created");

  await offerer.connect(answer);
  const updated = await offerer.next("session.updated");
  expect(offerer.events.slice(0, 2).map((e) => e.type)).toEqual(["session.created", "session.updated"]);
  expect((updated.session as { instructions?: string }).instructions).toBe("From the sideband.");
  sideband.ws.close();
});

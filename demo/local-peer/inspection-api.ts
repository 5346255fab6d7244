/**
 * The peer's test and demo API (not part of OpenAI's), as a Hono app: `GET /health`, the recordings
 * (`GET /recordings/`, `GET /recordings/{file}`, live calls read from memory), and per-call inspection
 * (`GET /debug/calls`, `GET /debug/calls/{id}` with the call's current session, `…/events` and
 * `…/server-events` with `?since=` and `?type=`, `POST …/control` for fault injection).
 */
import { Hono } from "hono/tiny";
import * as v from "valibot";
import { PCM_RATE } from "../../worker/schema/protocol.ts";
import type { Call } from "./call.ts";
import { invalid, readJson } from "./openai-api.ts";
import { findCall, type PeerContext } from "./peer-context.ts";
import { RealtimeHttpError } from "./realtime-error.ts";
import { parseRecordingName } from "./recorder.ts";
import { encodeWav } from "./wav.ts";

const NO_STORE = { "cache-control": "no-store" };

/** Builds the app over the peer's shared state. */
export function inspectionApi(context: PeerContext) {
  const app = new Hono();
  const health = () => {
    const calls = [...context.calls.values()];
    const live = calls.filter((call) => call.endedAt === null).length;
    return Response.json({ status: "ok", calls: calls.length, live_calls: live }, { headers: NO_STORE });
  };
  app.get("/health", health);
  app.get("/healthz", health);
  const index = () => {
    const files = context.recorder.list().map((entry) => ({ ...entry, url: `/recordings/${entry.file}` }));
    const live = [...context.calls.values()]
      .filter((call) => call.endedAt === null)
      .map((call) => ({
        call_id: call.id,
        url: `/recordings/${call.id}.wav`,
        samples: call.session.input.length,
      }));
    return Response.json({ sample_rate: PCM_RATE, recordings: files, live }, { headers: NO_STORE });
  };
  app.get("/recordings", index);
  app.get("/recordings/", index);
  app.get("/recordings/:file", (c) => {
    const file = c.req.param("file");
    const bytes = liveRecording(context, file) ?? context.recorder.read(file);
    if (!bytes) throw new RealtimeHttpError(404, "recording_not_found", `No recording named '${file}'.`);
    return c.body(new Uint8Array(bytes), 200, { "content-type": "audio/wav", ...NO_STORE });
  });
  app.get("/debug/calls", (c) => c.json({ calls: [...context.calls.values()].map(summary) }, 200, NO_STORE));
  app.get("/debug/calls/:id", (c) => c.json(summary(findCall(context, c.req.param("id"))), 200, NO_STORE));
  app.get("/debug/calls/:id/events", (c) => {
    const call = findCall(context, c.req.param("id"));
    const { since, type } = page(c.req.query("since"), c.req.query("type"));
    const events = call.log.received.slice(since).filter((e) => !type || e.type === type);
    return c.json({ call_id: call.id, next: call.log.received.length, events }, 200, NO_STORE);
  });
  app.get("/debug/calls/:id/server-events", (c) => {
    const call = findCall(context, c.req.param("id"));
    const { since, type } = page(c.req.query("since"), c.req.query("type"));
    const events = call.log.sent.slice(since).filter((e) => !type || e.event.type === type);
    return c.json({ call_id: call.id, next: call.log.sent.length, events }, 200, NO_STORE);
  });
  app.post("/debug/calls/:id/control", async (c) => {
    const call = findCall(context, c.req.param("id"));
    return c.json(control(call, await readJson(c.req.raw)), 200, NO_STORE);
  });
  return app;
}

function page(since: string | undefined, type: string | undefined): { since: number; type: string | null } {
  return { since: Number(since ?? 0) || 0, type: type ?? null };
}

function liveRecording(context: PeerContext, file: string): Uint8Array | null {
  const name = parseRecordingName(file);
  const call = name ? context.calls.get(name.call_id) : undefined;
  if (!name || !call || call.endedAt !== null) return null;
  if (name.kind === "call") return encodeWav(call.session.input.slice(), PCM_RATE);
  if (name.kind === "track" && call.receiver) return encodeWav(call.receiver.pcm(), PCM_RATE);
  return null;
}

/** What `GET /debug/calls/{id}` returns; `session` is the call's current effective session (instructions, tools…). */
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
    sidebands: call.sidebands,
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

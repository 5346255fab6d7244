import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { connect } from "../../../worklet/client/session.ts";
import {
  deliver,
  FakePeerConnection,
  fakeCapture,
  fakeFetch,
  frame,
  installFakeCapture,
  sdpAnswer,
} from "./fakes.ts";

const globals: Record<string, unknown> = {};
const base = {
  url: "https://w.example",
  output: false as const,
  workletUrl: "https://w.example/capture-processor.js",
  mediaStream: { getTracks: () => [] } as unknown as MediaStream,
};

beforeEach(() => {
  FakePeerConnection.instances = [];
  for (const key of Object.keys(globals)) delete globals[key];
  installFakeCapture(globals);
  globals.RTCPeerConnection = FakePeerConnection;
  for (const [key, value] of Object.entries(globals)) vi.stubGlobal(key, value);
});
afterEach(() => {
  vi.useRealTimers();
  vi.unstubAllGlobals();
});

describe("session", () => {
  it("without RTCPeerConnection fails with webrtc_unsupported before any request", async () => {
    vi.stubGlobal("RTCPeerConnection", undefined);
    const fake = fakeFetch([sdpAnswer()]);
    vi.stubGlobal("fetch", fake.fetch);
    const session = connect(base);
    await expect(session.ready).rejects.toMatchObject({ code: "webrtc_unsupported" });
    expect(session.state.status).toBe("failed");
    expect(fake.requests).toEqual([]);
  });

  it("ready rejects when close() comes first, and the state is closed by the client", async () => {
    vi.stubGlobal("fetch", fakeFetch([sdpAnswer()]).fetch);
    const session = connect(base);
    await session.close();
    await expect(session.ready).rejects.toMatchObject({ name: "RealtimeVoiceError" });
    expect(session.state).toEqual({ status: "closed", reason: "client" });
    expect(fakeCapture.contexts[0]?.state).toBe("closed");
  });

  it("close() during signalling aborts the request", async () => {
    let signal: AbortSignal | undefined;
    vi.stubGlobal("fetch", (_url: string, init: RequestInit) => {
      signal = init.signal ?? undefined;
      return new Promise((_resolve, reject) =>
        init.signal?.addEventListener("abort", () => reject(init.signal?.reason)),
      );
    });
    const session = connect(base);
    await vi.waitFor(() => expect(signal).toBeDefined());
    await session.close();
    expect(signal?.aborted).toBe(true);
    await expect(session.ready).rejects.toBeDefined();
  });

  it("sends getToken's token on each attempt, and a call the server ended closes with its reason", async () => {
    const fake = fakeFetch([
      sdpAnswer("rtc_one"),
      () => Response.json({ status: "ended", end_reason: "max_duration" }),
    ]);
    vi.stubGlobal("fetch", fake.fetch);
    let n = 0;
    const session = connect({ ...base, getToken: async () => `jwt${++n}` });
    const states: string[] = [];
    session.on("state", (state) => states.push(state.status));
    await session.ready;
    expect(fake.requests[0]?.headers.get("authorization")).toBe("Bearer jwt1");
    FakePeerConnection.instances[0]?.channel?.drop();
    await vi.waitFor(() => expect(session.state.status).toBe("closed"));
    expect(session.state).toEqual({ status: "closed", reason: "max_duration" });
    expect(fake.requests[1]?.url).toBe("https://w.example/v1/realtime/calls/rtc_one");
    expect(fake.requests[1]?.headers.get("authorization")).toBe("Bearer jwt1");
    expect(states).toEqual(["connecting", "connected", "closed"]);
  });

  it("a lost call the server did not end reconnects, with a fresh token", async () => {
    const fake = fakeFetch([sdpAnswer("rtc_a"), () => new Response("", { status: 404 }), sdpAnswer("rtc_b")]);
    vi.stubGlobal("fetch", fake.fetch);
    let n = 0;
    const session = connect({ ...base, getToken: () => `t${++n}`, reconnect: { graceMs: 1 } });
    await session.ready;
    deliver(frame(0));
    const first = FakePeerConnection.instances[0]?.channel;
    expect(first?.types()).toEqual(["input_audio_buffer.append"]);
    // Still in the send buffer when the channel died: it never left this browser.
    if (first) first.bufferedAmount = (first.sent[0] as string).length;
    first?.drop();
    await vi.waitFor(() =>
      expect(session.state.status === "connected" && session.state.callId).toBe("rtc_b"),
    );
    expect(fake.requests[2]?.headers.get("authorization")).toBe("Bearer t2");
    expect(session.stats.reconnects).toBe(1);
    // The frame the lost channel never sent reached the new call.
    expect(FakePeerConnection.instances[1]?.channel?.types()).toEqual(["input_audio_buffer.append"]);
    await session.close();
  });

  it("reports capture_stalled when no frame arrives within 2 s of connected, naming the suspended context", async () => {
    installFakeCapture(globals, "suspended");
    vi.stubGlobal("AudioContext", globals.AudioContext);
    vi.stubGlobal("fetch", fakeFetch([sdpAnswer()]).fetch);
    const session = connect(base);
    const errors: string[] = [];
    session.on("error", (error) => errors.push(`${error.code}: ${error.message}`));
    await session.ready;
    await vi.waitFor(() => expect(errors).toHaveLength(1), { timeout: 4000 });
    expect(errors[0]).toMatch(
      /^capture_stalled: the AudioContext is suspended: call connect\(\) from a click/,
    );
    await session.close();
  });

  it("counts the processor's clipped and non-finite samples in the stats", async () => {
    vi.stubGlobal("fetch", fakeFetch([sdpAnswer()]).fetch);
    const session = connect(base);
    await session.ready;
    deliver({
      type: "stats",
      inputRate: 48000,
      channels: 1,
      quanta: 9,
      frames: 3,
      nonFinite: 4,
      clipped: 7,
      delaySamples: 0,
    });
    expect(session.stats).toMatchObject({ clipped: 7, nonFinite: 4, inputRate: 48000 });
    await session.close();
  });

  it("track mode offers the rendered track and renders frames instead of appending them", async () => {
    vi.stubGlobal("fetch", fakeFetch([sdpAnswer()]).fetch);
    const session = connect({ ...base, audio: "track" });
    await session.ready;
    const pc = FakePeerConnection.instances[0];
    expect(pc?.transceivers).toEqual([
      [expect.objectContaining({ kind: "audio" }), { direction: "sendrecv" }],
    ]);
    deliver(frame(0));
    deliver(frame(1));
    expect(fakeCapture.rendered).toBe(2);
    expect(pc?.channel?.sent).toEqual([]);
    expect(session.stats.framesSent).toBe(2);
    await session.close();
  });

  it("close() sends the processor's flushed tail before closing the channel, then releases everything", async () => {
    vi.stubGlobal("fetch", fakeFetch([sdpAnswer()]).fetch);
    const session = connect(base);
    await session.ready;
    deliver(frame(0));
    const closing = session.close();
    await vi.waitFor(() => expect(fakeCapture.port?.posted).toContainEqual({ type: "flush" }));
    deliver(frame(1));
    deliver({ type: "flushed", lastSeq: 1 });
    const channel = FakePeerConnection.instances[0]?.channel;
    expect(channel?.readyState).toBe("open");
    await closing;
    expect(channel?.types()).toEqual(["input_audio_buffer.append", "input_audio_buffer.append"]);
    expect(channel?.readyState).toBe("closed");
    expect(FakePeerConnection.instances[0]?.closed).toBe(true);
    expect(fakeCapture.contexts[0]?.state).toBe("closed");
    expect(session.state).toEqual({ status: "closed", reason: "client" });
  });

  it("throws invalid_options synchronously", () => {
    expect(() => connect({ ...base, frameMs: 3 })).toThrow(
      expect.objectContaining({ code: "invalid_options" }),
    );
  });
});

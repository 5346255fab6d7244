import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { openCall } from "../../../worklet/client/call.ts";
import { FakePeerConnection, fakeFetch, sdpAnswer } from "./fakes.ts";

const options = {
  url: "https://w.example",
  signaling: "proxy" as const,
  upstreamUrl: "",
  session: undefined,
  headers: {},
  highWaterMark: 4096,
};

function handlers() {
  const lost: string[] = [];
  return {
    lost,
    onMessage: () => {},
    onTrack: () => {},
    onBufferedAmountLow: () => {},
    onLost: (reason: string) => lost.push(reason),
  };
}

beforeEach(() => {
  FakePeerConnection.instances = [];
  vi.stubGlobal("RTCPeerConnection", FakePeerConnection);
});
afterEach(() => vi.unstubAllGlobals());

describe("openCall", () => {
  it("offers a receive-only audio m-section and oai-events, and resolves once the channel opens", async () => {
    vi.stubGlobal("fetch", fakeFetch([sdpAnswer("rtc_9")]).fetch);
    const h = handlers();
    const call = await openCall(options, null, new AbortController().signal, h);
    const pc = FakePeerConnection.instances[0] as FakePeerConnection;
    expect(call.callId).toBe("rtc_9");
    expect(pc.transceivers).toEqual([["audio", { direction: "recvonly" }]]);
    expect(pc.channel?.label).toBe("oai-events");
    expect(pc.channel?.bufferedAmountLowThreshold).toBe(1024);
    expect(pc.remoteDescription?.sdp).toBe("v=0\r\no=answer");
    pc.channel?.drop();
    pc.channel?.drop();
    expect(h.lost).toEqual(["the oai-events data channel closed"]);
  });

  it("closing the call is not a loss", async () => {
    vi.stubGlobal("fetch", fakeFetch([sdpAnswer()]).fetch);
    const h = handlers();
    const call = await openCall(options, null, new AbortController().signal, h);
    call.close();
    expect(FakePeerConnection.instances[0]?.closed).toBe(true);
    expect(h.lost).toEqual([]);
  });

  it("an abort during signalling cancels the request and closes the connection", async () => {
    const controller = new AbortController();
    let seen: AbortSignal | undefined;
    vi.stubGlobal("fetch", (_url: string, init: RequestInit) => {
      seen = init.signal ?? undefined;
      return new Promise((_resolve, reject) =>
        init.signal?.addEventListener("abort", () => reject(init.signal?.reason)),
      );
    });
    const pending = openCall(options, null, controller.signal, handlers());
    await vi.waitFor(() => expect(seen).toBeDefined());
    controller.abort(new Error("closed"));
    await expect(pending).rejects.toThrow("closed");
    expect(seen?.aborted).toBe(true);
    expect(FakePeerConnection.instances[0]?.closed).toBe(true);
  });

  it("a refused offer rejects with the typed error and closes the connection", async () => {
    vi.stubGlobal(
      "fetch",
      fakeFetch([
        () => Response.json({ code: "authentication_required", detail: "no token" }, { status: 401 }),
      ]).fetch,
    );
    await expect(openCall(options, null, new AbortController().signal, handlers())).rejects.toMatchObject({
      code: "authentication_required",
      status: 401,
    });
    expect(FakePeerConnection.instances[0]?.closed).toBe(true);
  });
});

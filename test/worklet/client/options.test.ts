import { describe, expect, it } from "vitest";
import { SERVER_VAD_DEFAULTS } from "../../../worker/schema/protocol.ts";
import { DEFAULTS, resolveOptions } from "../../../worklet/client/options.ts";
import { RealtimeVoiceError } from "../../../worklet/client/realtime-voice-error.ts";

const url = "https://voice.example/";

describe("resolveOptions", () => {
  it("fills every default from one table and trims the URL", () => {
    const o = resolveOptions({ url });
    expect(o.url).toBe("https://voice.example");
    expect(o.frameMs).toBe(DEFAULTS.frameMs);
    expect(o.highWaterMark).toBe(262_144);
    expect(o.reconnect).toEqual({ attempts: 5, graceMs: 500, rotateAfterMs: 3_300_000 });
    expect(o.silenceDurationMs).toBe(SERVER_VAD_DEFAULTS.silence_duration_ms);
    expect(o.vad.prefixPaddingMs).toBe(300);
  });

  it("requests turn_detection: null for client turns, keeping the rest of the session", () => {
    const o = resolveOptions({ url, turns: "client", session: { type: "realtime", instructions: "x" } });
    expect(o.session).toEqual({
      type: "realtime",
      instructions: "x",
      audio: { input: { turn_detection: null } },
    });
  });

  it("reads the server VAD's silence duration from the requested session", () => {
    const session = { type: "realtime", audio: { input: { turn_detection: { silence_duration_ms: 800 } } } };
    expect(resolveOptions({ url, session }).silenceDurationMs).toBe(800);
  });

  it("reconnect: false means no attempts", () => {
    expect(resolveOptions({ url, reconnect: false }).reconnect.attempts).toBe(0);
  });

  it.each([
    [{ frameMs: 7 }, "/frameMs"],
    [{ frameMs: 20.01 }, "/frameMs"],
    [{ turns: "both" }, "turns"],
    [{ audio: "video" }, "audio"],
    [{ bargeInMs: -1 }, "bargeInMs"],
    [{ vad: { onsetThreshold: 2 } }, "/vad/onsetThreshold"],
    [{ getToken: "abc" }, "getToken"],
    [{ reconnect: { attempts: Number.NaN } }, "reconnect.attempts"],
  ])("refuses %j as invalid_options naming %s", (options, field) => {
    let error: unknown;
    try {
      resolveOptions({ url, ...(options as object) });
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(RealtimeVoiceError);
    expect((error as RealtimeVoiceError).code).toBe("invalid_options");
    expect((error as RealtimeVoiceError).message).toContain(field);
  });
});

import { describe, expect, it } from "vitest";
import { Turns } from "../../../worklet/client/turns.ts";

function turns(clientTurns: boolean, bargeInMs = 200) {
  const sent: string[] = [];
  const log: string[] = [];
  const t = new Turns({
    clientTurns,
    threshold: 0.5,
    bargeInMs,
    frameMs: 20,
    send: (text) => sent.push(JSON.parse(text).type),
    interrupt: () => log.push("interrupt"),
    unmute: () => log.push("unmute"),
  });
  return { t, sent, log };
}

describe("turns", () => {
  it("commits and asks for a response only with ≥ 100 ms appended, and only for client turns", () => {
    const { t, sent } = turns(true);
    t.appended(2399);
    expect(t.speechEnd()).toBe(0);
    t.appended(1);
    expect(t.speechEnd()).toBe(2400);
    expect(sent).toEqual(["input_audio_buffer.commit", "response.create"]);
    expect(t.commits).toBe(1);
    const server = turns(false);
    server.t.appended(24000);
    expect(server.t.speechEnd()).toBe(0);
    expect(server.sent).toEqual([]);
  });

  it("cancels an active response before the next commit; a new call forgets it", () => {
    const { t, sent } = turns(true);
    t.server({ type: "response.created" });
    t.appended(4800);
    t.speechEnd();
    expect(sent).toEqual(["response.cancel", "input_audio_buffer.commit", "response.create"]);
    t.server({ type: "response.created" });
    t.newCall();
    t.appended(4800);
    sent.length = 0;
    t.speechEnd();
    expect(sent).toEqual(["input_audio_buffer.commit", "response.create"]);
  });

  it("barges in after 200 ms of speech while the model speaks, once per utterance; shorter sounds do not", () => {
    const { t, log } = turns(false);
    for (let i = 0; i < 20; i++) expect(t.frame(0.9)).toBe(false); // the model is silent
    t.frame(0.1);
    t.server({ type: "output_audio_buffer.started" });
    expect(log).toEqual(["unmute"]);
    for (let i = 0; i < 5; i++) t.frame(0.9); // a 100 ms click
    t.frame(0.1);
    const fired = Array.from({ length: 15 }, () => t.frame(0.9));
    expect(fired.indexOf(true)).toBe(9); // the 10th frame of 20 ms completes 200 ms
    expect(fired.filter(Boolean)).toHaveLength(1);
    expect(t.bargeIns).toBe(1);
    expect(log).toEqual(["unmute", "interrupt"]);
    expect(turns(false, 0).t.frame(1)).toBe(false);
  });
});

import { describe, expect, it } from "vitest";
import { Uplink } from "../../../worklet/client/uplink.ts";
import { FakeChannel, frame } from "./fakes.ts";

function uplink(options: { gate?: boolean; maxFrames?: number; render?: boolean } = {}) {
  const dropped: number[] = [];
  let appended = 0;
  const rendered: number[] = [];
  const u = new Uplink({
    gate: options.gate ?? false,
    holdFrames: 3,
    trailFrames: 1,
    maxFrames: options.maxFrames ?? 100,
    highWaterMark: 1000,
    onDrop: (f) => dropped.push(f.seq),
    onAppend: (samples) => {
      appended += samples;
    },
  });
  if (options.render) u.render = (f) => rendered.push(f.seq);
  return { u, dropped, rendered, appended: () => appended };
}

const seqs = (channel: FakeChannel) =>
  channel.sent.map((text) => Number(/"event_id":"rv_(\d+)_/.exec(text)?.[1] ?? -1));

describe("uplink", () => {
  it("queues while no channel is open, then sends in order; each frame's fate says which", () => {
    const { u, appended } = uplink();
    expect(u.frame(frame(0), 1)).toBe("queued");
    const channel = new FakeChannel();
    channel.readyState = "open";
    u.attach(channel);
    expect(u.frame(frame(1), 2)).toBe("sent");
    expect(seqs(channel)).toEqual([0, 1]);
    expect(u.framesSent).toBe(2);
    expect(u.bytesSent).toBe(1920);
    expect(appended()).toBe(960);
    // Above the high-water mark frames wait, and go out when the buffer drains.
    channel.bufferedAmount = 5000;
    expect(u.frame(frame(2), 3)).toBe("queued");
    channel.bufferedAmount = 0;
    u.drain();
    expect(seqs(channel)).toEqual([0, 1, 2]);
    const append = JSON.parse(channel.sent[0] as string);
    expect(append.type).toBe("input_audio_buffer.append");
    expect(append.audio).toBe("A".repeat(1280));
  });

  it("gates silence: held frames go out as prefix padding when speech starts, older ones are withheld", () => {
    const { u } = uplink({ gate: true });
    const channel = new FakeChannel();
    channel.readyState = "open";
    u.attach(channel);
    for (let i = 0; i < 5; i++) expect(u.frame(frame(i), i)).toBe("held");
    u.speechStart(frame(3).timestamp);
    expect(u.frame(frame(5, true), 5)).toBe("sent");
    expect(seqs(channel)).toEqual([3, 4, 5]);
    expect(u.withheld).toBe(3);
    u.speechEnd();
    expect(u.frame(frame(6), 6)).toBe("sent"); // one trailing frame
    expect(u.frame(frame(7), 7)).toBe("held");
  });

  it("drops the oldest silence first when the bound is reached, and requeues what a lost channel never sent", () => {
    const { u, dropped } = uplink({ maxFrames: 2 });
    u.frame(frame(0, true), 0);
    u.frame(frame(1), 1);
    u.frame(frame(2), 2);
    expect(dropped).toEqual([1]);
    const channel = new FakeChannel();
    channel.readyState = "open";
    u.attach(channel);
    expect(seqs(channel)).toEqual([0, 2]);
    channel.bufferedAmount = (channel.sent[1] as string).length;
    u.detach();
    const next = new FakeChannel();
    next.readyState = "open";
    u.attach(next);
    expect(seqs(next)).toEqual([2]);
  });

  it("track mode renders each admitted frame instead of queueing it", () => {
    const { u, rendered } = uplink({ render: true });
    expect(u.frame(frame(0), 0)).toBe("sent");
    expect(rendered).toEqual([0]);
    expect(u.queued).toBe(0);
  });

  it("flush sends past the high-water mark and waits for the buffer to empty, without polling", async () => {
    const { u } = uplink();
    const channel = new FakeChannel();
    channel.readyState = "open";
    channel.bufferedAmount = 5000;
    u.attach(channel);
    u.frame(frame(0), 0);
    u.event('{"type":"response.create"}');
    const flushed = u.flush(10_000);
    expect(channel.types()).toEqual(["input_audio_buffer.append", "response.create"]);
    expect(channel.bufferedAmountLowThreshold).toBe(0);
    channel.drained();
    await flushed;
    expect(channel.bufferedAmountLowThreshold).toBe(0);
  });
});

import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { alawToLinear, linearToMulaw, mulawToLinear } from "../../demo/local-peer/g711.ts";
import { buildRtp, parseRtp } from "../../demo/local-peer/rtp.ts";
import { inspectOffer } from "../../demo/local-peer/sdp-offer.ts";

describe("G.711", () => {
  it("matches the ITU-T G.711 end points", () => {
    expect(linearToMulaw(0)).toBe(0xff);
    expect(linearToMulaw(-1)).toBe(0x7f);
    expect(linearToMulaw(32767)).toBe(0x80);
    expect(linearToMulaw(-32768)).toBe(0x00);
    expect(mulawToLinear(0xff)).toBe(0);
    expect(mulawToLinear(0x80)).toBe(32124);
    expect(mulawToLinear(0x00)).toBe(-32124);
    expect(alawToLinear(0xd5)).toBe(8);
    expect(alawToLinear(0x55)).toBe(-8);
    expect(alawToLinear(0xaa)).toBe(32256);
    expect(alawToLinear(0x2a)).toBe(-32256);
  });

  it("μ-law round trip stays within half a quantisation step of its segment", () => {
    fc.assert(
      fc.property(fc.integer({ min: -32768, max: 32767 }), (x) => {
        const y = mulawToLinear(linearToMulaw(x));
        const clipped = Math.max(-32124, Math.min(32124, x));
        // Segment e has steps of 2^(e+3); the decoder returns the step's middle.
        const step = 2 ** (Math.max(0, Math.floor(Math.log2((Math.abs(clipped) + 132) / 128))) + 3);
        return Math.abs(y - clipped) <= step / 2 + 1;
      }),
    );
  });

  it("μ-law is monotonic", () => {
    let previous = Number.NEGATIVE_INFINITY;
    for (let x = -32768; x <= 32767; x += 7) {
      const y = mulawToLinear(linearToMulaw(x));
      expect(y).toBeGreaterThanOrEqual(previous);
      previous = y;
    }
  });
});

describe("RTP", () => {
  it("round-trips a header and payload", () => {
    const payload = Uint8Array.from([1, 2, 3, 4]);
    const packet = buildRtp(
      { payloadType: 0, marker: true, sequence: 65535, timestamp: 2 ** 32 + 5, ssrc: 0xdeadbeef },
      payload,
    );
    expect(parseRtp(packet)).toEqual({
      payloadType: 0,
      marker: true,
      sequence: 65535,
      timestamp: 5,
      ssrc: 0xdeadbeef,
      payload,
    });
  });

  it("skips CSRCs and a header extension and strips padding", () => {
    const packet = Uint8Array.from([
      0xb2,
      0x08,
      0,
      1,
      0,
      0,
      0,
      160,
      0,
      0,
      0,
      9, // V=2, P, X, CC=2; PT 8
      0,
      0,
      0,
      1,
      0,
      0,
      0,
      2, // two CSRCs
      0xbe,
      0xde,
      0,
      1,
      0x10,
      0xff,
      0,
      0, // one-byte extension, 1 word
      7,
      8,
      9, // payload
      0,
      0,
      3, // padding, last byte = count
    ]);
    expect(parseRtp(packet)).toMatchObject({ payloadType: 8, sequence: 1, timestamp: 160, ssrc: 9 });
    expect([...(parseRtp(packet)?.payload ?? [])]).toEqual([7, 8, 9]);
  });

  it("rejects RTCP, other versions and truncated packets", () => {
    const receiverReport = Uint8Array.from([0x80, 201, 0, 1, 0, 0, 0, 1]);
    expect(parseRtp(Uint8Array.from([...receiverReport, 0, 0, 0, 0]))).toBeNull();
    expect(parseRtp(Uint8Array.from([0x40, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 1]))).toBeNull();
    expect(parseRtp(Uint8Array.from([0x80, 0, 0]))).toBeNull();
    expect(parseRtp(Uint8Array.from([0x8f, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 1]))).toBeNull();
  });
});

describe("SDP offer inspection", () => {
  const offer = (audio: string) =>
    [
      "v=0",
      "o=- 1 2 IN IP4 127.0.0.1",
      "s=-",
      "t=0 0",
      "a=group:BUNDLE 0 1",
      ...audio.split("\n"),
      "m=application 9 UDP/DTLS/SCTP webrtc-datachannel",
      "a=mid:1",
      "a=sctp-port:5000",
      "",
    ].join("\r\n");

  it("reads a browser's audio section: mid, direction, codecs including static payload types", () => {
    const summary = inspectOffer(
      offer(
        "m=audio 9 UDP/TLS/RTP/SAVPF 111 63 9 0 8 13 110 126\nc=IN IP4 0.0.0.0\na=mid:0\na=sendrecv\na=rtpmap:111 opus/48000/2\na=rtpmap:9 G722/8000\na=rtpmap:126 telephone-event/8000",
      ),
    );
    expect(summary?.dataChannel).toBe(true);
    expect(summary?.audio).toMatchObject({ mid: "0", direction: "sendrecv" });
    expect(summary?.audio?.codecs).toEqual(
      expect.arrayContaining([
        { payloadType: 111, name: "opus", clockRate: 48000, channels: 2 },
        { payloadType: 0, name: "pcmu", clockRate: 8000, channels: 1 },
        { payloadType: 8, name: "pcma", clockRate: 8000, channels: 1 },
      ]),
    );
  });

  it("finds no audio in a data-only offer, a rejected audio section, or text that is not SDP", () => {
    expect(inspectOffer(offer(""))?.audio).toBeNull();
    expect(inspectOffer(offer("m=audio 0 UDP/TLS/RTP/SAVPF 0\na=mid:0\na=inactive"))?.audio).toBeNull();
    expect(inspectOffer("hello")).toBeNull();
  });
});

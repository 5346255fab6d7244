/**
 * Small stand-ins for the browser objects the client uses, so its parts run in Node: a data channel, a peer
 * connection that opens its channel once it has an answer, the capture graph, and a scripted `fetch`.
 */
import type { FrameMessage } from "../../../worklet/processor/messages.ts";

export class FakeChannel extends EventTarget {
  readyState: RTCDataChannelState = "connecting";
  bufferedAmount = 0;
  bufferedAmountLowThreshold = 0;
  sent: string[] = [];
  onopen: (() => void) | null = null;
  onclose: (() => void) | null = null;
  onmessage: ((event: { data: unknown }) => void) | null = null;
  onbufferedamountlow: (() => void) | null = null;
  readonly label: string;
  constructor(label = "oai-events") {
    super();
    this.label = label;
  }
  send(text: string): void {
    if (this.readyState !== "open") throw new Error("InvalidStateError: channel not open");
    this.sent.push(text);
  }
  open(): void {
    this.readyState = "open";
    this.onopen?.();
    this.dispatchEvent(new Event("open"));
  }
  /** The remote side closed it (fires `close`). */
  drop(): void {
    if (this.readyState === "closed") return;
    this.readyState = "closed";
    this.onclose?.();
    this.dispatchEvent(new Event("close"));
  }
  close(): void {
    this.drop();
  }
  /** The send buffer emptied. */
  drained(): void {
    this.bufferedAmount = 0;
    this.onbufferedamountlow?.();
    this.dispatchEvent(new Event("bufferedamountlow"));
  }
  /** Server events received so far, parsed (appends summarised by type). */
  types(): string[] {
    return this.sent.map((text) => (JSON.parse(text) as { type: string }).type);
  }
}

export class FakePeerConnection {
  static instances: FakePeerConnection[] = [];
  channel: FakeChannel | null = null;
  closed = false;
  connectionState = "new";
  iceGatheringState = "complete";
  localDescription: { type: string; sdp: string } | null = null;
  remoteDescription: { type: string; sdp: string } | null = null;
  transceivers: unknown[] = [];
  onconnectionstatechange: (() => void) | null = null;
  ontrack: ((event: unknown) => void) | null = null;
  constructor() {
    FakePeerConnection.instances.push(this);
  }
  addTransceiver(what: unknown, init: unknown): void {
    this.transceivers.push([what, init]);
  }
  createDataChannel(label: string): FakeChannel {
    this.channel = new FakeChannel(label);
    return this.channel;
  }
  async createOffer() {
    return { type: "offer", sdp: "v=0\r\no=offer" };
  }
  async setLocalDescription(description: { type: string; sdp: string }) {
    this.localDescription = description;
  }
  async setRemoteDescription(description: { type: string; sdp: string }) {
    this.remoteDescription = description;
    setTimeout(() => this.channel?.open(), 0);
  }
  addEventListener(): void {}
  close(): void {
    this.closed = true;
    if (this.channel) this.channel.readyState = "closed";
  }
  fail(): void {
    this.connectionState = "failed";
    this.onconnectionstatechange?.();
  }
}

/** One scripted answer per request, in order; records every request. */
export function fakeFetch(answers: Array<(request: Request) => Response | Promise<Response>>) {
  const requests: Request[] = [];
  const signals: Array<AbortSignal | undefined> = [];
  const fetch = async (input: string, init?: RequestInit) => {
    const request = new Request(input, init);
    requests.push(request);
    signals.push(init?.signal ?? undefined);
    const answer = answers.shift();
    if (!answer) throw new TypeError("Failed to fetch (no answer scripted)");
    return answer(request);
  };
  return { fetch, requests, signals };
}

export const sdpAnswer =
  (callId = "rtc_test1") =>
  () =>
    new Response("v=0\r\no=answer", {
      status: 201,
      headers: { "content-type": "application/sdp", location: `/v1/realtime/calls/${callId}` },
    });

/** A 24 kHz PCM16 frame message of `ms` milliseconds. */
export function frame(seq: number, speech = false, ms = 20, probability = speech ? 0.9 : 0.05): FrameMessage {
  const samples = (ms * 24000) / 1000;
  return {
    type: "frame",
    seq,
    timestamp: seq * samples,
    pcm: new Int16Array(samples).buffer,
    probability,
    speech,
    level: -40,
  };
}

/** The capture graph's port (the worklet node's) and the contexts created, as the fakes below record them. */
export const fakeCapture: {
  port: { onmessage: ((event: { data: unknown }) => void) | null; posted: unknown[] } | null;
  contexts: Array<{ state: string }>;
  /** Buffers the track renderer scheduled. */
  rendered: number;
} = { port: null, contexts: [], rendered: 0 };

/** Installs an AudioContext, an AudioWorkletNode and a document into `globals`; contexts start in `state`. */
export function installFakeCapture(globals: Record<string, unknown>, state = "running"): void {
  fakeCapture.port = null;
  fakeCapture.contexts = [];
  fakeCapture.rendered = 0;
  globals.AudioContext = class {
    state = state;
    sampleRate = 48000;
    currentTime = 0;
    audioWorklet = { addModule: async () => {} };
    constructor() {
      fakeCapture.contexts.push(this);
    }
    async resume() {}
    async close() {
      this.state = "closed";
    }
    createMediaStreamSource() {
      return { connect() {}, disconnect() {} };
    }
    createMediaStreamDestination() {
      const track = { kind: "audio", stop() {} };
      return { channelCount: 2, stream: { getAudioTracks: () => [track] } };
    }
    createBuffer(_channels: number, length: number) {
      const data = new Float32Array(length);
      return { getChannelData: () => data };
    }
    createBufferSource() {
      fakeCapture.rendered++;
      return { buffer: null, connect() {}, start() {} };
    }
  };
  globals.AudioWorkletNode = class {
    port = {
      onmessage: null,
      posted: [] as unknown[],
      postMessage(m: unknown) {
        this.posted.push(m);
      },
      close() {},
    };
    onprocessorerror = null;
    constructor() {
      fakeCapture.port = this.port;
    }
    disconnect() {}
  };
  globals.document = { addEventListener() {}, removeEventListener() {} };
}

/** Posts `message` as the capture processor would. */
export function deliver(message: unknown): void {
  fakeCapture.port?.onmessage?.({ data: message });
}

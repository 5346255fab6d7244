/**
 * A real WebRTC client for the peer tests: node-datachannel's native `PeerConnection` as the offerer, with an
 * audio m-section (like a browser's transceiver: Opus and PCMU offered) and the `oai-events` data channel. It
 * collects every server event and every RTP packet of the peer's voice.
 */
import nodeDataChannel, {
  type DataChannel,
  type Direction,
  type PeerConnection,
  type Track,
} from "node-datachannel";

const { Audio, PeerConnection: NativePeerConnection } = nodeDataChannel;

export interface ServerEvent {
  type: string;
  event_id: string;
  [field: string]: unknown;
}

export interface OffererOptions {
  /** Audio m-section direction; `none` leaves it out (an invalid offer). Default `recvonly` (the client's default). */
  audio?: Direction | "none";
}

export class RealtimeOfferer {
  readonly events: ServerEvent[] = [];
  readonly rtp: Array<{ at: number; bytes: number; payloadType: number }> = [];
  readonly #pc: PeerConnection;
  readonly #channel: DataChannel;
  readonly #track: Track | null;
  #waiters: Array<() => void> = [];
  readonly opened: Promise<void>;

  constructor(options: OffererOptions = {}) {
    this.#pc = new NativePeerConnection("test-offerer", { iceServers: [], bindAddress: "127.0.0.1" });
    const direction = options.audio ?? "RecvOnly";
    if (direction !== "none") {
      const audio = new Audio("0", direction);
      audio.addOpusCodec(111);
      audio.addAudioCodec(0, "PCMU/8000");
      if (direction === "SendRecv" || direction === "SendOnly") audio.addSSRC(4242, "offerer", "mic", "mic");
      this.#track = this.#pc.addTrack(audio);
      this.#track.onMessage((packet) => {
        // RTCP (packet types 200–206 under rtcp-mux) is not audio.
        if ((packet[1] ?? 0) >= 192 && (packet[1] ?? 0) <= 223) return;
        this.rtp.push({ at: performance.now(), bytes: packet.length, payloadType: (packet[1] ?? 0) & 0x7f });
        this.#wake();
      });
    } else this.#track = null;
    this.#channel = this.#pc.createDataChannel("oai-events");
    this.opened = new Promise((resolve) => this.#channel.onOpen(() => resolve()));
    this.#channel.onMessage((message) => {
      if (typeof message === "string") this.events.push(JSON.parse(message) as ServerEvent);
      this.#wake();
    });
  }

  /**
   * Posts this offer and `session` to `{baseUrl}/v1/realtime/calls` as the unified interface's multipart body
   * with the server `key`. Resolves with the SDP answer and the call id from `Location`; throws on any status but
   * 201, with the peer's error body.
   */
  async postCall(baseUrl: string, key: string, session: unknown): Promise<{ answer: string; id: string }> {
    const form = new FormData();
    form.set("sdp", await this.offer());
    form.set("session", JSON.stringify(session));
    const response = await fetch(`${baseUrl}/v1/realtime/calls`, {
      method: "POST",
      body: form,
      headers: { authorization: `Bearer ${key}` },
    });
    if (response.status !== 201) throw new Error(`call: ${response.status} ${await response.text()}`);
    const id = (response.headers.get("location") ?? "").split("/").pop() ?? "";
    return { answer: await response.text(), id };
  }

  /** {@link postCall}, then connects with the answer; resolves with the call id. */
  async call(baseUrl: string, key: string, session: unknown): Promise<string> {
    const { answer, id } = await this.postCall(baseUrl, key, session);
    await this.connect(answer);
    return id;
  }

  /**
   * The offer without ICE candidates, as a browser sends it when it posts before gathering ends: the peer then
   * learns this side's address from its connectivity checks (a peer-reflexive candidate). Sending our
   * candidates instead lets the peer's checks and DTLS handshake reach this libdatachannel offerer before it
   * has applied the answer, which it does not survive reliably ("remote candidate without ICE transport").
   */
  async offer(): Promise<string> {
    if (this.#pc.gatheringState() !== "complete")
      await new Promise<void>((resolve) =>
        this.#pc.onGatheringStateChange((state) => state === "complete" && resolve()),
      );
    const sdp = this.#pc.localDescription()?.sdp ?? "";
    return (
      sdp
        .split("\r\n")
        .filter((line) => !line.startsWith("a=candidate:") && line !== "a=end-of-candidates")
        // This offerer takes the DTLS server role: the peer answers browsers' `actpass` as the server, and a
        // libdatachannel client sends its ClientHello before the peer's ICE is ready, losing ~1 s per call to
        // the retransmission (the trap the peer's answer avoids for Firefox).
        .map((line) => (line === "a=setup:actpass" ? "a=setup:passive" : line))
        .join("\r\n")
    );
  }

  /** Applies the answer and waits for the data channel to open. */
  async connect(answer: string): Promise<void> {
    this.#pc.setRemoteDescription(answer, "answer");
    await withTimeout(this.opened, 5000, "data channel did not open");
  }

  get channelOpen(): boolean {
    return this.#channel.isOpen();
  }

  /** Sends one client event as JSON text. */
  send(event: Record<string, unknown>): void {
    if (!this.#channel.sendMessage(JSON.stringify(event))) throw new Error("send failed");
  }

  /** Sends raw text (for malformed-input tests). */
  sendRaw(text: string): void {
    this.#channel.sendMessage(text);
  }

  /** Sends RTP on the offered track (for track-mode tests). */
  sendRtp(packet: Uint8Array): boolean {
    return this.#track?.sendMessageBinary(Buffer.from(packet)) ?? false;
  }

  /** Resolves with the first server event of `type` after index `from` matching `where`. */
  async next(type: string, where: (event: ServerEvent) => boolean = () => true, from = 0, timeoutMs = 5000) {
    return withTimeout(
      this.until(() => this.events.slice(from).find((e) => e.type === type && where(e))),
      timeoutMs,
      `no '${type}' event (got: ${this.events
        .slice(from)
        .map((e) => e.type)
        .join(", ")})`,
    );
  }

  /** Resolves once `probe` returns a value (re-checked on every incoming message). */
  async until<T>(probe: () => T | undefined | false): Promise<T> {
    for (;;) {
      const value = probe();
      if (value !== undefined && value !== false) return value;
      await new Promise<void>((resolve) => this.#waiters.push(resolve));
    }
  }

  close(): void {
    this.#wake();
    this.#channel.close();
    this.#pc.close();
  }

  #wake(): void {
    const waiters = this.#waiters;
    this.#waiters = [];
    for (const wake of waiters) wake();
  }
}

export async function withTimeout<T>(promise: Promise<T>, ms: number, message: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(message)), ms);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** PCM16 samples as OpenAI's base64 `audio` field (little-endian). */
export function toBase64(samples: Int16Array): string {
  const bytes = Buffer.alloc(samples.length * 2);
  for (let i = 0; i < samples.length; i++) bytes.writeInt16LE(samples[i] as number, i * 2);
  return bytes.toString("base64");
}

/** Float samples in [−1, 1] to PCM16 (round to nearest, clamp). */
export function toPcm16(samples: Float32Array): Int16Array {
  const out = new Int16Array(samples.length);
  for (let i = 0; i < samples.length; i++)
    out[i] = Math.max(-32768, Math.min(32767, Math.round((samples[i] as number) * 32768)));
  return out;
}

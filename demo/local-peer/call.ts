/**
 * One WebRTC call: answers the browser's SDP offer with node-datachannel's native `PeerConnection`, carries
 * `oai-events` to a `CallSession`, sends the peer's voice on the audio track and receives the browser's. The
 * answer is returned only after ICE gathering completes, so it carries every candidate (non-trickle, as
 * OpenAI's answer does): on a loopback-only host that is the 127.0.0.1 host candidate Chromium needs (with
 * `--allow-loopback-in-peer-connection`).
 */

import nodeDataChannel, { type DataChannel, type Direction, type PeerConnection } from "node-datachannel";
import type { WebSocket } from "ws";
import { CallSession } from "./call-session.ts";
import { EventLog, nowMs } from "./event-log.ts";
import type { Recorder } from "./recorder.ts";
import type { AudioSection, SdpDirection } from "./sdp-offer.ts";
import type { EffectiveSession } from "./session-config.ts";
import type { SpeechEngines } from "./speech-engines.ts";
import { TrackReceiver } from "./track-receiver.ts";
import { chooseVoiceCodec, VoiceTrack } from "./voice-track.ts";

const { Audio, PeerConnection: NativePeerConnection } = nodeDataChannel;

/** How long ICE gathering may take before the call is refused. */
const GATHER_TIMEOUT_MS = 5000;
/** OpenAI's session cap: a call ends 60 minutes after it started. */
const SESSION_LIMIT_MS = 60 * 60 * 1000;
/** Server events kept for a data channel that has not opened yet; a call whose channel never opens ends anyway. */
const MAX_EVENTS_BEFORE_OPEN = 1000;

/**
 * Wraps a callback handed to node-datachannel: an exception escaping a native callback aborts the whole process
 * ("terminate called after throwing Napi::Error"), so one call's bug must stop here and be logged.
 */
function guard<A extends unknown[]>(callback: (...args: A) => void): (...args: A) => void {
  return (...args) => {
    try {
      callback(...args);
    } catch (error) {
      console.error("[local-peer] call callback failed:", error);
    }
  };
}

/**
 * Makes the peer answer as the DTLS server (`a=setup:passive`): libdatachannel answers an `actpass` offer as the
 * DTLS client and sends its ClientHello as soon as its own ICE check succeeds, which Firefox drops when its
 * connectivity check has not completed yet, costing a ~1 s retransmission on every call. Seen as `active` by
 * libdatachannel, the offer's `actpass` leads it to answer `passive`; the browser, which offered `actpass`,
 * accepts `passive` and starts the handshake itself once ICE is up (RFC 5763 §5, RFC 8842).
 */
export function asDtlsServer(offer: string): string {
  return offer.replace(/^a=setup:actpass(\r?)$/gm, "a=setup:active$1");
}

export type CallState = "connecting" | "connected" | "closed" | "failed";

export interface CallInit {
  id: string;
  offer: string;
  audio: AudioSection;
  session: EffectiveSession;
  recorder: Recorder;
  /** Speech engines for transcription, the voice and the assistant (the engine-free stand-in when absent). */
  engines?: SpeechEngines;
  /** Called once when the call ends (hangup, data channel or transport closed, session limit). */
  onEnded: (call: Call) => void;
}

/** Answer-side direction of an offered m-section (RFC 3264 §6.1). */
const RECIPROCAL: Record<SdpDirection, Direction> = {
  sendrecv: "SendRecv",
  recvonly: "SendOnly",
  sendonly: "RecvOnly",
  inactive: "Inactive",
};

export class Call {
  readonly id: string;
  readonly createdAt = nowMs();
  readonly log = new EventLog();
  readonly session: CallSession;
  readonly receiver: TrackReceiver | null;
  readonly codec: string;
  state: CallState = "connecting";
  endedAt: number | null = null;
  endReason: string | null = null;
  dataChannelOpenedAt: number | null = null;
  readonly #pc: PeerConnection;
  readonly #init: CallInit;
  #voice: VoiceTrack | null = null;
  #channel: DataChannel | null = null;
  /** Server events emitted before the data channel opened, in order; null once they were delivered. */
  #beforeOpen: string[] | null = [];
  readonly #sidebands = new Set<WebSocket>();
  readonly #limit: NodeJS.Timeout;

  private constructor(init: CallInit) {
    this.id = init.id;
    this.#init = init;
    this.#pc = new NativePeerConnection(init.id, { iceServers: [], bindAddress: "127.0.0.1" });
    // The voice goes out in Opus when offered (as OpenAI's own track), else PCMU; the answer lists PCMU second
    // when both were offered, so the browser may send either and the track receiver decodes both.
    const voiceCodec = chooseVoiceCodec(init.audio.codecs);
    const pcmu = init.audio.codecs.find((c) => c.name === "pcmu" && c.clockRate === 8000);
    const fallback = init.audio.codecs[0];
    this.codec = voiceCodec
      ? voiceCodec.rtpmap
      : fallback
        ? `${fallback.name}/${fallback.clockRate}`
        : "none";
    const direction: Direction = voiceCodec ? RECIPROCAL[init.audio.direction] : "Inactive";
    const media = new Audio(init.audio.mid, direction);
    if (voiceCodec?.name === "opus") media.addOpusCodec(voiceCodec.payloadType);
    if (pcmu) media.addAudioCodec(pcmu.payloadType, "PCMU/8000");
    if (!voiceCodec && fallback)
      media.addAudioCodec(fallback.payloadType, `${fallback.name}/${fallback.clockRate}`);
    const ssrc = (Math.random() * 0xffff_ffff) >>> 0 || 1;
    const sends = direction === "SendRecv" || direction === "SendOnly";
    if (sends) media.addSSRC(ssrc, "realtime-peer", "realtime-peer", "voice");
    const track = this.#pc.addTrack(media);
    // Track audio joins the input buffer like appends (OpenAI's browser samples and agents-realtime send the
    // microphone this way, not as appends).
    this.receiver = voiceCodec
      ? new TrackReceiver(
          {
            ...(pcmu ? { pcmu: pcmu.payloadType } : {}),
            ...(voiceCodec.name === "opus" ? { opus: voiceCodec.payloadType } : {}),
          },
          (pcm) => this.session.receiveTrackAudio(pcm),
        )
      : null;
    track.onMessage(guard((packet) => this.receiver?.receive(packet)));
    if (voiceCodec && sends)
      this.#voice = new VoiceTrack(track, voiceCodec.payloadType, ssrc, voiceCodec.name);
    this.session = new CallSession({
      callId: init.id,
      session: init.session,
      transmit: (json) => {
        if (this.#beforeOpen !== null) {
          if (this.#beforeOpen.length >= MAX_EVENTS_BEFORE_OPEN) return false;
          this.#beforeOpen.push(json);
          return true;
        }
        try {
          return this.#channel?.isOpen() ? this.#channel.sendMessage(json) : false;
        } catch {
          // The channel closed between the check and the send; the event stays in the call's log.
          return false;
        }
      },
      voice: () => this.#voice,
      recorder: init.recorder,
      log: this.log,
      ...(init.engines ? { engines: init.engines } : {}),
    });
    this.#pc.onDataChannel(
      guard((channel: DataChannel) => {
        if (channel.getLabel() !== "oai-events" || this.#channel) return;
        this.#channel = channel;
        this.dataChannelOpenedAt = nowMs();
        channel.onMessage(guard((message) => this.session.handle(message)));
        channel.onClosed(guard(() => this.end("data_channel_closed")));
        this.state = "connected";
        const pending = this.#beforeOpen ?? [];
        this.#beforeOpen = null;
        for (const json of pending) channel.sendMessage(json);
      }),
    );
    // OpenAI creates the session with the call: `session.created` is the first event on the data channel, and a
    // sideband attached after the 201 never sees it. Events emitted before the channel opens (a sideband's
    // `session.update` is often one) wait behind it, so the browser reads them in the order they happened.
    this.session.start();
    this.#pc.onStateChange(
      guard((state: string) => {
        if (state === "failed") this.end("transport_failed", "failed");
        else if (state === "closed" || state === "disconnected") this.end(`transport_${state}`);
      }),
    );
    this.#limit = setTimeout(() => this.end("session_limit"), SESSION_LIMIT_MS);
    this.#limit.unref();
  }

  /** Creates the call from a checked offer and resolves with the SDP answer once gathering is complete. */
  static async answer(init: CallInit): Promise<{ call: Call; answer: string }> {
    const call = new Call(init);
    const gathered = new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error("ICE gathering timed out")), GATHER_TIMEOUT_MS);
      call.#pc.onGatheringStateChange((state) => {
        if (state === "complete") {
          clearTimeout(timer);
          resolve();
        }
      });
    });
    try {
      call.#pc.setRemoteDescription(asDtlsServer(init.offer), "offer");
      await gathered;
      const answer = call.#pc.localDescription();
      if (!answer?.sdp) throw new Error("no local description after gathering");
      return { call, answer: answer.sdp };
    } catch (error) {
      call.end("answer_failed", "failed");
      throw error;
    }
  }

  /** The voice track, when the negotiated direction lets the peer send audio. */
  get voice(): VoiceTrack | null {
    return this.#voice;
  }

  /** True while the data channel is open. */
  get channelOpen(): boolean {
    return this.#channel?.isOpen() ?? false;
  }

  /** Test hook: closes the data channel as a network fault would (the call then ends as `data_channel_closed`). */
  dropDataChannel(): boolean {
    if (!this.#channel?.isOpen()) return false;
    this.#channel.close();
    return true;
  }

  /** Sideband sockets attached now. */
  get sidebands(): number {
    return this.#sidebands.size;
  }

  /**
   * Attaches a sideband WebSocket (see `sideband.ts`): later server events go to it too, its text messages are
   * client events. No `session.created` is sent, as at OpenAI. Closing it leaves the call running.
   */
  attachSideband(ws: WebSocket): void {
    if (this.endedAt !== null) {
      ws.close(1000, "call ended");
      return;
    }
    this.#sidebands.add(ws);
    const stop = this.session.listen((json) => {
      if (ws.readyState === ws.OPEN) ws.send(json);
    });
    ws.on(
      "message",
      guard((data: Buffer, isBinary: boolean) =>
        this.session.handle(isBinary ? data : data.toString("utf8")),
      ),
    );
    ws.on("close", () => {
      stop();
      this.#sidebands.delete(ws);
    });
    ws.on("error", () => ws.terminate());
  }

  /** Ends the call once: stops the voice, writes the recordings, closes the transport. */
  end(reason: string, state: CallState = "closed"): void {
    if (this.endedAt !== null) return;
    this.endedAt = nowMs();
    this.endReason = reason;
    this.state = state;
    clearTimeout(this.#limit);
    this.session.close();
    this.#voice?.close();
    for (const ws of this.#sidebands) ws.close(1000, "call ended");
    this.receiver?.flush();
    if (this.receiver && this.receiver.stats.samples > 0)
      this.#init.recorder.write(`${this.id}-track.wav`, this.receiver.pcm());
    try {
      this.#channel?.close();
      this.#pc.close();
    } catch {
      // Closing an already-failed transport may throw; the call is over either way.
    }
    this.#init.onEnded(this);
  }
}

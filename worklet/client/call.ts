/**
 * One WebRTC call: an `RTCPeerConnection` with one audio m-section and the `oai-events` data channel, its SDP
 * offer sent through {@link exchangeSdp}, resolved once the channel is open. Everything is undone when `signal`
 * aborts before then; afterwards the caller owns the call and closes it with `close()`.
 */
import { EVENTS_CHANNEL_LABEL } from "../../worker/schema/protocol.ts";
import { RealtimeVoiceError } from "./realtime-voice-error.ts";
import { exchangeSdp, type SignalingRequest } from "./signaling.ts";

/** Host candidates gather in a few ms; the cap keeps a slow STUN/TURN server from delaying the call. */
const ICE_GATHER_MS = 500;

/** What {@link openCall} needs besides the track: where to signal, and the channel's high-water mark. */
export interface CallOptions extends SignalingRequest {
  highWaterMark: number;
}

/** Callbacks of a call; `onLost` fires at most once, only after the call was open. */
export interface CallHandlers {
  /** A message on `oai-events` (a JSON string for every server event). */
  onMessage(data: unknown): void;
  /** The model's voice arrived: the remote stream to play. */
  onTrack(stream: MediaStream): void;
  /** `bufferedAmount` fell below a quarter of the high-water mark: send more. */
  onBufferedAmountLow(): void;
  /** The channel closed or the connection failed after opening. */
  onLost(reason: string): void;
}

/** An open call. */
export interface Call {
  pc: RTCPeerConnection;
  channel: RTCDataChannel;
  /** `rtc_…` from the 201's `Location`, null when the server sent none. */
  callId: string | null;
  /** Closes the channel and the connection; no `onLost` afterwards. */
  close(): void;
}

/** Whether this browser can make WebRTC calls at all (WebKitGTK builds may lack `RTCPeerConnection`). */
export function webRtcSupported(): boolean {
  return typeof globalThis.RTCPeerConnection === "function";
}

/**
 * Opens a call: `track` is sent when given (track mode); otherwise the audio m-section is receive-only, since
 * OpenAI rejects an offer without one (`invalid_offer`). Rejects with {@link RealtimeVoiceError} (signalling
 * codes, `connection_failed`, `channel_closed`) or with `signal.reason` when aborted.
 */
export async function openCall(
  options: CallOptions,
  track: MediaStreamTrack | null,
  signal: AbortSignal,
  handlers: CallHandlers,
): Promise<Call> {
  signal.throwIfAborted();
  const pc = new RTCPeerConnection();
  let live = false;
  const close = () => {
    live = false;
    channel.close();
    pc.close();
  };
  if (track) pc.addTransceiver(track, { direction: "sendrecv" });
  else pc.addTransceiver("audio", { direction: "recvonly" });
  pc.ontrack = (event) => handlers.onTrack(event.streams[0] ?? new MediaStream([event.track]));
  const channel = pc.createDataChannel(EVENTS_CHANNEL_LABEL);
  channel.bufferedAmountLowThreshold = Math.floor(options.highWaterMark / 4);
  channel.onbufferedamountlow = () => handlers.onBufferedAmountLow();
  channel.onmessage = (event: MessageEvent) => handlers.onMessage(event.data);
  const onAbort = () => close();
  signal.addEventListener("abort", onAbort);
  const lost = (reason: string) => {
    if (!live) return;
    live = false;
    handlers.onLost(reason);
  };
  const opened = new Promise<void>((resolve, reject) => {
    channel.onopen = () => resolve();
    channel.onclose = () => {
      reject(new RealtimeVoiceError("channel_closed", "oai-events closed before opening"));
      lost("the oai-events data channel closed");
    };
    pc.onconnectionstatechange = () => {
      if (pc.connectionState !== "failed") return;
      reject(new RealtimeVoiceError("connection_failed", "ICE/DTLS connection failed"));
      lost("the WebRTC connection failed");
    };
    signal.addEventListener("abort", () => reject(signal.reason));
  });
  opened.catch(() => {});
  try {
    await pc.setLocalDescription(await pc.createOffer());
    await gatherCandidates(pc, signal);
    const { sdp, callId } = await exchangeSdp(pc.localDescription?.sdp ?? "", options, signal);
    signal.throwIfAborted();
    await pc.setRemoteDescription({ type: "answer", sdp });
    await opened;
    signal.throwIfAborted();
    live = true;
    return { pc, channel, callId, close };
  } catch (error) {
    close();
    throw signal.aborted ? signal.reason : error;
  } finally {
    signal.removeEventListener("abort", onAbort);
  }
}

function gatherCandidates(pc: RTCPeerConnection, signal: AbortSignal): Promise<void> {
  if (pc.iceGatheringState === "complete") return Promise.resolve();
  return new Promise<void>((resolve) => {
    const done = () => {
      clearTimeout(timer);
      signal.removeEventListener("abort", done);
      resolve();
    };
    const timer = setTimeout(done, ICE_GATHER_MS);
    signal.addEventListener("abort", done);
    pc.addEventListener("icegatheringstatechange", () => {
      if (pc.iceGatheringState === "complete") done();
    });
  });
}

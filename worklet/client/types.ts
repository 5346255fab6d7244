/**
 * The DOM-free types of a session's events and counters, for applications, the demo and the tests. The
 * connection state, which carries live WebRTC objects, is `ConnectionState` in `session.ts`.
 */
import type { RealtimeVoiceError } from "./realtime-voice-error.ts";

/** A server event from `oai-events`: at least a `type`; unknown types are delivered too. */
export interface ServerEvent {
  type: string;
  [key: string]: unknown;
}

/**
 * Why a session is `closed`: `"client"` when `close()` was called; otherwise the server ended the call (its
 * `end_reason` from `GET /v1/realtime/calls/{id}`): `max_duration`, `idle`, `policy`, `budget` or `hangup`.
 */
export type CloseReason = "client" | "max_duration" | "idle" | "policy" | "budget" | "hangup";

/** The server's end reasons, in the order the worker documents them. */
export const SERVER_END_REASONS: readonly CloseReason[] = [
  "max_duration",
  "idle",
  "policy",
  "budget",
  "hangup",
];

/**
 * What happened to one captured frame: `"sent"` on the channel now; `"queued"` behind congestion or a closed or
 * reconnecting channel; `"held"` by the gate (sent later as prefix padding, or withheld).
 */
export type FrameFate = "sent" | "queued" | "held";

/** One captured frame and its fate (the `frame` event). */
export interface FrameStats {
  seq: number;
  /** Index at 24 kHz of the frame's first sample since capture started. */
  timestamp: number;
  /** PCM16 bytes in the frame. */
  bytes: number;
  probability: number;
  speech: boolean;
  /** dBFS of the frame. */
  level: number;
  fate: FrameFate;
  bufferedAmount: number;
}

/** Cumulative counters of a session. */
export interface SessionStats {
  framesCaptured: number;
  framesSent: number;
  bytesSent: number;
  framesQueued: number;
  framesDropped: number;
  speechFramesDropped: number;
  /** Frames the gate kept back for good (silence not sent, not billed). */
  framesWithheld: number;
  /** Turns committed by the client (`turns: "client"`). */
  commits: number;
  /** Times the model was interrupted. */
  bargeIns: number;
  /** Calls opened after the first (reconnects and rotations). */
  reconnects: number;
  bufferedAmount: number;
  /** Sample rate of the capture `AudioContext` (the device's own), 0 before capture starts. */
  inputRate: number;
  /** Output samples the capture processor clamped to the PCM16 range (clipping at the microphone). */
  clipped: number;
  /** Input samples that were NaN or ±Infinity (a broken source), replaced by silence. */
  nonFinite: number;
}

/** Events of a session other than `state`, and their payloads. */
export interface SessionEvents {
  /** `sample`: index at 24 kHz where speech starts, prefix padding included. */
  speechstart: { sample: number };
  /** `sample`: index at 24 kHz where speech ends, hangover included. */
  speechend: { sample: number };
  /** Input level in dBFS, about 30 times a second. */
  level: { dbfs: number; probability: number; speech: boolean };
  frame: FrameStats;
  /** Frames the bounded queue had to give up (oldest silence first, then oldest speech). */
  drop: { seq: number; speech: boolean; total: number };
  /** The client committed a turn (`turns: "client"`); `samples` appended since the previous commit. */
  commit: { samples: number };
  /** The model was interrupted: `response.cancel` and `output_audio_buffer.clear` were sent, playback muted. */
  bargein: { sample: number };
  server: ServerEvent;
  error: RealtimeVoiceError;
}

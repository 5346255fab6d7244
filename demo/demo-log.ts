/**
 * What the demo page records of a session (`window.realtimeVoiceDemo`), as plain data: the page fills it and the
 * browser tests read it. DOM-free, so the Node tests import it too.
 */
import type { FrameStats, ServerEvent } from "../worklet/client/types.ts";

export interface DemoLog {
  frames: FrameStats[];
  speech: Array<{ type: "speechstart" | "speechend"; sample: number }>;
  server: ServerEvent[];
  errors: Array<{ code: string; message: string }>;
  states: string[];
  callId: string | null;
  bargeIns: Array<{ sample: number }>;
  /** Sequence numbers the send queue gave up, and the most frames it ever held. */
  drops: number[];
  maxQueued: number;
}

/**
 * The ESM entry (`realtime-voice.mjs`): `connect()` with the worker URL defaulting to the origin this module was
 * served from and the capture worklet loaded from `capture-processor.js` beside it.
 */
import type { ConnectOptions } from "./client/options.ts";
import { connect as connectWith, type RealtimeVoiceSession } from "./client/session.ts";

export type { ConnectOptions, SegmenterOptions, Signaling } from "./client/options.ts";
export { type ErrorCode, RealtimeVoiceError } from "./client/realtime-voice-error.ts";
export type { ConnectionState, SessionEventMap } from "./client/session.ts";
export { RealtimeVoiceSession } from "./client/session.ts";
export type { CloseReason, FrameStats, ServerEvent, SessionStats } from "./client/types.ts";

/**
 * Starts a voice session (see `ConnectOptions`); call it from a user gesture. The worklet module is resolved
 * with `import.meta.url`, so bundlers that copy `new URL("./capture-processor.js", import.meta.url)` assets keep
 * it working; otherwise the inlined copy is loaded from a `blob:` URL.
 */
export function connect(options: ConnectOptions = {}): RealtimeVoiceSession {
  return connectWith(options, {
    url: new URL(import.meta.url).origin,
    workletUrl: new URL("./capture-processor.js", import.meta.url).href,
  });
}

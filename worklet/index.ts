/**
 * The ESM entry (`realtime-voice.mjs`): `connect()` with the worker URL defaulting to the origin this module was
 * served from and the capture worklet loaded from `capture-processor.js` beside it.
 */
import type { ConnectOptions } from "./client.ts";
import { connect as connectWith, type RealtimeVoiceSession } from "./client.ts";

export type {
  ConnectionState,
  ConnectOptions,
  ErrorCode,
  FrameStats,
  SegmenterOptions,
  ServerEvent,
  SessionEventMap,
  SessionStats,
  Signaling,
} from "./client.ts";
export { RealtimeVoiceError, RealtimeVoiceSession } from "./client.ts";

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

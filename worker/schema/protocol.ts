/**
 * The one source of OpenAI Realtime protocol constants, imported by every runtime: the worker, the browser
 * client (`worklet/`) and the local peer (`demo/local-peer/`). Pure module: no Workers, DOM or Node globals.
 *
 * Source: OpenAI's OpenAPI spec (`RealtimeSessionCreateRequestGA`, `RealtimeServerVAD`), GA as of 2026-05.
 */

/** The only PCM rate the API speaks, in Hz: 24 kHz mono PCM16 little-endian (`audio/pcm`). */
export const PCM_RATE = 24_000;

/** Voices a GA realtime session accepts (`audio.output.voice`). TTS-only voices (fable, onyx, nova) are not. */
export const REALTIME_VOICES = [
  "alloy",
  "ash",
  "ballad",
  "coral",
  "echo",
  "sage",
  "shimmer",
  "verse",
  "marin",
  "cedar",
] as const;

/** The voice OpenAI picks when a session names none. */
export const DEFAULT_VOICE = "alloy";

/**
 * OpenAI's defaults for `turn_detection: {type: "server_vad"}`, in ms where timed. `silence_duration_ms` is the
 * documented 500; the live API has been seen using 200, and a client that leaves 500 ms of trailing audio covers
 * both.
 */
export const SERVER_VAD_DEFAULTS = {
  threshold: 0.5,
  prefix_padding_ms: 300,
  silence_duration_ms: 500,
  create_response: true,
  interrupt_response: true,
} as const;

/** `input_audio_buffer.commit` needs at least this much buffered audio, in ms (else `input_audio_buffer_commit_empty`). */
export const MIN_COMMIT_MS = 100;

/** The largest `input_audio_buffer.append` event OpenAI accepts, in bytes of decoded audio (15 MiB). */
export const MAX_APPEND_BYTES = 15 * 1024 * 1024;

/** The WebRTC data channel that carries JSON client and server events. */
export const EVENTS_CHANNEL_LABEL = "oai-events";

/** A realtime session lasts at most this long, in seconds (60 minutes); OpenAI offers no shorter server-side cap. */
export const MAX_SESSION_SECONDS = 3600;

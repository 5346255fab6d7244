/**
 * The microphone side: an `AudioContext` unlocked in the user's gesture, the microphone stream, and the capture
 * AudioWorklet (`../processor/capture-processor.ts`) that turns it into 24 kHz PCM16 frames with VAD. In track
 * mode it also renders the processed frames into an outgoing `MediaStreamTrack`.
 */
import { PCM_RATE } from "../../worker/schema/protocol.ts";
import { pcm16ToFloat } from "../dsp/pcm16.ts";
import type {
  CaptureOptions,
  ControlMessage,
  FrameMessage,
  ProcessorMessage,
} from "../processor/messages.ts";
import { CAPTURE_PROCESSOR_NAME } from "../processor/messages.ts";
import { RealtimeVoiceError } from "./realtime-voice-error.ts";

declare const __REALTIME_VOICE_WORKLET_SOURCE__: string;

/** Track mode schedules each frame this far ahead of the audio clock, so late main-thread delivery stays gapless. */
const TRACK_LEAD_S = 0.15;

/**
 * Creates the capture context and asks it to run, synchronously: call it inside the user's click/tap. WebKit
 * (Safari on macOS and iOS alike) leaves a context created or resumed after an `await` suspended for good
 * (elevenlabs/packages #777, #1024; openai-agents-js #543, #550). The context runs at the device's default rate:
 * nothing assumes one, the worklet reads `sampleRate` and resamples to 24 kHz. (Firefox used to refuse a
 * microphone in a context at another rate; Firefox 153 connects it and resamples.) A context that stays
 * suspended is resumed on the page's next pointer or key gesture; the session reports `capture_stalled` if no
 * frame arrives. Returns the context and a function that stops listening for gestures.
 */
export function createAudioContext(): { context: AudioContext; release: () => void } {
  let context: AudioContext;
  try {
    context = new AudioContext();
  } catch (error) {
    throw new RealtimeVoiceError("audio_failed", `AudioContext failed: ${String(error)}`, { cause: error });
  }
  const resume = () => void context.resume().catch(() => {});
  resume();
  const events = ["pointerdown", "keydown"] as const;
  for (const type of events) document.addEventListener(type, resume, true);
  const release = () => {
    for (const type of events) document.removeEventListener(type, resume, true);
  };
  return { context, release };
}

export interface CaptureSetup {
  context: AudioContext;
  /** An application-owned stream (never stopped here), or undefined to call `getUserMedia`. */
  mediaStream: MediaStream | undefined;
  audioConstraints: MediaTrackConstraints;
  workletUrl: string | undefined;
  processorOptions: CaptureOptions;
  /** Render the frames into an outgoing track (track mode). */
  track: boolean;
  onMessage(message: ProcessorMessage): void;
}

/** Running capture; `dispose()` disconnects it and stops the tracks it opened. */
export interface Capture {
  /** The outgoing track and its renderer in track mode, else null. */
  outgoing: { track: MediaStreamTrack; render(frame: FrameMessage): void } | null;
  post(message: ControlMessage): void;
  /** Stops feeding the processor (the last flushed frame stays the last one). */
  disconnect(): void;
  dispose(): void;
}

/**
 * Opens the microphone (unless given one) and starts the processor on `setup.context`. Rejects with
 * {@link RealtimeVoiceError} `microphone_denied`, `microphone_unavailable` or `worklet_load_failed`, or with
 * `signal.reason` when aborted (then nothing stays open).
 */
export async function startCapture(setup: CaptureSetup, signal: AbortSignal): Promise<Capture> {
  let stream = setup.mediaStream;
  const owned = !stream;
  if (!stream) {
    try {
      // Constraints name no `deviceId: {exact}`: iOS fails such a request when the id changed (OverconstrainedError).
      stream = await navigator.mediaDevices.getUserMedia({ audio: setup.audioConstraints });
    } catch (error) {
      const name = error instanceof DOMException ? error.name : "";
      const denied = name === "NotAllowedError" || name === "SecurityError";
      throw new RealtimeVoiceError(
        denied ? "microphone_denied" : "microphone_unavailable",
        `getUserMedia failed: ${String(error)}`,
        { cause: error },
      );
    }
  }
  const stop = () => {
    if (owned) for (const track of stream.getTracks()) track.stop();
  };
  try {
    signal.throwIfAborted();
    const { context } = setup;
    await loadWorklet(context, setup.workletUrl);
    signal.throwIfAborted();
    const node = new AudioWorkletNode(context, CAPTURE_PROCESSOR_NAME, {
      numberOfInputs: 1,
      numberOfOutputs: 0,
      channelCount: 1,
      channelCountMode: "explicit",
      channelInterpretation: "speakers",
      processorOptions: setup.processorOptions,
    });
    node.port.onmessage = (event: MessageEvent<ProcessorMessage>) => setup.onMessage(event.data);
    node.onprocessorerror = () =>
      setup.onMessage({ type: "error", code: "processing-failed", message: "the capture processor stopped" });
    const source = context.createMediaStreamSource(stream);
    source.connect(node);
    const outgoing = setup.track ? trackRenderer(context) : null;
    return {
      outgoing,
      post: (message) => node.port.postMessage(message),
      disconnect: () => source.disconnect(),
      dispose() {
        node.port.onmessage = null;
        node.port.close();
        node.disconnect();
        source.disconnect();
        outgoing?.track.stop();
        stop();
      },
    };
  } catch (error) {
    stop();
    throw error;
  }
}

/** Track mode: each frame plays right after the previous one into a 24 kHz-fed `MediaStreamTrack`. */
function trackRenderer(context: AudioContext): NonNullable<Capture["outgoing"]> {
  const destination = context.createMediaStreamDestination();
  destination.channelCount = 1;
  const track = destination.stream.getAudioTracks()[0] as MediaStreamTrack;
  let time = 0;
  return {
    track,
    render(frame) {
      const pcm = new Int16Array(frame.pcm);
      const buffer = context.createBuffer(1, pcm.length, PCM_RATE);
      pcm16ToFloat(pcm, buffer.getChannelData(0));
      const source = context.createBufferSource();
      source.buffer = buffer;
      source.connect(destination);
      // Contiguous unless the gate left a gap (then silence) or rendering fell behind (then restart with margin).
      const at = Math.max(time, context.currentTime + TRACK_LEAD_S);
      source.start(at);
      time = at + pcm.length / PCM_RATE;
    },
  };
}

async function loadWorklet(context: AudioContext, url: string | undefined): Promise<void> {
  let firstError: unknown;
  if (url) {
    try {
      return await context.audioWorklet.addModule(url);
    } catch (error) {
      firstError = error;
    }
  }
  // Fallback for bundlers that drop the file next to the script: the same module inlined at build time, loaded
  // from a blob: URL (needs `blob:` in CSP `script-src`).
  if (typeof __REALTIME_VOICE_WORKLET_SOURCE__ === "string") {
    const blobUrl = URL.createObjectURL(
      new Blob([__REALTIME_VOICE_WORKLET_SOURCE__], { type: "text/javascript" }),
    );
    try {
      return await context.audioWorklet.addModule(blobUrl);
    } catch (error) {
      firstError ??= error;
    } finally {
      URL.revokeObjectURL(blobUrl);
    }
  }
  throw new RealtimeVoiceError(
    "worklet_load_failed",
    `cannot load the capture worklet from ${url ?? "(no URL)"} nor a blob: URL; check CSP script-src: ${String(firstError)}`,
    { cause: firstError },
  );
}

/**
 * Runs in Chromium (see `agents-realtime.test.ts` and `test/e2e/agents-realtime-worker.test.ts`, which inject
 * this file and a bundle of `@openai/agents-realtime` exposing `OpenAIRealtimeWebRTC`): one conversation through
 * the SDK's own WebRTC transport, from a page on another origin than the peer or the worker, with the fake
 * microphone as its media stream.
 */

/** What the page reports back to the test. */
interface AgentsCallResult {
  connectMs: number;
  events: string[];
  errors: string[];
  transcripts: string[];
  clearedAfterInterrupt: boolean;
  /** The call id the SDK read from the answer's `Location`. */
  callId: string | undefined;
}

interface Transport {
  on(event: string, listener: (payload: { type: string; [key: string]: unknown }) => void): void;
  connect(options: {
    apiKey: string;
    model: string;
    initialSessionConfig: Record<string, unknown>;
  }): Promise<void>;
  interrupt(): void;
  close(): void;
  readonly callId: string | undefined;
}

declare const OpenAIRealtimeWebRTC: new (options: Record<string, unknown>) => Transport;

/**
 * Connects with `apiKey` (an `ek_` client secret for the peer, a site JWT for the worker) to the realtime API at
 * `baseUrl` (`…/v1`) and runs one spoken exchange with an interruption. `transportOptions` go to the SDK's
 * constructor as well (`useInsecureApiKey` for a key that is not an `ek_`). With `awaitTranscript` false the call
 * ends after the interruption without waiting for an input transcript (a deployment may not transcribe).
 */
// biome-ignore lint/correctness/noUnusedVariables: called by the test through page.evaluate
async function agentsCall(
  baseUrl: string,
  apiKey: string,
  transportOptions: Record<string, unknown> = {},
  awaitTranscript = true,
): Promise<AgentsCallResult> {
  const stream = await navigator.mediaDevices.getUserMedia({
    audio: { echoCancellation: false, noiseSuppression: false, autoGainControl: false },
  });
  const audioElement = new Audio();
  audioElement.muted = true;
  const transport = new OpenAIRealtimeWebRTC({
    ...transportOptions,
    baseUrl: `${baseUrl}/realtime/calls`,
    mediaStream: stream,
    audioElement,
  });
  const events: string[] = [];
  const errors: string[] = [];
  const transcripts: string[] = [];
  transport.on("*", (event) => {
    events.push(event.type);
    if (event.type === "conversation.item.input_audio_transcription.completed")
      transcripts.push(String(event.transcript));
  });
  transport.on("error", (event) => errors.push(JSON.stringify(event).slice(0, 400)));
  const until = async (probe: () => boolean, ms: number, what: string) => {
    const end = performance.now() + ms;
    while (!probe()) {
      if (performance.now() > end)
        throw new Error(`timed out waiting for ${what}; events: ${events.join(" ")}`);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  };
  const started = performance.now();
  await transport.connect({
    apiKey,
    model: "gpt-realtime",
    initialSessionConfig: {
      instructions: "Answer briefly.",
      audio: { input: { transcription: { model: "gpt-4o-transcribe" } } },
    },
  });
  const connectMs = performance.now() - started;
  await until(() => events.includes("session.updated"), 10_000, "session.updated");
  await until(() => events.includes("input_audio_buffer.speech_started"), 20_000, "speech_started");
  await until(() => events.includes("output_audio_buffer.started"), 30_000, "the spoken response");
  const mark = events.length;
  transport.interrupt();
  await until(
    () =>
      events.slice(mark).includes("output_audio_buffer.cleared") ||
      events.slice(mark).includes("response.done"),
    10_000,
    "the interruption",
  );
  const clearedAfterInterrupt = events.slice(mark).includes("output_audio_buffer.cleared");
  // Let a transcription-triggered retrieve round trip finish before closing.
  if (awaitTranscript) await until(() => transcripts.length > 0, 20_000, "a transcript");
  await new Promise((resolve) => setTimeout(resolve, 500));
  const callId = transport.callId;
  transport.close();
  for (const track of stream.getTracks()) track.stop();
  return { connectMs, events, errors, transcripts, clearedAfterInterrupt, callId };
}

/**
 * What a call needs from speech engines, as interfaces: a recognizer for input transcription, a synthesizer for
 * the model's voice, and an assistant that turns what was heard into an answer (text, or a call of a session
 * tool). `createSpeechEngines()` builds the real ones once per process (PocketSphinx, Flite); tests may inject
 * their own. `describingEngines()` is the engine-free stand-in: its "transcript" says how much audio was heard
 * and how loud, in brackets so no one mistakes it for words, and its voice echoes the user's turn.
 */
import { PCM_RATE } from "../../worker/schema/protocol.ts";
import { rmsDbfs } from "./audio-level.ts";
import { OPUS_RATE } from "./opus.ts";
import { reply } from "./speech/assistant.ts";
import { createRecognizer, type Recognizer as PocketSphinxRecognizer } from "./speech/recognizer.ts";
import { closeSynthesizer, synthesize } from "./speech/synthesizer.ts";

/** Speech to text, 24 kHz mono PCM16 in. `available` false (with `reason`) when the engine is missing. */
export interface Recognizer {
  readonly available: boolean;
  readonly reason?: string;
  transcribe(pcm: Int16Array): Promise<{ text: string }>;
  /** Opens a turn fed while it is spoken, so only the finalisation is left at commit; null when not possible. */
  stream?(): RecognizerStream | null;
}

/** A turn streamed to the recognizer while it is spoken. */
export interface RecognizerStream {
  write(pcm: Int16Array): void;
  finish(): Promise<{ text: string }>;
  cancel(): void;
}

/** Text to speech: PCM16 mono at `sampleRate` Hz. */
export type Synthesize = (text: string) => Promise<{ pcm: Int16Array; sampleRate: number }>;

/** A session tool as the assistant sees it (`session.tools[]` of type `function`). */
export interface ToolDefinition {
  type: string;
  name?: string;
  description?: string;
  parameters?: unknown;
}

/** What the assistant is told for one response. */
export interface ReplyContext {
  /** The latest user turn's transcript, null when no new turn (or no transcription). */
  transcript: string | null;
  instructions: string;
  tools: ReadonlyArray<ToolDefinition>;
  /** Unix milliseconds. */
  now: number;
  /** GA `tool_choice` of the session. */
  toolChoice?: unknown;
  /** Outputs of function calls since the last response (`conversation.item.create` of `function_call_output`). */
  toolOutputs?: ReadonlyArray<{ call_id: string; name?: string; output: string }>;
  /** The latest turn's audio (24 kHz PCM16), for engines that describe it instead of reading words. */
  heard?: Int16Array | null;
}

export type Reply =
  | { type: "text"; text: string }
  | { type: "function_call"; name: string; arguments: string };

export interface SpeechEngines {
  recognizer: Recognizer;
  /** Null when no synthesizer: the voice then echoes what was heard (or a chime when nothing was). */
  synthesize: Synthesize | null;
  reply(context: ReplyContext): Reply | Promise<Reply>;
  /** Stops engine threads (the peer's `close()`). */
  close?(): Promise<void>;
}

/** The engine-free stand-in (see the module comment). */
export function describingEngines(): SpeechEngines {
  return {
    recognizer: {
      available: true,
      async transcribe(pcm) {
        const level = rmsDbfs(pcm);
        const shown = Number.isFinite(level) ? `${level.toFixed(0)} dBFS` : "silence";
        return { text: `[${(pcm.length / PCM_RATE).toFixed(1)} s of audio, ${shown}]` };
      },
    },
    synthesize: null,
    reply({ heard }) {
      if (!heard || heard.length === 0)
        return { type: "text", text: "Heard no new audio since the last response." };
      const level = rmsDbfs(heard);
      return {
        type: "text",
        text: `Heard ${(heard.length / PCM_RATE).toFixed(1)} s of audio at ${Number.isFinite(level) ? level.toFixed(0) : "-inf"} dBFS.`,
      };
    },
  };
}

/**
 * PocketSphinx for recognition and Flite for the voice (synthesized at 48 kHz, Opus's rate; the voice track
 * resamples for PCMU). The recognizer's model loads in the background (≈ 0.35 s idle, seconds on a loaded
 * machine) so the peer listens at once: `available` stays true until the engine is known to be missing, and a
 * transcription waits for the load. A missing engine says so once and leaves the peer running.
 */
export function createSpeechEngines(): SpeechEngines {
  let loaded: PocketSphinxRecognizer | null = null;
  const loading = createRecognizer().then((recognizer) => {
    loaded = recognizer;
    return recognizer;
  });
  const recognizer: Recognizer = {
    get available() {
      return loaded?.available ?? true;
    },
    get reason() {
      return loaded?.reason;
    },
    async transcribe(pcm) {
      return (await loading).transcribe(pcm);
    },
    // Before the model has loaded, turns are transcribed whole at commit.
    stream: () => (loaded?.available ? loaded.stream() : null),
  };
  return {
    recognizer,
    synthesize: async (text) => {
      const speech = await synthesize(text, { sampleRate: OPUS_RATE });
      return { pcm: speech.pcm, sampleRate: speech.sampleRate };
    },
    reply: assistantReply,
    close: async () => {
      await (await loading).close();
      await closeSynthesizer();
    },
  };
}

/** The built-in assistant (`speech/assistant.ts`) over a response's context. */
export function assistantReply(context: ReplyContext): Reply {
  const output = context.toolOutputs?.at(-1);
  return reply({
    transcript: context.transcript,
    instructions: context.instructions,
    tools: context.tools,
    toolChoice: context.toolChoice,
    now: new Date(context.now),
    functionOutput: output ? { ...(output.name ? { name: output.name } : {}), output: output.output } : null,
  });
}

/**
 * What a call needs from speech engines, as interfaces: a recognizer for input transcription, a synthesizer for
 * the model's voice, and an assistant that turns what was heard into an answer (text, or a call of a session
 * tool). `local-peer.ts` builds them once per process; tests inject their own. `describingEngines()` is the
 * engine-free stand-in: its "transcript" says how much audio was heard and how loud, in brackets so no one
 * mistakes it for words, and its voice echoes the user's turn.
 */
import { PCM_RATE } from "../../worker/schema/protocol.ts";
import { rmsDbfs } from "./audio-level.ts";

/** Speech to text, 24 kHz mono PCM16 in. `available` false (with `reason`) when the engine is missing. */
export interface Recognizer {
  readonly available: boolean;
  readonly reason?: string;
  transcribe(pcm: Int16Array): Promise<{ text: string }>;
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
  /** Outputs of function calls since the last response (`conversation.item.create` of `function_call_output`). */
  toolOutputs?: ReadonlyArray<{ call_id: string; output: string }>;
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

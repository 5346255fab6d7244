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
import { createRecognizer } from "./speech/recognizer.ts";
import { closeSynthesizer, synthesize } from "./speech/synthesizer.ts";

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
  let loaded: Recognizer | null = null;
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
  };
  return {
    recognizer,
    synthesize: async (text) => {
      const speech = await synthesize(text, { sampleRate: OPUS_RATE });
      return { pcm: speech.pcm, sampleRate: speech.sampleRate };
    },
    reply: basicReply,
    close: async () => {
      await (await loading).close();
      await closeSynthesizer();
    },
  };
}

/**
 * A few fixed intents over the transcript: the time, the instructions, a session tool named in the words
 * (called with `{}`), the output of a tool call, else an echo of what was heard.
 */
export function basicReply(context: ReplyContext): Reply {
  const output = context.toolOutputs?.at(-1);
  if (output) return { type: "text", text: `The tool answered: ${output.output.slice(0, 400)}` };
  const heard = (context.transcript ?? "").trim().toLowerCase();
  if (heard === "") return { type: "text", text: "I heard you, but could not make out the words." };
  const spoken = heard.replace(/[^a-z0-9 ]/g, " ");
  for (const tool of context.tools) {
    if (!tool.name) continue;
    const name = tool.name.toLowerCase().replace(/[_-]+/g, " ");
    if (spoken.includes(name)) return { type: "function_call", name: tool.name, arguments: "{}" };
  }
  if (/\btime\b/.test(spoken)) {
    const time = new Date(context.now).toISOString().slice(11, 16);
    return { type: "text", text: `It is ${time} UTC.` };
  }
  if (/\binstructions?\b/.test(spoken))
    return {
      type: "text",
      text: context.instructions
        ? `My instructions are: ${context.instructions.slice(0, 400)}`
        : "I have no instructions.",
    };
  return { type: "text", text: `You said: ${heard}.` };
}

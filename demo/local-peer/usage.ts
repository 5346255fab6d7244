/**
 * Token usage for `response.done`, estimated the way OpenAI bills a realtime response: the whole conversation is
 * the input (instructions, tool definitions and text as text tokens, user and assistant audio as audio tokens),
 * the part of it the previous response already read counts as cached, and the answer is the output. Rates:
 * ≈ 4 characters per text token, 1 audio token per 100 ms of user audio and per 50 ms of model audio
 * (OpenAI's documented audio token rates).
 */

/** `response.usage` (OpenAI `RealtimeResponseUsage`). */
export interface ResponseUsage {
  total_tokens: number;
  input_tokens: number;
  output_tokens: number;
  input_token_details: {
    text_tokens: number;
    audio_tokens: number;
    image_tokens: number;
    cached_tokens: number;
    cached_tokens_details: { text_tokens: number; audio_tokens: number; image_tokens: number };
  };
  output_token_details: { text_tokens: number; audio_tokens: number };
}

/** What a response read and produced. */
export interface UsageInput {
  /** Characters of text the model read: instructions, tool definitions, text items. */
  inputTextChars: number;
  /** Milliseconds of user audio in the conversation. */
  userAudioMs: number;
  /** Milliseconds of assistant audio in the conversation before this response. */
  assistantAudioMs: number;
  /** The input the previous response read (its prefix is cached), null for the first response. */
  previous: { text_tokens: number; audio_tokens: number } | null;
  outputTextChars: number;
  /** Milliseconds of audio this response spoke (what was sent, up to a cancel). */
  outputAudioMs: number;
}

export const textTokens = (chars: number): number => Math.ceil(chars / 4);
export const userAudioTokens = (ms: number): number => Math.round(ms / 100);
export const modelAudioTokens = (ms: number): number => Math.round(ms / 50);

/** The usage of one response. */
export function estimateUsage(input: UsageInput): ResponseUsage {
  const text = textTokens(input.inputTextChars);
  const audio = userAudioTokens(input.userAudioMs) + modelAudioTokens(input.assistantAudioMs);
  const cachedText = Math.min(text, input.previous?.text_tokens ?? 0);
  const cachedAudio = Math.min(audio, input.previous?.audio_tokens ?? 0);
  const outText = textTokens(input.outputTextChars);
  const outAudio = modelAudioTokens(input.outputAudioMs);
  return {
    total_tokens: text + audio + outText + outAudio,
    input_tokens: text + audio,
    output_tokens: outText + outAudio,
    input_token_details: {
      text_tokens: text,
      audio_tokens: audio,
      image_tokens: 0,
      cached_tokens: cachedText + cachedAudio,
      cached_tokens_details: { text_tokens: cachedText, audio_tokens: cachedAudio, image_tokens: 0 },
    },
    output_token_details: { text_tokens: outText, audio_tokens: outAudio },
  };
}

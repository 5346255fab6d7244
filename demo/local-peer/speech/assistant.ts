/**
 * The local peer's stand-in for a model: a tiny rule-based assistant, so that everything that depends on words
 * (transcripts, answers, function calling) can be tested offline. In order:
 * 1. after a `function_call_output`, it answers with that output's content;
 * 2. when the transcript names a session tool (every significant word of the tool's name, e.g. "weather" for
 *    `get_weather`), it calls it, with arguments read from the transcript per the tool's JSON schema where
 *    simple (enums, numbers, booleans, a string after "in", "for", "to", "called" …);
 * 3. fixed intents: the time, the date, its instructions, what it can do;
 * 4. otherwise it echoes what it heard.
 * Pure: same input, same output.
 */

/** One session tool as the session holds it (GA `{type: "function", name, description?, parameters?}`). */
export interface AssistantTool {
  type: "function";
  name: string;
  description?: string;
  parameters?: Record<string, unknown>;
}

export interface AssistantInput {
  /** The latest user turn's transcript; null or "" when nothing was understood (or recognition is off). */
  transcript: string | null;
  /** The session's instructions. */
  instructions: string;
  /** The session's tools (entries that are not function tools are ignored). */
  tools: readonly unknown[];
  /** GA `tool_choice`: `"none"` never calls, `"required"` or `{name}` always calls; default `"auto"`. */
  toolChoice?: unknown;
  /** The clock for the time and date intents. */
  now: Date;
  /** IANA time zone for the time and date; default the host's. */
  timeZone?: string;
  /** Set when the latest conversation item is a `function_call_output`: answer with it. */
  functionOutput?: { name?: string; output: string } | null;
}

export type AssistantReply =
  | { type: "text"; text: string }
  /** `arguments` is a JSON object serialised, as in `response.function_call_arguments.done`. */
  | { type: "function_call"; name: string; arguments: string };

/** Words of a tool's name that say nothing about what it does. */
const GENERIC_WORDS = new Set([
  "get",
  "set",
  "do",
  "make",
  "fetch",
  "run",
  "call",
  "the",
  "a",
  "an",
  "of",
  "to",
]);
/** Words before a string argument's value ("the weather in Paris", "a timer for ten minutes"). */
const LEAD_WORDS = ["in", "for", "at", "to", "about", "called", "named", "of", "from", "on"];
const NUMBER_WORDS: Record<string, number> = {
  zero: 0,
  one: 1,
  two: 2,
  three: 3,
  four: 4,
  five: 5,
  six: 6,
  seven: 7,
  eight: 8,
  nine: 9,
  ten: 10,
  eleven: 11,
  twelve: 12,
  thirteen: 13,
  fourteen: 14,
  fifteen: 15,
  sixteen: 16,
  seventeen: 17,
  eighteen: 18,
  nineteen: 19,
  twenty: 20,
  thirty: 30,
  forty: 40,
  fifty: 50,
  sixty: 60,
  hundred: 100,
};
const MAX_SPOKEN_OUTPUT = 300;

/** Lowercase words of a transcript or a name (`get_weather`, `getWeather` and "get weather" alike). */
export function wordsOf(text: string): string[] {
  return text
    .replace(/([a-z])([A-Z])/g, "$1 $2")
    .toLowerCase()
    .split(/[^a-z0-9']+/)
    .filter((w) => w !== "");
}

/** Loose match for spoken words: the same word, or a shared stem of at least 4 letters ("weather"/"weathers"). */
function sameWord(a: string, b: string): boolean {
  if (a === b) return true;
  const n = Math.min(a.length, b.length);
  return n >= 4 && a.slice(0, n) === b.slice(0, n) && Math.abs(a.length - b.length) <= 3;
}

function functionTools(tools: readonly unknown[]): AssistantTool[] {
  return tools.filter(
    (t): t is AssistantTool =>
      typeof t === "object" &&
      t !== null &&
      (t as AssistantTool).type === "function" &&
      typeof (t as AssistantTool).name === "string",
  );
}

/** How many of the tool's significant name words the transcript holds, or 0 unless it holds all of them. */
function toolScore(tool: AssistantTool, heard: string[]): number {
  const words = wordsOf(tool.name).filter((w) => !GENERIC_WORDS.has(w));
  if (words.length === 0) return 0;
  return words.every((w) => heard.some((h) => sameWord(h, w))) ? words.length : 0;
}

/** Reads a number from spoken words ("twenty five", "25", "three"). */
function numberIn(heard: string[]): number | undefined {
  for (let i = 0; i < heard.length; i++) {
    const word = heard[i] as string;
    if (/^\d+(\.\d+)?$/.test(word)) return Number(word);
    const value = NUMBER_WORDS[word];
    if (value === undefined) continue;
    const next = NUMBER_WORDS[heard[i + 1] ?? ""];
    if (value >= 20 && next !== undefined && next < 10) return value + next;
    if (next === 100) return value * 100;
    return value;
  }
  return undefined;
}

/**
 * A string argument: the words after the property's own name or after a lead word, up to the next lead word,
 * leaving out words another argument (or the tool's name) already took.
 */
function stringIn(property: string, heard: string[], used: Set<string>): string | undefined {
  const name = wordsOf(property);
  for (let i = 0; i < heard.length; i++) {
    const after =
      name.length > 0 && name.every((w, k) => heard[i + k] === w)
        ? i + name.length
        : LEAD_WORDS.includes(heard[i] as string)
          ? i + 1
          : -1;
    if (after < 0) continue;
    const rest: string[] = [];
    for (const w of heard.slice(after)) {
      if (LEAD_WORDS.includes(w)) break;
      if (!used.has(w) && w !== "the" && w !== "a") rest.push(w);
    }
    if (rest.length > 0) return rest.join(" ");
  }
  return undefined;
}

/** Arguments for `tool` from the transcript, per its JSON schema's top-level properties where simple. */
function argumentsFor(tool: AssistantTool, heard: string[]): Record<string, unknown> {
  const parameters = tool.parameters ?? {};
  const properties = Object.entries((parameters.properties ?? {}) as Record<string, unknown>).filter(
    (entry): entry is [string, Record<string, unknown>] => typeof entry[1] === "object" && entry[1] !== null,
  );
  const used = new Set(wordsOf(tool.name));
  const args: Record<string, unknown> = {};
  // Enums, numbers and booleans first: their words are then kept out of free-text strings.
  for (const [key, schema] of properties) {
    const enumValues = Array.isArray(schema.enum) ? (schema.enum as unknown[]) : null;
    if (enumValues) {
      const found = enumValues.find(
        (value) =>
          typeof value === "string" && wordsOf(value).every((w) => heard.some((h) => sameWord(h, w))),
      );
      if (typeof found === "string") {
        args[key] = found;
        for (const w of heard) if (wordsOf(found).some((f) => sameWord(w, f))) used.add(w);
      }
    } else if (schema.type === "number" || schema.type === "integer") {
      const value = numberIn(heard);
      if (value === undefined) continue;
      args[key] = schema.type === "integer" ? Math.round(value) : value;
      for (const w of heard) if (/^\d/.test(w) || NUMBER_WORDS[w] !== undefined) used.add(w);
      for (const w of wordsOf(key)) used.add(w);
    } else if (schema.type === "boolean") {
      if (heard.some((w) => ["yes", "on", "true", "enable"].includes(w))) args[key] = true;
      else if (heard.some((w) => ["no", "off", "false", "disable"].includes(w))) args[key] = false;
    }
  }
  for (const [key, schema] of properties) {
    if (schema.enum !== undefined || (schema.type !== "string" && schema.type !== undefined)) continue;
    const value = stringIn(key, heard, used);
    if (value === undefined) continue;
    args[key] = value;
    for (const w of value.split(" ")) used.add(w);
  }
  // In the schema's order, as a model would write them.
  return Object.fromEntries(properties.filter(([key]) => key in args).map(([key]) => [key, args[key]]));
}

/** A function output (usually JSON) as one spoken sentence. */
function spokenOutput(output: string): string {
  let spoken = output.trim();
  try {
    const value = JSON.parse(spoken) as unknown;
    const flatten = (v: unknown): string =>
      v === null
        ? "none"
        : Array.isArray(v)
          ? v.map(flatten).join(", ")
          : typeof v === "object"
            ? Object.entries(v as Record<string, unknown>)
                .map(([k, x]) => `${wordsOf(k).join(" ")} ${flatten(x)}`)
                .join(", ")
            : String(v);
    spoken = flatten(value);
  } catch {
    // Not JSON: spoken as it is.
  }
  if (spoken.length > MAX_SPOKEN_OUTPUT) spoken = `${spoken.slice(0, MAX_SPOKEN_OUTPUT)} …`;
  return spoken;
}

function has(heard: string[], phrase: string): boolean {
  const words = phrase.split(" ");
  return heard.some((_, i) => words.every((w, k) => heard[i + k] === w));
}

/** Chooses the reply to the conversation's latest item. */
export function reply(input: AssistantInput): AssistantReply {
  if (input.functionOutput) {
    const name = input.functionOutput.name ? `${wordsOf(input.functionOutput.name).join(" ")} ` : "";
    return { type: "text", text: `The ${name}result is: ${spokenOutput(input.functionOutput.output)}.` };
  }
  const tools = functionTools(input.tools);
  const heard = wordsOf(input.transcript ?? "");
  const choice = input.toolChoice ?? "auto";
  if (choice !== "none" && tools.length > 0) {
    let chosen: AssistantTool | undefined;
    if (typeof choice === "object" && choice !== null)
      chosen = tools.find((t) => t.name === (choice as { name?: unknown }).name);
    if (!chosen) {
      let best = 0;
      for (const tool of tools) {
        const score = toolScore(tool, heard);
        if (score > best) [best, chosen] = [score, tool];
      }
    }
    if (!chosen && choice === "required") chosen = tools[0];
    if (chosen)
      return {
        type: "function_call",
        name: chosen.name,
        arguments: JSON.stringify(argumentsFor(chosen, heard)),
      };
  }
  if (heard.length === 0) return { type: "text", text: "Sorry, I did not catch that." };
  const zone = input.timeZone ? { timeZone: input.timeZone } : {};
  if (has(heard, "time") && (has(heard, "what") || has(heard, "tell"))) {
    const time = input.now.toLocaleTimeString("en-US", { hour: "numeric", minute: "2-digit", ...zone });
    return { type: "text", text: `It is ${time}.` };
  }
  if ((has(heard, "date") || has(heard, "what day")) && (has(heard, "what") || has(heard, "tell"))) {
    const date = input.now.toLocaleDateString("en-US", {
      weekday: "long",
      month: "long",
      day: "numeric",
      ...zone,
    });
    return { type: "text", text: `Today is ${date}.` };
  }
  if (heard.some((w) => sameWord(w, "instructions")) || has(heard, "system prompt")) {
    const instructions = input.instructions.trim();
    return {
      type: "text",
      text: instructions
        ? `My instructions are: ${spokenOutput(instructions)}`
        : "I was given no instructions.",
    };
  }
  if (has(heard, "what can you do") || has(heard, "help")) {
    const names = tools.map((t) => wordsOf(t.name).join(" "));
    const toolText = names.length > 0 ? ` and call these tools: ${names.join(", ")}` : "";
    return {
      type: "text",
      text: `I repeat what you say, tell the time and the date, and read my instructions${toolText}.`,
    };
  }
  return { type: "text", text: `You said: ${input.transcript?.trim()}.` };
}

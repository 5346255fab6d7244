/** Test inputs for the fake microphone: recorded speech behind a short, faint lead-in. */
import { execFileSync } from "node:child_process";
import { mkdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { decodeWav } from "../../demo/local-peer/wav.ts";

/** A WAV the fake microphone plays, with its labelled speech in seconds from the file's start. */
export interface Input {
  name: string;
  path: string;
  sampleRate: number;
  seconds: number;
  speech: Array<[number, number]>;
}

/**
 * Leading silence added to every input. Chromium starts the fake microphone at `getUserMedia`, while the page is
 * still loading and the call is being set up: on a 2-core machine that is when the audio thread can miss a render
 * quantum, and a glitch in the source is not the client's error. The speech starts after the busy second.
 */
export const LEAD_S = 2;
/**
 * `path` behind {@link LEAD_S} of faint white noise (about −80 dBFS RMS, the floor of a quiet room and
 * microphone), written under the output folder with sox. Not digital silence: no microphone delivers exact
 * zeros, and a step from zeros to the recording's own noise floor is not a condition worth testing here.
 */
export function withLead(
  source: { name: string; path: string; speech: Array<[number, number]> },
  dir: string,
): Input {
  const { name, path } = source;
  mkdirSync(dir, { recursive: true });
  const info = (flag: string) => execFileSync("soxi", [flag, path], { encoding: "utf8" }).trim();
  const lead = join(dir, `${name}-lead.wav`);
  execFileSync("sox", [
    "-n",
    "-r",
    info("-r"),
    "-c",
    info("-c"),
    "-b",
    "16",
    lead,
    "synth",
    String(LEAD_S),
    "whitenoise",
    "vol",
    "0.0002",
  ]);
  const padded = join(dir, `${name}.wav`);
  execFileSync("sox", [lead, path, "-b", "16", padded]);
  const decoded = decodeWav(new Uint8Array(readFileSync(padded)));
  return {
    name,
    path: padded,
    sampleRate: decoded.sampleRate,
    seconds: (decoded.channels[0]?.length ?? 0) / decoded.sampleRate,
    speech: source.speech.map(([start, end]) => [start + LEAD_S, end + LEAD_S] as [number, number]),
  };
}

/**
 * A conversation-like input: `parts` (files with labels) one after another, separated by `gapS` of the same
 * faint noise as the lead-in, as a speaker pauses while listening to an answer. Written with sox under `dir`.
 */
export function conversation(
  name: string,
  parts: Array<{ path: string; speech: Array<[number, number]>; seconds: number }>,
  gapS: number,
  dir: string,
): Input {
  mkdirSync(dir, { recursive: true });
  const rate = execFileSync("soxi", ["-r", parts[0]?.path ?? ""], { encoding: "utf8" }).trim();
  const gap = join(dir, `${name}-gap.wav`);
  execFileSync("sox", [
    "-n",
    "-r",
    rate,
    "-c",
    "1",
    "-b",
    "16",
    gap,
    "synth",
    String(gapS),
    "whitenoise",
    "vol",
    "0.0002",
  ]);
  const joined = join(dir, `${name}-joined.wav`);
  const files = parts.flatMap((part, i) => (i === 0 ? [part.path] : [gap, part.path]));
  execFileSync("sox", [...files, "-b", "16", "-c", "1", joined]);
  const speech: Array<[number, number]> = [];
  let offset = 0;
  for (const part of parts) {
    for (const [start, end] of part.speech) speech.push([start + offset, end + offset]);
    offset += part.seconds + gapS;
  }
  return withLead({ name, path: joined, speech }, dir);
}

/**
 * The first utterance of `part` (cut 100 ms after its labelled end), then `clickAfterS` of faint noise, a `clickMs` broadband click (a white-noise burst at −6 dBFS, the
 * kind a desk knock or a mouth noise makes), and `tailS` of faint noise. The click is not labelled speech.
 */
export function withClick(
  name: string,
  part: { path: string; speech: Array<[number, number]> },
  clickAfterS: number,
  clickMs: number,
  tailS: number,
  dir: string,
): Input & { clickS: number } {
  mkdirSync(dir, { recursive: true });
  const rate = execFileSync("soxi", ["-r", part.path], { encoding: "utf8" }).trim();
  const first = part.speech[0] ?? [0, 1];
  const seconds = first[1] + 0.1;
  const utterance = join(dir, `${name}-utterance.wav`);
  execFileSync("sox", [part.path, "-b", "16", "-c", "1", utterance, "trim", "0", String(seconds)]);
  const noise = (file: string, s: number, volume: string) =>
    execFileSync("sox", [
      "-n",
      "-r",
      rate,
      "-c",
      "1",
      "-b",
      "16",
      file,
      "synth",
      String(s),
      "whitenoise",
      "vol",
      volume,
    ]);
  const before = join(dir, `${name}-before.wav`);
  const click = join(dir, `${name}-click.wav`);
  const after = join(dir, `${name}-after.wav`);
  noise(before, clickAfterS, "0.0002");
  noise(click, clickMs / 1000, "0.5");
  noise(after, tailS, "0.0002");
  const joined = join(dir, `${name}-joined.wav`);
  execFileSync("sox", [utterance, before, click, after, "-b", "16", "-c", "1", joined]);
  const input = withLead({ name, path: joined, speech: [first] }, dir);
  return { ...input, clickS: LEAD_S + seconds + clickAfterS };
}

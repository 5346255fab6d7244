/**
 * Writes what a call heard as 24 kHz PCM16 mono WAV files (via `encodeWav`) and lists them:
 * - `<call_id>.wav`: every `input_audio_buffer.append` of the call, in order (written when the call ends);
 * - `<call_id>-turn-<n>.wav`: the n-th committed turn (1-based), written at commit time;
 * - `<call_id>-track.wav`: audio that arrived on the WebRTC audio track, decoded (written when the call ends).
 * Live calls are read from memory by the HTTP layer; this class only handles files.
 */

import { mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { PCM_RATE } from "../../worker/schema/protocol.ts";
import { encodeWav } from "./wav.ts";

/** One entry of `GET /recordings/`. */
export interface RecordingInfo {
  file: string;
  call_id: string;
  kind: "call" | "turn" | "track";
  turn: number | null;
  sample_rate: number;
  samples: number;
  duration_s: number;
  bytes: number;
  modified_at: number;
}

const NAME = /^(rtc_[A-Za-z0-9]+)(?:-(turn)-(\d+)|-(track))?\.wav$/;

/** Parses a recording file name; null for names the recorder never writes (this also blocks path traversal). */
export function parseRecordingName(file: string): Pick<RecordingInfo, "call_id" | "kind" | "turn"> | null {
  const match = NAME.exec(file);
  if (!match?.[1]) return null;
  if (match[2]) return { call_id: match[1], kind: "turn", turn: Number(match[3]) };
  return { call_id: match[1], kind: match[4] ? "track" : "call", turn: null };
}

export class Recorder {
  readonly directory: string;

  constructor(directory: string) {
    this.directory = directory;
    mkdirSync(directory, { recursive: true });
  }

  /** Writes `samples` (24 kHz PCM16) as `file`; returns the entry. */
  write(file: string, samples: Int16Array): RecordingInfo {
    const bytes = encodeWav(samples, PCM_RATE);
    writeFileSync(join(this.directory, file), bytes);
    return this.#info(file, bytes.length, Date.now()) as RecordingInfo;
  }

  /** Every recording in the folder (also those of earlier runs), newest first. */
  list(): RecordingInfo[] {
    const entries: RecordingInfo[] = [];
    for (const file of readdirSync(this.directory)) {
      const stat = statSync(join(this.directory, file), { throwIfNoEntry: false });
      const info = stat?.isFile() ? this.#info(file, stat.size, stat.mtimeMs) : null;
      if (info) entries.push(info);
    }
    return entries.sort((a, b) => b.modified_at - a.modified_at || a.file.localeCompare(b.file));
  }

  /** The bytes of a recording, or null when `file` is not a recording name or does not exist. */
  read(file: string): Uint8Array | null {
    if (!parseRecordingName(file)) return null;
    try {
      return readFileSync(join(this.directory, file));
    } catch {
      return null;
    }
  }

  #info(file: string, bytes: number, modifiedAt: number): RecordingInfo | null {
    const name = parseRecordingName(file);
    if (!name) return null;
    const samples = Math.max(0, (bytes - 44) / 2);
    return {
      file,
      ...name,
      sample_rate: PCM_RATE,
      samples,
      duration_s: samples / PCM_RATE,
      bytes,
      modified_at: Math.round(modifiedAt),
    };
  }
}

/** Reads the local peer's inspection routes (`/debug/calls…`) and recordings (`/recordings/…`). */
import { decodeWav, toMono } from "../../demo/local-peer/wav.ts";

/** One received `input_audio_buffer.append`, as the peer logged it (see `demo/local-peer/event-log.ts`). */
export interface AppendRecord {
  seq: number;
  type: string;
  received_at: number;
  event_id: string | null;
  bytes?: number;
  start_sample?: number;
  samples?: number;
  error?: string;
}

async function json<T>(url: string): Promise<T> {
  const response = await fetch(url);
  if (!response.ok) throw new Error(`GET ${url}: ${response.status} ${await response.text()}`);
  return (await response.json()) as T;
}

/** Calls the peer knows, oldest first. */
export async function listCalls(
  peerUrl: string,
): Promise<Array<{ id: string; state: string; ended_at: number | null }>> {
  const body = await json<{ calls: Array<{ id: string; state: string; ended_at: number | null }> }>(
    `${peerUrl}/debug/calls`,
  );
  return body.calls;
}

/** The call's received client events of one type (all when `type` is absent). */
export async function receivedEvents(
  peerUrl: string,
  callId: string,
  type?: string,
): Promise<AppendRecord[]> {
  const query = type ? `?type=${encodeURIComponent(type)}` : "";
  const body = await json<{ events: AppendRecord[] }>(`${peerUrl}/debug/calls/${callId}/events${query}`);
  return body.events;
}

/** The server events the peer sent on the call. */
export async function sentEvents(
  peerUrl: string,
  callId: string,
): Promise<Array<{ sent_at: number; event: { type: string } }>> {
  const body = await json<{ events: Array<{ sent_at: number; event: { type: string } }> }>(
    `${peerUrl}/debug/calls/${callId}/server-events`,
  );
  return body.events;
}

/** The call's whole input recording (24 kHz mono), as WAV bytes and decoded samples. */
export async function callRecording(
  peerUrl: string,
  callId: string,
): Promise<{ wav: Uint8Array; samples: Float32Array }> {
  const response = await fetch(`${peerUrl}/recordings/${callId}.wav`);
  if (!response.ok) throw new Error(`recording of ${callId}: ${response.status}`);
  return await callRecordingFile(response);
}

/** Decodes a 24 kHz recording from a fetched response. */
export async function callRecordingFile(
  response: Response,
): Promise<{ wav: Uint8Array; samples: Float32Array }> {
  const wav = new Uint8Array(await response.arrayBuffer());
  const decoded = decodeWav(wav);
  if (decoded.sampleRate !== 24_000) throw new Error(`recording at ${decoded.sampleRate} Hz, expected 24000`);
  return { wav, samples: toMono(decoded) };
}

/** `rv_<seq>_<capturedAtMs>` event ids of the client: the frame's sequence number and capture wall time. */
export function parseAppendId(id: string | null): { seq: number; capturedAt: number } | null {
  const match = /^rv_(\d+)_(\d+(?:\.\d+)?)$/.exec(id ?? "");
  return match ? { seq: Number(match[1]), capturedAt: Number(match[2]) } : null;
}

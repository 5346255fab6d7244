/**
 * What the peer's HTTP apps and its sideband share: the server key, the calls of this process, minted client
 * secrets, the recorder and the clock. Plus the two lookups every route needs (a call by id, the bearer token),
 * which fail as OpenAI does.
 */
import type { Call } from "./call.ts";
import type { ClientSecretStore } from "./client-secret-store.ts";
import { RealtimeHttpError } from "./realtime-error.ts";
import type { Recorder } from "./recorder.ts";
import type { SpeechEngines } from "./speech-engines.ts";

export interface PeerContext {
  /** The server key (`Authorization: Bearer <apiKey>`). */
  apiKey: string;
  /** Every call of this process by id (live and ended). */
  calls: Map<string, Call>;
  secrets: ClientSecretStore;
  recorder: Recorder;
  /** Unix milliseconds. */
  now: () => number;
  /** Recognition, synthesis and the assistant, shared by every call. */
  engines: SpeechEngines;
}

/** The call `id`, else 404 `call_not_found`. */
export function findCall(context: PeerContext, id: string): Call {
  const call = context.calls.get(id);
  if (!call) throw new RealtimeHttpError(404, "call_not_found", `No call with id '${id.slice(0, 64)}'.`);
  return call;
}

/** The token of `Authorization: Bearer <token>`, else 401 `missing_api_key` (OpenAI's wording). */
export function bearer(authorization: string | null | undefined): string {
  const match = /^Bearer\s+(\S+)$/i.exec(authorization ?? "");
  if (!match?.[1])
    throw new RealtimeHttpError(
      401,
      "missing_api_key",
      "You didn't provide an API key. Provide it in the Authorization header as 'Bearer <key>'.",
    );
  return match[1];
}

/** Refuses anything but the server key with 401 `invalid_api_key`. */
export function requireServerKey(context: PeerContext, authorization: string | null | undefined): void {
  if (bearer(authorization) !== context.apiKey)
    throw new RealtimeHttpError(401, "invalid_api_key", "Incorrect API key provided.");
}

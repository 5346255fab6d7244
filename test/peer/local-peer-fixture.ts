/**
 * One local peer per test file: started before the file's tests with a fresh temporary recordings folder,
 * every tracked offerer closed after each test, the peer closed and the folder removed after the file.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, afterEach, beforeAll } from "vitest";
import { type LocalPeer, type LocalPeerOptions, startLocalPeer } from "../../demo/local-peer/local-peer.ts";
import type { RealtimeOfferer } from "./realtime-offerer.ts";

/** The server key the fixture's peer accepts. */
export const PEER_KEY = "sk-test-peer";

export interface LocalPeerFixture {
  /** The running peer; read it inside tests (it exists once `beforeAll` ran). */
  readonly peer: LocalPeer;
  /** The peer's recordings folder. */
  readonly recordings: string;
  /** Closes `offerer` after the current test; returns it. */
  track(offerer: RealtimeOfferer): RealtimeOfferer;
}

/**
 * Registers the hooks in the calling test file; `prefix` names its temporary folder. `speech` picks the engines
 * (default: the real ones; `"describe"` for tests of the event flow that compare exact transcripts and echoes).
 */
export function useLocalPeer(
  prefix: string,
  options: Pick<LocalPeerOptions, "speech"> = {},
): LocalPeerFixture {
  let peer: LocalPeer | undefined;
  let recordings = "";
  const open: RealtimeOfferer[] = [];
  beforeAll(async () => {
    recordings = mkdtempSync(join(tmpdir(), prefix));
    peer = await startLocalPeer({ apiKey: PEER_KEY, recordings, ...options });
  });
  afterEach(() => {
    for (const offerer of open.splice(0)) offerer.close();
  });
  afterAll(async () => {
    await peer?.close();
    rmSync(recordings, { recursive: true, force: true });
  });
  return {
    get peer() {
      if (!peer) throw new Error("the local peer starts in beforeAll");
      return peer;
    },
    get recordings() {
      return recordings;
    },
    track(offerer) {
      open.push(offerer);
      return offerer;
    },
  };
}

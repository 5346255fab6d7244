/**
 * CLI: `node demo/local-peer/main.ts [--port 0] [--recordings DIR] [--api-key KEY] [--speech engines|describe]`.
 * Prints one JSON line `{"url": …, "base_url": …/v1, "api_key": …, "recordings": …}` on stdout once listening, so
 * a parent process can read the URL. The key defaults to `$LOCAL_PEER_API_KEY`, else a random `sk-local-…`.
 * `--speech describe` (or `$LOCAL_PEER_SPEECH=describe`) runs without speech engines: transcripts describe the
 * audio and the voice echoes it (tests of timing that must not depend on recognition). SIGINT/SIGTERM end live
 * calls (writing their recordings) before exiting.
 */
import { resolve } from "node:path";
import { parseArgs } from "node:util";
import { startLocalPeer } from "./local-peer.ts";

const { values } = parseArgs({
  options: {
    port: { type: "string", default: "0" },
    recordings: { type: "string" },
    "api-key": { type: "string" },
    speech: { type: "string" },
  },
});
const port = Number(values.port);
if (!Number.isInteger(port) || port < 0 || port > 65_535) {
  console.error(`--port must be an integer in 0..65535, got '${values.port}'`);
  process.exit(2);
}
const speech = values.speech ?? process.env.LOCAL_PEER_SPEECH ?? "engines";
if (speech !== "engines" && speech !== "describe") {
  console.error(`--speech must be 'engines' or 'describe', got '${speech}'`);
  process.exit(2);
}
const peer = await startLocalPeer({
  ...(speech === "describe" ? { speech: "describe" as const } : {}),
  port,
  apiKey: values["api-key"] ?? process.env.LOCAL_PEER_API_KEY,
  recordings: values.recordings ? resolve(values.recordings) : undefined,
});
process.stdout.write(
  `${JSON.stringify({ url: peer.url, base_url: `${peer.url}/v1`, api_key: peer.apiKey, recordings: peer.recordings })}\n`,
);
for (const signal of ["SIGINT", "SIGTERM"] as const)
  process.once(signal, () => {
    peer.close().then(() => process.exit(0));
  });

/**
 * What `npm start` runs: builds the bundles, starts the local realtime peer (unless `.dev.vars` holds an
 * `OPENAI_API_KEY`, then the worker talks to OpenAI) and `wrangler dev` with `OPENAI_BASE_URL` pointing at the
 * peer, waits until the worker answers `/healthz`, and prints the demo URL. Ctrl-C stops every process it
 * started, by process id. `startStack()` does the same for the browser tests.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { buildAll } from "../scripts/build.ts";

const root = join(import.meta.dirname, "..");
const PEER_CLI = join(root, "demo/local-peer/main.ts");
const READY_TIMEOUT_MS = 60_000;

/** The running peer and worker. `stop()` ends both (their whole process groups) and resolves when they exited. */
export interface Stack {
  /** Origin of `wrangler dev`, which serves the worker and `dist/` (the demo page and bundles). */
  workerUrl: string;
  /** Origin of the local peer, or null when the worker talks to OpenAI. */
  peerUrl: string | null;
  /** The API key the worker presents to the peer (a local value, not an OpenAI key). */
  peerKey: string | null;
  /** Process id of the peer (the tests pause it to throttle the data channel). */
  peerPid: number | null;
  stop(): Promise<void>;
}

export interface StackOptions {
  /** Port of `wrangler dev`; 0 or absent picks a free one (8787 for `npm start`). */
  port?: number;
  /** Build `dist/` first (default true). */
  build?: boolean;
  /** Ignore `.dev.vars` and always use the local peer (the tests do). */
  forceLocalPeer?: boolean;
  /** Extra arguments for the peer's CLI (for example a recordings folder). */
  peerArgs?: string[];
  /** Extra `wrangler dev --var NAME:value` settings (for example `ALLOWED_ORIGINS`). */
  vars?: Record<string, string>;
  /**
   * Requests per 60 s per client for the `RATE_LIMITER` binding, instead of wrangler.toml's 30 (a copy of
   * wrangler.toml with this limit is used; `.dev.vars` is then not read, so use it with `forceLocalPeer`).
   */
  rateLimit?: number;
  /** Lines of the children's output go here (default: dropped). */
  log?: (line: string) => void;
}

/** A port that was free a moment ago. */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (!address || typeof address === "string") throw new Error("no free port");
  return address.port;
}

function hasOpenAiKey(): boolean {
  const file = join(root, ".dev.vars");
  return existsSync(file) && /^\s*OPENAI_API_KEY\s*=\s*\S+/m.test(readFileSync(file, "utf8"));
}

/** Node 24 and the project's tools first on PATH: wrangler's `#!/usr/bin/env node` must not find Node 20. */
function childEnv(): NodeJS.ProcessEnv {
  return {
    ...process.env,
    PATH: `${join(root, "node_modules/.bin")}:${join(process.execPath, "..")}:${process.env.PATH ?? ""}`,
    WRANGLER_SEND_METRICS: "false",
    XDG_CONFIG_HOME: join(root, ".config"),
  };
}

function launch(command: string, args: string[], log: (line: string) => void, name: string): ChildProcess {
  // Its own process group, so stopping it also stops what it spawned (wrangler starts workerd).
  const child = spawn(command, args, {
    cwd: root,
    env: childEnv(),
    detached: true,
    stdio: ["ignore", "pipe", "pipe"],
  });
  for (const stream of [child.stdout, child.stderr]) {
    if (stream) createInterface({ input: stream }).on("line", (line) => log(`[${name}] ${line}`));
  }
  return child;
}

async function stopProcess(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null || child.pid === undefined) return;
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  const signal = (sig: NodeJS.Signals) => {
    try {
      process.kill(-(child.pid as number), sig);
    } catch {
      // Already gone.
    }
  };
  signal("SIGTERM");
  const timer = setTimeout(() => signal("SIGKILL"), 5000);
  await exited;
  clearTimeout(timer);
}

interface PeerLine {
  url?: unknown;
  api_key?: unknown;
}

/** Starts the peer's CLI and reads the JSON line it prints: `{"url": …, "api_key": …}`. */
async function startPeer(
  args: string[],
  log: (line: string) => void,
): Promise<{ child: ChildProcess; url: string; key: string }> {
  const child = launch(process.execPath, [PEER_CLI, ...args], () => {}, "peer");
  const lines = createInterface({ input: child.stderr as NodeJS.ReadableStream });
  lines.on("line", (line) => log(`[peer] ${line}`));
  return await new Promise((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error("the local peer printed no JSON line within 30 s")),
      30_000,
    );
    child.once("exit", (code) => reject(new Error(`the local peer exited with ${code}`)));
    createInterface({ input: child.stdout as NodeJS.ReadableStream }).on("line", (line) => {
      let parsed: PeerLine | null;
      try {
        parsed = JSON.parse(line) as PeerLine | null;
      } catch {
        log(`[peer] ${line}`);
        return;
      }
      if (typeof parsed?.url !== "string") return;
      clearTimeout(timer);
      const key = parsed.api_key;
      resolve({
        child,
        url: parsed.url.replace(/\/+$/, ""),
        key: typeof key === "string" ? key : "sk-local",
      });
    });
  });
}

async function waitReady(url: string, child: ChildProcess): Promise<void> {
  const deadline = Date.now() + READY_TIMEOUT_MS;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`wrangler dev exited with ${child.exitCode}`);
    try {
      const response = await fetch(`${url}/healthz`);
      if (response.ok) return;
    } catch {
      // Not listening yet.
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  throw new Error(`wrangler dev did not answer ${url}/healthz within ${READY_TIMEOUT_MS / 1000} s`);
}

/**
 * wrangler.toml with another `simple.limit` for the rate limiter, written into `dir` with absolute paths (wrangler
 * resolves `main` and `[assets] directory` against the config's folder). Returns the config's path.
 */
async function configWithRateLimit(dir: string, limit: number): Promise<string> {
  const toml = readFileSync(join(root, "wrangler.toml"), "utf8");
  const patched = toml
    .replace(/^main = "([^"]+)"$/m, (_line, main: string) => `main = ${JSON.stringify(join(root, main))}`)
    .replace(
      /^directory = "([^"]+)"$/m,
      (_line, dist: string) => `directory = ${JSON.stringify(join(root, dist))}`,
    )
    .replace(/^simple = \{ limit = \d+,/m, `simple = { limit = ${limit},`);
  if (!patched.includes(`limit = ${limit},`))
    throw new Error("wrangler.toml has no [[ratelimits]] simple limit");
  const path = join(dir, "wrangler.toml");
  await writeFile(path, patched);
  return path;
}

/**
 * Builds (optionally), starts the peer and `wrangler dev`, and resolves once the worker answers. Every stack gets
 * its own `wrangler dev` state (`--persist-to` a temporary folder, removed by `stop()`): the rate limiter's
 * counters live there, and a shared `.wrangler/state` would let one run (or a demo session) throttle the next.
 */
export async function startStack(options: StackOptions = {}): Promise<Stack> {
  const log = options.log ?? (() => {});
  if (options.build !== false) await buildAll({ types: false });
  const children: ChildProcess[] = [];
  const state = await mkdtemp(join(tmpdir(), "realtime-voice-edge-wrangler-"));
  const stop = async () => {
    await Promise.all(children.map(stopProcess));
    await rm(state, { recursive: true, force: true });
  };
  try {
    const upstream = !options.forceLocalPeer && hasOpenAiKey();
    let peer: { url: string; key: string; child: ChildProcess } | null = null;
    const vars: string[] = [];
    if (!upstream) {
      const started = await startPeer(options.peerArgs ?? [], log);
      children.push(started.child);
      peer = started;
      vars.push("--var", `OPENAI_BASE_URL:${started.url}/v1`, "--var", `OPENAI_API_KEY:${started.key}`);
    }
    for (const [name, value] of Object.entries(options.vars ?? {})) vars.push("--var", `${name}:${value}`);
    if (options.rateLimit !== undefined)
      vars.push("--config", await configWithRateLimit(state, options.rateLimit));
    const port = options.port || (await freePort());
    const wrangler = launch(
      join(root, "node_modules/.bin/wrangler"),
      [
        "dev",
        "--ip",
        "127.0.0.1",
        "--port",
        String(port),
        "--inspector-port",
        String(await freePort()),
        "--show-interactive-dev-session=false",
        "--live-reload=false",
        "--persist-to",
        join(state, "state"),
        ...vars,
      ],
      log,
      "wrangler",
    );
    children.push(wrangler);
    const workerUrl = `http://127.0.0.1:${port}`;
    await waitReady(workerUrl, wrangler);
    return {
      workerUrl,
      peerUrl: peer?.url ?? null,
      peerKey: peer?.key ?? null,
      peerPid: peer?.child.pid ?? null,
      stop,
    };
  } catch (error) {
    await stop();
    throw error;
  }
}

if (import.meta.main) {
  const verbose = process.argv.includes("--verbose");
  const stack = await startStack({ port: 8787, log: verbose ? (line) => console.error(line) : undefined });
  const demo = new URL(stack.workerUrl);
  if (stack.peerUrl) demo.searchParams.set("peer", stack.peerUrl);
  console.log(
    stack.peerUrl
      ? `local realtime peer: ${stack.peerUrl}\nworker (wrangler dev) → peer: ${stack.workerUrl}`
      : `worker (wrangler dev) → OpenAI (OPENAI_API_KEY from .dev.vars): ${stack.workerUrl}`,
  );
  console.log(`\n  demo: ${demo.href}\n\nCtrl-C stops everything.`);
  let stopping = false;
  const shutdown = () => {
    if (stopping) return;
    stopping = true;
    void stack.stop().then(() => process.exit(0));
  };
  // SIGHUP too: closing the terminal (or npm exiting first on Ctrl-C) hangs up this process before SIGINT is handled.
  for (const signal of ["SIGINT", "SIGTERM", "SIGHUP"] as const) process.on(signal, shutdown);
}

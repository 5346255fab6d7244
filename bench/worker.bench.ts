/**
 * Worker throughput and size. The worker is bundled and minified with esbuild and run in workerd by Miniflare
 * (driven from this Node process with `dispatchFetch`); OpenAI is answered inside the same workerd process by a
 * second worker, the edge worker's `outboundService`. Two routes of the same worker in the same runtime,
 * interleaved round by round:
 * `POST /v1/realtime/client_secrets` (the full path: config, origin guard, rate-limit binding, body limit, JSON
 * parse, Valibot, policy, upstream fetch, reply validation) and `GET /healthz` (a trivial JSON route: the
 * runtime's and the harness's own cost). Prints requests/s, p50/p99 latency and the ratio (goal ≥ 0.5), then
 * the size of `wrangler deploy --dry-run --minify`'s bundle gzipped (goal ≤ 25 KB).
 * Run: `node bench/worker.bench.ts [--quick]`.
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { gzipSync } from "node:zlib";
import { convertV4MiniflareOptions, Miniflare } from "miniflare";
import { bundleWorker } from "./worker-bundle.ts";

const root = join(import.meta.dirname, "..");
const quick = process.argv.includes("--quick");
// Routes alternate every batch, so a noisy neighbour on this machine slows all of them alike.
const BATCHES = quick ? 6 : 20;
const BATCH = 50;
// Requests in flight. Load generator (Node) and workerd share this machine's cores, so the ratio depends on the
// load: every level is printed rather than one picked.
const CONCURRENCY = [1, 4, 8];

// OpenAI's mint endpoint, answered inside the same workerd process by a second worker (the edge worker's
// outbound service): the session it returns is the posted one over OpenAI's documented defaults.
const FAKE_OPENAI = `
const defaults = {
  type: "realtime", object: "realtime.session", model: "gpt-realtime", output_modalities: ["audio"],
  instructions: "", tools: [], tool_choice: "auto", max_output_tokens: "inf", tracing: null, truncation: "auto",
  audio: {
    input: { format: { type: "audio/pcm", rate: 24000 }, transcription: null, noise_reduction: null,
      turn_detection: { type: "server_vad", threshold: 0.5, prefix_padding_ms: 300, silence_duration_ms: 200,
        idle_timeout_ms: null, create_response: true, interrupt_response: true } },
    output: { format: { type: "audio/pcm", rate: 24000 }, voice: "alloy", speed: 1 },
  },
};
let n = 0;
export default {
  async fetch(request) {
    const body = await request.json();
    const s = body.session ?? {};
    const session = { ...defaults, ...s, id: "sess_bench" + (++n),
      audio: { input: { ...defaults.audio.input, ...s.audio?.input }, output: { ...defaults.audio.output, ...s.audio?.output } } };
    return Response.json({ value: "ek_bench" + n, expires_at: Math.floor(Date.now() / 1000) + (body.expires_after?.seconds ?? 600), session });
  },
};`;

// A fixed-window limiter held in memory, with the binding's API, reached over an RPC service binding: Cloudflare
// answers \`limit()\` from a cache local to the machine, whereas miniflare's simulation writes a SQLite row in a
// Durable Object on every call.
const MEMORY_LIMITER = `
import { WorkerEntrypoint } from "cloudflare:workers";
const windows = new Map();
export class Limiter extends WorkerEntrypoint {
  async limit({ key }) {
    const epoch = Math.floor(Date.now() / 60000);
    const w = windows.get(key);
    const count = w && w.epoch === epoch ? w.count : 0;
    if (count >= 1000000) return { success: false };
    windows.set(key, { epoch, count: count + 1 });
    return { success: true };
  }
}
export default { fetch() { return new Response(null, { status: 404 }); } };`;

interface Stats {
  seconds: number;
  latencies: number[];
}

async function round(
  mf: Miniflare,
  make: (i: number) => [string, RequestInit],
  count: number,
  concurrency: number,
): Promise<Stats> {
  const latencies: number[] = [];
  let next = 0;
  const start = performance.now();
  async function lane(): Promise<void> {
    while (next < count) {
      const i = next++;
      const [url, init] = make(i);
      const t0 = performance.now();
      const res = await mf.dispatchFetch(url, init as never);
      const body = await res.arrayBuffer();
      latencies.push(performance.now() - t0);
      if (res.status !== 200)
        throw new Error(`${url} answered ${res.status}: ${new TextDecoder().decode(body)}`);
    }
  }
  await Promise.all(Array.from({ length: concurrency }, lane));
  return { seconds: (performance.now() - start) / 1000, latencies };
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? Number.NaN;
}

function dryRunGzipKb(): { raw: number; gzip: number } | string {
  const outdir = mkdtempSync(join(tmpdir(), "worker-dry-run-"));
  try {
    // wrangler's own entry run on this Node (24): its shebang would pick the system's older node.
    const run = spawnSync(
      process.execPath,
      [
        join(root, "node_modules/wrangler/bin/wrangler.js"),
        "deploy",
        "--dry-run",
        "--minify",
        "--outdir",
        outdir,
      ],
      {
        cwd: root,
        encoding: "utf8",
        env: { ...process.env, WRANGLER_SEND_METRICS: "false", XDG_CONFIG_HOME: join(root, ".config") },
      },
    );
    if (run.status !== 0) return `wrangler deploy --dry-run failed: ${run.stderr.slice(-400)}`;
    const code = readFileSync(join(outdir, "index.js"));
    return { raw: code.length / 1024, gzip: gzipSync(code, { level: 9 }).length / 1024 };
  } finally {
    rmSync(outdir, { recursive: true, force: true });
  }
}

const script = await bundleWorker();
const edge = {
  modules: [{ type: "ESModule" as const, path: "worker.mjs", contents: script }],
  compatibilityDate: "2026-11-01",
  bindings: {
    OPENAI_API_KEY: "sk-bench-not-a-real-key",
    OPENAI_BASE_URL: "https://openai.bench/v1",
    ALLOWED_ORIGINS: "https://shop.example",
    // The bench mints from a page origin, which a deployment must allow explicitly.
    BROWSER_CLIENT_SECRETS: "allow",
  },
  outboundService: "openai",
};
const LIMIT = { limit: 1_000_000, period: 60 as const }; // never reached: no run answers 429
const mf = new Miniflare(
  convertV4MiniflareOptions({
    workers: [
      // The same bundle twice: with miniflare's simulated [[ratelimits]] binding, and with the in-memory one.
      {
        name: "edge",
        ...edge,
        routes: ["edge.bench/*"],
        serviceBindings: { RATE_LIMITER: { name: "memory-limiter", entrypoint: "Limiter" } },
      },
      {
        name: "edge-simulated-limiter",
        ...edge,
        routes: ["sim.bench/*"],
        ratelimits: { RATE_LIMITER: { namespace_id: "1001", simple: LIMIT } },
      },
      {
        name: "openai",
        modules: [{ type: "ESModule", path: "openai.mjs", contents: FAKE_OPENAI }],
        compatibilityDate: "2026-11-01",
      },
      {
        name: "memory-limiter",
        modules: [{ type: "ESModule", path: "limiter.mjs", contents: MEMORY_LIMITER }],
        compatibilityDate: "2026-11-01",
      },
    ],
  }),
);

const mintBody = JSON.stringify({
  expires_after: { anchor: "created_at", seconds: 120 },
  session: {
    type: "realtime",
    model: "gpt-realtime",
    instructions: "Answer briefly.",
    audio: { input: { turn_detection: null }, output: { voice: "marin" } },
  },
});
function mint(host: string, i: number): [string, RequestInit] {
  return [
    `https://${host}/v1/realtime/client_secrets`,
    {
      method: "POST",
      body: mintBody,
      headers: {
        "Content-Type": "application/json",
        Origin: "https://shop.example",
        "CF-Connecting-IP": `198.51.100.${i % 250}`,
      },
    },
  ];
}
// Requests are routed to a worker by host (the workers' `routes`).
const routes: Array<{ name: string; make: (i: number) => [string, RequestInit] }> = [
  { name: "POST /v1/realtime/client_secrets", make: (i) => mint("edge.bench", i) },
  { name: "GET /healthz (trivial JSON route)", make: () => ["https://edge.bench/healthz", {}] },
  {
    name: "POST /v1/realtime/client_secrets, miniflare's simulated limiter",
    make: (i) => mint("sim.bench", i),
  },
];

try {
  console.log(
    `workerd via Miniflare, driven from Node (dispatchFetch); per level ${BATCHES} batches × ${BATCH} requests per route, routes alternating batch by batch; OpenAI answered by a worker in the same workerd process.\n`,
  );
  console.log("| in flight | route | requests/s | p50 latency (ms) | p99 latency (ms) | vs trivial route |");
  console.log("|---:|---|---:|---:|---:|---:|");
  const ratios: string[] = [];
  for (const concurrency of CONCURRENCY) {
    for (const route of routes) await round(mf, route.make, 100, concurrency); // warm-up
    const perRoute = routes.map(() => ({ seconds: 0, latencies: [] as number[] }));
    for (let b = 0; b < BATCHES; b++) {
      const order = b % 2 === 0 ? [...routes.keys()] : [...routes.keys()].reverse();
      for (const k of order) {
        const route = routes[k];
        const total = perRoute[k];
        if (route === undefined || total === undefined) continue;
        const stats = await round(mf, route.make, BATCH, concurrency);
        total.seconds += stats.seconds;
        total.latencies.push(...stats.latencies);
      }
    }
    const rpsOf = (k: number) => (perRoute[k]?.latencies.length ?? 0) / (perRoute[k]?.seconds ?? Number.NaN);
    const reference = rpsOf(1);
    for (const [k, route] of routes.entries()) {
      const sorted = [...(perRoute[k]?.latencies ?? [])].sort((a, b) => a - b);
      const rps = rpsOf(k);
      console.log(
        `| ${concurrency} | ${route.name} | ${rps.toFixed(0)} | ${percentile(sorted, 50).toFixed(2)} | ${percentile(sorted, 99).toFixed(2)} | ${(rps / reference).toFixed(2)} |`,
      );
    }
    ratios.push(`${concurrency} in flight: **${(rpsOf(0) / reference).toFixed(2)}**`);
  }
  console.log(`\nThroughput ratio client_secrets / trivial JSON route (goal ≥ 0.5): ${ratios.join(", ")}\n`);
} finally {
  await mf.dispose();
}

const size = dryRunGzipKb();
console.log("| worker bundle | size |");
console.log("|---|---:|");
if (typeof size === "string") console.log(`| wrangler deploy --dry-run --minify | ${size} |`);
else {
  console.log(`| wrangler deploy --dry-run --minify (index.js) | ${size.raw.toFixed(1)} KB |`);
  console.log(`| same, gzip -9 | **${size.gzip.toFixed(1)} KB** (goal ≤ 25 KB) |`);
}

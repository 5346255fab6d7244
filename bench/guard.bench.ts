/**
 * What the call guard costs. (1) SDP answer latency of `POST /v1/realtime/calls` with the guard (`CALL_GUARD=on`:
 * budget reservation in a Durable Object before the upstream request, the guard started in `waitUntil` after it)
 * and without (`CALL_GUARD=off`: budgets only), the same bundle in the same workerd process, interleaved batch by
 * batch; OpenAI (calls, sideband WebSocket that confirms `session.update` and ends the call after 1 s, hangup)
 * answered by a worker in the same process. Goal: ≤ +5 ms p50. (2) The guard's own CPU per sideband event
 * (JSON parse, the policy review of a `session.updated`, usage sum), in Node with the guard's modules, against a
 * `JSON.parse` of the same event as the reference.
 * Run: `node bench/guard.bench.ts [--quick]`.
 */
import { performance } from "node:perf_hooks";
import { convertV4MiniflareOptions, Miniflare } from "miniflare";
import { OFFER } from "../test/fixtures/sample-offer.ts";
import { ownedValues, review } from "../worker/guard/drift.ts";
import { addUsage } from "../worker/guard/usage.ts";
import type { Policy } from "../worker/policy.ts";
import { bundleWorker } from "./worker-bundle.ts";

const quick = process.argv.includes("--quick");
const BATCHES = quick ? 6 : 20;
const BATCH = 25;

const FAKE_OPENAI = `
const ended = new Set();
let n = 0;
const ANSWER = "v=0\\r\\no=- 1 1 IN IP4 127.0.0.1\\r\\ns=-\\r\\nt=0 0\\r\\nm=audio 9 UDP/TLS/RTP/SAVPF 111\\r\\nc=IN IP4 0.0.0.0\\r\\na=mid:0\\r\\nm=application 9 UDP/DTLS/SCTP webrtc-datachannel\\r\\na=mid:1\\r\\n";
export default {
  async fetch(request) {
    const url = new URL(request.url);
    if (request.headers.get("Upgrade") === "websocket") {
      const id = url.searchParams.get("call_id");
      if (ended.has(id)) return new Response(null, { status: 404 });
      const [client, server] = Object.values(new WebSocketPair());
      server.accept();
      server.addEventListener("message", (event) => {
        const e = JSON.parse(event.data);
        if (e.type === "session.update") server.send(JSON.stringify({ type: "session.updated", session: { type: "realtime", model: "gpt-realtime", tools: [], ...e.session } }));
      });
      setTimeout(() => { ended.add(id); try { server.close(1000, "call ended"); } catch {} }, 1000);
      return new Response(null, { status: 101, webSocket: client });
    }
    if (url.pathname.endsWith("/hangup")) return new Response(null, { status: 200 });
    await request.arrayBuffer();
    return new Response(ANSWER, { status: 201, headers: { "Content-Type": "application/sdp", Location: "/v1/realtime/calls/rtc_bench" + (++n) } });
  },
};`;

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? Number.NaN;
}

async function latency(): Promise<void> {
  const script = await bundleWorker();
  const edge = (guard: "on" | "off") => ({
    name: `edge-${guard}`,
    modules: [{ type: "ESModule" as const, path: "worker.mjs", contents: script }],
    compatibilityDate: "2026-11-01",
    routes: [`${guard}.bench/*`],
    bindings: {
      OPENAI_API_KEY: "sk-bench-not-a-real-key",
      OPENAI_BASE_URL: "https://openai.bench/v1",
      CLIENT_API_KEYS: "ck-bench",
      CALL_GUARD: guard,
      INSTRUCTIONS: "Answer briefly.",
      MAX_CONCURRENT_CALLS_PER_CLIENT: "10000",
      DAILY_CALL_SECONDS_PER_CLIENT: "100000000",
    },
    ratelimits: { RATE_LIMITER: { namespace_id: "1001", simple: { limit: 1_000_000, period: 60 as const } } },
    durableObjects: {
      CALL_GUARDS: { className: "CallGuard", useSQLite: true },
      BUDGETS: { className: "Budget", useSQLite: true },
    },
    outboundService: "openai",
  });
  const mf = new Miniflare(
    convertV4MiniflareOptions({
      workers: [
        edge("on"),
        edge("off"),
        {
          name: "openai",
          modules: [{ type: "ESModule", path: "openai.mjs", contents: FAKE_OPENAI }],
          compatibilityDate: "2026-11-01",
        },
      ],
    }),
  );
  const variants = [
    { name: "with the guard (CALL_GUARD=on)", host: "on.bench" },
    { name: "without (CALL_GUARD=off, budgets only)", host: "off.bench" },
  ];
  const one = async (host: string, i: number) => {
    const t0 = performance.now();
    const res = await mf.dispatchFetch(`https://${host}/v1/realtime/calls`, {
      method: "POST",
      body: OFFER,
      headers: {
        "Content-Type": "application/sdp",
        Authorization: "Bearer ck-bench",
        "CF-Connecting-IP": `198.51.100.${i % 250}`,
      },
    });
    await res.arrayBuffer();
    if (res.status !== 201) throw new Error(`${host} answered ${res.status}`);
    return performance.now() - t0;
  };
  try {
    for (const variant of variants) for (let i = 0; i < 50; i++) await one(variant.host, i); // warm-up
    // Back to back, each call's guard work (new object, sideband, end) competes with the next answers for this
    // machine's cores; spaced 250 ms apart, the answer path is measured alone.
    for (const [label, gapMs, perBatch] of [
      ["back to back", 0, BATCH],
      ["spaced 250 ms", 250, 10],
    ] as const) {
      const samples = variants.map(() => [] as number[]);
      for (let b = 0; b < BATCHES; b++) {
        const order = b % 2 === 0 ? [0, 1] : [1, 0];
        for (const k of order) {
          const variant = variants[k];
          if (variant === undefined) continue;
          for (let i = 0; i < perBatch; i++) {
            samples[k]?.push(await one(variant.host, i));
            if (gapMs > 0) await new Promise((resolve) => setTimeout(resolve, gapMs));
          }
        }
      }
      console.log(
        `SDP answer latency, ${label}, one request in flight, ${BATCHES} batches × ${perBatch} per variant, interleaved; workerd via Miniflare.\n`,
      );
      console.log("| variant | p50 (ms) | p90 (ms) | p99 (ms) |");
      console.log("|---|---:|---:|---:|");
      const p50s: number[] = [];
      for (const [k, variant] of variants.entries()) {
        const sorted = [...(samples[k] ?? [])].sort((a, b) => a - b);
        p50s.push(percentile(sorted, 50));
        console.log(
          `| ${variant.name} | ${percentile(sorted, 50).toFixed(2)} | ${percentile(sorted, 90).toFixed(2)} | ${percentile(sorted, 99).toFixed(2)} |`,
        );
      }
      console.log(
        `\nGuard overhead at p50, ${label}: **${((p50s[0] ?? 0) - (p50s[1] ?? 0)).toFixed(2)} ms** (goal ≤ +5 ms)\n`,
      );
    }
  } finally {
    await mf.dispose();
  }
}

function cpuPerEvent(): void {
  const policy = {
    type: "realtime" as const,
    model: "gpt-realtime",
    instructions: "You are the shop's assistant. ".repeat(20),
    max_output_tokens: 4096,
    audio: { input: { transcription: { model: "gpt-4o-transcribe" } }, output: { voice: "marin" as const } },
  };
  const effective = {
    ...policy,
    object: "realtime.session",
    id: "sess_1",
    tools: [],
    tool_choice: "auto",
    output_modalities: ["audio"],
    prompt: null,
    audio: {
      input: {
        format: { type: "audio/pcm", rate: 24000 },
        transcription: { model: "gpt-4o-transcribe", language: null, prompt: "" },
        turn_detection: {
          type: "server_vad",
          threshold: 0.5,
          prefix_padding_ms: 300,
          silence_duration_ms: 200,
        },
      },
      output: { format: { type: "audio/pcm", rate: 24000 }, voice: "marin", speed: 1 },
    },
  };
  const owned = ownedValues(policy, effective);
  const rules: Policy = {
    allowedModels: ["gpt-realtime"],
    defaultModel: "gpt-realtime",
    allowedVoices: ["marin"],
    instructions: policy.instructions,
    clientInstructions: "append",
    allowClientTools: false,
    allowClientReasoning: false,
    allowStoredPrompts: false,
    maxOutputTokens: 4096,
    secretTtlSeconds: 600,
    maxInstructionsChars: 4000,
  };
  const events = {
    "session.updated": JSON.stringify({ type: "session.updated", event_id: "event_1", session: effective }),
    "response.done": JSON.stringify({
      type: "response.done",
      event_id: "event_2",
      response: {
        id: "resp_1",
        status: "completed",
        output: [],
        usage: {
          total_tokens: 412,
          input_tokens: 300,
          output_tokens: 112,
          input_token_details: { text_tokens: 120, audio_tokens: 180, cached_tokens: 64 },
          output_token_details: { text_tokens: 22, audio_tokens: 90 },
        },
      },
    }),
    "input_audio_buffer.speech_started": JSON.stringify({
      type: "input_audio_buffer.speech_started",
      event_id: "event_3",
      audio_start_ms: 1200,
      item_id: "item_1",
    }),
  };
  const N = quick ? 20_000 : 100_000;
  console.log(
    `The guard's CPU per sideband event, Node ${process.version}, ${N} events each (median of 5 runs).\n`,
  );
  console.log("| event | JSON.parse only (µs) | guard handling (µs) | ratio |");
  console.log("|---|---:|---:|---:|");
  let sink = 0;
  for (const [type, text] of Object.entries(events)) {
    const time = (fn: () => void) => {
      const runs: number[] = [];
      for (let r = 0; r < 5; r++) {
        const t0 = performance.now();
        for (let i = 0; i < N; i++) fn();
        runs.push(((performance.now() - t0) * 1000) / N);
      }
      return runs.sort((a, b) => a - b)[2] ?? Number.NaN;
    };
    const parse = time(() => {
      sink += (JSON.parse(text) as { type: string }).type.length;
    });
    let usage = {};
    const guard = time(() => {
      const event = JSON.parse(text) as { type: string; session?: unknown; response?: { usage?: unknown } };
      if (event.type === "session.updated") sink += review(owned, event.session, rules).drifted.length;
      else if (event.type === "response.done") usage = addUsage(usage, event.response?.usage);
      else sink += 1;
    });
    console.log(`| ${type} | ${parse.toFixed(2)} | ${guard.toFixed(2)} | ${(guard / parse).toFixed(2)} |`);
  }
  if (sink < 0) console.log(sink);
}

await latency();
cpuPerEvent();

import { cloudflareTest } from "@cloudflare/vitest-plugin";
import { defineConfig } from "vitest/config";
import { fakeOpenAI, WORKER_CLIENT_KEY, WORKER_TEST_KEY } from "./test/fixtures/fake-openai.ts";

export default defineConfig({
  test: {
    projects: [
      {
        plugins: [
          cloudflareTest({
            wrangler: { configPath: "./wrangler.toml" },
            miniflare: {
              // A known fake key: the tests search every response and log line for it.
              bindings: {
                OPENAI_API_KEY: WORKER_TEST_KEY,
                OPENAI_BASE_URL: "https://openai.test/default/ok/v1",
                UPSTREAM_TIMEOUT_MS: "1000",
                // The tests authenticate as this client; budget tests set their own limits.
                CLIENT_API_KEYS: WORKER_CLIENT_KEY,
                MAX_CONCURRENT_CALLS_PER_CLIENT: "1000",
                DAILY_CALL_SECONDS_PER_CLIENT: "100000000",
              },
              // Every fetch leaving the worker (and the tests) lands in the fake OpenAI, in Node.
              outboundService: (request) => fakeOpenAI(request as unknown as Request) as never,
            },
          }),
        ],
        // 20 s: the fuzz properties send hundreds of requests each, and this machine's cores are shared.
        test: { name: "worker", include: ["test/worker/**/*.test.ts"], testTimeout: 20_000 },
      },
      {
        test: { name: "worklet", include: ["test/worklet/**/*.test.ts"], environment: "node" },
      },
      {
        test: {
          name: "peer",
          include: ["test/peer/**/*.test.ts"],
          environment: "node",
          testTimeout: 60_000,
          hookTimeout: 60_000,
        },
      },
      {
        test: {
          name: "e2e",
          include: ["test/e2e/**/*.test.ts"],
          environment: "node",
          testTimeout: 180_000,
          hookTimeout: 180_000,
          fileParallelism: false,
        },
      },
    ],
  },
});

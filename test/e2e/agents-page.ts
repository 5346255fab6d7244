/**
 * Puts `@openai/agents-realtime` (the installed, pinned version) and `test/peer/page/agents-call.ts` into a
 * Chromium page, so `agentsCall(baseUrl, apiKey, transportOptions)` can be evaluated there.
 */
import { readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { build, transform } from "esbuild";
import type { Page } from "playwright-core";

const ROOT = resolve(import.meta.dirname, "../..");

/** The SDK bundled for the page, exposing `OpenAIRealtimeWebRTC` as a global. */
async function sdkBundle(): Promise<string> {
  const result = await build({
    stdin: {
      contents:
        'import { OpenAIRealtimeWebRTC } from "@openai/agents-realtime"; globalThis.OpenAIRealtimeWebRTC = OpenAIRealtimeWebRTC;',
      resolveDir: ROOT,
      loader: "ts",
    },
    bundle: true,
    format: "iife",
    platform: "browser",
    target: "es2022",
    write: false,
    logLevel: "silent",
  });
  return result.outputFiles[0]?.text ?? "";
}

/** Adds the SDK bundle and the page script to `page` (already on the origin the call is made from). */
export async function loadAgentsPage(page: Page): Promise<void> {
  await page.addScriptTag({ content: await sdkBundle() });
  const source = readFileSync(join(ROOT, "test/peer/page/agents-call.ts"), "utf8");
  await page.addScriptTag({ content: (await transform(source, { loader: "ts", target: "es2022" })).code });
}

/** What `agentsCall` reports (see `test/peer/page/agents-call.ts`). */
export interface AgentsCallResult {
  connectMs: number;
  events: string[];
  errors: string[];
  transcripts: string[];
  clearedAfterInterrupt: boolean;
  callId: string | undefined;
}

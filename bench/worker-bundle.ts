/**
 * The worker as the benches run it: `worker/index.ts` bundled and minified by esbuild for workerd, as
 * `wrangler deploy` would, returned as one ES module's text.
 */
import { join } from "node:path";
import { build } from "esbuild";

export async function bundleWorker(): Promise<string> {
  const result = await build({
    entryPoints: [join(import.meta.dirname, "..", "worker/index.ts")],
    bundle: true,
    minify: true,
    format: "esm",
    platform: "neutral",
    conditions: ["workerd", "worker", "browser"],
    target: "es2022",
    write: false,
    logLevel: "silent",
    external: ["cloudflare:*"],
  });
  const file = result.outputFiles[0];
  if (file === undefined) throw new Error("esbuild produced no output");
  return file.text;
}

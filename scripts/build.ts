/**
 * Builds the browser bundles and the demo page into `dist/`, which `wrangler.toml`'s `[assets]` serves:
 * - `realtime-voice.js`: the script-tag build (IIFE, global `RealtimeVoice`);
 * - `realtime-voice.mjs`: the ESM build;
 * - `capture-processor.js`: the AudioWorklet module, loaded from beside either build;
 * - `index.html`, `demo.js`, `demo.css`: the demo page.
 * Prints each file's minified and gzipped size. Run as `npm run build`.
 */
import { copyFile, mkdir, readFile, rm } from "node:fs/promises";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import { build } from "esbuild";

const root = join(import.meta.dirname, "..");
const out = join(root, "dist");

const common = {
  bundle: true,
  minify: true,
  sourcemap: false,
  target: "es2022",
  legalComments: "none",
  logLevel: "warning",
} as const;

export async function buildAll(): Promise<Record<string, { bytes: number; gzip: number }>> {
  await rm(out, { recursive: true, force: true });
  await mkdir(out, { recursive: true });
  await Promise.all([
    build({
      ...common,
      entryPoints: [join(root, "worklet/capture-processor.ts")],
      format: "esm",
      outfile: join(out, "capture-processor.js"),
    }),
    build({
      ...common,
      entryPoints: [join(root, "worklet/embed.ts")],
      format: "iife",
      outfile: join(out, "realtime-voice.js"),
    }),
    build({
      ...common,
      entryPoints: [join(root, "worklet/index.ts")],
      format: "esm",
      outfile: join(out, "realtime-voice.mjs"),
    }),
    build({
      ...common,
      entryPoints: [join(root, "demo/demo.ts")],
      format: "esm",
      outfile: join(out, "demo.js"),
    }),
    copyFile(join(root, "demo/index.html"), join(out, "index.html")),
    copyFile(join(root, "demo/demo.css"), join(out, "demo.css")),
  ]);
  const sizes: Record<string, { bytes: number; gzip: number }> = {};
  for (const file of ["capture-processor.js", "realtime-voice.js", "realtime-voice.mjs", "demo.js"]) {
    const bytes = await readFile(join(out, file));
    sizes[file] = { bytes: bytes.length, gzip: gzipSync(bytes, { level: 9 }).length };
  }
  return sizes;
}

if (import.meta.main) {
  const sizes = await buildAll();
  for (const [file, { bytes, gzip }] of Object.entries(sizes)) {
    console.log(`${file.padEnd(24)} ${String(bytes).padStart(8)} B  ${String(gzip).padStart(7)} B gzip`);
  }
}

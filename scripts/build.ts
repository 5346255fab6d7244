/**
 * Builds the browser bundles and the demo page into `dist/`, which `wrangler.toml`'s `[assets]` serves:
 * - `capture-processor.js`: the AudioWorklet module, loaded from beside either build;
 * - `realtime-voice.js`: the script-tag build (IIFE, global `RealtimeVoice`);
 * - `realtime-voice.mjs`: the ESM build;
 * - `types/`: type declarations of the public surface (`types/worklet/index.d.ts`);
 * - `index.html`, `demo.js`, `demo.css`: the demo page;
 * - `_headers`: response headers of the static assets (read by Workers static assets, never served itself).
 * Both client builds carry the worklet's minified source as a string, loaded from a `blob:` URL when the file
 * beside the script cannot be loaded (a bundler that did not copy it). Prints each file's minified and gzipped
 * size. Run as `npm run build`; `--no-types` skips the declarations (faster, used by the tests).
 */
import { execFile } from "node:child_process";
import { copyFile, mkdir, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { promisify } from "node:util";
import { gzipSync } from "node:zlib";
import { build, type Plugin } from "esbuild";

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

/**
 * The bundles a third-party page loads are public (they hold no secret), so they are readable from any origin:
 * worklet modules are fetched in CORS mode (without `Access-Control-Allow-Origin`, `addModule` fails on every
 * other origin), and `Cross-Origin-Resource-Policy: cross-origin` lets cross-origin-isolated pages (COEP
 * `require-corp`) load them too.
 */
const PUBLIC_BUNDLES = ["/realtime-voice.js", "/realtime-voice.mjs", "/capture-processor.js"];
const ASSET_HEADERS = PUBLIC_BUNDLES.map(
  (path) =>
    `${path}\n  Access-Control-Allow-Origin: *\n  Cross-Origin-Resource-Policy: cross-origin\n  Timing-Allow-Origin: *\n`,
).join("");

/** Minified and gzipped (level 9) byte counts of one built file. */
export interface BuiltSize {
  bytes: number;
  gzip: number;
}

/** Builds everything into `dist/`; returns the size of each script. Rejects on a build or type error. */
export async function buildAll(options: { types?: boolean } = {}): Promise<Record<string, BuiltSize>> {
  await rm(out, { recursive: true, force: true });
  await mkdir(out, { recursive: true });
  // dist/ is also the worker's static-assets directory: the declarations are for npm, not for the site.
  await writeFile(join(out, ".assetsignore"), "types/\n");
  await writeFile(join(out, "_headers"), ASSET_HEADERS);
  await build({
    ...common,
    entryPoints: [join(root, "worklet/processor/capture-processor.ts")],
    format: "esm",
    outfile: join(out, "capture-processor.js"),
  });
  const source = await readFile(join(out, "capture-processor.js"), "utf8");
  // Injected as the first module rather than defined where `capture.ts` reads it: the client's code then stays
  // contiguous, which gzips 0.13–0.2 KB smaller than with the 23 KB string in its middle.
  const withWorklet = { ...common, inject: [WORKLET_SOURCE_MODULE], plugins: [workletSource(source)] };
  await Promise.all([
    build({
      ...withWorklet,
      entryPoints: [join(root, "worklet/embed.ts")],
      format: "iife",
      globalName: "RealtimeVoice",
      outfile: join(out, "realtime-voice.js"),
    }),
    build({
      ...withWorklet,
      entryPoints: [join(root, "worklet/index.ts")],
      format: "esm",
      outfile: join(out, "realtime-voice.mjs"),
    }),
    build({
      ...withWorklet,
      entryPoints: [join(root, "demo/demo.ts")],
      format: "esm",
      outfile: join(out, "demo.js"),
    }),
    copyFile(join(root, "demo/index.html"), join(out, "index.html")),
    copyFile(join(root, "demo/demo.css"), join(out, "demo.css")),
    options.types === false ? Promise.resolve() : declarations(),
  ]);
  const sizes: Record<string, BuiltSize> = {};
  for (const file of ["capture-processor.js", "realtime-voice.js", "realtime-voice.mjs", "demo.js"]) {
    const bytes = await readFile(join(out, file));
    sizes[file] = { bytes: bytes.length, gzip: gzipSync(bytes, { level: 9 }).length };
  }
  return sizes;
}

const WORKLET_SOURCE_MODULE = "realtime-voice:worklet-source";

/** A virtual module binding the global `__REALTIME_VOICE_WORKLET_SOURCE__` that `capture.ts` reads to `source`. */
function workletSource(source: string): Plugin {
  return {
    name: "worklet-source",
    setup(build) {
      build.onResolve({ filter: /^realtime-voice:worklet-source$/ }, ({ path }) => ({
        path,
        namespace: "virtual",
      }));
      build.onLoad({ filter: /.*/, namespace: "virtual" }, () => ({
        contents: `export const __REALTIME_VOICE_WORKLET_SOURCE__ = ${JSON.stringify(source)};`,
        loader: "js",
      }));
    },
  };
}

/** Emits `.d.ts` files for the client entry points into `dist/types` with the project's own `tsc`. */
async function declarations(): Promise<void> {
  await promisify(execFile)(
    join(root, "node_modules/.bin/tsc"),
    [
      "-p",
      join(root, "tsconfig.dom.json"),
      "--noEmit",
      "false",
      "--declaration",
      "--emitDeclarationOnly",
      "--rewriteRelativeImportExtensions",
      "--outDir",
      join(out, "types"),
    ],
    { cwd: root },
  );
  // Only the library's surface ships; `.d.ts` files must import siblings as `.js` for consumers' resolvers.
  for (const dir of ["types/demo", "types/test"]) await rm(join(out, dir), { recursive: true, force: true });
  for (const entry of await readdir(join(out, "types"), { recursive: true })) {
    if (!entry.endsWith(".d.ts")) continue;
    const file = join(out, "types", entry);
    const text = await readFile(file, "utf8");
    await writeFile(file, text.replace(/(from\s+["'](?:\.{1,2}\/)[^"']*)\.ts(["'])/g, "$1.js$2"));
  }
}

if (import.meta.main) {
  const sizes = await buildAll({ types: !process.argv.includes("--no-types") });
  for (const [file, { bytes, gzip }] of Object.entries(sizes)) {
    console.log(`${file.padEnd(24)} ${String(bytes).padStart(8)} B  ${String(gzip).padStart(7)} B gzip`);
  }
}

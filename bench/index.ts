/**
 * `npm run bench`: runs every `bench/*.bench.ts` in its own Node process, one after another, so that each
 * prints its tables without another benchmark competing for the two cores. Each benchmark measures its
 * subject side by side with a reference in the same process and prints ratios, which survive a noisy machine.
 * `npm run bench -- resampler` runs only the files whose name contains "resampler".
 */
import { spawnSync } from "node:child_process";
import { readdirSync } from "node:fs";
import { join } from "node:path";

const here = import.meta.dirname;
const filter = process.argv[2] ?? "";
const files = readdirSync(here)
  .filter((f) => f.endsWith(".bench.ts") && f.includes(filter))
  .sort();
let failed = 0;
for (const file of files) {
  console.log(`\n## ${file}\n`);
  const run = spawnSync(process.execPath, [join(here, file)], { stdio: "inherit" });
  if (run.status !== 0) failed++;
}
process.exit(failed === 0 ? 0 : 1);

/**
 * Debian's Chromium driven by playwright-core, with a fake microphone that plays one WAV file once. Never
 * downloads a browser: the tests need `/usr/bin/chromium` (installed by `test/setup/system-deps.sh`).
 */
import { existsSync } from "node:fs";
import { isAbsolute } from "node:path";
import { type Browser, chromium } from "playwright-core";

export const CHROMIUM = "/usr/bin/chromium";

/**
 * Launches headless Chromium whose fake capture device plays `wavPath` (absolute) once from the moment a page
 * opens the microphone, then silence. Chromium gives silence, not an error, for a wrong path: callers must check
 * that speech energy arrived.
 */
export async function launchWithMicrophone(wavPath: string): Promise<Browser> {
  if (!isAbsolute(wavPath) || !existsSync(wavPath))
    throw new Error(`not an existing absolute path: ${wavPath}`);
  if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: run test/setup/system-deps.sh`);
  return await chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: [
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
      "--use-fake-ui-for-media-stream",
      "--use-fake-device-for-media-stream",
      `--use-file-for-fake-audio-capture=${wavPath}%noloop`,
      "--allow-loopback-in-peer-connection",
      "--autoplay-policy=no-user-gesture-required",
    ],
  });
}

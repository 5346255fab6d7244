/**
 * Debian's Firefox ESR driven by puppeteer-core over WebDriver BiDi. Never downloads a browser: the tests need
 * `/usr/bin/firefox-esr` (installed by `test/setup/system-deps.sh`). Debian has no geckodriver, and
 * playwright-core cannot drive a stock Firefox (it sends `emulation.setMediaFeaturesOverride`, unknown to it).
 */
import { existsSync } from "node:fs";
import puppeteer, { type Browser } from "puppeteer-core";

export const FIREFOX = "/usr/bin/firefox-esr";

/**
 * Preferences for a headless Firefox that captures and calls on loopback, with no prompt:
 * - `media.navigator.permission.disabled`: `getUserMedia` is granted without a prompt (the device is real: the
 *   PulseAudio server in `env`, see `sound-server.ts`).
 * - `media.peerconnection.ice.loopback`: the local peer offers only 127.0.0.1 host candidates, which Firefox
 *   otherwise never pairs.
 * - `media.peerconnection.ice.obfuscate_host_addresses` off: the peer cannot resolve mDNS `.local` names; with
 *   them, a call without an active `getUserMedia` grant fails about 5 s in.
 */
export const FIREFOX_PREFS: Record<string, unknown> = {
  "media.navigator.permission.disabled": true,
  "media.peerconnection.ice.loopback": true,
  "media.peerconnection.ice.obfuscate_host_addresses": false,
  // Quieter and faster start on a machine with no network: no updates, telemetry or first-run pages.
  "app.update.enabled": false,
  "datareporting.policy.dataSubmissionEnabled": false,
  "toolkit.telemetry.enabled": false,
  "browser.shell.checkDefaultBrowser": false,
};

/**
 * Launches headless Firefox ESR with {@link FIREFOX_PREFS} and `prefs`. `env` is added to the browser's
 * environment: pass a sound server's (`SoundServer.env`) or `noSoundServerEnv()`. Firefox's own fake microphone
 * (`media.navigator.streams.fake`) is a tone, not speech, so it stays off.
 */
export async function launchFirefox(
  env: Record<string, string>,
  prefs: Record<string, unknown> = {},
): Promise<Browser> {
  if (!existsSync(FIREFOX)) throw new Error(`${FIREFOX} is missing: run test/setup/system-deps.sh`);
  return await puppeteer.launch({
    browser: "firefox",
    executablePath: FIREFOX,
    headless: true,
    env: { ...process.env, ...env },
    extraPrefsFirefox: { ...FIREFOX_PREFS, ...prefs },
  });
}

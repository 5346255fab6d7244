/**
 * One session on the demo page in Firefox (puppeteer-core): open the page with the probe installed, press the
 * button, wait for `connected`, play a WAV into the sound server's virtual microphone (the real `getUserMedia`
 * path), keep listening for `tailS` while the model's voice plays, press the button again, and return what the
 * page observed with the probe's timings, the voice element's playback and the speaker's recording.
 */
import type { Browser } from "puppeteer-core";
import type { DemoResult } from "../demo-run.ts";
import {
  AUDIO_PROBE,
  type AudioPlayback,
  INBOUND_PROBE,
  type InboundAudio,
  PROBE_SCRIPT,
  type ProbeState,
  TIMING_PROBE,
} from "../page-probe.ts";
import type { SoundServer } from "../sound-server.ts";

export interface FirefoxDemoOptions {
  /** Demo URL including its query string. */
  url: string;
  /** The WAV played into the microphone once the session is connected. */
  wavPath: string;
  /** Seconds to keep the session open after the WAV ended (the last answer plays then). */
  tailS: number;
}

export interface FirefoxDemoResult extends DemoResult {
  /** The voice elements' playback twice, `tailS / 2` apart, while the call was up. */
  playback: [AudioPlayback[], AudioPlayback[]];
  inbound: InboundAudio | null;
  /** What the browser played into the sound server's speaker during the session, at its rate. */
  speaker: Float32Array;
}

// Page functions are strings or closures over nothing: they run in the page, which has the DOM types.
const LAST_STATE = "(window.realtimeVoiceDemo.states.at(-1) ?? '')";

export async function runFirefoxDemo(
  browser: Browser,
  sound: SoundServer,
  options: FirefoxDemoOptions,
): Promise<FirefoxDemoResult> {
  const page = await browser.newPage();
  const pageErrors: string[] = [];
  page.on("pageerror", (error) => pageErrors.push(String(error)));
  page.on("console", (message) => {
    if (message.type() === "error") pageErrors.push(message.text());
  });
  const speaker = sound.record();
  try {
    await page.evaluateOnNewDocument(PROBE_SCRIPT);
    await page.goto(options.url);
    await page.click("#toggle");
    await page.waitForFunction(`["connected", "failed"].includes(${LAST_STATE})`, { timeout: 20_000 });
    const failed = await page.evaluate(`${LAST_STATE} === "failed" ? window.realtimeVoiceDemo.errors : null`);
    if (failed) throw new Error(`the session failed: ${JSON.stringify(failed)}`);
    await sound.play(options.wavPath);
    await new Promise((resolve) => setTimeout(resolve, (options.tailS * 1000) / 2));
    const first = (await page.evaluate(AUDIO_PROBE)) as AudioPlayback[];
    await new Promise((resolve) => setTimeout(resolve, (options.tailS * 1000) / 2));
    const second = (await page.evaluate(AUDIO_PROBE)) as AudioPlayback[];
    const inbound = (await page.evaluate(INBOUND_PROBE)) as InboundAudio | null;
    await page.click("#toggle");
    await page.waitForFunction(`${LAST_STATE} === "closed"`, { timeout: 10_000 });
    const result = (await page.evaluate(`(() => {
      const { session, ...rest } = window.realtimeVoiceDemo;
      return { ...rest, stats: session && session.stats };
    })()`)) as Omit<DemoResult, "pageErrors" | "timing">;
    if (!result.stats) throw new Error("the page had no session");
    const timing = (await page.evaluate(TIMING_PROBE)) as ProbeState;
    return {
      ...result,
      pageErrors,
      timing,
      playback: [first, second],
      inbound,
      speaker: await speaker.stop(),
    };
  } finally {
    await speaker.stop();
    await page.close();
  }
}

/**
 * One session on the demo page in real Chromium: open the page, press the button, let the fake microphone play,
 * optionally take a screenshot, press the button again, and return what the page observed.
 */
import type { Browser, Page } from "playwright-core";
import type { DemoLog } from "../../demo/demo-log.ts";
import type { FrameStats, SessionStats } from "../../worklet/client/types.ts";
import { PROBE_SCRIPT, type ProbeState, TIMING_PROBE } from "./page-probe.ts";

/** A frame as the page's `frame` event reported it. */
export type PageFrame = FrameStats;

/** `window.realtimeVoiceDemo` of `demo/demo.ts`, as far as the tests read it (this tsconfig has no DOM types). */
interface DemoGlobal {
  realtimeVoiceDemo: Omit<DemoResult, "stats" | "pageErrors" | "timing"> & {
    session: { state: { status: string }; stats: DemoResult["stats"] } | null;
  };
}

/** What the page observed during one session (`demo/demo-log.ts`), plus the session's final counters. */
export interface DemoResult extends DemoLog {
  stats: SessionStats;
  pageErrors: string[];
  /** The page probe's timings (`page-probe.ts`): click, ICE, DTLS, channel open, capture, connected. */
  timing: ProbeState;
}

export interface DemoRunOptions {
  /** Demo URL including its query string. */
  url: string;
  /** How much audio to capture before stopping, in seconds from the start of capture. */
  seconds: number;
  /** Called on the new page before it loads (for example `page.addInitScript`). */
  init?: (page: Page) => Promise<void>;
  /** Called while streaming, just before stopping (for example to take a screenshot). */
  beforeStop?: (page: Page) => Promise<void>;
  /** Called once `afterS` seconds of audio were captured (for example to break the connection). */
  during?: { afterS: number; action: (page: Page) => Promise<void> };
}

// Functions passed to page.evaluate/waitForFunction run in the page: they may not call helpers of this module.
export async function runDemo(browser: Browser, options: DemoRunOptions): Promise<DemoResult> {
  const page = await browser.newPage({ viewport: { width: 1200, height: 1000 } });
  const pageErrors: string[] = [];
  page.on("pageerror", (error) => pageErrors.push(String(error)));
  page.on("console", (message) => {
    if (message.type() === "error") pageErrors.push(message.text());
  });
  try {
    await page.addInitScript(PROBE_SCRIPT);
    await options.init?.(page);
    await page.goto(options.url);
    await page.click("#toggle");
    await page.waitForFunction(
      () =>
        ["connected", "failed"].includes(
          (globalThis as unknown as DemoGlobal).realtimeVoiceDemo.states.at(-1) ?? "",
        ),
      null,
      {
        timeout: 20_000,
      },
    );
    const failure = await page.evaluate(() =>
      (globalThis as unknown as DemoGlobal).realtimeVoiceDemo.session?.state.status === "failed"
        ? (globalThis as unknown as DemoGlobal).realtimeVoiceDemo.errors
        : null,
    );
    if (failure) throw new Error(`the session failed: ${JSON.stringify(failure)}`);
    // Time is counted in captured audio, not wall time: the fake microphone starts playing at getUserMedia,
    // and a slow connection must not cut the end of the file off.
    const captured = async (seconds: number) =>
      await page.waitForFunction(
        (s) => {
          const frames = (globalThis as unknown as DemoGlobal).realtimeVoiceDemo.frames;
          const last = frames.at(-1);
          return last !== undefined && (last.timestamp + last.bytes / 2) / 24_000 >= s;
        },
        seconds,
        { timeout: (seconds + 20) * 1000 },
      );
    if (options.during) {
      await captured(options.during.afterS);
      await options.during.action(page);
    }
    await captured(options.seconds);
    await options.beforeStop?.(page);
    await page.click("#toggle");
    await page.waitForFunction(
      () => (globalThis as unknown as DemoGlobal).realtimeVoiceDemo.states.at(-1) === "closed",
      null,
      { timeout: 10_000 },
    );
    const result = await page.evaluate(() => {
      const { session, ...rest } = (globalThis as unknown as DemoGlobal).realtimeVoiceDemo;
      return { ...rest, stats: session?.stats };
    });
    if (!result.stats) throw new Error("the page had no session");
    const timing = (await page.evaluate(TIMING_PROBE)) as ProbeState;
    return { ...result, stats: result.stats, pageErrors, timing };
  } finally {
    await page.close();
  }
}

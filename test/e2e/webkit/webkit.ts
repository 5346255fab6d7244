/**
 * WebKitGTK's MiniBrowser driven over W3C WebDriver (`WebKitWebDriver`, Debian `webkit2gtk-driver`) under a
 * private Xvfb display, with plain `fetch` to the WebDriver HTTP API: the driver speaks no BiDi, and the commands
 * the tests need are four (new session, navigate, execute async script, delete session).
 *
 * Debian builds WebKitGTK without WebRTC (`RTCPeerConnection` is undefined even with `--enable-webrtc=true`), so
 * WebKit runs the capture half of the project only. It is not Safari either: Safari captures through CoreAudio
 * and has libwebrtc.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { existsSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { freePort } from "../../../demo/start.ts";

/** Debian ships MiniBrowser in the library directory of `libwebkit2gtk-4.1-0` (one per multiarch triplet). */
export function miniBrowserPath(): string {
  for (const triplet of existsSync("/usr/lib") ? readdirSync("/usr/lib") : []) {
    const path = join("/usr/lib", triplet, "webkit2gtk-4.1/MiniBrowser");
    if (existsSync(path)) return path;
  }
  throw new Error("MiniBrowser is missing (libwebkit2gtk-4.1-0): run test/setup/system-deps.sh");
}

export interface WebKitSession {
  /** WebKitGTK's version as the driver reports it (`browserVersion`). */
  version: string;
  navigate(url: string): Promise<void>;
  /**
   * Runs `body` (source text of an async function body with `args` in scope) in the page and returns its
   * JSON-serialisable result. A rejection becomes an Error here with the page's message.
   */
  run<T>(body: string, ...args: unknown[]): Promise<T>;
  close(): Promise<void>;
}

function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  child.kill("SIGTERM");
  const timer = setTimeout(() => child.kill("SIGKILL"), 5000);
  return exited.then(() => clearTimeout(timer));
}

/** Starts Xvfb on a display it picks itself (`-displayfd`) and resolves with that display's name. */
async function startXvfb(): Promise<{ child: ChildProcess; display: string }> {
  const child = spawn("Xvfb", ["-displayfd", "3", "-screen", "0", "1024x768x24", "-nolisten", "tcp"], {
    stdio: ["ignore", "ignore", "ignore", "pipe"],
  });
  const display = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error("Xvfb printed no display within 10 s")), 10_000);
    child.once("error", reject);
    child.once("exit", (code) => reject(new Error(`Xvfb exited with ${code}`)));
    (child.stdio[3] as NodeJS.ReadableStream).on("data", (chunk: Buffer) => {
      clearTimeout(timer);
      resolve(`:${chunk.toString().trim()}`);
    });
  });
  return { child, display };
}

/**
 * Starts Xvfb, `WebKitWebDriver` and one MiniBrowser session. `env` is added to the browser's environment (a
 * sound server's). `close()` ends the session and stops both processes by their ids.
 */
export async function launchWebKit(
  env: Record<string, string>,
  browserArgs: string[] = [],
): Promise<WebKitSession> {
  const xvfb = await startXvfb();
  const port = await freePort();
  const driver = spawn("WebKitWebDriver", [`--port=${port}`], {
    env: { ...process.env, ...env, DISPLAY: xvfb.display },
    stdio: "ignore",
  });
  const base = `http://127.0.0.1:${port}`;
  const call = async <T>(method: string, path: string, body?: unknown): Promise<T> => {
    const response = await fetch(`${base}${path}`, {
      method,
      headers: { "content-type": "application/json" },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const json = (await response.json()) as { value: T & { error?: string; message?: string } };
    if (!response.ok)
      throw new Error(`WebDriver ${method} ${path}: ${json.value.error}: ${json.value.message}`);
    return json.value;
  };
  const stopAll = async () => {
    await stopChild(driver);
    await stopChild(xvfb.child);
  };
  try {
    for (let i = 0; ; i++) {
      try {
        if ((await call<{ ready: boolean }>("GET", "/status")).ready) break;
      } catch (error) {
        if (i > 100) throw error;
      }
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    const created = await call<{ sessionId: string; capabilities: { browserVersion: string } }>(
      "POST",
      "/session",
      {
        capabilities: {
          alwaysMatch: {
            browserName: "MiniBrowser",
            timeouts: { script: 120_000, pageLoad: 30_000 },
            "webkitgtk:browserOptions": {
              binary: miniBrowserPath(),
              args: ["--automation", "--autoplay-policy=allow", ...browserArgs],
            },
          },
        },
      },
    );
    const session = `/session/${created.sessionId}`;
    return {
      version: created.capabilities.browserVersion,
      async navigate(url) {
        await call("POST", `${session}/url`, { url });
      },
      async run<T>(body: string, ...args: unknown[]) {
        // The last argument of an async script is its callback; errors come back as {error} and rethrow here.
        const script = `const done = arguments[arguments.length - 1];
          const args = Array.prototype.slice.call(arguments, 0, -1);
          (async () => { ${body} })().then((value) => done({ value }), (error) => done({ error: String(error && error.stack || error) }));`;
        const result = await call<{ value?: T; error?: string }>("POST", `${session}/execute/async`, {
          script,
          args,
        });
        if (result.error !== undefined) throw new Error(`in WebKit: ${result.error}`);
        return result.value as T;
      },
      async close() {
        try {
          await call("DELETE", session);
        } finally {
          await stopAll();
        }
      },
    };
  } catch (error) {
    await stopAll();
    throw error;
  }
}

import { spawn } from "node:child_process";
import { mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { expect, it } from "vitest";
import { RealtimeOfferer, toBase64 } from "./realtime-offerer.ts";

const MAIN = join(import.meta.dirname, "../../demo/local-peer/main.ts");

it("prints its URL as one JSON line, serves, and on SIGTERM ends live calls with their recordings", async () => {
  const recordings = mkdtempSync(join(tmpdir(), "peer-cli-"));
  const child = spawn(
    process.execPath,
    [MAIN, "--port", "0", "--recordings", recordings, "--api-key", "sk-cli"],
    {
      stdio: ["ignore", "pipe", "inherit"],
    },
  );
  try {
    const line = await new Promise<string>((resolve, reject) => {
      createInterface({ input: child.stdout }).once("line", resolve);
      child.once("exit", (code) => reject(new Error(`exited with ${code}`)));
    });
    const printed = JSON.parse(line) as {
      url: string;
      base_url: string;
      api_key: string;
      recordings: string;
    };
    expect(printed).toEqual({
      url: expect.stringMatching(/^http:\/\/127\.0\.0\.1:\d+$/),
      base_url: `${printed.url}/v1`,
      api_key: "sk-cli",
      recordings,
    });
    expect((await fetch(`${printed.url}/health`)).status).toBe(200);

    const offerer = new RealtimeOfferer();
    const response = await fetch(`${printed.base_url}/realtime/calls`, {
      method: "POST",
      body: await offerer.offer(),
      headers: { authorization: "Bearer sk-cli", "content-type": "application/sdp" },
    });
    expect(response.status).toBe(201);
    await offerer.connect(await response.text());
    await offerer.next("session.created");
    offerer.send({ type: "input_audio_buffer.append", audio: toBase64(new Int16Array(2400)) });
    await new Promise((resolve) => setTimeout(resolve, 100));
    const exited = new Promise<number | null>((resolve) => child.once("exit", resolve));
    child.kill("SIGTERM");
    expect(await exited).toBe(0);
    offerer.close();
    expect(readdirSync(recordings)).toEqual([expect.stringMatching(/^rtc_[A-Za-z0-9]+\.wav$/)]);
  } finally {
    child.kill("SIGKILL");
    rmSync(recordings, { recursive: true, force: true });
  }
});

it("refuses a bad --port", async () => {
  const child = spawn(process.execPath, [MAIN, "--port", "http"], { stdio: "ignore" });
  expect(await new Promise((resolve) => child.once("exit", resolve))).toBe(2);
});

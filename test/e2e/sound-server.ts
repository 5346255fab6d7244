/**
 * A private PulseAudio sound server for one test file: its own runtime directory and socket, a speaker and a
 * virtual microphone (the two channels of one null sink, remapped into an ordinary sink and source) that `play()`
 * feeds with a WAV through `paplay`. Browsers started with {@link SoundServer.env} capture that WAV
 * through their real `getUserMedia` path and play into the speaker, whose monitor `record()` captures.
 *
 * Why: Firefox without a sound server keeps every `AudioContext` suspended (no `/dev/snd` here), and its own
 * fake device (`media.navigator.streams.fake`) is only a tone. Needs Debian's `pulseaudio` and
 * `pulseaudio-utils` (installed by `test/setup/system-deps.sh`).
 */
import { type ChildProcess, execFile, spawn } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";

const run = promisify(execFile);

/** Device names inside the server. */
export const SPEAKER = "speaker";
export const MICROPHONE = "microphone";
const MICROPHONE_FEED = "microphone_feed";
const HUB = "hub";

export interface SoundServerOptions {
  /** Rate of the speaker and the microphone in Hz (browsers run their `AudioContext` at the speaker's). Default 48000. */
  sampleRate?: number;
}

export interface SoundServer {
  /** Variables that point a client (browser, `paplay`) at this server and nowhere else. */
  env: Record<string, string>;
  sampleRate: number;
  /** Plays `wavPath` into the virtual microphone; resolves when `paplay` finished (real time). */
  play(wavPath: string): Promise<void>;
  /**
   * Starts recording the speaker's monitor (what browsers play) as 16-bit mono at the server's rate; `stop()`
   * ends it and returns the samples in [−1, 1].
   */
  record(): { stop(): Promise<Float32Array> };
  stop(): Promise<void>;
}

/** A client configuration that never autospawns a user daemon: a missing server must stay missing. */
function clientConfig(dir: string): string {
  const path = join(dir, "client.conf");
  writeFileSync(path, "autospawn = no\n");
  return path;
}

/**
 * The environment of a client with no sound server at all: `PULSE_SERVER` names a socket that does not exist and
 * autospawn is off, so the browser finds neither this machine's nor a user's daemon.
 */
export function noSoundServerEnv(dir: string): Record<string, string> {
  return { PULSE_SERVER: `unix:${join(dir, "no-such-socket")}`, PULSE_CLIENTCONFIG: clientConfig(dir) };
}

async function waitForServer(env: NodeJS.ProcessEnv, daemon: ChildProcess, log: () => string): Promise<void> {
  const deadline = Date.now() + 15_000;
  while (Date.now() < deadline) {
    if (daemon.exitCode !== null) throw new Error(`pulseaudio exited with ${daemon.exitCode}: ${log()}`);
    try {
      await run("pactl", ["info"], { env, timeout: 2000 });
      return;
    } catch {
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
  throw new Error(`pulseaudio did not answer within 15 s: ${log()}`);
}

/** Starts the daemon and waits until it answers; `stop()` ends it by its process id and removes its directory. */
export async function startSoundServer(options: SoundServerOptions = {}): Promise<SoundServer> {
  const sampleRate = options.sampleRate ?? 48_000;
  const dir = mkdtempSync(join(tmpdir(), "rve-pulse-"));
  const socket = join(dir, "native");
  const env: Record<string, string> = {
    PULSE_SERVER: `unix:${socket}`,
    PULSE_CLIENTCONFIG: clientConfig(dir),
  };
  const clientEnv = { ...process.env, ...env };
  let output = "";
  const daemon = spawn(
    "pulseaudio",
    [
      "--daemonize=no",
      "--exit-idle-time=-1",
      // No default.pa: only the modules below, and no state restored from or saved to the user's home.
      "-n",
      "--disallow-exit",
      "--log-target=stderr",
      "--log-level=error",
      `--load=module-native-protocol-unix socket=${socket} auth-anonymous=1`,
      // One clock for both directions: the speaker and the microphone are the two channels of one null sink.
      // With two null sinks (two timers) Firefox's drift correction between its input and its graph kept
      // resampling under load (a delay that wandered by tens of samples per second: ~30 dB instead of ~50).
      `--load=module-null-sink sink_name=${HUB} rate=${sampleRate} channels=2 channel_map=front-left,front-right`,
      `--load=module-remap-sink sink_name=${SPEAKER} master=${HUB} channels=1 master_channel_map=front-left channel_map=mono remix=no`,
      `--load=module-remap-sink sink_name=${MICROPHONE_FEED} master=${HUB} channels=1 master_channel_map=front-right channel_map=mono remix=no`,
      // A monitor is not offered as a microphone by every browser; the remapped source is an ordinary one.
      `--load=module-remap-source source_name=${MICROPHONE} master=${HUB}.monitor channels=1 master_channel_map=front-right channel_map=mono remix=no`,
    ],
    {
      // Its runtime and state directories are this server's own, so nothing is shared with other test files.
      env: { ...process.env, HOME: dir, XDG_RUNTIME_DIR: dir, XDG_CONFIG_HOME: dir, XDG_STATE_HOME: dir },
      stdio: ["ignore", "ignore", "pipe"],
    },
  );
  daemon.stderr?.on("data", (chunk: Buffer) => {
    output = (output + chunk.toString()).slice(-4000);
  });
  const stop = async () => {
    if (daemon.exitCode === null && daemon.signalCode === null) {
      const exited = new Promise<void>((resolve) => daemon.once("exit", () => resolve()));
      daemon.kill("SIGTERM");
      const timer = setTimeout(() => daemon.kill("SIGKILL"), 5000);
      await exited;
      clearTimeout(timer);
    }
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    await waitForServer(clientEnv, daemon, () => output);
    await run("pactl", ["set-default-sink", SPEAKER], { env: clientEnv });
    await run("pactl", ["set-default-source", MICROPHONE], { env: clientEnv });
  } catch (error) {
    await stop();
    throw error;
  }
  return {
    env,
    sampleRate,
    async play(wavPath: string) {
      await run("paplay", [`--device=${MICROPHONE_FEED}`, wavPath], { env: clientEnv, timeout: 120_000 });
    },
    record() {
      const parec = spawn(
        "parec",
        [`--device=${SPEAKER}.monitor`, "--format=s16le", "--channels=1", `--rate=${sampleRate}`, "--raw"],
        { env: clientEnv, stdio: ["ignore", "pipe", "ignore"] },
      );
      const chunks: Buffer[] = [];
      parec.stdout?.on("data", (chunk: Buffer) => chunks.push(chunk));
      return {
        async stop() {
          if (parec.exitCode === null && parec.signalCode === null) {
            const exited = new Promise<void>((resolve) => parec.once("exit", () => resolve()));
            parec.kill("SIGTERM");
            await exited;
          }
          const bytes = Buffer.concat(chunks);
          const pcm = new Int16Array(bytes.buffer, bytes.byteOffset, Math.floor(bytes.length / 2));
          return Float32Array.from(pcm, (v) => v / 32768);
        },
      };
    },
    stop,
  };
}

/**
 * What the browser tests observe inside a page without changing what it does, installed before the page's own
 * scripts (`addInitScript` / `evaluateOnNewDocument`): when the user clicked, when the session reported
 * `connected` (the data channel is open then), and the `<audio>` elements the client created for the model's
 * voice (its default output is a detached element the page cannot otherwise reach), and every
 * `RTCPeerConnection` it opened (for `getStats`).
 */

/** One line for the test logs: the total and its parts. */
export function formatConnectTimes(times: ReturnType<typeof connectTimes>): string {
  if (!times) return "never connected";
  const ms = (value: number) => (Number.isNaN(value) ? "n/a" : `${value.toFixed(0)} ms`);
  return (
    `click → connected ${ms(times.total)} (capture and offer ${ms(times.untilOffer)}, ICE ${ms(times.ice)}, ` +
    `DTLS ${ms(times.dtls)}, SCTP and channel ${ms(times.channel)}, then waiting for capture ` +
    `${ms(times.captureWait)}; capture: AudioContext running ${ms(times.audioRunning)}, worklet module ` +
    `${ms(times.workletReady)} after the click)`
  );
}

/** `window.__rvProbe` as the tests read it back. */
export interface ProbeState {
  /** `performance.now()` of the first click, in ms. */
  clickAt: number | null;
  /** `performance.now()` of the first `connected` state after it, in ms (channel open and capture running). */
  connectedAt: number | null;
  /** When the first `AudioContext` reached `running`, in ms (Firefox starts its audio driver then). */
  audioRunningAt: number | null;
  /** When the first `AudioWorklet.addModule` resolved, in ms. */
  workletReadyAt: number | null;
  /**
   * Per `RTCPeerConnection`, in ms of `performance.now()`: created (the offer follows), ICE `connected` (a
   * candidate pair works), `connectionState` `connected` (DTLS done; the data channel opens after SCTP), and the
   * first data channel's `open`.
   */
  calls: Array<{
    createdAt: number;
    iceConnectedAt: number | null;
    connectedAt: number | null;
    channelOpenAt: number | null;
  }>;
}

/**
 * The connect time and its parts, in ms, from {@link ProbeState}: null when the session never connected. The
 * session reports `connected` once the data channel is open and capture runs, so `captureWait` is the time the
 * open channel waited for capture (`getUserMedia`, the `AudioContext` and the worklet module), and
 * `audioRunning`/`workletReady` are those capture steps' times after the click. NaN for a step not seen; `channel`
 * may be slightly negative in Chromium, which can fire the channel's `open` before `connectionstatechange`.
 */
export function connectTimes(state: ProbeState): {
  total: number;
  untilOffer: number;
  ice: number;
  dtls: number;
  channel: number;
  captureWait: number;
  audioRunning: number;
  workletReady: number;
} | null {
  const call = state.calls[0];
  if (state.clickAt === null || state.connectedAt === null || !call) return null;
  const ice = call.iceConnectedAt ?? Number.NaN;
  const dtls = call.connectedAt ?? Number.NaN;
  const open = call.channelOpenAt ?? Number.NaN;
  return {
    total: state.connectedAt - state.clickAt,
    untilOffer: call.createdAt - state.clickAt,
    ice: ice - call.createdAt,
    dtls: dtls - ice,
    channel: open - dtls,
    captureWait: state.connectedAt - open,
    audioRunning: (state.audioRunningAt ?? Number.NaN) - state.clickAt,
    workletReady: (state.workletReadyAt ?? Number.NaN) - state.clickAt,
  };
}

/** The voice element's playback, read by {@link AUDIO_PROBE}. */
export interface AudioPlayback {
  currentTime: number;
  paused: boolean;
  muted: boolean;
  /** The element plays a `MediaStream` (the call's remote audio track). */
  stream: boolean;
  /** Live audio tracks in that stream. */
  liveTracks: number;
}

/**
 * The init script, as source text (this tsconfig has no DOM types). Both the demo page (`realtimeVoiceDemo`) and
 * the script tag's button (`realtime-voice:state` DOM events) report their state here.
 */
export const PROBE_SCRIPT = `(() => {
  const probe = { clickAt: null, connectedAt: null, audioRunningAt: null, workletReadyAt: null, audios: [], peerConnections: [], calls: [], errors: [] };
  Object.defineProperty(window, "__rvProbe", { value: probe });
  const connected = () => {
    if (probe.clickAt !== null && probe.connectedAt === null) probe.connectedAt = performance.now();
  };
  addEventListener("click", () => {
    if (probe.clickAt !== null) return;
    probe.clickAt = performance.now();
    // After the page's own click handler ran and created the session.
    setTimeout(() => {
      const session = window.realtimeVoiceDemo && window.realtimeVoiceDemo.session;
      if (session) session.on("state", (state) => state.status === "connected" && connected());
    }, 0);
  }, true);
  addEventListener("realtime-voice:error", (event) => event.detail && probe.errors.push({ code: event.detail.code, message: event.detail.message }), true);
  addEventListener("realtime-voice:state", (event) => event.detail && event.detail.status === "connected" && connected(), true);
  const Native = window.RTCPeerConnection;
  if (Native) {
    window.RTCPeerConnection = class extends Native {
      constructor(...args) {
        super(...args);
        probe.peerConnections.push(this);
        const marks = { createdAt: performance.now(), iceConnectedAt: null, connectedAt: null, channelOpenAt: null };
        this.__rvMarks = marks;
        probe.calls.push(marks);
        this.addEventListener("iceconnectionstatechange", () => {
          if (this.iceConnectionState === "connected" && marks.iceConnectedAt === null) marks.iceConnectedAt = performance.now();
        });
        this.addEventListener("connectionstatechange", () => {
          if (this.connectionState === "connected" && marks.connectedAt === null) marks.connectedAt = performance.now();
        });
      }
      createDataChannel(...args) {
        const channel = super.createDataChannel(...args);
        const marks = this.__rvMarks;
        channel.addEventListener("open", () => {
          if (marks.channelOpenAt === null) marks.channelOpenAt = performance.now();
        });
        return channel;
      }
    };
  }
  const Context = window.AudioContext;
  if (Context) {
    window.AudioContext = class extends Context {
      constructor(...args) {
        super(...args);
        const running = () => {
          if (this.state === "running" && probe.audioRunningAt === null) probe.audioRunningAt = performance.now();
        };
        running();
        this.addEventListener("statechange", running);
      }
    };
  }
  const Worklet = window.AudioWorklet;
  if (Worklet) {
    const addModule = Worklet.prototype.addModule;
    Worklet.prototype.addModule = function (...args) {
      return addModule.apply(this, args).then((result) => {
        if (probe.workletReadyAt === null) probe.workletReadyAt = performance.now();
        return result;
      });
    };
  }
  const createElement = Document.prototype.createElement;
  Document.prototype.createElement = function (name, ...rest) {
    const element = createElement.call(this, name, ...rest);
    if (String(name).toLowerCase() === "audio") probe.audios.push(element);
    return element;
  };
})();`;

/** `realtime-voice:error` events the script tag's button fired: `[{code, message}]` (evaluated in the page). */
export const ERRORS_PROBE = "window.__rvProbe.errors.slice()";

/** Reads the probe's timing (evaluated in the page). */
export const TIMING_PROBE = `(() => {
  const p = window.__rvProbe;
  return {
    clickAt: p.clickAt,
    connectedAt: p.connectedAt,
    audioRunningAt: p.audioRunningAt,
    workletReadyAt: p.workletReadyAt,
    calls: p.calls.map((call) => ({ ...call })),
  };
})()`;

/** The playback of every `<audio>` the page created (evaluated in the page). */
export const AUDIO_PROBE = `window.__rvProbe.audios.map((a) => ({
  currentTime: a.currentTime,
  paused: a.paused,
  muted: a.muted,
  stream: typeof MediaStream !== "undefined" && a.srcObject instanceof MediaStream,
  liveTracks: a.srcObject ? a.srcObject.getAudioTracks().filter((t) => t.readyState === "live").length : 0,
}))`;

/** What the last peer connection received on its audio track (`inbound-rtp` of `getStats`), or null. */
export interface InboundAudio {
  packetsReceived: number;
  bytesReceived: number;
}

/** Reads {@link InboundAudio} of the page's last `RTCPeerConnection` (evaluated in the page; a promise). */
export const INBOUND_PROBE = `(async () => {
  const pc = window.__rvProbe.peerConnections.at(-1);
  if (!pc) return null;
  let found = null;
  (await pc.getStats()).forEach((report) => {
    if (report.type === "inbound-rtp" && report.kind === "audio")
      found = { packetsReceived: report.packetsReceived, bytesReceived: report.bytesReceived };
  });
  return found;
})()`;

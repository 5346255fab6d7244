/**
 * Runs in Chromium (see `chromium-interop.test.ts`, which injects this file as a classic script): one call to the
 * local peer from the page's own origin, with the fake microphone on a send-receive audio transceiver.
 */

/** What the page reports back to the test. */
interface InteropResult {
  callId: string;
  openMs: number;
  events: string[];
  levels: number[];
}

/** Starts a call with server key `key`, asks for a spoken response, and measures the voice's level (dBFS, every 50 ms). */
// biome-ignore lint/correctness/noUnusedVariables: called by the test through page.evaluate
async function interopCall(key: string): Promise<InteropResult> {
  const stream = await navigator.mediaDevices.getUserMedia({
    audio: { echoCancellation: false, noiseSuppression: false, autoGainControl: false },
  });
  const pc = new RTCPeerConnection();
  pc.addTransceiver(stream.getAudioTracks()[0] as MediaStreamTrack, { direction: "sendrecv" });
  const channel = pc.createDataChannel("oai-events");
  const events: string[] = [];
  channel.onmessage = (e) => events.push(JSON.parse(e.data).type);
  const remote = new Promise<MediaStreamTrack>((resolve) => {
    pc.ontrack = (e) => resolve(e.track);
  });
  await pc.setLocalDescription(await pc.createOffer());
  const form = new FormData();
  form.set("sdp", pc.localDescription?.sdp ?? "");
  form.set("session", JSON.stringify({ type: "realtime", audio: { input: { turn_detection: null } } }));
  const response = await fetch("/v1/realtime/calls", {
    method: "POST",
    body: form,
    headers: { authorization: `Bearer ${key}` },
  });
  const callId = (response.headers.get("location") ?? "").split("/").pop() ?? "";
  const started = performance.now();
  await pc.setRemoteDescription({ type: "answer", sdp: await response.text() });
  await new Promise((resolve) => {
    channel.onopen = resolve;
  });
  const openMs = performance.now() - started;
  // Chromium feeds remote WebRTC audio to Web Audio only while an element renders the track.
  const track = await remote;
  const element = new Audio();
  element.muted = true;
  element.srcObject = new MediaStream([track]);
  void element.play();
  const context = new AudioContext();
  const analyser = context.createAnalyser();
  analyser.fftSize = 2048;
  context.createMediaStreamSource(new MediaStream([track])).connect(analyser);
  // 1 s of a 440 Hz tone at −15.3 dBFS RMS, committed and answered: the peer replays it as its voice.
  const pcm = new Int16Array(24_000);
  for (let i = 0; i < pcm.length; i++) pcm[i] = Math.round(8000 * Math.sin((2 * Math.PI * 440 * i) / 24_000));
  const bytes = new Uint8Array(pcm.buffer);
  let binary = "";
  for (const byte of bytes) binary += String.fromCharCode(byte);
  for (let i = 0; i < binary.length; i += 9600)
    channel.send(
      JSON.stringify({ type: "input_audio_buffer.append", audio: btoa(binary.slice(i, i + 9600)) }),
    );
  channel.send(JSON.stringify({ type: "input_audio_buffer.commit" }));
  channel.send(JSON.stringify({ type: "response.create" }));
  const levels: number[] = [];
  const buffer = new Float32Array(2048);
  while (!events.includes("response.done") || levels.length < 5) {
    await new Promise((resolve) => setTimeout(resolve, 50));
    analyser.getFloatTimeDomainData(buffer);
    levels.push(10 * Math.log10(buffer.reduce((sum, s) => sum + s * s, 0) / buffer.length + 1e-12));
    if (levels.length > 100) break;
  }
  // Let the microphone run a while longer so its speech reaches the peer's track recording.
  await new Promise((resolve) => setTimeout(resolve, 3000));
  pc.close();
  return { callId, openMs, events, levels };
}

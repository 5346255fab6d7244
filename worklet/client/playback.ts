/**
 * The model's voice: the call's remote WebRTC stream played by an `<audio>` element, never routed through Web
 * Audio. Chromium applies echo cancellation only to audio it plays through media elements of the call, not to a
 * WebRTC stream rendered by an AudioContext (crbug.com/687574), so this keeps the model from hearing itself.
 */
export class Playback {
  #element: HTMLAudioElement | null = null;
  #option: HTMLAudioElement | false | undefined;

  /** `option`: the application's element, `false` (play nothing) or undefined (a detached `<audio autoplay>`). */
  constructor(option: HTMLAudioElement | false | undefined) {
    this.#option = option;
  }

  play(stream: MediaStream): void {
    if (this.#option === false) return;
    this.#element ??= this.#option ?? document.createElement("audio");
    this.#element.autoplay = true;
    this.#element.srcObject = stream;
    void this.#element.play().catch(() => {});
  }

  /** Barge-in mutes at once (the server's `output_audio_buffer.clear` takes a round trip); a new utterance unmutes. */
  mute(muted: boolean): void {
    if (this.#element) this.#element.muted = muted;
  }

  dispose(): void {
    const element = this.#element;
    if (!element) return;
    element.pause();
    element.srcObject = null;
    if (!this.#option) element.remove();
  }
}

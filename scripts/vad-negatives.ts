/**
 * Synthetic non-speech for training the VAD (`scripts/train-vad.ts`): tones, bells, chords, buzzers, chirps,
 * warbles, clicks, noise bursts, and patterned sounds that change at a syllable-like rate but hold fixed partials
 * within each piece. Generated here from a seed, never from the freedesktop event sounds, which stay a held-out
 * test of false alarms. Everything is mono Float32Array at {@link RATE} Hz.
 */
import { random } from "../test/fixtures/speech-corpus.ts";

/** Sample rate of the generated audio, in Hz (the VAD's training rate). */
export const RATE = 24000;

/** Synthetic non-speech events (tones, bells, chirps, warbles, clicks) over a faint noise floor. */
export function syntheticEvents(seconds: number, seed: number): Float32Array {
  const rand = random(seed);
  const out = new Float32Array(seconds * RATE);
  for (let i = 0; i < out.length; i++)
    out[i] = (rand() * 2 - 1) * 10 ** ((-62 + 10 * Math.sin(i / 96000)) / 20);
  let at = RATE;
  while (at < out.length - RATE) {
    const kind = Math.floor(rand() * 8);
    const dur = Math.floor((0.08 + rand() * 1.4) * RATE);
    const amp = 10 ** ((-36 + 28 * rand()) / 20);
    // Fundamentals from 80 Hz (buzzers, thumps) to 3.6 kHz (beeps), log-uniform.
    const f1 = 80 * 45 ** rand();
    const partials: Array<[freq: number, gain: number, decay: number]> = [];
    if (kind === 0) partials.push([f1, 1, rand() < 0.5 ? 0 : 2 + rand() * 10]);
    else if (kind === 1) partials.push([f1, 1, 0], [f1 * (1.05 + rand() * 0.6), 1, 0]);
    else if (kind === 2)
      for (const r of [1, 2.76, 5.4, 8.93]) partials.push([f1 * r, 1 / r, 3 + rand() * 12]);
    else if (kind === 3 || kind === 6) {
      // Harmonic complexes: chimes, marimbas, buzzers (square-ish or sawtooth-ish spectra, steady pitch). Kept
      // above 200 Hz: a steady 80–200 Hz harmonic complex is what a hummed "mmm" or a held vowel looks like, and
      // teaching the classifier to reject it cost real syllables.
      const f0 = 200 + rand() * 1000;
      const n = 2 + Math.floor(rand() * 12);
      const slope = 0.5 + rand() * 1.5;
      const decay = rand() < 0.5 ? 0 : 1 + rand() * 8;
      for (let h = 1; h <= n; h++)
        if (f0 * h < RATE / 2 - 200) partials.push([f0 * h, h ** -slope, decay * h ** 0.5]);
    } else if (kind === 7) {
      // Chords of two to four decaying notes (bells, notification jingles).
      const notes = 2 + Math.floor(rand() * 3);
      for (let k = 0; k < notes; k++) {
        const f = f1 * 2 ** (Math.floor(rand() * 12) / 12);
        partials.push([f, 1, 2 + rand() * 6], [2 * f, 0.3, 4 + rand() * 8]);
      }
    }
    const sweep = kind === 4 ? (rand() < 0.5 ? 3 : 1 / 3) : 1;
    const warble = kind === 5 ? [15 + rand() * 15, 0.05 + rand() * 0.1] : [0, 0];
    if (kind === 4 || kind === 5) partials.push([f1, 1, 0]);
    const end = Math.min(out.length, at + dur);
    if (rand() < 0.35) {
      at = patterned(out, at, amp, rand);
      continue;
    }
    if (rand() < 0.3) {
      // Noise that starts abruptly (a fan, a hiss, rustling, crunching): white, pink-ish or brown-ish, steady
      // or chopped at 5–30 Hz, 0.1–3 s long. The floor tracker needs ~1.3 s to absorb it, so the classifier
      // must learn that a sudden broadband sound without harmonics is not a voice.
      const n = Math.min(out.length - at, Math.floor((0.1 + rand() * 2.9) * RATE));
      const colour = Math.floor(rand() * 3);
      // Down to −60 dBFS: room tone that switches on and off between utterances is as common as loud noise.
      const burstAmp = 10 ** ((-60 + 50 * rand()) / 20);
      const chop = rand() < 0.5 ? 5 + rand() * 25 : 0;
      let lp = 0;
      let lp2 = 0;
      for (let i = 0; i < n; i++) {
        const w = rand() * 2 - 1;
        lp += 0.1 * (w - lp);
        lp2 = 0.995 * lp2 + 0.02 * w;
        const v = colour === 0 ? w : colour === 1 ? 0.6 * w + 2.5 * lp : 4 * lp2;
        const gate = chop ? (Math.sin((2 * Math.PI * chop * i) / RATE) > 0.3 * (rand() - 0.5) ? 1 : 0.1) : 1;
        out[at + i] = (out[at + i] as number) + burstAmp * gate * v * Math.min(1, i / 48);
      }
      at += n + Math.floor((0.1 + rand()) * RATE);
      continue;
    }
    if (rand() < 0.2) {
      // Click or shutter: a short noise burst.
      const n = Math.floor((0.005 + rand() * 0.08) * RATE);
      for (let i = 0; i < n && at + i < out.length; i++)
        out[at + i] = (out[at + i] as number) + amp * (rand() * 2 - 1) * Math.exp(-i / (n / 4));
    } else {
      const phase = partials.map(() => 0);
      for (let i = at; i < end; i++) {
        const t = (i - at) / RATE;
        const env = Math.min(1, t / 0.005) * Math.min(1, (end - i) / (0.01 * RATE));
        let v = 0;
        for (let p = 0; p < partials.length; p++) {
          const [freq, gain, decay] = partials[p] as [number, number, number];
          const f =
            freq *
            sweep ** (t / (dur / RATE)) *
            (1 + (warble[1] as number) * Math.sin(2 * Math.PI * (warble[0] as number) * t));
          phase[p] =
            ((phase[p] as number) + (2 * Math.PI * Math.min(f, RATE / 2 - 100)) / RATE) % (2 * Math.PI);
          v += gain * Math.exp(-decay * t) * Math.sin(phase[p] as number);
        }
        out[i] = (out[i] as number) + amp * env * v;
      }
    }
    at = end + Math.floor((0.1 + rand()) * RATE);
  }
  return out;
}

/** Adds a tone of `partials` ([Hz, gain, decay per s]) from `at` for `dur` samples, 5 ms attack, 10 ms release. */
function addTone(
  out: Float32Array,
  at: number,
  dur: number,
  partials: Array<[freq: number, gain: number, decay: number]>,
  amp: number,
  sweep = 1,
): void {
  const end = Math.min(out.length, at + dur);
  const phase = partials.map(() => 0);
  for (let i = at; i < end; i++) {
    const t = (i - at) / RATE;
    const env = Math.min(1, t / 0.005) * Math.min(1, (end - i) / (0.01 * RATE));
    let v = 0;
    for (let p = 0; p < partials.length; p++) {
      const [freq, gain, decay] = partials[p] as [number, number, number];
      const f = Math.min(freq * sweep ** (t / (dur / RATE)), RATE / 2 - 100);
      phase[p] = ((phase[p] as number) + (2 * Math.PI * f) / RATE) % (2 * Math.PI);
      v += gain * Math.exp(-decay * t) * Math.sin(phase[p] as number);
    }
    out[i] = (out[i] as number) + amp * env * v;
  }
}

/**
 * Patterned non-speech that changes at a syllable-like rate but holds fixed partials within each piece:
 * telephone cadences (dual tones on/off), DTMF digits, melodic jingles of harmonic or bell-like notes, repeated
 * alarm sweeps and beep trains. Returns where the pattern ends.
 */
function patterned(out: Float32Array, at: number, amp: number, rand: () => number): number {
  const kind = Math.floor(rand() * 5);
  const pieces = 2 + Math.floor(rand() * 8);
  const gap = Math.floor((0.02 + rand() * 0.5) * RATE);
  const base = 150 + rand() * 1500;
  for (let p = 0; p < pieces && at < out.length - RATE; p++) {
    const dur = Math.floor((kind === 1 ? 0.05 + rand() * 0.15 : 0.08 + rand() * 0.6) * RATE);
    const partials: Array<[number, number, number]> = [];
    let sweep = 1;
    if (kind === 0) {
      // Telephone tones: one or two fixed frequencies (350–950 Hz), the same every burst.
      const pair = [
        [350, 440],
        [440, 480],
        [480, 620],
        [425, 0],
        [400, 450],
        [950, 0],
      ][Math.floor(((base - 150) / 1500) * 6)] as [number, number];
      partials.push([pair[0], 1, 0]);
      if (pair[1]) partials.push([pair[1], 1, 0]);
    } else if (kind === 1) {
      const lowTones = [697, 770, 852, 941];
      const highTones = [1209, 1336, 1477, 1633];
      partials.push([lowTones[Math.floor(rand() * 4)] as number, 1, 0]);
      partials.push([highTones[Math.floor(rand() * 4)] as number, 0.8, 0]);
    } else if (kind === 2) {
      // A jingle: notes on a scale, harmonic (marimba, organ) or inharmonic (glass, bell) timbre.
      const f = base * 2 ** (Math.floor(rand() * 15) / 12);
      const bell = rand() < 0.5;
      const ratios = bell ? [1, 2.76, 5.4] : [1, 2, 3, 4, 5];
      const decay = rand() < 0.5 ? 0 : 2 + rand() * 10;
      for (const r of ratios) if (f * r < RATE / 2 - 200) partials.push([f * r, 1 / r, decay * r ** 0.5]);
    } else if (kind === 3) {
      sweep = rand() < 0.5 ? 1.5 + rand() * 2 : 1 / (1.5 + rand() * 2);
      partials.push([base, 1, 0]);
      if (rand() < 0.5) partials.push([3 * base, 0.3, 0]);
    } else {
      partials.push([base, 1, 0]);
      if (rand() < 0.5) partials.push([2 * base, 0.5, 0], [3 * base, 0.25, 0]);
    }
    addTone(out, at, dur, partials, amp, sweep);
    at += dur + (kind === 2 && rand() < 0.5 ? 0 : gap);
  }
  return at + Math.floor((0.1 + rand()) * RATE);
}

/**
 * Synthetic non-speech for training the VAD (`scripts/train-vad.ts`): tones, bells, chords, buzzers, chirps,
 * warbles, clicks, noise bursts, and patterned sounds that change at a syllable-like rate but hold fixed partials
 * within each piece; then tone onsets and ring-outs, hum under bell rings, thumps, notification blips, jingles
 * and click trains, through small speakers and rooms (see {@link NON_SPEECH_KINDS}). Generated here from a seed
 * with generic, randomly drawn parameters, never from the freedesktop event sounds, which stay a held-out test
 * of false alarms. Everything is mono Float32Array at {@link RATE} Hz.
 */
import { random } from "../test/fixtures/speech-corpus.ts";

/** Sample rate of the generated audio, in Hz (the VAD's training rate). */
export const RATE = 24000;

type Rand = () => number;

/**
 * Kinds of synthetic non-speech, each standing for a family of real sounds: `classic` (the first generation:
 * tones, bells, chords, buzzers, chirps, warbles, clicks, noise bursts, telephone and DTMF patterns),
 * `toneOnset` (beeps and cadenced tones from silence, through a small speaker and a room), `hum` (mains and
 * motor hum, under and between bell rings), `thump` (low knocks and thumps, often right after a tone), `blip`
 * (short notification sounds: plucks, FM bells, marimba), `jingle` (multi-note melodies with overlapping notes,
 * vibrato and chorus) and `clicks` (shutters, ratchets, mechanical click trains).
 */
export const NON_SPEECH_KINDS = ["classic", "toneOnset", "hum", "thump", "blip", "jingle", "clicks"] as const;
/** One of {@link NON_SPEECH_KINDS}. */
export type NonSpeechKind = (typeof NON_SPEECH_KINDS)[number];

/** Share of the events drawn from `classic`; the rest is spread evenly over the other kinds. */
const CLASSIC_SHARE = 0.5;

/**
 * Synthetic non-speech events over a faint noise floor (−72 to −52 dBFS, drifting slowly), `seconds` long,
 * reproducible from `seed`. All {@link NON_SPEECH_KINDS} are drawn at random, or only `only` if given (to score
 * the VAD per kind). Events are separated by 0.1–1.5 s of the floor alone, so that every onset follows silence.
 */
export function syntheticEvents(seconds: number, seed: number, only?: NonSpeechKind): Float32Array {
  const rand = random(seed);
  const out = new Float32Array(Math.floor(seconds * RATE));
  for (let i = 0; i < out.length; i++)
    out[i] = (rand() * 2 - 1) * 10 ** ((-62 + 10 * Math.sin(i / 96000)) / 20);
  let at = RATE;
  while (at < out.length - RATE) {
    const kind: NonSpeechKind =
      only ??
      (rand() < CLASSIC_SHARE
        ? "classic"
        : (NON_SPEECH_KINDS[1 + Math.floor(rand() * (NON_SPEECH_KINDS.length - 1))] as NonSpeechKind));
    if (kind === "classic") {
      at = classicEvent(out, at, rand);
      continue;
    }
    const sound = GENERATORS[kind](rand);
    // Played through a small speaker (no bass, a resonance) and/or heard in a room (a reverberant tail).
    if (rand() < 0.4) smallSpeaker(sound, rand);
    if (rand() < 0.45) room(sound, rand);
    // Peaks from −30 to −1 dBFS, the range of the training speech: a sound played next to the microphone is as
    // loud as a voice, and a classifier that only saw quieter non-speech learns that loud means speech.
    const gain = 10 ** ((-30 + 29 * rand()) / 20) / (peak(sound) || 1);
    const n = Math.min(sound.length, out.length - at);
    for (let i = 0; i < n; i++) out[at + i] = (out[at + i] as number) + gain * (sound[i] as number);
    at += trimmedLength(sound) + Math.floor((0.1 + 1.4 * rand()) * RATE);
  }
  return out;
}

/**
 * The first generation of synthetic events, one per call: a steady or decaying tone, dual tone, bell, harmonic
 * complex (chime, buzzer), chord, sweep or warble with a 5 ms attack; a click; a noise burst (fan, hiss,
 * rustling); or a {@link patterned} sequence. Adds it to `out` from `at` and returns where the next may start.
 */
function classicEvent(out: Float32Array, at: number, rand: Rand): number {
  const kind = Math.floor(rand() * 8);
  const dur = Math.floor((0.08 + rand() * 1.4) * RATE);
  const amp = 10 ** ((-36 + 28 * rand()) / 20);
  // Fundamentals from 80 Hz (buzzers, thumps) to 3.6 kHz (beeps), log-uniform.
  const f1 = 80 * 45 ** rand();
  const partials: Array<[freq: number, gain: number, decay: number]> = [];
  if (kind === 0) partials.push([f1, 1, rand() < 0.5 ? 0 : 2 + rand() * 10]);
  else if (kind === 1) partials.push([f1, 1, 0], [f1 * (1.05 + rand() * 0.6), 1, 0]);
  else if (kind === 2) for (const r of [1, 2.76, 5.4, 8.93]) partials.push([f1 * r, 1 / r, 3 + rand() * 12]);
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
  const warble: [number, number] = kind === 5 ? [15 + rand() * 15, 0.05 + rand() * 0.1] : [0, 0];
  if (kind === 4 || kind === 5) partials.push([f1, 1, 0]);
  const end = Math.min(out.length, at + dur);
  if (rand() < 0.35) {
    return patterned(out, at, amp, rand);
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
    return at + n + Math.floor((0.1 + rand()) * RATE);
  }
  if (rand() < 0.2) {
    // Click or shutter: a short noise burst.
    const n = Math.floor((0.005 + rand() * 0.08) * RATE);
    for (let i = 0; i < n && at + i < out.length; i++)
      out[at + i] = (out[at + i] as number) + amp * (rand() * 2 - 1) * Math.exp(-i / (n / 4));
  } else addTone(out, at, dur, partials, amp, sweep, warble);
  return end + Math.floor((0.1 + rand()) * RATE);
}

/**
 * Adds a tone of `partials` ([Hz, gain, decay per s]) from `at` for `dur` samples, 5 ms attack, 10 ms release,
 * its pitch gliding by `sweep` over the tone and warbling at `warble` ([Hz, relative depth]).
 */
function addTone(
  out: Float32Array,
  at: number,
  dur: number,
  partials: Array<[freq: number, gain: number, decay: number]>,
  amp: number,
  sweep = 1,
  warble: [rate: number, depth: number] = [0, 0],
): void {
  const end = Math.min(out.length, at + dur);
  const phase = partials.map(() => 0);
  for (let i = at; i < end; i++) {
    const t = (i - at) / RATE;
    const env = Math.min(1, t / 0.005) * Math.min(1, (end - i) / (0.01 * RATE));
    let v = 0;
    for (let p = 0; p < partials.length; p++) {
      const [freq, gain, decay] = partials[p] as [number, number, number];
      const f = Math.min(
        freq * sweep ** (t / (dur / RATE)) * (1 + warble[1] * Math.sin(2 * Math.PI * warble[0] * t)),
        RATE / 2 - 100,
      );
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
function patterned(out: Float32Array, at: number, amp: number, rand: Rand): number {
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

// ——— Generators of the newer kinds. Each returns one sound at an arbitrary level (syntheticEvents normalises
// its peak), with room for a tail after it; none reads or copies any recorded event sound.

const GENERATORS: Record<Exclude<NonSpeechKind, "classic">, (rand: Rand) => Float32Array> = {
  toneOnset,
  hum,
  thump,
  blip,
  jingle,
  clicks,
};

const TAU = 2 * Math.PI;
const logUniform = (rand: Rand, lo: number, hi: number) => lo * (hi / lo) ** rand();
const seconds = (s: number) => Math.max(1, Math.floor(s * RATE));

function peak(x: Float32Array): number {
  let m = 0;
  for (const v of x) m = Math.max(m, Math.abs(v));
  return m;
}

/** Length of `x` up to its last sample within 70 dB of its peak (the end of a decaying tail). */
function trimmedLength(x: Float32Array): number {
  const limit = peak(x) * 10 ** (-70 / 20);
  let n = x.length;
  while (n > 0 && Math.abs(x[n - 1] as number) <= limit) n--;
  return n;
}

/**
 * Linear attack over `attack` s, hold, linear release over `release` s, for a note of `dur` s, at time `t` s.
 * Real devices start tones in 1–30 ms (a click-free ramp, a speaker's settling), not instantly.
 */
function gate(t: number, dur: number, attack: number, release: number): number {
  if (t < 0 || t >= dur) return 0;
  return Math.min(1, t / attack, (dur - t) / release);
}

/** A second-order IIR section (RBJ cookbook), applied in place. */
function biquad(
  x: Float32Array,
  type: "highpass" | "bandpass" | "peak",
  freq: number,
  q: number,
  gainDb = 0,
): void {
  const w = (TAU * Math.min(freq, RATE / 2 - 200)) / RATE;
  const alpha = Math.sin(w) / (2 * q);
  const cos = Math.cos(w);
  const A = 10 ** (gainDb / 40);
  let b0: number;
  let b1: number;
  let b2: number;
  let a0: number;
  let a2: number;
  if (type === "highpass")
    [b0, b1, b2, a0, a2] = [(1 + cos) / 2, -(1 + cos), (1 + cos) / 2, 1 + alpha, 1 - alpha];
  else if (type === "bandpass") [b0, b1, b2, a0, a2] = [alpha, 0, -alpha, 1 + alpha, 1 - alpha];
  else [b0, b1, b2, a0, a2] = [1 + alpha * A, -2 * cos, 1 - alpha * A, 1 + alpha / A, 1 - alpha / A];
  const a1 = -2 * cos;
  let x1 = 0;
  let x2 = 0;
  let y1 = 0;
  let y2 = 0;
  for (let i = 0; i < x.length; i++) {
    const x0 = x[i] as number;
    const y0 = (b0 * x0 + b1 * x1 + b2 * x2 - a1 * y1 - a2 * y2) / a0;
    x[i] = y0;
    x2 = x1;
    x1 = x0;
    y2 = y1;
    y1 = y0;
  }
}

/**
 * A small loudspeaker (phone, laptop, smart-speaker housing): no bass below 250–900 Hz, one or two 6–16 dB
 * resonances between 900 Hz and 5 kHz, and mild clipping when driven hard. In place.
 */
function smallSpeaker(x: Float32Array, rand: Rand): void {
  biquad(x, "highpass", logUniform(rand, 250, 900), 0.7 + rand() * 0.6);
  biquad(x, "peak", logUniform(rand, 900, 5000), 1.5 + rand() * 5, 6 + rand() * 10);
  if (rand() < 0.5) biquad(x, "peak", logUniform(rand, 1500, 6000), 2 + rand() * 4, 4 + rand() * 8);
  if (rand() < 0.3) {
    const drive = 1 + rand() * 4;
    const m = peak(x) || 1;
    for (let i = 0; i < x.length; i++) x[i] = Math.tanh((drive * (x[i] as number)) / m);
  }
}

/**
 * A room's reverberation (Schroeder: four damped feedback combs, two all-passes), RT60 0.15–1.2 s, mixed at
 * −20 to −3 dB under the dry sound. In place; the sounds carry ≥ 1 s of silence for the tail.
 */
function room(x: Float32Array, rand: Rand): void {
  const rt60 = logUniform(rand, 0.15, 1.2);
  const scale = 0.7 + rand() * 0.6;
  const wet = new Float32Array(x.length);
  const damp = 0.2 + rand() * 0.4;
  for (const ms of [29.7, 37.1, 41.1, 43.7]) {
    const d = Math.floor((ms * scale * RATE) / 1000);
    const g = 10 ** ((-3 * d) / RATE / rt60);
    const line = new Float32Array(d);
    let lp = 0;
    for (let i = 0; i < x.length; i++) {
      const y = line[i % d] as number;
      lp = (1 - damp) * y + damp * lp;
      line[i % d] = (x[i] as number) + g * lp;
      wet[i] = (wet[i] as number) + y / 4;
    }
  }
  for (const [ms, g] of [
    [5, 0.7],
    [1.7, 0.7],
  ] as const) {
    const d = Math.floor((ms * RATE) / 1000);
    const line = new Float32Array(d);
    for (let i = 0; i < wet.length; i++) {
      const delayed = line[i % d] as number;
      const v = (wet[i] as number) + g * delayed;
      line[i % d] = v;
      wet[i] = delayed - g * v;
    }
  }
  const mix = 10 ** ((-20 + 17 * rand()) / 20) * ((peak(x) || 1) / (peak(wet) || 1));
  for (let i = 0; i < x.length; i++) x[i] = (x[i] as number) + mix * (wet[i] as number);
}

/**
 * Adds a note of `partials` ([Hz, gain, decay per s]) to `x` from `start` s for `dur` s, with an attack and
 * release (s), optional vibrato ([Hz, relative depth]) and `copies` detuned by up to ±`cents` (a chorus, or two
 * slightly mistuned oscillators or strings).
 */
function addNote(
  x: Float32Array,
  start: number,
  dur: number,
  partials: ReadonlyArray<readonly [freq: number, gain: number, decay: number]>,
  attack: number,
  release: number,
  vibrato: readonly [number, number] = [0, 0],
  copies = 1,
  cents = 0,
  rand: Rand,
): void {
  const i0 = Math.floor(start * RATE);
  const n = Math.min(x.length - i0, Math.floor(dur * RATE));
  for (let c = 0; c < copies; c++) {
    const detune = copies > 1 ? 2 ** (((2 * c) / (copies - 1) - 1) * (cents / 1200)) : 1;
    for (const [freq, gain, decay] of partials) {
      const f = freq * detune;
      if (f >= RATE / 2 - 300) continue;
      let phase = rand() * TAU;
      const vibPhase = rand() * TAU;
      const k = Math.exp(-decay / RATE);
      let env = gain / copies;
      for (let i = 0; i < n; i++) {
        const t = i / RATE;
        phase += vibrato[1]
          ? (TAU * f * (1 + vibrato[1] * Math.sin(TAU * vibrato[0] * t + vibPhase))) / RATE
          : (TAU * f) / RATE;
        x[i0 + i] = (x[i0 + i] as number) + env * gate(t, dur, attack, release) * Math.sin(phase);
        env *= k;
      }
    }
  }
}

/**
 * A Karplus–Strong plucked string (a pluck, a kalimba, a harp-like notification): a noise burst through a
 * delay line of one period with a lowpass in the loop, decaying with time constant `tau` s. Added to `x`.
 */
function addPluck(
  x: Float32Array,
  start: number,
  freq: number,
  tau: number,
  bright: number,
  rand: Rand,
): void {
  const period = RATE / Math.min(freq, 3000);
  const d = Math.max(2, Math.floor(period));
  const frac = period - d;
  const line = Float32Array.from({ length: d + 2 }, () => rand() * 2 - 1);
  let lp = 0;
  for (let i = 0; i < line.length; i++) {
    lp += bright * ((line[i] as number) - lp);
    line[i] = lp;
  }
  const g = Math.exp(-period / (tau * RATE));
  const i0 = Math.floor(start * RATE);
  const n = Math.min(x.length - i0, Math.floor(tau * 7 * RATE));
  let prev = 0;
  for (let i = 0; i < n; i++) {
    const a = line[i % line.length] as number;
    const b = line[(i + 1) % line.length] as number;
    const y = a * (1 - frac) + b * frac;
    const v = g * (bright * y + (1 - bright) * prev);
    prev = v;
    line[i % line.length] = v;
    x[i0 + i] = (x[i0 + i] as number) + y;
  }
}

/**
 * An FM bell or electric-piano note (Chowning): a carrier at `freq` phase-modulated at `ratio` × `freq`, the
 * modulation index falling from `index` with time constant `indexTau` s so the note starts bright and mellows,
 * the amplitude decaying with time constant `tau` s. Added to `x`.
 */
function addFmNote(
  x: Float32Array,
  start: number,
  freq: number,
  ratio: number,
  index: number,
  indexTau: number,
  tau: number,
  attack: number,
): void {
  const i0 = Math.floor(start * RATE);
  const n = Math.min(x.length - i0, Math.floor(tau * 7 * RATE));
  for (let i = 0; i < n; i++) {
    const t = i / RATE;
    const mod = index * Math.exp(-t / indexTau) * Math.sin(TAU * freq * ratio * t);
    x[i0 + i] =
      (x[i0 + i] as number) + Math.min(1, t / attack) * Math.exp(-t / tau) * Math.sin(TAU * freq * t + mod);
  }
}

/** Inharmonic partial ratios of struck bars and bells (marimba, vibraphone, glass, small bell, tubular bell). */
const STRUCK = [
  [1, 3.9, 9.2],
  [1, 4, 10.1],
  [1, 2.76, 5.4, 8.93],
  [1, 2.32, 4.25, 6.63],
  [1, 1.51, 1.98, 2.44, 3.01],
] as const;

/** Adds one note of a timbre picked by `timbre` (0 pluck, 1 FM, 2 struck bar/bell, 3 soft harmonic). */
function addTimbre(
  x: Float32Array,
  timbre: number,
  start: number,
  freq: number,
  tau: number,
  rand: Rand,
  vibrato: readonly [number, number] = [0, 0],
  copies = 1,
  cents = 0,
): void {
  if (timbre === 0) addPluck(x, start, freq, tau, 0.3 + 0.6 * rand(), rand);
  else if (timbre === 1)
    addFmNote(
      x,
      start,
      freq,
      [1, 1.4, 2, 3.5, 1.41][Math.floor(rand() * 5)] as number,
      1 + rand() * 5,
      tau * (0.1 + 0.4 * rand()),
      tau,
      logUniform(rand, 0.001, 0.01),
    );
  else if (timbre === 2) {
    const ratios = STRUCK[Math.floor(rand() * STRUCK.length)] as readonly number[];
    addNote(
      x,
      start,
      tau * 6,
      ratios.map(
        (r, k) => [freq * r * (1 + 0.01 * (rand() - 0.5)), 1 / (1 + k), (1 + r * 0.8) / tau] as const,
      ),
      logUniform(rand, 0.001, 0.005),
      0.01,
      vibrato,
      copies,
      cents,
      rand,
    );
  } else {
    const n = 2 + Math.floor(rand() * 6);
    addNote(
      x,
      start,
      tau * 6,
      Array.from(
        { length: n },
        (_, h) => [freq * (h + 1), (h + 1) ** -(1 + rand()), (1 + h * 0.7) / tau] as const,
      ),
      logUniform(rand, 0.002, 0.03),
      0.02,
      vibrato,
      copies,
      cents,
      rand,
    );
  }
}

/**
 * Beeps and steady tones switching on after silence: a sine, two sines, or a harmonic complex (200 Hz–3.5 kHz
 * fundamental), held 0.1–2.5 s with a 1–30 ms attack and either a 1–30 ms release or a ring-out decay, once
 * or in an on/off cadence of random timing. Stands for alarms, timers, appliance and phone tones, busy or
 * ringback signals of any country, test tones; with `room` and `smallSpeaker` it also gives their tails.
 */
function toneOnset(rand: Rand): Float32Array {
  const f = logUniform(rand, 220, 3500);
  const shape = Math.floor(rand() * 4);
  const partials: Array<[number, number, number]> = [[f, 1, 0]];
  if (shape === 1) partials.push([f * (1.03 + rand() * 0.6), 0.5 + rand() * 0.5, 0]);
  else if (shape === 2)
    for (let h = 2; h <= 2 + Math.floor(rand() * 10); h++) partials.push([f * h, h ** -(0.6 + rand()), 0]);
  else if (shape === 3) for (let h = 3; h <= 15; h += 2) partials.push([f * h, 1 / h, 0]);
  const repeats = rand() < 0.5 ? 1 : 2 + Math.floor(rand() * 5);
  const on = logUniform(rand, 0.1, 2.5);
  const off = logUniform(rand, 0.08, 1.2);
  const attack = logUniform(rand, 0.001, 0.03);
  const release = logUniform(rand, 0.001, 0.03);
  const ringOut = rand() < 0.3 ? logUniform(rand, 0.05, 0.6) : 0;
  const x = new Float32Array(seconds(repeats * (on + off) + ringOut * 5 + 1.2));
  for (let r = 0; r < repeats; r++) {
    const start = r * (on + off);
    addNote(x, start, on, partials, attack, release, [0, 0], 1, 0, rand);
    if (ringOut)
      addNote(
        x,
        start + on - release,
        ringOut * 6,
        partials.map(([pf, g]) => [pf, g, 1 / ringOut] as const),
        release,
        0.005,
        [0, 0],
        1,
        0,
        rand,
      );
  }
  return x;
}

/**
 * Low hum and buzz: a 45–200 Hz fundamental with a fixed harmonic series (odd-heavy like a transformer or a
 * solenoid, or broad like a rectifier or a motor's commutator), steadier in pitch than any voice and often
 * with a little broadband motor noise. Mostly under and between a ring: a bell struck by a clapper at 8–30 Hz
 * (an alarm clock, an electric bell, a ringing phone's bell) in 0.3–1.5 s bursts, the hum running on in the
 * pauses; sometimes the hum alone, starting and stopping after silence.
 */
function hum(rand: Rand): Float32Array {
  const f0 = logUniform(rand, 45, 200);
  const odd = rand() < 0.4;
  const slope = 0.3 + rand() * 1.2;
  const partials: Array<[number, number, number]> = [];
  for (let h = 1; f0 * h < 4000; h++)
    if (!odd || h % 2 === 1 || rand() < 0.2) partials.push([f0 * h, h ** -slope * (0.5 + rand()), 0]);
  const ringing = rand() < 0.7;
  const rings = ringing ? 1 + Math.floor(rand() * 5) : 0;
  const ringOn = logUniform(rand, 0.3, 1.5);
  const ringOff = logUniform(rand, 0.15, 1.2);
  const lead = rand() * 0.6;
  const total = ringing ? lead + rings * (ringOn + ringOff) : logUniform(rand, 0.5, 4);
  const x = new Float32Array(seconds(total + 1.5));
  const wobble: readonly [number, number] =
    rand() < 0.5 ? [logUniform(rand, 0.3, 3), 0.002 + 0.01 * rand()] : [0, 0];
  const humLevel = ringing ? 10 ** ((-26 + 20 * rand()) / 20) : 1;
  const humRelease = logUniform(rand, 0.01, 0.3);
  const h = new Float32Array(x.length);
  addNote(h, 0, total, partials, logUniform(rand, 0.005, 0.2), humRelease, wobble, 1, 0, rand);
  if (rand() < 0.5) {
    const noise = Float32Array.from({ length: seconds(total) }, () => rand() * 2 - 1);
    biquad(noise, "bandpass", logUniform(rand, 200, 3000), 0.7 + rand() * 2);
    const level = 0.05 + 0.3 * rand();
    for (let i = 0; i < noise.length; i++)
      h[i] = (h[i] as number) + level * (noise[i] as number) * Math.min(1, i / 2400);
  }
  const hp = peak(h) || 1;
  for (let i = 0; i < x.length; i++) x[i] = (humLevel * (h[i] as number)) / hp;
  if (!ringing) return x;
  const bellF = logUniform(rand, 500, 3500);
  const ratios = STRUCK[2 + Math.floor(rand() * 3)] as readonly number[];
  const rate = logUniform(rand, 8, 30);
  const bellTau = logUniform(rand, 0.03, 0.3);
  const bell = new Float32Array(x.length);
  for (let r = 0; r < rings; r++) {
    const start = lead + r * (ringOn + ringOff);
    for (let t = 0; t < ringOn; t += (1 + 0.1 * (rand() - 0.5)) / rate)
      addNote(
        bell,
        start + t,
        bellTau * 5,
        ratios.map((q, k) => [bellF * q, (0.6 + 0.4 * rand()) / (1 + k), (1 + q) / bellTau] as const),
        0.0005,
        0.005,
        [0, 0],
        1,
        0,
        rand,
      );
  }
  const bp = peak(bell) || 1;
  for (let i = 0; i < x.length; i++) x[i] = (x[i] as number) + (bell[i] as number) / bp;
  return x;
}

/**
 * Low thumps and knocks: a 45–200 Hz sine whose pitch drops by 10–50 % as it decays in 20–150 ms, with a
 * short lowpassed click on top; one or two (a knock, a door, a phone dropped on a desk, a device's haptic
 * buzz), and often right after a short tone or beep (0–80 ms later), as a sound's own low-frequency end.
 */
function thump(rand: Rand): Float32Array {
  const x = new Float32Array(seconds(2.5));
  let t = 0;
  if (rand() < 0.6) {
    const dur = logUniform(rand, 0.05, 0.8);
    const f = logUniform(rand, 300, 3000);
    addNote(
      x,
      0,
      dur,
      [
        [f, 1, 0],
        [2 * f, 0.3 * rand(), 0],
      ],
      logUniform(rand, 0.001, 0.02),
      logUniform(rand, 0.001, 0.03),
      [0, 0],
      1,
      0,
      rand,
    );
    t = dur + 0.08 * rand();
  }
  const level = 10 ** ((-6 + 12 * rand()) / 20);
  const knocks = rand() < 0.7 ? 1 : 2;
  for (let k = 0; k < knocks; k++) {
    const f = logUniform(rand, 45, 200);
    const len = logUniform(rand, 0.02, 0.15);
    const drop = 0.1 + 0.4 * rand();
    const i0 = Math.floor(t * RATE);
    let phase = 0;
    const n = Math.min(x.length - i0, Math.floor(len * 2 * RATE));
    let lp = 0;
    for (let i = 0; i < n; i++) {
      const s = i / RATE;
      phase += (TAU * f * (1 - drop * Math.min(1, s / len))) / RATE;
      lp += 0.15 * (rand() * 2 - 1 - lp);
      const click = s < 0.004 ? 0.5 * lp * (1 - s / 0.004) : 0;
      x[i0 + i] =
        (x[i0 + i] as number) +
        level * (Math.exp(-s / (len / 3)) * Math.sin(phase) * Math.min(1, s / 0.001) + click);
    }
    t += len + logUniform(rand, 0.08, 0.35);
  }
  return x;
}

/**
 * Short notification blips: one to three notes in 50–300 ms, 350 Hz–3.2 kHz, each a pluck, an FM bell, a
 * struck bar (marimba, glass) or a soft harmonic tone, decaying in 20–200 ms. Stands for message, click and
 * keypress feedback, "pop" and "ding" sounds of apps and operating systems.
 */
function blip(rand: Rand): Float32Array {
  const x = new Float32Array(seconds(1.6));
  const notes = 1 + Math.floor(rand() * 3);
  const span = logUniform(rand, 0.05, 0.3);
  const timbre = Math.floor(rand() * 4);
  let f = logUniform(rand, 350, 3200);
  for (let k = 0; k < notes; k++) {
    addTimbre(x, timbre, (k * span) / notes, f, logUniform(rand, 0.02, 0.2), rand);
    f *= 2 ** ((Math.floor(rand() * 15) - 5) / 12);
  }
  return x;
}

/**
 * Multi-note jingles: three to nine notes 60–300 ms apart on a scale from a random root (260 Hz–1.6 kHz), each
 * ringing on under the next (decay 0.1–1 s), in one timbre per jingle, sometimes ending on a chord, often with
 * a slow vibrato (4–7 Hz, ±0.2–0.8 %) and a chorus of two or three copies detuned by 3–15 cents. Stands for
 * login and startup sounds, message and completion chimes, doorbells, ringtones. No sustained low pad under
 * them: a detuned 100–400 Hz chord held for seconds cost 0.03 of AUC on reverberant continuous speech.
 */
function jingle(rand: Rand): Float32Array {
  const notes = 3 + Math.floor(rand() * 7);
  const step = logUniform(rand, 0.06, 0.3);
  const tau = logUniform(rand, 0.1, 1);
  const x = new Float32Array(seconds(notes * step + tau * 6 + 0.5));
  const timbre = Math.floor(rand() * 4);
  const scale = [
    [0, 2, 4, 5, 7, 9, 11],
    [0, 2, 3, 5, 7, 8, 10],
    [0, 2, 4, 7, 9],
    [0, 3, 5, 7, 10],
  ][Math.floor(rand() * 4)] as number[];
  const root = logUniform(rand, 260, 1600);
  const vibrato: readonly [number, number] = rand() < 0.5 ? [4 + 3 * rand(), 0.002 + 0.006 * rand()] : [0, 0];
  const copies = rand() < 0.5 ? 2 + Math.floor(rand() * 2) : 1;
  const cents = 3 + 12 * rand();
  let degree = Math.floor(rand() * scale.length);
  const chordAtEnd = rand() < 0.3;
  for (let k = 0; k < notes; k++) {
    const voices = chordAtEnd && k === notes - 1 ? 2 + Math.floor(rand() * 2) : 1;
    for (let v = 0; v < voices; v++) {
      const d = degree + 2 * v;
      const semis =
        (scale[((d % scale.length) + scale.length) % scale.length] as number) +
        12 * Math.floor(d / scale.length);
      addTimbre(
        x,
        timbre,
        k * step * (0.9 + 0.2 * rand()),
        root * 2 ** (semis / 12),
        tau * (0.7 + 0.6 * rand()),
        rand,
        vibrato,
        copies,
        cents,
      );
    }
    degree += Math.floor(rand() * 7) - 3;
    degree = Math.max(-3, Math.min(10, degree));
  }
  return x;
}

/**
 * Mechanical click trains: band-passed noise clicks (1–8 kHz, decaying in 1–8 ms) with a short metallic ring,
 * either one to three clicks 20–200 ms apart with a soft whirr between (a camera shutter and its mirror or
 * motor), or a train of 5–40 clicks at 8–60 Hz (a ratchet, a winding crank, a turning dial, a keyboard burst).
 */
function clicks(rand: Rand): Float32Array {
  const train = rand() < 0.5;
  const count = train ? 5 + Math.floor(rand() * 36) : 1 + Math.floor(rand() * 3);
  const gap = train ? 1 / logUniform(rand, 8, 60) : logUniform(rand, 0.02, 0.2);
  const x = new Float32Array(seconds(count * gap + 1.2));
  const centre = logUniform(rand, 1000, 8000);
  const q = 1 + 7 * rand();
  const ringF = logUniform(rand, 1000, 6000);
  const ringTau = logUniform(rand, 0.002, 0.015);
  const decay = logUniform(rand, 0.001, 0.008);
  for (let c = 0; c < count; c++) {
    const len = Math.floor(decay * 6 * RATE);
    const burst = Float32Array.from(
      { length: len },
      (_, i) => (rand() * 2 - 1) * Math.exp(-i / (decay * RATE)),
    );
    biquad(burst, "bandpass", centre * (1 + 0.1 * (rand() - 0.5)), q);
    const i0 = Math.floor(c * gap * (1 + (train ? 0.2 : 0.5) * (rand() - 0.5)) * RATE);
    const level = 0.5 + 0.5 * rand();
    for (let i = 0; i < len && i0 + i < x.length; i++)
      x[i0 + i] = (x[i0 + i] as number) + level * (burst[i] as number) * 4;
    addNote(
      x,
      i0 / RATE,
      ringTau * 6,
      [[ringF, 0.3 * level, 1 / ringTau]],
      0.0003,
      0.002,
      [0, 0],
      1,
      0,
      rand,
    );
  }
  if (!train && count > 1 && rand() < 0.5) {
    const whirr = Float32Array.from({ length: Math.floor(count * gap * RATE) }, () => rand() * 2 - 1);
    biquad(whirr, "bandpass", logUniform(rand, 300, 3000), 1 + 3 * rand());
    const level = 0.02 + 0.15 * rand();
    for (let i = 0; i < whirr.length; i++)
      x[i] = (x[i] as number) + level * (whirr[i] as number) * Math.sin((Math.PI * i) / whirr.length);
  }
  return x;
}

/**
 * Sounds for the sound-event benchmark, synthesised at 16 kHz from a seeded random source:
 * beeping and buzzing alarms, sirens, knocks and bangs, music, and room noise. Every generator
 * returns float samples with a peak near 1 and the spans (ms, from its first sample) where its
 * sound really is, so the scorer knows the truth.
 */

export const RATE = 16000;
export type Random = () => number;
export interface Sound {
  samples: Float32Array;
  /** Where the sound is, ms from the first sample: a whole alarm from its first beep to its last. */
  spans: { startMs: number; endMs: number }[];
}

const TAU = 2 * Math.PI;
const ms = (n: number) => Math.round((n * RATE) / 1000);
export const uniform = (random: Random, lo: number, hi: number) => lo + (hi - lo) * random();
export const pick = <T>(random: Random, list: readonly T[]): T => list[Math.floor(random() * list.length)]!;

function gaussian(random: Random): number {
  const u = Math.max(random(), 1e-12);
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(TAU * random());
}

function normalize(samples: Float32Array): Float32Array {
  let peak = 0;
  for (const v of samples) peak = Math.max(peak, Math.abs(v));
  if (peak > 0) for (let i = 0; i < samples.length; i++) samples[i]! /= peak;
  return samples;
}

// ---- alarms ----

export type Timbre = 'sine' | 'square' | 'piezo';
/** Harmonic amplitudes per timbre: a band-limited square wave, or a piezo disc's near-sine with a little overtone. */
const HARMONICS: Record<Timbre, number[]> = { sine: [1], square: [1, 0, 1 / 3, 0, 1 / 5, 0, 1 / 7], piezo: [1, 0.12, 0.08] };

function tone(samples: Float32Array, from: number, length: number, hz: number, timbre: Timbre, phase0 = 0): void {
  const ramp = ms(4); // 4 ms edges: a real transducer does not switch in one sample
  HARMONICS[timbre].forEach((amplitude, h) => {
    const f = hz * (h + 1);
    if (amplitude === 0 || f >= RATE / 2 - 200) return;
    for (let i = 0; i < length; i++) {
      const edge = Math.min(1, i / ramp, (length - 1 - i) / ramp);
      samples[from + i]! += amplitude * edge * Math.sin(phase0 + (TAU * f * i) / RATE);
    }
  });
}

export type AlarmRhythm = 'beeps' | 't3' | 'slow' | 'fast' | 'timer' | 'buzz';
export const ALARM_RHYTHMS: readonly AlarmRhythm[] = ['beeps', 't3', 'slow', 'fast', 'timer', 'buzz'];

/** On/off times (ms) of one alarm of the given rhythm. */
function rhythm(random: Random, kind: AlarmRhythm): [number, number][] {
  const out: [number, number][] = [];
  let t = 0;
  const run = (count: number, on: number, off: number) => {
    for (let i = 0; i < count; i++) out.push([t, t + on]), (t += on + off);
  };
  switch (kind) {
    case 'beeps': // a steady beep-beep-beep: alarm clocks, reversing trucks, appliances
      run(Math.round(uniform(random, 6, 12)), uniform(random, 180, 400), uniform(random, 150, 400));
      break;
    case 't3': // ISO 8201 temporal-three: three 0.5 s beeps, 1.5 s quiet, again
      for (let cycle = Math.round(uniform(random, 1, 2)); cycle > 0; cycle--) {
        run(3, 500, 500);
        t += 1000;
      }
      break;
    case 'slow': // one chirp every second or so
      run(Math.round(uniform(random, 4, 6)), uniform(random, 120, 300), uniform(random, 700, 1100));
      break;
    case 'fast': // a rapid warble of short beeps
      run(Math.round(uniform(random, 12, 24)), uniform(random, 60, 110), uniform(random, 50, 110));
      break;
    case 'timer': // microwave or oven timer: a few quick beeps, a pause, again
      for (let group = Math.round(uniform(random, 2, 3)); group > 0; group--) {
        run(Math.round(uniform(random, 3, 4)), uniform(random, 90, 150), uniform(random, 80, 150));
        t += uniform(random, 600, 1000);
      }
      break;
    case 'buzz': // one continuous tone
      out.push([0, uniform(random, 1500, 4000)]);
      break;
  }
  return out;
}

/** An alarm at `hz` with the given rhythm and timbre. */
export function alarm(random: Random, hz: number, kind: AlarmRhythm, timbre: Timbre): Sound {
  const beats = rhythm(random, kind);
  const length = ms(beats.at(-1)![1]) + 1;
  const samples = new Float32Array(length);
  for (const [on, off] of beats) tone(samples, ms(on), ms(off) - ms(on), hz, timbre, TAU * random());
  return { samples: normalize(samples), spans: [{ startMs: 0, endMs: beats.at(-1)![1] }] };
}

// ---- sirens ----

export type SirenKind = 'wail' | 'yelp';

/** A siren: a tone sweeping between a low and a high pitch, slowly (wail) or fast (yelp). */
export function siren(random: Random, kind: SirenKind): Sound {
  const lo = uniform(random, 500, 750);
  const hi = uniform(random, 1150, 1800);
  const period = kind === 'wail' ? uniform(random, 2500, 5000) : uniform(random, 180, 400);
  const durationMs = kind === 'wail' ? uniform(random, 5000, 8000) : uniform(random, 3000, 5000);
  const timbre: Timbre = pick(random, ['sine', 'square', 'piezo']);
  const length = ms(durationMs);
  const samples = new Float32Array(length);
  const rise = kind === 'wail' ? 0.55 : 0.85; // a wail rises most of its period; a yelp rises fast, drops faster
  let phase = 0;
  const offset = random();
  for (let i = 0; i < length; i++) {
    const u = ((i / RATE) * 1000) / period + offset;
    const x = u - Math.floor(u);
    const shape = x < rise ? x / rise : (1 - x) / (1 - rise);
    const hz = lo + (hi - lo) * (0.5 - 0.5 * Math.cos(Math.PI * shape));
    phase += (TAU * hz) / RATE;
    const edge = Math.min(1, i / ms(150), (length - 1 - i) / ms(150));
    let v = 0;
    HARMONICS[timbre].forEach((amplitude, h) => {
      if (amplitude !== 0 && hz * (h + 1) < RATE / 2 - 200) v += amplitude * Math.sin(phase * (h + 1));
    });
    samples[i] = v * edge;
  }
  return { samples: normalize(samples), spans: [{ startMs: 0, endMs: durationMs }] };
}

// ---- knocks ----

/** One knock on a door: a click, the panel's resonance and a low thump, all dying within tens of ms. */
function knockAt(random: Random, samples: Float32Array, from: number, gain: number): void {
  const body = uniform(random, 90, 220);
  const panel = uniform(random, 350, 900);
  const tauBody = uniform(random, 0.012, 0.035);
  const tauPanel = uniform(random, 0.006, 0.018);
  const tauClick = uniform(random, 0.0015, 0.004);
  for (let i = 0; i < ms(250) && from + i < samples.length; i++) {
    const t = i / RATE;
    samples[from + i]! += gain * (Math.exp(-t / tauBody) * Math.sin(TAU * body * t) + 0.6 * Math.exp(-t / tauPanel) * Math.sin(TAU * panel * t) + 0.5 * Math.exp(-t / tauClick) * gaussian(random));
  }
}

/** Three to five knocks, or one bang (a slammed door, a dropped object). */
export function knocks(random: Random, kind: 'knocks' | 'bang'): Sound {
  if (kind === 'bang') {
    const length = ms(600);
    const samples = new Float32Array(length);
    const tau = uniform(random, 0.05, 0.15);
    let low = 0;
    for (let i = 0; i < length; i++) {
      const t = i / RATE;
      low += 0.08 * (gaussian(random) - low); // some rumble under the crack
      samples[i] = Math.exp(-t / tau) * (gaussian(random) * 0.6 + low * 3) + Math.exp(-t / 0.04) * Math.sin(TAU * 70 * t);
    }
    return { samples: normalize(samples), spans: [{ startMs: 0, endMs: 600 }] };
  }
  const count = Math.round(uniform(random, 3, 5));
  const onsets: number[] = [];
  let t = 0;
  for (let i = 0; i < count; i++) onsets.push(t), (t += uniform(random, 150, 380));
  const samples = new Float32Array(ms(onsets.at(-1)! + 300));
  for (const onset of onsets) knockAt(random, samples, ms(onset), uniform(random, 0.7, 1));
  return { samples: normalize(samples), spans: [{ startMs: 0, endMs: onsets.at(-1)! + 250 }] };
}

// ---- music ----

const midiHz = (note: number) => 440 * 2 ** ((note - 69) / 12);
const PENTATONIC = [0, 2, 4, 7, 9];

/** A harmonic note (an organ, a plucked string, a piano) added into `samples`. */
interface Voice {
  harmonics: number;
  /** Harmonic h has amplitude 1 / h^tilt. */
  tilt: number;
  /** Decay time constant, s (a plucked string or a piano); Infinity for an organ. */
  decay: number;
}

function note(samples: Float32Array, from: number, durationMs: number, hz: number, gain: number, voice: Voice): void {
  const length = Math.min(ms(durationMs), samples.length - from);
  const decay = voice.decay;
  for (let h = 1; h <= voice.harmonics; h++) {
    const f = hz * h;
    if (f >= RATE / 2 - 300) break;
    const amplitude = gain / h ** voice.tilt;
    for (let i = 0; i < length; i++) {
      const t = i / RATE;
      const envelope = Math.min(1, i / ms(8), (length - i) / ms(30)) * Math.exp(-(t * h ** 0.5) / decay);
      samples[from + i]! += amplitude * envelope * Math.sin(TAU * f * t);
    }
  }
}

export type MusicKind = 'melody' | 'chords' | 'song' | 'song+drums' | 'arpeggio';
export const MUSIC_KINDS: readonly MusicKind[] = ['melody', 'chords', 'song', 'song+drums', 'arpeggio'];

/** A short piece: a pentatonic melody, a chord progression, both, both over drums, or an arpeggio. */
export function music(random: Random, kind: MusicKind): Sound {
  const beatMs = 60000 / uniform(random, 80, 140);
  const bars = kind === 'arpeggio' ? 4 : Math.round(uniform(random, 3, 5));
  const durationMs = bars * 4 * beatMs;
  const samples = new Float32Array(ms(durationMs) + ms(300));
  const key = 55 + Math.floor(random() * 12);
  const lead: Voice = { harmonics: Math.round(uniform(random, 4, 10)), tilt: uniform(random, 1, 2), decay: random() < 0.5 ? uniform(random, 0.15, 0.5) : Infinity };
  const pad: Voice = { harmonics: Math.round(uniform(random, 3, 8)), tilt: uniform(random, 1.2, 2.2), decay: random() < 0.3 ? uniform(random, 0.3, 0.8) : Infinity };
  const progression = [0, 7, 9, 5].map((root) => [root, root + (root === 9 ? 3 : 4), root + 7]);
  if (kind !== 'melody' && kind !== 'arpeggio') {
    for (let bar = 0; bar < bars; bar++) {
      for (const interval of progression[bar % 4]!) note(samples, ms(bar * 4 * beatMs), 4 * beatMs, midiHz(key - 12 + interval), 0.35, pad);
    }
  }
  if (kind !== 'chords') {
    let t = 0;
    let degree = Math.floor(random() * 5);
    while (t < durationMs - 1) {
      const lengthMs = kind === 'arpeggio' ? beatMs / 2 : beatMs * pick(random, [0.5, 0.5, 1, 1, 1.5, 2]);
      degree = Math.max(0, Math.min(9, degree + pick(random, [-2, -1, -1, 1, 1, 2, 0])));
      const pitch = key + 12 * Math.floor(degree / 5) + PENTATONIC[degree % 5]!;
      note(samples, ms(t), Math.min(lengthMs, durationMs - t), midiHz(pitch), 0.5, lead);
      t += lengthMs;
    }
  }
  if (kind === 'song+drums') drums(random, samples, beatMs, durationMs);
  // The last notes ring on past the last beat: that is music too.
  return { samples: normalize(samples), spans: [{ startMs: 0, endMs: durationMs + 300 }] };
}

/** Kick on 1 and 3, snare on 2 and 4, hi-hat on every eighth. */
function drums(random: Random, samples: Float32Array, beatMs: number, durationMs: number): void {
  for (let eighth = 0; eighth * (beatMs / 2) < durationMs; eighth++) {
    const from = ms(eighth * (beatMs / 2));
    const beat = eighth / 2;
    for (let i = 0; i < ms(200) && from + i < samples.length; i++) {
      const t = i / RATE;
      let v = 0.15 * Math.exp(-t / 0.012) * gaussian(random); // hi-hat
      if (eighth % 2 === 0 && beat % 2 === 0) v += 0.9 * Math.exp(-t / 0.08) * Math.sin(TAU * (50 + 100 * Math.exp(-t / 0.03)) * t); // kick
      if (eighth % 2 === 0 && beat % 2 === 1) v += 0.5 * Math.exp(-t / 0.05) * (gaussian(random) + Math.sin(TAU * 190 * t)); // snare
      samples[from + i]! += v;
    }
  }
}

// ---- noise ----

export type NoiseColour = 'white' | 'pink' | 'brown';
export const NOISE_COLOURS: readonly NoiseColour[] = ['white', 'pink', 'brown'];

/** Stationary noise of one colour, unit RMS. */
export function noise(random: Random, colour: NoiseColour, durationMs: number): Float32Array {
  const samples = new Float32Array(ms(durationMs));
  let b0 = 0, b1 = 0, b2 = 0, brown = 0; // prettier-ignore
  for (let i = 0; i < samples.length; i++) {
    const w = gaussian(random);
    if (colour === 'white') samples[i] = w;
    else if (colour === 'pink') {
      // Three first-order sections approximating a 1/f slope across the speech band.
      b0 = 0.99765 * b0 + w * 0.099046;
      b1 = 0.963 * b1 + w * 0.2965164;
      b2 = 0.57 * b2 + w * 1.0526913;
      samples[i] = b0 + b1 + b2 + w * 0.1848;
    } else {
      brown = 0.995 * brown + w * 0.1; // leaky integrator: 1/f² above a few Hz
      samples[i] = brown;
    }
  }
  let power = 0;
  for (const v of samples) power += v * v;
  const scale = 1 / Math.sqrt(power / samples.length || 1);
  for (let i = 0; i < samples.length; i++) samples[i]! *= scale;
  return samples;
}

/**
 * RMS of the sound while it sounds (the 10 ms blocks within 30 dB of the loudest; in the manner
 * of ITU-T P.56's active level), so a beeping alarm's level and SNR do not count its gaps.
 */
export function activeRms(samples: Float32Array): number {
  const block = ms(10);
  const powers: number[] = [];
  for (let from = 0; from + block <= samples.length; from += block) {
    let p = 0;
    for (let i = from; i < from + block; i++) p += samples[i]! ** 2;
    powers.push(p / block);
  }
  const loudest = Math.max(0, ...powers);
  const active = powers.filter((p) => p >= loudest / 1000);
  return Math.sqrt(active.reduce((a, b) => a + b, 0) / Math.max(1, active.length));
}

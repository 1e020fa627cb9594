/**
 * Speech and music, from how a sound behaves over the last `windowMs` (in the manner of
 * Scheirer and Slaney's speech/music cues, reduced to what separates them cheaply):
 *
 * - speech comes in syllables: its level swings by many dB several times a second between
 *   active frames, its runs of sound last 100 ms and more (knocks last tens), and its pitch
 *   glides, so its strongest harmonic never holds one frequency for long;
 * - music holds notes (the strongest peak keeps its pitch for 64 ms and more), or sustains
 *   chords (peaks staying put, a level that hardly swings), or keeps a beat (the spectral flux
 *   repeats at a period of 256–960 ms).
 *
 * Judged every 128 ms on the frames 6 dB and more above the noise floor; music must hold for
 * `minMusicMs` before it is reported, and never while an alarm or siren sounds (a steady tone
 * has every cue of a held note).
 */
import { EventSegment } from './event-segments.ts';
import { HOP_MS, type FrameFeatures } from './spectrum.ts';
import type { SoundEvent } from './types.ts';

export interface TextureOptions {
  /** Audio judged at a time, ms. @defaultValue 1500 */
  windowMs: number;
  /** Score at which a window is speech. @defaultValue 0.5 */
  speechThreshold: number;
  /** Score at which a window is music. @defaultValue 0.5 */
  musicThreshold: number;
  /** Music must hold this long before it is reported. @defaultValue 2500 */
  minMusicMs: number;
  /** A segment ends after this long without evidence. @defaultValue 1000 */
  hangoverMs: number;
}

export const defaultTextureOptions = {
  windowMs: 1500,
  speechThreshold: 0.5,
  musicThreshold: 0.5,
  minMusicMs: 2500,
  hangoverMs: 1000,
} as const satisfies TextureOptions;

/** What a window looks like; exported for the benchmark's diagnostics. */
export interface TextureCues {
  /** Share of the window's frames 6 dB and more above the noise floor. */
  activity: number;
  /** Mean |level change| over 64 ms between active frames, dB: syllables swing. */
  swing: number;
  /** Mean persistence of the active frames' spectral peaks (64 ms apart). */
  persistence: number;
  /** The same over the active frames that are not tonal: a voice under a beeping alarm. */
  voicePersistence: number;
  /** Share of active frames that are tonal (one dominant peak). */
  tonal: number;
  /** Mean length of the runs of active frames, ms: syllables last 100–300 ms, knocks tens. */
  runMs: number;
  /** Share of the tonal frames at the most common tonal pitch (±4%): one beeper, not a melody. */
  monotone: number;
  /** Share of active frames whose strongest peak has held its pitch (±1.5%) for 64 ms: notes do, a voice glides. */
  held: number;
  /** Autocorrelation peak of the spectral flux at a beat period (256–960 ms): a rhythm section. */
  beat: number;
}

const EVAL_HOPS = 8;
const ACTIVE_DB = 6;
const MIN_ACTIVITY = 0.25;
const SWING_LAG = 4;
const LOUD_DB = 10;
const HOLD_PROMINENCE_DB = 8;
const HOLD_TOLERANCE = 0.015;
const HOLD_HOPS = 4;
const BEAT_MIN_HOPS = 16; // 256 ms
const BEAT_MAX_HOPS = 60; // 960 ms

const sigmoid = (x: number) => 1 / (1 + Math.exp(-x));

/** How much a window sounds sustained: peaks that stay put and a level that hardly swings (chords, pads). */
function sustained(c: TextureCues): number {
  return sigmoid((c.persistence - 0.65) / 0.05) * sigmoid((3 - c.swing) / 0.5);
}

/**
 * Speech score of a window's cues, in [0, 1]: busy enough, swinging by syllables (not by
 * knocks), its pitch never held, its peaks not all staying, not a tone.
 */
export function speechScore(c: TextureCues): number {
  return (
    sigmoid((c.activity - 0.45) / 0.04) *
    sigmoid((c.swing - 3.5) / 0.8) *
    sigmoid((17 - c.swing) / 1) *
    sigmoid((0.3 - c.held) / 0.05) *
    sigmoid((0.85 - c.voicePersistence) / 0.08) *
    sigmoid((c.runMs - 120) / 30) *
    sigmoid((0.5 - c.tonal) / 0.1) *
    (1 - sustained(c))
  );
}

/** Music score of a window's cues, in [0, 1]: notes held, chords sustained or a steady beat; no syllabic swing; not one beeper's tone. */
export function musicScore(c: TextureCues): number {
  if (c.tonal >= 0.8 && c.monotone >= 0.8) return 0; // a steady tone of one pitch: an alarm's, not a tune
  const notes = sigmoid((c.held - 0.3) / 0.06) * sigmoid((c.persistence - 0.4) / 0.08);
  const rhythm = sigmoid((c.beat - 0.45) / 0.05) * sigmoid((c.persistence - 0.25) / 0.08);
  return Math.max(notes, sustained(c), rhythm) * sigmoid((8 - c.swing) / 1);
}

export class TextureDetector {
  readonly speech: EventSegment;
  readonly music: EventSegment;
  readonly #options: TextureOptions;
  readonly #size: number;
  readonly #db: Float64Array;
  readonly #active: Uint8Array;
  readonly #persistence: Float64Array;
  readonly #tonal: Uint8Array;
  readonly #pitch: Float64Array;
  readonly #held: Uint8Array;
  readonly #flux: Float64Array;
  readonly #series: Float64Array;
  /** Hops the strongest peak has kept its pitch. */
  #holdHops = 0;
  #lastPeakHz = 0;
  readonly #time: Float64Array;
  #at = 0;
  #seen = 0;
  /** Start of the music evidence not yet reported (NaN: none). */
  #musicSinceMs = NaN;
  /** Diagnostics: called with each judged window. */
  onCues: ((cues: TextureCues, endMs: number) => void) | undefined;

  constructor(options: TextureOptions, maxEventMs: number, emit: (event: SoundEvent) => void) {
    this.#options = options;
    this.speech = new EventSegment('speech', maxEventMs, emit);
    this.music = new EventSegment('music', maxEventMs, emit);
    this.#size = Math.max(EVAL_HOPS * 2, Math.round(options.windowMs / HOP_MS));
    this.#db = new Float64Array(this.#size);
    this.#active = new Uint8Array(this.#size);
    this.#persistence = new Float64Array(this.#size);
    this.#tonal = new Uint8Array(this.#size);
    this.#pitch = new Float64Array(this.#size);
    this.#held = new Uint8Array(this.#size);
    this.#flux = new Float64Array(this.#size);
    this.#series = new Float64Array(this.#size);
    this.#time = new Float64Array(this.#size);
  }

  /** Music is playing, or its evidence is building up. */
  get musical(): boolean {
    return this.music.open || !Number.isNaN(this.#musicSinceMs);
  }

  /** One frame: `floorDb` is the noise floor, `tonal` the tonal detector's verdict, `tonalEvent` whether an alarm or siren sounds. */
  frame(f: FrameFeatures, floorDb: number, audible: boolean, tonal: boolean, tonalEvent: boolean): void {
    const i = this.#at;
    this.#db[i] = Math.max(f.db, floorDb);
    this.#active[i] = audible && f.db >= floorDb + ACTIVE_DB ? 1 : 0;
    this.#persistence[i] = f.persistence;
    this.#tonal[i] = tonal ? 1 : 0;
    this.#pitch[i] = f.peakHz;
    const kept = f.peakProminenceDb >= HOLD_PROMINENCE_DB && Math.abs(f.peakHz - this.#lastPeakHz) <= HOLD_TOLERANCE * this.#lastPeakHz;
    this.#holdHops = kept ? this.#holdHops + 1 : 0;
    this.#lastPeakHz = f.peakHz;
    this.#held[i] = this.#holdHops >= HOLD_HOPS ? 1 : 0;
    this.#flux[i] = audible ? f.flux : 0;
    this.#time[i] = f.startMs + HOP_MS / 2;
    this.#at = (i + 1) % this.#size;
    this.#seen++;
    if (tonalEvent) this.#musicSinceMs = NaN;
    if (tonalEvent && this.music.open) this.music.close();
    if (this.#seen >= this.#size && this.#seen % EVAL_HOPS === 0) this.#judge(tonalEvent);
  }

  /** The input ended. */
  end(): void {
    this.speech.close();
    this.music.close();
    this.#musicSinceMs = NaN;
    this.#seen = 0;
  }

  /** Share of the active tonal frames within 4% of the most common tonal pitch (candidates: every 4th such frame). */
  #monotone(): number {
    const n = this.#size;
    let best = 0;
    let total = 0;
    for (let i = 0; i < n; i++) if (this.#active[i] && this.#tonal[i]) total++;
    for (let i = 0; i < n; i += 4) {
      if (!this.#active[i] || !this.#tonal[i]) continue;
      const hz = this.#pitch[i]!;
      let same = 0;
      for (let j = 0; j < n; j++) if (this.#active[j] && this.#tonal[j] && Math.abs(this.#pitch[j]! - hz) <= 0.04 * hz) same++;
      best = Math.max(best, same);
    }
    return total ? best / total : 0;
  }

  /** The flux's normalised autocorrelation, best over beat periods. */
  #beat(): number {
    const n = this.#size;
    const x = this.#series;
    let mean = 0;
    for (let k = 0; k < n; k++) mean += x[k] = this.#flux[(this.#at + k) % n]!;
    mean /= n;
    let energy = 0;
    for (let k = 0; k < n; k++) energy += (x[k]! - mean) ** 2;
    if (energy <= 0) return 0;
    let best = 0;
    for (let lag = BEAT_MIN_HOPS; lag <= Math.min(BEAT_MAX_HOPS, n >> 1); lag++) {
      let r = 0;
      for (let k = lag; k < n; k++) r += (x[k]! - mean) * (x[k - lag]! - mean);
      best = Math.max(best, r / energy);
    }
    return best;
  }

  #judge(tonalEvent: boolean): void {
    const n = this.#size;
    let active = 0;
    let swing = 0;
    let persistence = 0;
    let tonal = 0;
    let voicePersistence = 0;
    let held = 0;
    let runs = 0;
    let swings = 0;
    let activeDb = 0;
    for (let k = 0; k < n; k++) {
      const i = (this.#at + k) % n; // oldest first
      const lagged = (i - SWING_LAG + n) % n;
      // Within the sound: a sound starting or stopping is one swing, not a rhythm.
      if (k >= SWING_LAG && this.#active[i] && this.#active[lagged]) (swing += Math.abs(this.#db[i]! - this.#db[lagged]!)), swings++;
      if (!this.#active[i]) continue;
      if (k === 0 || !this.#active[(i - 1 + n) % n]) runs++;
      active++;
      persistence += this.#persistence[i]!;
      tonal += this.#tonal[i]!;
      if (!this.#tonal[i]) voicePersistence += this.#persistence[i]!;
      held += this.#held[i]!;
      activeDb += this.#db[i]!;
    }
    const nowMs = this.#time[(this.#at - 1 + n) % n]! + HOP_MS;
    const cues: TextureCues = {
      activity: active / n,
      swing: swing / Math.max(1, swings),
      persistence: persistence / Math.max(1, active),
      voicePersistence: voicePersistence / Math.max(1, active - tonal),
      tonal: tonal / Math.max(1, active),
      runMs: (active * HOP_MS) / Math.max(1, runs),
      monotone: this.#monotone(),
      held: held / Math.max(1, active),
      beat: this.#beat(),
    };
    this.onCues?.(cues, nowMs);
    const judged = cues.activity >= MIN_ACTIVITY;
    const speech = judged ? speechScore(cues) : 0;
    const music = judged && !tonalEvent ? musicScore(cues) : 0;
    // Where the sound is: frames within LOUD_DB of the active frames' mean level. Noise that
    // merely clears the floor (brown noise wanders) is not part of it.
    const loudDb = activeDb / Math.max(1, active) - LOUD_DB;
    let firstActiveMs = NaN;
    let lastActiveMs = NaN;
    for (let k = 0; k < n; k++) {
      const i = (this.#at + k) % n;
      if (!this.#active[i] || this.#db[i]! < loudDb) continue;
      if (Number.isNaN(firstActiveMs)) firstActiveMs = this.#time[i]!;
      lastActiveMs = this.#time[i]! + HOP_MS;
    }
    const { speechThreshold, musicThreshold, minMusicMs, hangoverMs } = this.#options;
    const recentMs = nowMs - EVAL_HOPS * HOP_MS; // the part of the window new since the last judgement
    if (speech >= speechThreshold) this.speech.extend(this.speech.open ? Math.max(recentMs, firstActiveMs) : firstActiveMs, lastActiveMs, speech);
    else if (this.speech.open && nowMs - this.speech.endMs > hangoverMs) this.speech.close();
    if (music >= musicThreshold) {
      if (this.music.open) this.music.extend(Math.max(recentMs, firstActiveMs), lastActiveMs, music);
      else {
        if (Number.isNaN(this.#musicSinceMs)) this.#musicSinceMs = firstActiveMs;
        if (lastActiveMs - this.#musicSinceMs >= minMusicMs) this.music.extend(this.#musicSinceMs, lastActiveMs, music);
      }
    } else {
      this.#musicSinceMs = NaN;
      if (this.music.open && nowMs - this.music.endMs > hangoverMs) this.music.close();
    }
  }
}

/**
 * Alarms and sirens: sounds made of one strong narrow spectral peak. A frame is tonal when its
 * strongest component between 300 and 6000 Hz stands far out of its surroundings and holds most
 * of the power; speech, whose harmonics sit close together and move, almost never is.
 *
 * - alarm: the same pitch (450 Hz and up) beeping — at least `minBeeps` bursts of similar
 *   length, each holding its level (a plucked note dies away), with gaps up to `maxBeepGapMs`
 *   in which the level drops (a repeated note over a chord does not) — or one steady tone of
 *   `minToneMs` that rose out of something quieter. Either way with little tonal sound at other
 *   pitches around it: a melody repeats notes too, among other notes. While music plays, a
 *   beeper takes more beeps and a buzzer is not heard.
 * - siren: one tonal run of `minSirenMs` whose pitch keeps moving (most hops, mostly the same
 *   way as the hop before: a sweep, not jitter) over a range of at least `minSirenSweep`,
 *   slowly (wail) or fast (yelp).
 */
import { EventSegment } from './event-segments.ts';
import { FRAME_MS, HOP_MS, type FrameFeatures } from './spectrum.ts';
import type { SoundEvent } from './types.ts';

export interface TonalOptions {
  /** A frame's peak must stand this far (dB) above its spectral surroundings. @defaultValue 15 */
  tonalProminenceDb: number;
  /** …and hold this share of the 150–7000 Hz power. @defaultValue 0.45 */
  tonalShare: number;
  /** Relative pitch difference within which two bursts are the same beep. @defaultValue 0.04 */
  pitchTolerance: number;
  /** Same-pitch bursts that make a beeping alarm. @defaultValue 3 */
  minBeeps: number;
  /** Longest quiet between beeps of one alarm (a T3 smoke alarm pauses 1.5 s). @defaultValue 2000 */
  maxBeepGapMs: number;
  /** A steady tone this long is an alarm on its own (a buzzer). @defaultValue 1000 */
  minToneMs: number;
  /** A sweeping tone this long is a siren. @defaultValue 1000 */
  minSirenMs: number;
  /** Pitch range (max / min − 1) a siren must cover. @defaultValue 0.15 */
  minSirenSweep: number;
}

export const defaultTonalOptions = {
  tonalProminenceDb: 15,
  tonalShare: 0.45,
  pitchTolerance: 0.04,
  minBeeps: 3,
  maxBeepGapMs: 2000,
  minToneMs: 1000,
  minSirenMs: 1000,
  minSirenSweep: 0.15,
} as const satisfies TonalOptions;

/** A stretch of tonal frames at one pitch. */
interface Burst {
  hz: number;
  startMs: number;
  endMs: number;
  frames: number;
  prominence: number; // sum over frames
  level: number; // dB, sum over frames
  /** Level range of its inner frames (the first and last are partly outside it), and the last frame's level, not yet counted. */
  lowDb: number;
  highDb: number;
  lastDb: number;
  /** Consecutive non-tonal frames bridged at its end (at most one). */
  miss: number;
}

/** A stretch of tonal frames at any pitch in the siren range, and how its pitch moved. */
interface Run {
  startMs: number;
  endMs: number;
  lowHz: number;
  highHz: number;
  lastHz: number;
  steps: number;
  moving: number;
  /** Hops whose pitch moved the same way as the hop before: a sweep, not jitter. */
  onward: number;
  lastStep: number;
  miss: number;
}

const HISTORY = 640; // hops: ~10 s of per-frame pitch, for the "other pitches around" check
const MIN_BEEP_MS = 40;
const ALARM_LOW_HZ = 450; // alarms are made to pierce: the low-frequency smoke alarm standard is 520 Hz
const MUSIC_EXTRA_BEEPS = 3;
const DIP_DB = 6; // how much quieter a beeper is between beeps (and before a buzz) than while sounding
const BUZZ_LEAD_MS = 300;
const STEADY_DB = 6;
const MAX_BEEP_MS = 1500;
const OTHER_PITCH_SHARE = 0.3;
const SIREN_LOW_HZ = 350;
const SIREN_HIGH_HZ = 2200;
const SIREN_MOVING = 0.6; // share of hops whose pitch moved
const SIREN_ONWARD = 0.7; // share of those that kept the direction of the move before
const MOVE = 0.003; // a relative pitch change that counts as moving
const SIREN_HANGOVER_MS = 800;
const BURST_KEEP_MS = 12000;

export class TonalDetector {
  readonly alarm: EventSegment;
  readonly siren: EventSegment;
  readonly #options: TonalOptions;
  readonly #pitch = new Float64Array(HISTORY); // NaN: not tonal
  readonly #time = new Float64Array(HISTORY).fill(-Infinity);
  readonly #level = new Float64Array(HISTORY);
  #at = 0;
  #bursts: Burst[] = [];
  #burst: Burst | undefined;
  #run: Run | undefined;
  #alarmHz = NaN;
  #alarmScore = 0;
  #musical = false;

  constructor(options: TonalOptions, maxEventMs: number, emit: (event: SoundEvent) => void) {
    this.#options = options;
    this.alarm = new EventSegment('alarm', maxEventMs, emit, { urgent: true });
    this.siren = new EventSegment('siren', maxEventMs, emit, { urgent: true });
  }

  /** Whether frame `f` (already above the level gates) is tonal. */
  isTonal(f: FrameFeatures): boolean {
    return f.peakProminenceDb >= this.#options.tonalProminenceDb && f.peakShare >= this.#options.tonalShare;
  }

  /** One frame; `audible` says it passed the level gates, `musical` that music is playing. */
  frame(f: FrameFeatures, audible: boolean, musical: boolean): void {
    this.#musical = musical;
    const tonal = audible && this.isTonal(f);
    // Frames stand for their centres: a burst runs from its first frame's centre to its last
    // frame's, as a frame turns tonal once the tone fills about half of it.
    const atMs = f.startMs + FRAME_MS / 2;
    this.#pitch[this.#at] = tonal ? f.peakHz : NaN;
    this.#time[this.#at] = atMs;
    this.#level[this.#at] = f.db;
    this.#at = (this.#at + 1) % HISTORY;
    this.#trackBurst(tonal, f, atMs);
    this.#trackRun(tonal, f.peakHz, atMs);
    if (this.alarm.open && atMs - this.alarm.endMs > this.#options.maxBeepGapMs) this.#closeAlarm();
    if (this.siren.open && atMs - this.siren.endMs > SIREN_HANGOVER_MS) this.siren.close();
  }

  /** The input ended: what is open is reported. */
  end(): void {
    if (this.#burst) this.#finishBurst(this.#burst);
    this.#burst = undefined;
    this.#run = undefined;
    this.#closeAlarm();
    this.siren.close();
  }

  #same(a: number, b: number): boolean {
    return Math.abs(a - b) <= this.#options.pitchTolerance * Math.min(a, b);
  }

  #trackBurst(tonal: boolean, f: FrameFeatures, atMs: number): void {
    const burst = this.#burst;
    if (burst && tonal && this.#same(f.peakHz, burst.hz)) {
      burst.hz += (f.peakHz - burst.hz) / (burst.frames + 1);
      burst.frames++;
      burst.prominence += f.peakProminenceDb;
      burst.level += f.db;
      if (burst.frames > 2) {
        burst.lowDb = Math.min(burst.lowDb, burst.lastDb);
        burst.highDb = Math.max(burst.highDb, burst.lastDb);
      }
      burst.lastDb = f.db;
      burst.endMs = atMs;
      burst.miss = 0;
    } else if (burst && !tonal && burst.miss === 0) {
      burst.miss = 1; // one dropout (noise, a click) does not cut a beep in two
      return;
    } else {
      if (burst) this.#finishBurst(burst);
      this.#burst = tonal ? { hz: f.peakHz, startMs: atMs, endMs: atMs, frames: 1, prominence: f.peakProminenceDb, level: f.db, lowDb: Infinity, highDb: -Infinity, lastDb: f.db, miss: 0 } : undefined;
    }
    const current = this.#burst;
    if (!current || this.siren.open) return;
    if (this.alarm.open && this.#same(current.hz, this.#alarmHz)) {
      this.alarm.extend(current.startMs, current.endMs, this.#alarmScore);
    } else if (!this.alarm.open && !this.#musical && current.hz >= ALARM_LOW_HZ && current.endMs - current.startMs >= this.#options.minToneMs && this.#buzz(current)) {
      this.#openAlarm(current.hz, current.startMs, current.endMs, toneScore(current, this.#options));
    }
  }

  #finishBurst(burst: Burst): void {
    this.#burst = undefined;
    if (burst.frames < 2) return; // a single tonal frame is not a beep
    const now = burst.endMs;
    this.#bursts = this.#bursts.filter((b) => now - b.endMs <= BURST_KEEP_MS);
    this.#bursts.push(burst);
    if (this.siren.open) return;
    const { minBeeps, maxBeepGapMs } = this.#options;
    if (this.alarm.open) {
      if (this.#same(burst.hz, this.#alarmHz)) this.alarm.extend(burst.startMs, burst.endMs, this.#alarmScore);
      return;
    }
    const beep = (b: Burst) => b.endMs - b.startMs >= MIN_BEEP_MS && b.endMs - b.startMs <= MAX_BEEP_MS && steady(b);
    if (!beep(burst) || burst.hz < ALARM_LOW_HZ) return;
    // The beeps of this pitch before it, each close enough to the next.
    const chain = [burst];
    for (let i = this.#bursts.length - 2; i >= 0; i--) {
      const b = this.#bursts[i]!;
      if (!this.#same(b.hz, burst.hz)) continue;
      if (chain[0]!.startMs - b.endMs > maxBeepGapMs || !beep(b)) break;
      chain.unshift(b);
    }
    // Over music a repeated note is common: it takes more beeps (and a buzz is not enough).
    if (chain.length < minBeeps + (this.#musical ? MUSIC_EXTRA_BEEPS : 0)) return;
    const lengths = chain.map((b) => b.endMs - b.startMs);
    if (Math.max(...lengths) > 3 * Math.min(...lengths)) return; // beeps of one alarm are alike
    if (this.#otherPitchShare(chain[0]!.startMs, burst.endMs, burst.hz) > OTHER_PITCH_SHARE) return;
    if (this.#dips(chain) < (2 / 3) * (chain.length - 1)) return;
    this.#openAlarm(burst.hz, chain[0]!.startMs, burst.endMs, beepScore(chain, this.#options));
  }

  #openAlarm(hz: number, startMs: number, endMs: number, score: number): void {
    this.#alarmHz = hz;
    this.#alarmScore = score;
    this.alarm.extend(startMs, endMs, score);
  }

  /** Gaps of the chain where the level fell DIP_DB below its beeps: a beeper goes quiet between beeps, a repeated note over a chord or a voice does not. */
  #dips(chain: Burst[]): number {
    let dips = 0;
    for (let i = 1; i < chain.length; i++) {
      const [a, b] = [chain[i - 1]!, chain[i]!];
      if (this.#quietest(a.endMs, b.startMs) <= (a.level / a.frames + b.level / b.frames) / 2 - DIP_DB) dips++;
    }
    return dips;
  }

  /** A steady tone long enough for a buzzer: it started out of something quieter, and nothing at other pitches played around it (a held note in a melody). */
  #buzz(tone: Burst): boolean {
    const before = this.#quietest(tone.startMs - BUZZ_LEAD_MS, tone.startMs - HOP_MS);
    return steady(tone) && before <= tone.level / tone.frames - DIP_DB && this.#otherPitchShare(tone.startMs - 1500, tone.endMs, tone.hz) <= OTHER_PITCH_SHARE;
  }

  /** The lowest frame level in (fromMs, toMs); −Infinity when no frame was seen there (before the stream began). */
  #quietest(fromMs: number, toMs: number): number {
    let low = Infinity;
    let seen = false;
    for (let i = 0; i < HISTORY; i++) {
      const t = this.#time[i]!;
      if (t <= fromMs || t >= toMs) continue;
      seen = true;
      low = Math.min(low, this.#level[i]!);
    }
    return seen ? low : -Infinity;
  }

  /** Of the tonal frames in [fromMs, toMs], the share at pitches other than `hz`. */
  #otherPitchShare(fromMs: number, toMs: number, hz: number): number {
    let same = 0;
    let other = 0;
    for (let i = 0; i < HISTORY; i++) {
      const t = this.#time[i]!;
      const p = this.#pitch[i]!;
      if (t < fromMs || t > toMs || Number.isNaN(p)) continue;
      // A harmonic of the alarm (a square-wave beeper) is the alarm too.
      if (this.#same(p, hz) || this.#same(p, 2 * hz) || this.#same(p, 3 * hz)) same++;
      else other++;
    }
    return other / Math.max(1, same + other);
  }

  #closeAlarm(): void {
    this.alarm.close();
    this.#alarmHz = NaN;
  }

  #trackRun(tonal: boolean, hz: number, atMs: number): void {
    const inRange = tonal && hz >= SIREN_LOW_HZ && hz <= SIREN_HIGH_HZ;
    let run = this.#run;
    if (!inRange) {
      if (run && ++run.miss > 3) this.#run = undefined;
      return;
    }
    if (!run) {
      this.#run = { startMs: atMs, endMs: atMs, lowHz: hz, highHz: hz, lastHz: hz, steps: 0, moving: 0, onward: 0, lastStep: 0, miss: 0 };
      return;
    }
    run.steps++;
    const step = hz - run.lastHz;
    if (Math.abs(step) > MOVE * run.lastHz) {
      run.moving++;
      if (Math.sign(step) === Math.sign(run.lastStep)) run.onward++;
      run.lastStep = step;
    }
    run.lastHz = hz;
    run.lowHz = Math.min(run.lowHz, hz);
    run.highHz = Math.max(run.highHz, hz);
    run.endMs = atMs;
    run.miss = 0;
    const { minSirenMs, minSirenSweep } = this.#options;
    const sweeping = run.highHz / run.lowHz - 1 >= minSirenSweep && run.moving >= SIREN_MOVING * run.steps && run.onward >= SIREN_ONWARD * run.moving;
    if (this.siren.open || (run.endMs - run.startMs >= minSirenMs && sweeping)) {
      if (!this.siren.open) this.#closeAlarm(); // its steady moments were not an alarm
      this.siren.extend(run.startMs, run.endMs, Math.min(1, 0.5 + (run.endMs - run.startMs) / 6000 + (run.moving / Math.max(1, run.steps) - SIREN_MOVING)));
    }
  }
}

/** An electronic beeper holds its level through a beep; a plucked or struck note dies away. */
function steady(burst: Burst): boolean {
  return burst.highDb - burst.lowDb <= STEADY_DB || burst.frames <= 3;
}

/** More beeps and a cleaner peak, more confidence. */
function beepScore(chain: Burst[], options: TonalOptions): number {
  const prominence = chain.reduce((s, b) => s + b.prominence / b.frames, 0) / chain.length;
  const count = Math.min(1, 0.6 + 0.1 * (chain.length - options.minBeeps + 1));
  return count * Math.min(1, Math.max(0.6, 0.6 + (prominence - options.tonalProminenceDb) / 50));
}

function toneScore(burst: Burst, options: TonalOptions): number {
  const length = Math.min(1, 0.5 + (burst.endMs - burst.startMs) / 4000);
  return length * Math.min(1, Math.max(0.6, 0.6 + (burst.prominence / burst.frames - options.tonalProminenceDb) / 50));
}

/**
 * Knocks and bangs: short transients. A transient jumps well above the level of the 100 ms
 * before it (within two hops), is not tonal (a beep starts as fast), and then:
 *
 * - knock-like: falls at once — `quickFallDb` within 32 ms of its peak and `decayDb` within
 *   80 ms. A knock on wood dies in tens of ms; a syllable rises as fast but holds its vowel.
 * - bang-like: jumps `bangJumpDb`, is noise-like at its peak (flat spectrum, not all hiss: not a
 *   fricative) and falls `decayDb` within 250 ms.
 *
 * Two knock-like transients within `maxKnockGapMs` make a knock; a single one must jump
 * `bangJumpDb`, as must a bang. While music plays nothing is reported: drums are transients too.
 * Syllables still slip through now and then: the stream drops knocks heard inside speech.
 */
import { EventSegment } from './event-segments.ts';
import { FRAME_MS, HOP_MS, type FrameFeatures } from './spectrum.ts';
import type { SoundEvent } from './types.ts';

export interface KnockOptions {
  /** Rise above the level of the 100 ms before, dB, for a transient. @defaultValue 12 */
  jumpDb: number;
  /** Rise for a single transient to count on its own (a bang, one loud knock). @defaultValue 25 */
  bangJumpDb: number;
  /** Fall from the peak 32 ms later, dB, for a knock. @defaultValue 6 */
  quickFallDb: number;
  /** Fall from the peak, dB: within 80 ms for a knock, 250 ms for a bang. @defaultValue 12 */
  decayDb: number;
  /** Longest time between two knocks of one knocking. @defaultValue 1200 */
  maxKnockGapMs: number;
}

export const defaultKnockOptions = {
  jumpDb: 12,
  bangJumpDb: 25,
  quickFallDb: 6,
  decayDb: 12,
  maxKnockGapMs: 1200,
} as const satisfies KnockOptions;

interface Candidate {
  startMs: number;
  jumpDb: number;
  peakDb: number;
  /** Hops since the onset frame, and the hop of the peak. */
  age: number;
  peakAge: number;
  /** The peak frame looked like noise (a bang), not a tone nor hiss. */
  noisy: boolean;
  knockLike: boolean;
}

interface Transient {
  startMs: number;
  endMs: number;
  jumpDb: number;
}

const RECENT = 8; // hops of level kept: the onset's reference is hops −6..−2
const PEAK_HOPS = 2; // the peak may fall in the frame after the onset
const QUICK_HOPS = 2; // 32 ms: the frame after the peak frame no longer overlaps it
const KNOCK_HOPS = 5; // 80 ms
const BANG_HOPS = 15; // 250 ms
const BANG_FLATNESS = 0.25;
const BANG_MAX_HISS = 0.6;

export class TransientDetector {
  readonly knock: EventSegment;
  readonly #options: KnockOptions;
  readonly #levels = new Float64Array(RECENT).fill(-120);
  #at = 0;
  #candidate: Candidate | undefined;
  #lone: Transient | undefined;
  #knocks = 0;

  constructor(options: KnockOptions, maxEventMs: number, emit: (event: SoundEvent) => void) {
    this.#options = options;
    this.knock = new EventSegment('knock', maxEventMs, emit);
  }

  /** The level h hops ago (1 = the previous frame). */
  #level(h: number): number {
    return this.#levels[(this.#at - h + RECENT * 2) % RECENT]!;
  }

  /** One frame: `audible` passed the level gates, `tonal` is the tonal detector's verdict, `musical` says music is playing. */
  frame(f: FrameFeatures, audible: boolean, tonal: boolean, musical: boolean): void {
    // A transient loud enough to count would have shown in the frame before had it begun in
    // this frame's first half: it began in the second, whose middle is its best estimate.
    const fromMs = f.startMs + FRAME_MS - HOP_MS / 2;
    const toMs = fromMs + HOP_MS / 2;
    if (this.#candidate) this.#follow(f, toMs);
    else if (audible && !tonal && !musical) {
      let reference = Infinity;
      for (let h = 2; h <= 6; h++) reference = Math.min(reference, this.#level(h));
      const jump = f.db - reference;
      if (jump >= this.#options.jumpDb && f.db - this.#level(2) >= 10) {
        this.#candidate = { startMs: fromMs, jumpDb: jump, peakDb: f.db, age: 0, peakAge: 0, noisy: isNoisy(f), knockLike: false };
      }
    }
    this.#levels[this.#at] = f.db;
    this.#at = (this.#at + 1) % RECENT;
    if (this.knock.open && toMs - this.knock.endMs > this.#options.maxKnockGapMs) this.#close();
    if (this.#lone && toMs - this.#lone.endMs > this.#options.maxKnockGapMs) this.#lone = undefined;
  }

  /** The input ended. */
  end(): void {
    this.#candidate = undefined;
    this.#lone = undefined;
    this.#close();
  }

  /** Music started: what was heard so far may have been its drums. */
  suppress(): void {
    this.#candidate = undefined;
    this.#lone = undefined;
  }

  /** Follows the pending transient's fall; confirms or drops it. */
  #follow(f: FrameFeatures, toMs: number): void {
    const c = this.#candidate!;
    c.age++;
    if (c.age <= PEAK_HOPS && f.db > c.peakDb) {
      c.jumpDb += f.db - c.peakDb; // the jump is to the peak
      c.peakDb = f.db;
      c.peakAge = c.age;
      c.noisy = isNoisy(f);
      return;
    }
    const since = c.age - c.peakAge;
    const fall = c.peakDb - f.db;
    const { quickFallDb, decayDb, bangJumpDb } = this.#options;
    if (since === QUICK_HOPS && fall >= quickFallDb) c.knockLike = true;
    const bangLike = c.noisy && c.jumpDb >= bangJumpDb;
    if (fall >= decayDb && ((c.knockLike && since <= KNOCK_HOPS) || bangLike)) {
      this.#candidate = undefined;
      this.#transient({ startMs: c.startMs, endMs: toMs, jumpDb: c.jumpDb }, bangLike && !c.knockLike);
    } else if ((since >= QUICK_HOPS && !c.knockLike && !bangLike) || since >= BANG_HOPS || (since > KNOCK_HOPS && !bangLike)) {
      this.#candidate = undefined;
    }
  }

  #transient(t: Transient, bang: boolean): void {
    const { bangJumpDb } = this.#options;
    if (this.knock.open) {
      this.#knocks++;
      this.knock.extend(t.startMs, t.endMs, knockScore(this.#knocks));
    } else if (this.#lone && !bang) {
      this.#knocks = 2;
      this.knock.extend(this.#lone.startMs, t.endMs, knockScore(this.#knocks));
      this.#lone = undefined;
    } else if (t.jumpDb >= bangJumpDb) {
      this.#knocks = 1;
      this.knock.extend(t.startMs, t.endMs, Math.min(0.9, 0.4 + (t.jumpDb - bangJumpDb) / 40));
    } else {
      this.#lone = t;
    }
  }

  #close(): void {
    this.knock.close();
    this.#knocks = 0;
  }
}

/** Noise-like: a flat spectrum that is not mostly hiss (a fricative is). */
function isNoisy(f: FrameFeatures): boolean {
  return f.flatness >= BANG_FLATNESS && f.highShare <= BANG_MAX_HISS;
}

function knockScore(knocks: number): number {
  return Math.min(0.95, 0.5 + 0.12 * knocks);
}

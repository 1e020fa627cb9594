/**
 * One label's open segment, cut into events: a detector extends it as evidence comes in and
 * ends it when the sound is gone; listeners get a piece every `maxEventMs` while it lasts (so a
 * long alarm is known within seconds) and the rest when it ends. A piece is only reported once
 * the evidence reaches its end, so no event claims time the sound may not fill. An urgent
 * segment (alarms, sirens) also reports what it knows the moment it opens.
 */
import type { SoundEvent } from './types.ts';

export class EventSegment {
  readonly label: string;
  readonly #maxEventMs: number;
  readonly #emit: (event: SoundEvent) => void;
  /** Start of the part not yet reported; NaN while closed. */
  #pieceStartMs = NaN;
  #startMs = NaN;
  #endMs = NaN;
  /** Duration-weighted score of the evidence in the unreported part. */
  #scoreSum = 0;
  #scoreMs = 0;
  readonly #urgent: boolean;

  constructor(label: string, maxEventMs: number, emit: (event: SoundEvent) => void, { urgent = false }: { urgent?: boolean } = {}) {
    this.label = label;
    this.#maxEventMs = maxEventMs;
    this.#emit = emit;
    this.#urgent = urgent;
  }

  get open(): boolean {
    return !Number.isNaN(this.#pieceStartMs);
  }

  /** Where the segment started (media ms); NaN while closed. */
  get startMs(): number {
    return this.#startMs;
  }

  /** Where the evidence ends so far (media ms); NaN while closed. */
  get endMs(): number {
    return this.#endMs;
  }

  /** The sound is there over [startMs, endMs] with this score. Opens the segment at `startMs` when closed. */
  extend(startMs: number, endMs: number, score: number): void {
    const opening = !this.open;
    if (opening) {
      this.#pieceStartMs = startMs;
      this.#startMs = startMs;
      this.#endMs = endMs;
    } else if (endMs <= this.#endMs) {
      return;
    }
    const ms = Math.max(1, endMs - Math.max(startMs, this.#endMs, this.#pieceStartMs));
    this.#scoreSum += score * ms;
    this.#scoreMs += ms;
    this.#endMs = Math.max(this.#endMs, endMs);
    while (this.#endMs - this.#pieceStartMs >= this.#maxEventMs) {
      this.#report(this.#pieceStartMs + this.#maxEventMs);
      this.#pieceStartMs += this.#maxEventMs;
    }
    // An alarm confirmed after its third beep is news now, not at the next full piece.
    if (opening && this.#urgent && this.#endMs > this.#pieceStartMs) {
      this.#report(this.#endMs);
      this.#pieceStartMs = this.#endMs;
    }
  }

  /** The sound has ended (at the evidence's end): reports what was not yet reported. */
  close(): void {
    if (!this.open) return;
    if (this.#endMs > this.#pieceStartMs) this.#report(this.#endMs);
    this.#pieceStartMs = NaN;
    this.#startMs = NaN;
    this.#endMs = NaN;
    this.#scoreSum = 0;
    this.#scoreMs = 0;
  }

  #report(endMs: number): void {
    const score = this.#scoreMs > 0 ? this.#scoreSum / this.#scoreMs : 0;
    this.#emit({ label: this.label, startMs: Math.round(this.#pieceStartMs), endMs: Math.round(endMs), score: Math.round(Math.min(1, Math.max(0, score)) * 1000) / 1000 });
    // The score of evidence straddling the cut carries on into the next piece.
    this.#scoreSum = score;
    this.#scoreMs = 1;
  }
}

/**
 * The server_vad turn policy: turns per-frame speech probabilities into speech start and
 * stop decisions on the media clock. Pure and synchronous, so it is testable alone.
 */
export interface ServerVadOptions {
  /** Speech probability at or above which a frame counts as speech. @defaultValue 0.5 */
  threshold: number;
  /** Audio kept before the detected start of speech. @defaultValue 300 */
  prefixPaddingMs: number;
  /** Silence that ends a turn. @defaultValue 500 */
  silenceDurationMs: number;
  /** Consecutive speech needed before speech counts as started (filters clicks). @defaultValue 64 */
  minSpeechMs: number;
}

export const defaultServerVadOptions = {
  threshold: 0.5,
  prefixPaddingMs: 300,
  silenceDurationMs: 500,
  minSpeechMs: 64,
} as const satisfies ServerVadOptions;

export type SegmenterEvent =
  | { type: 'speech_started'; audioStartMs: number; decidedAtMs: number }
  | { type: 'speech_stopped'; audioEndMs: number; decidedAtMs: number };

export class SpeechSegmenter {
  #options: ServerVadOptions;
  #speaking = false;
  #runStartMs = -1; // first frame of the current run of speech frames
  #silenceStartMs = -1; // first silent frame after speech

  constructor(options: Partial<ServerVadOptions> = {}) {
    this.#options = { ...defaultServerVadOptions, ...options };
  }

  get options(): Readonly<ServerVadOptions> {
    return this.#options;
  }

  get speaking(): boolean {
    return this.#speaking;
  }

  /** Where the silence after speech began (media ms), or undefined while speech goes on or before it. */
  get silentSinceMs(): number | undefined {
    return this.#speaking && this.#silenceStartMs >= 0 ? this.#silenceStartMs : undefined;
  }

  configure(options: Partial<ServerVadOptions>): void {
    this.#options = { ...this.#options, ...options };
  }

  /**
   * Feeds one frame: its start time, its length and its speech probability. Hysteresis:
   * once speaking, a frame stays speech down to threshold − 0.15, as Silero recommends.
   */
  push(frameStartMs: number, frameMs: number, probability: number): SegmenterEvent | undefined {
    const { threshold, silenceDurationMs, minSpeechMs } = this.#options;
    const frameEndMs = frameStartMs + frameMs;
    if (!this.#speaking) {
      if (probability >= threshold) {
        if (this.#runStartMs < 0) this.#runStartMs = frameStartMs;
        if (frameEndMs - this.#runStartMs >= minSpeechMs) {
          this.#speaking = true;
          this.#silenceStartMs = -1;
          return { type: 'speech_started', audioStartMs: this.#runStartMs, decidedAtMs: frameEndMs };
        }
      } else {
        this.#runStartMs = -1;
      }
      return undefined;
    }
    if (probability >= Math.max(0.01, threshold - 0.15)) {
      this.#silenceStartMs = -1;
      return undefined;
    }
    if (this.#silenceStartMs < 0) this.#silenceStartMs = frameStartMs;
    if (frameEndMs - this.#silenceStartMs >= silenceDurationMs) {
      const audioEndMs = this.#silenceStartMs;
      this.reset();
      return { type: 'speech_stopped', audioEndMs, decidedAtMs: frameEndMs };
    }
    return undefined;
  }

  reset(): void {
    this.#speaking = false;
    this.#runStartMs = -1;
    this.#silenceStartMs = -1;
  }
}

/** When the user's speech stops the assistant's answer (barge-in). */
export interface InterruptionOptions {
  /** `turn_detection.interrupt_response`: detected speech cancels the answer in flight. @defaultValue true */
  interruptResponse: boolean;
  /** Pause the answer's audio at the first sign of speech, before the VAD confirms it. @defaultValue true */
  pauseOnOnset: boolean;
  /** With no speech confirmed this long (media ms) after the pause, the answer resumes. @defaultValue 300 */
  falseInterruptionMs: number;
  /** …unless the VAD still hears something like speech; then it waits up to this long. @defaultValue 600 */
  maxPauseMs: number;
  /** Speech probability under which a frame is not speech (the VAD threshold). @defaultValue 0.5 */
  threshold: number;
}

export const defaultInterruptionOptions: InterruptionOptions = { interruptResponse: true, pauseOnOnset: true, falseInterruptionMs: 300, maxPauseMs: 600, threshold: 0.5 };

export interface InterruptionContext {
  /** An answer is being produced or played. */
  responseActive: boolean;
  /** The speech was detected by VAD (manual turns never interrupt). */
  detected: boolean;
}

/** What the policy asks of the answer in flight. */
export type InterruptionAction = 'pause' | 'resume' | 'cancel' | undefined;

/**
 * The barge-in policy, in LiveKit's way: a possible onset pauses the answer's audio at once;
 * the VAD's start of speech cancels it; no speech within `falseInterruptionMs` (a cough, a
 * door) resumes it where it paused. Decisions run on the media clock, so they are the same
 * live and in tests.
 */
export class InterruptionPolicy {
  #options: InterruptionOptions;
  /** Media ms of the onset that paused the answer, while it is paused. */
  #pausedAtMs: number | undefined;

  constructor(options: Partial<InterruptionOptions> = {}) {
    this.#options = { ...defaultInterruptionOptions, ...options };
  }

  configure(options: Partial<InterruptionOptions>): void {
    this.#options = { ...this.#options, ...options };
  }

  get paused(): boolean {
    return this.#pausedAtMs !== undefined;
  }

  /** A possible start of speech at media `atMs` (not yet confirmed by the VAD). */
  onOnset(atMs: number, context: { responseActive: boolean }): InterruptionAction {
    const o = this.#options;
    if (!o.interruptResponse || !o.pauseOnOnset || !context.responseActive || this.paused) return undefined;
    this.#pausedAtMs = atMs;
    return 'pause';
  }

  /** Called at the start of speech: whether to cancel the answer now, before anything else is sent. */
  onStartOfSpeech(context: InterruptionContext): InterruptionAction {
    this.#pausedAtMs = undefined;
    return this.#options.interruptResponse && context.detected && context.responseActive ? 'cancel' : undefined;
  }

  /**
   * Every VAD frame: a speech-like frame pauses the answer too (an onset the loudness missed, or
   * speech going on after a resume); while paused, resume once it is clear nobody started talking.
   */
  onVadFrame(frameEndMs: number, probability: number, context: { responseActive: boolean }): InterruptionAction {
    const since = this.#pausedAtMs;
    if (since === undefined) return probability >= this.#options.threshold ? this.onOnset(frameEndMs, context) : undefined;
    const waited = frameEndMs - since;
    const quiet = probability < this.#options.threshold;
    if ((waited >= this.#options.falseInterruptionMs && quiet) || waited >= this.#options.maxPauseMs) {
      this.#pausedAtMs = undefined;
      return 'resume';
    }
    return undefined;
  }

  /** The answer ended or was cancelled otherwise: nothing is paused any more. */
  reset(): void {
    this.#pausedAtMs = undefined;
  }
}

/** When the user's speech stops the assistant's answer (barge-in). */
export interface InterruptionOptions {
  /** `turn_detection.interrupt_response`: detected speech cancels the answer in flight. @defaultValue true */
  interruptResponse: boolean;
}

export const defaultInterruptionOptions: InterruptionOptions = { interruptResponse: true };

export interface InterruptionContext {
  /** An answer is being produced or played. */
  responseActive: boolean;
  /** The speech was detected by VAD (manual turns never interrupt). */
  detected: boolean;
}

/** The barge-in policy: today the Realtime rule; false interruptions and resume plug in here. */
export class InterruptionPolicy {
  #options: InterruptionOptions;

  constructor(options: Partial<InterruptionOptions> = {}) {
    this.#options = { ...defaultInterruptionOptions, ...options };
  }

  configure(options: Partial<InterruptionOptions>): void {
    this.#options = { ...this.#options, ...options };
  }

  /** Called at the start of speech: whether to cancel the answer now, before anything else is sent. */
  onStartOfSpeech(context: InterruptionContext): boolean {
    return this.#options.interruptResponse && context.detected && context.responseActive;
  }
}

/**
 * How a language model server fails us, the waits that decide it, and the words the assistant
 * says instead of an answer. No dependencies: the settings table reads the defaults from here.
 */

export interface LlmTimeouts {
  /**
   * The longest wait from asking to the answer's first token: connecting, the server queueing
   * the request, and the model reading the prompt. It covers the retry too, so the person never
   * waits longer than this for a first word. @defaultValue 15000
   */
  firstTokenTimeoutMs: number;
  /** The longest silence between two pieces of a streaming answer once it has begun. @defaultValue 10000 */
  idleTimeoutMs: number;
}

export const defaultLlmTimeouts = {
  firstTokenTimeoutMs: 15_000,
  idleTimeoutMs: 10_000,
} as const satisfies LlmTimeouts;

/**
 * - `refused`: the server said no (HTTP 429 or 5xx) or could not be reached;
 * - `timeout`: no first token within `firstTokenTimeoutMs`;
 * - `stalled`: the stream went silent for `idleTimeoutMs` after it had begun;
 * - `error`: anything else (a 4xx, a broken stream).
 */
export type LlmFailureKind = 'refused' | 'timeout' | 'stalled' | 'error';

const APOLOGIES: Record<LlmFailureKind, string> = {
  refused: 'Sorry, the language model is not available right now.',
  timeout: 'Sorry, the language model did not answer in time.',
  stalled: 'Sorry, the language model stopped answering.',
  error: 'Sorry, the language model could not answer.',
};

/** The language model did not give (all of) an answer. `code` travels to the client. */
export class LanguageModelError extends Error {
  override name = 'LanguageModelError';

  constructor(
    readonly kind: LlmFailureKind,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }

  /** The client-visible error code: llm_refused, llm_timeout, llm_stalled, llm_error. */
  get code(): string {
    return `llm_${this.kind}`;
  }

  /** What the assistant says in place of the answer (or after the part that came). */
  get apology(): string {
    return APOLOGIES[this.kind];
  }
}

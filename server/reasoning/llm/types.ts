import type { TranscriptLog } from '../../../memory/index.ts';

export interface ChatMessage {
  role: 'system' | 'user' | 'assistant';
  content: string;
}

/** What a reasoner gets for one turn. */
export interface ReasonerRequest {
  question: string;
  /** The question's own utterance id, so memory search can leave it out. */
  questionId?: string;
  /** Earlier turns of this session, oldest first. */
  conversation: ChatMessage[];
  /** Everything heard and said so far in this session. */
  transcript: TranscriptLog;
  /** Session instructions (session.update `instructions`), if any. */
  instructions?: string;
  /** Media time of the question, ms. */
  nowMs: number;
}

export interface Reasoner {
  readonly name: string;
  /** False for the embedded answerer: it never pretends a language model answered. */
  readonly usesLanguageModel: boolean;
  /** Streams the answer as text deltas. Stops promptly when `signal` aborts. */
  respond(request: ReasonerRequest, signal: AbortSignal): AsyncIterable<string>;
  /** Whether the utterance is addressed to the assistant (LLM instruction check). */
  isInstruction?(text: string, signal: AbortSignal): Promise<boolean>;
  close(): Promise<void>;
}

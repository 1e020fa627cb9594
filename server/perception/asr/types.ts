/**
 * Speech recognition engines. A session owns one AsrRecognizer and decodes one
 * utterance at a time: start() → accept()* → finish() (or cancel()).
 * Audio is always 16 kHz mono pcm16.
 */
export interface AsrEngine {
  readonly name: string;
  /** One recognizer per session; it keeps decoder state between utterances. */
  createRecognizer(): Promise<AsrRecognizer>;
  /** Idempotent. Recognizers still open are closed too. */
  close(): Promise<void>;
}

export interface AsrResult {
  text: string;
  /** Wall-clock ms the engine spent on finish() (decode of the tail + final search). */
  computeMs: number;
}

export interface AsrRecognizer {
  readonly closed: boolean;
  /** Begins a new utterance; a running one is dropped. */
  start(): void;
  /**
   * Feeds audio of the current utterance. Resolves to the current partial hypothesis
   * ('' when the engine has none or does not produce partials). Calls are serialized.
   */
  accept(pcm: Int16Array): Promise<string>;
  /** Ends the utterance and resolves to the final hypothesis. */
  finish(signal?: AbortSignal): Promise<AsrResult>;
  /** Drops the current utterance without a result. */
  cancel(): void;
  /** Idempotent; frees the decoder. */
  close(): void;
}

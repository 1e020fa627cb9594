export interface SpeechAudio {
  /** Mono pcm16. */
  pcm: Int16Array;
  sampleRate: number;
}

export interface TtsEngine {
  readonly name: string;
  /** The voices this engine has, when it knows them; session.update is checked against it. */
  readonly voices?: readonly string[];
  /** Speaks one sentence. Rejects with an AbortError when `signal` aborts. */
  synthesize(text: string, options?: SynthesizeOptions): Promise<SpeechAudio>;
  /** Idempotent. */
  close(): Promise<void>;
}

export interface SynthesizeOptions {
  signal?: AbortSignal;
  /** Engine voice; the engine's default when absent. */
  voice?: string;
}

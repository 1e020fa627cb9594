/** A voice activity detector as a session uses it; Silero is the one shipped. */
export interface VadEngine {
  readonly name: string;
  /** One stream per session: it carries the model's recurrent state between frames. */
  createStream(): VadStream;
}

export interface VadStream {
  /** Speech probability of one 512-sample 16 kHz frame (float samples in [-1, 1]). */
  probability(frame: Float32Array): Promise<number>;
  reset(): void;
}

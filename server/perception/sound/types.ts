/**
 * Sound events: non-speech (and speech/music) sounds heard in the session's audio, labelled
 * with their media times. An engine is shared by all sessions; each session opens a stream.
 */

/**
 * Labels the default (signal-processing) detector can tell apart. A model engine may report
 * other AudioSet labels too, by their AudioSet display name.
 */
export const SOUND_LABELS = ['alarm', 'siren', 'knock', 'music', 'speech'] as const;
export type SoundLabel = (typeof SOUND_LABELS)[number];

export interface SoundEvent {
  /** One of SOUND_LABELS, or (model engines) another AudioSet display name, lower case. */
  label: string;
  /** Media ms of the session's input (the same clock as transcripts and clips). */
  startMs: number;
  endMs: number;
  /** Confidence in [0, 1]. */
  score: number;
}

export interface SoundEventSink {
  /** A finished segment, or a piece of a long one (at most `maxEventMs` each). */
  onEvent(event: SoundEvent): void;
  /** Engine failure (e.g. the model's worker died): the stream stops reporting. */
  onError(error: unknown): void;
}

/** One session's view of the engine: 16 kHz mono pcm16 in, in media order, events out through the sink. */
export interface SoundEventStream {
  /** Audio starting at media time `startMs`. Cheap and non-blocking: heavy work is deferred or off-thread. */
  push(pcm16k: Int16Array, startMs: number): void;
  /** Reports what is still open (the input ended) and resolves when every pushed sample was analysed. */
  flush(): Promise<void>;
  close(): void;
}

export interface SoundEventEngine {
  /** e.g. 'signal' or 'onnx:<file name>' */
  readonly name: string;
  /** Labels this engine may report. */
  readonly labels: readonly string[];
  open(sink: SoundEventSink): SoundEventStream;
  close(): Promise<void>;
}

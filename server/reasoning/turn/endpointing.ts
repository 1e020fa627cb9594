import { SpeechSegmenter, defaultServerVadOptions, type SegmenterEvent, type ServerVadOptions } from '../../perception/vad/index.ts';

/** How a session decides where a user's turn starts and ends (`audio.input.turn_detection`). */
export type EndpointingMode = 'server_vad' | 'manual';

/**
 * An end-of-turn policy. It sees every frame's speech probability and, for policies that read
 * words, every ASR partial; it answers with speech started / stopped decisions on the media clock.
 */
export interface Endpointing {
  readonly mode: EndpointingMode;
  /** Whether it needs VAD probabilities (manual turns do not: all audio is the turn). */
  readonly usesVad: boolean;
  /** Whether the user is speaking now, as far as this policy knows. */
  readonly speaking: boolean;
  /** Audio kept before the detected start of speech. */
  readonly prefixPaddingMs: number;
  push(frameStartMs: number, frameMs: number, probability: number): SegmenterEvent | undefined;
  /** The words heard so far in the open turn (every ASR partial). */
  onTranscript(partial: string): void;
  reset(): void;
}

export type ServerVadEndpointingOptions = ServerVadOptions;
export const defaultServerVadEndpointingOptions: ServerVadEndpointingOptions = { ...defaultServerVadOptions };

/** `server_vad`: a fixed silence after speech ends the turn, whatever the words. */
export class ServerVadEndpointing implements Endpointing {
  readonly mode = 'server_vad';
  readonly usesVad = true;
  readonly #segmenter: SpeechSegmenter;

  constructor(options: Partial<ServerVadEndpointingOptions> = {}) {
    this.#segmenter = new SpeechSegmenter({ ...defaultServerVadEndpointingOptions, ...options });
  }

  get speaking(): boolean {
    return this.#segmenter.speaking;
  }

  get prefixPaddingMs(): number {
    return this.#segmenter.options.prefixPaddingMs;
  }

  configure(options: Partial<ServerVadEndpointingOptions>): void {
    this.#segmenter.configure(options);
  }

  push(frameStartMs: number, frameMs: number, probability: number): SegmenterEvent | undefined {
    return this.#segmenter.push(frameStartMs, frameMs, probability);
  }

  onTranscript(_partial: string): void {} // silence alone decides

  reset(): void {
    this.#segmenter.reset();
  }
}

/** `turn_detection: null`: every appended sound is the turn; `input_audio_buffer.commit` ends it. */
export class ManualEndpointing implements Endpointing {
  readonly mode = 'manual';
  readonly usesVad = false;
  readonly speaking = false;
  readonly prefixPaddingMs = 0;
  push(): undefined {
    return undefined;
  }
  onTranscript(): void {}
  reset(): void {}
}

/** The policy for a turn_detection setting; reuses `current` when only its options change. */
export function createEndpointing(settings: Partial<ServerVadEndpointingOptions> | null, current?: Endpointing): Endpointing {
  if (settings === null) return current?.mode === 'manual' ? current : new ManualEndpointing();
  if (current instanceof ServerVadEndpointing) {
    current.configure(settings);
    return current;
  }
  return new ServerVadEndpointing(settings);
}

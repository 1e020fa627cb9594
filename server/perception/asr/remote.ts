import OpenAI, { toFile } from 'openai';
import { concatPcm, encodeWav } from '../../audio/pcm.ts';
import type { AsrEngine, AsrRecognizer, AsrResult } from './types.ts';

export interface RemoteAsrOptions {
  baseURL: string;
  model: string;
  apiKey?: string;
  language?: string;
}

/** Any OpenAI-compatible `/v1/audio/transcriptions` server: no partials, the whole utterance at the end. */
export class RemoteAsrEngine implements AsrEngine {
  readonly name: string;
  readonly #client: OpenAI;

  constructor(readonly options: RemoteAsrOptions) {
    this.name = `remote:${options.model}`;
    this.#client = new OpenAI({ baseURL: options.baseURL, apiKey: options.apiKey || 'none', maxRetries: 1, timeout: 60_000 });
  }

  async createRecognizer(): Promise<AsrRecognizer> {
    return new RemoteRecognizer(this.#client, this.options);
  }

  async close(): Promise<void> {}
}

class RemoteRecognizer implements AsrRecognizer {
  #parts: Int16Array[] = [];
  #closed = false;

  constructor(
    readonly client: OpenAI,
    readonly options: RemoteAsrOptions,
  ) {}

  get closed(): boolean {
    return this.#closed;
  }

  start(): void {
    this.#parts = [];
  }

  async accept(pcm: Int16Array): Promise<string> {
    this.#parts.push(pcm);
    return '';
  }

  async finish(signal?: AbortSignal): Promise<AsrResult> {
    const started = performance.now();
    const audio = concatPcm(this.#parts);
    this.#parts = [];
    const file = await toFile(encodeWav(audio, 16000), 'utterance.wav', { type: 'audio/wav' });
    const result = await this.client.audio.transcriptions.create(
      { file, model: this.options.model, ...(this.options.language ? { language: this.options.language } : {}) },
      { signal },
    );
    return { text: result.text.trim(), computeMs: performance.now() - started };
  }

  cancel(): void {
    this.#parts = [];
  }

  close(): void {
    this.#closed = true;
    this.#parts = [];
  }
}

import OpenAI from 'openai';
import { parseWav } from '../../audio/pcm.ts';
import type { SpeechAudio, SynthesizeOptions, TtsEngine } from './types.ts';

export interface RemoteTtsOptions {
  baseURL: string;
  model: string;
  voice: string;
  apiKey?: string;
}

/** Any OpenAI-compatible `/v1/audio/speech` server. WAV is asked for, so the rate is known. */
export class RemoteTts implements TtsEngine {
  readonly name: string;
  readonly #client: OpenAI;

  constructor(readonly options: RemoteTtsOptions) {
    this.name = `remote:${options.model}`;
    this.#client = new OpenAI({ baseURL: options.baseURL, apiKey: options.apiKey || 'none', maxRetries: 1, timeout: 30_000 });
  }

  async synthesize(text: string, { signal, voice = this.options.voice }: SynthesizeOptions = {}): Promise<SpeechAudio> {
    const response = await this.#client.audio.speech.create(
      { model: this.options.model, voice, input: text, response_format: 'wav' },
      { signal },
    );
    const wav = parseWav(new Uint8Array(await response.arrayBuffer()));
    if (wav.channels !== 1) throw new Error(`speech server returned ${wav.channels} channels; need mono`);
    return { pcm: wav.samples, sampleRate: wav.sampleRate };
  }

  async close(): Promise<void> {}
}

import { Resampler } from '../audio/resampler.ts';
import { decodeAudio, type AudioEncoding } from '../audio/g711.ts';
import type { AsrEngine } from '../perception/asr/types.ts';
import { SILERO_SAMPLE_RATE } from '../perception/vad/index.ts';
import type { Utterance } from '../../memory/index.ts';
import { serverFailure, type ServerEventBody } from '../protocol/server-events.ts';
import type { NewItem } from '../protocol/client-events.ts';
import type { Conversation } from './conversation.ts';

export interface ItemTranscriptsHost {
  readonly closed: boolean;
  readonly conversation: Conversation;
  /** The session's input format: item audio comes in it. */
  readonly inputFormat: { encoding: AudioEncoding; rate: number };
  emit(event: ServerEventBody): void;
  remember(utterance: Utterance): void;
}

/**
 * Audio a client puts inside a conversation item (an `input_audio` part with bytes and no
 * transcript) is transcribed here, apart from the live microphone's recognizer; answers wait
 * for these transcripts before they read the conversation.
 */
export class ItemTranscripts {
  readonly #asr: AsrEngine;
  readonly #host: ItemTranscriptsHost;
  readonly #pending = new Set<Promise<void>>();

  constructor(asr: AsrEngine, host: ItemTranscriptsHost) {
    this.#asr = asr;
    this.#host = host;
  }

  /** Starts transcribing the audio parts of a user message just added as `itemId`. */
  start(itemId: string, item: NewItem, atMs: number): void {
    if (item.type !== 'message' || item.role !== 'user') return;
    item.content.forEach((part, index) => {
      if (part.type !== 'input_audio' || !part.audio || part.transcript) return;
      this.transcribe(part.audio, this.#host.inputFormat, (result) => this.#heard(itemId, index, atMs, result));
    });
  }

  /** A transcript is in: the item gets its words, the client is told, memory keeps it. */
  #heard(itemId: string, index: number, atMs: number, result: { text: string } | { error: unknown }): void {
    const host = this.#host;
    if (host.closed) return;
    if ('error' in result) {
      return host.emit({ type: 'conversation.item.input_audio_transcription.failed', item_id: itemId, content_index: index, error: serverFailure('transcription_failed', result.error) });
    }
    const item = host.conversation.get(itemId);
    if (item?.type === 'message') host.conversation.setContent(itemId, item.content.map((p, i) => (i === index ? { type: 'input_audio', transcript: result.text } : p)));
    host.emit({ type: 'conversation.item.input_audio_transcription.completed', item_id: itemId, content_index: index, transcript: result.text, usage: { type: 'duration', seconds: 0 } });
    if (result.text) host.remember({ id: itemId, role: 'user', text: result.text, startMs: atMs, endMs: atMs });
  }

  /** Transcribes `audio` (base64, in the session's input format); `done` gets the text or the failure. */
  transcribe(audio: string, format: { encoding: AudioEncoding; rate: number }, done: (result: { text: string } | { error: unknown }) => void): void {
    const job = (async () => {
      const pcm = Resampler.convert(decodeAudio(Buffer.from(audio, 'base64'), format.encoding), format.rate, SILERO_SAMPLE_RATE);
      const recognizer = await this.#asr.createRecognizer();
      try {
        recognizer.start();
        await recognizer.accept(pcm);
        return (await recognizer.finish()).text.trim();
      } finally {
        recognizer.close();
      }
    })().then(
      (text) => done({ text }),
      (error) => done({ error }),
    );
    this.#pending.add(job);
    job.finally(() => this.#pending.delete(job));
  }

  /** Resolves once every transcription started so far has finished. */
  async settled(): Promise<void> {
    while (this.#pending.size) await Promise.all(this.#pending);
  }
}

import { concatPcm, pcm16ToBase64, samplesToMs } from '../audio/pcm.ts';
import { Resampler } from '../audio/resampler.ts';
import { isAbortError } from '../errors.ts';
import type { Reasoner, ReasonerRequest } from '../reasoning/index.ts';
import { SentenceChunker, type TtsEngine } from '../speech/index.ts';
import { AsyncQueue, sleep } from './async-queue.ts';
import { newId } from './ids.ts';
import type { ServerEventBody } from './types.ts';

export type ResponseStatus = 'in_progress' | 'completed' | 'cancelled' | 'failed';
export type CancelReason = 'turn_detected' | 'client_cancelled' | 'session_closed';

/** Wall-clock marks (performance.now()) of one turn, filled in as it progresses. */
export interface TurnTimings {
  speechEnd?: number;
  endOfTurn?: number;
  asrFinal?: number;
  asrComputeMs?: number;
  responseStart?: number;
  retrieved?: number;
  firstLlmToken?: number;
  firstTtsAudio?: number;
  firstTtsComputeMs?: number;
  firstAudioDelta?: number;
}

export interface ResponseOptions {
  reasoner: Reasoner;
  tts: TtsEngine;
  voice: string;
  request: ReasonerRequest;
  modalities: ('text' | 'audio')[];
  outputRate: number;
  /** Live sessions keep at most this much audio ahead of the client's playback, so a
   *  barge-in leaves little to flush. 0: send as fast as it is made (media clock). */
  audioLeadMs: number;
  timings: TurnTimings;
  emit: (event: ServerEventBody) => void;
  /** Fills in what takes time to gather (memory, frames), inside the response so it can be cancelled. */
  prepare?: () => Promise<Partial<ReasonerRequest>>;
}

/** Send audio in pieces of this length: small enough to stop promptly. */
const AUDIO_DELTA_MS = 100;

/**
 * One assistant answer: LLM stream → sentences → TTS → audio deltas, cancellable at any
 * point. After cancel() not one more event of this response goes out.
 */
export class Response {
  readonly id = newId('resp');
  readonly itemId = newId('item');
  readonly #options: ResponseOptions;
  readonly #abort = new AbortController();
  #status: ResponseStatus = 'in_progress';
  #text = '';
  #spoken = '';
  #audioMs = 0;
  #firstAudioWall = 0;
  #done: Promise<void> | undefined;

  constructor(options: ResponseOptions) {
    this.#options = options;
  }

  get status(): ResponseStatus {
    return this.#status;
  }

  get text(): string {
    return this.#text;
  }

  /** Text whose audio was sent (all of it for a text-only response). */
  get spokenText(): string {
    return this.#options.modalities.includes('audio') ? this.#spoken : this.#text;
  }

  get timings(): TurnTimings {
    return this.#options.timings;
  }

  /** How much of the sent audio the client has had time to play, by the wall clock. */
  get heardMs(): number {
    if (!this.#firstAudioWall) return 0;
    return Math.min(this.#audioMs, performance.now() - this.#firstAudioWall);
  }

  start(): Promise<void> {
    this.#done ??= this.#run();
    return this.#done;
  }

  /** Idempotent; emits response.done with status cancelled at once. */
  cancel(reason: CancelReason): void {
    if (this.#status !== 'in_progress') return;
    this.#status = 'cancelled';
    this.#abort.abort(new DOMException(`response cancelled: ${reason}`, 'AbortError'));
    this.#options.emit({ type: 'response.done', response: this.#describe({ type: 'cancelled', reason }) });
  }

  #emit(event: ServerEventBody): void {
    if (this.#status === 'in_progress') this.#options.emit(event);
  }

  async #run(): Promise<void> {
    const { modalities, timings } = this.#options;
    const signal = this.#abort.signal;
    const audio = modalities.includes('audio');
    const part = audio ? { type: 'audio', transcript: '' } : { type: 'text', text: '' };
    const ids = { response_id: this.id, item_id: this.itemId, output_index: 0, content_index: 0 };
    this.#emit({ type: 'response.created', response: this.#describe() });
    this.#emit({ type: 'response.output_item.added', response_id: this.id, output_index: 0, item: this.#item('in_progress') });
    this.#emit({ type: 'conversation.item.added', previous_item_id: null, item: this.#item('in_progress') });
    this.#emit({ type: 'response.content_part.added', ...ids, part });
    timings.responseStart = performance.now();
    const sentences = new AsyncQueue<string>();
    try {
      if (this.#options.prepare) {
        Object.assign(this.#options.request, await this.#options.prepare());
        timings.retrieved = performance.now();
        if (signal.aborted) return;
      }
      const speaking = audio ? this.#speak(sentences, signal) : Promise.resolve();
      speaking.catch(() => {}); // awaited below; keeps an early rejection from going unhandled
      const chunker = new SentenceChunker();
      for await (const delta of this.#options.reasoner.respond(this.#options.request, signal)) {
        if (signal.aborted) break;
        timings.firstLlmToken ??= performance.now();
        this.#text += delta;
        this.#emit({ type: 'response.output_text.delta', ...ids, delta });
        for (const s of chunker.push(delta)) sentences.push(s);
      }
      for (const s of chunker.flush()) sentences.push(s);
      sentences.close();
      await speaking;
      if (this.#status !== 'in_progress') return;
      if (audio) {
        this.#emit({ type: 'response.output_audio.done', ...ids });
        this.#emit({ type: 'response.output_audio_transcript.done', ...ids, transcript: this.#spoken.trim() });
      }
      this.#emit({ type: 'response.output_text.done', ...ids, text: this.#text });
      this.#emit({ type: 'response.content_part.done', ...ids, part: audio ? { type: 'audio', transcript: this.#spoken.trim() } : { type: 'text', text: this.#text } });
      this.#emit({ type: 'response.output_item.done', response_id: this.id, output_index: 0, item: this.#item('completed') });
      this.#emit({ type: 'conversation.item.done', previous_item_id: null, item: this.#item('completed') });
      this.#status = 'completed';
      this.#options.emit({ type: 'response.done', response: this.#describe() });
    } catch (error) {
      sentences.close();
      if (this.#status !== 'in_progress' || isAbortError(error)) return;
      this.#status = 'failed';
      const message = error instanceof Error ? error.message : String(error);
      this.#options.emit({ type: 'error', error: { type: 'server_error', code: 'response_failed', message } });
      this.#options.emit({ type: 'response.done', response: this.#describe({ type: 'failed', error: { type: 'server_error', message } }) });
    }
  }

  /** Synthesizes sentences in order while the LLM keeps streaming, and sends the audio. */
  async #speak(sentences: AsyncQueue<string>, signal: AbortSignal): Promise<void> {
    const { tts, voice, outputRate, audioLeadMs, timings } = this.#options;
    const ids = { response_id: this.id, item_id: this.itemId, output_index: 0, content_index: 0 };
    for await (const sentence of sentences) {
      const started = performance.now();
      const speech = await tts.synthesize(sentence, { signal, voice });
      if (signal.aborted) return;
      if (timings.firstTtsAudio === undefined) {
        timings.firstTtsAudio = performance.now();
        timings.firstTtsComputeMs = timings.firstTtsAudio - started;
      }
      const words = `${sentence} `;
      this.#spoken += words;
      this.#emit({ type: 'response.output_audio_transcript.delta', ...ids, delta: words });
      // Resample piece by piece: the first piece goes out without waiting for the whole sentence.
      const resampler = new Resampler(speech.sampleRate, outputRate);
      const piece = Math.round((speech.sampleRate * AUDIO_DELTA_MS) / 1000);
      for (let i = 0; i < speech.pcm.length; i += piece) {
        let chunk = resampler.process(speech.pcm.subarray(i, i + piece));
        if (i + piece >= speech.pcm.length) chunk = concatPcm([chunk, resampler.flush()]);
        if (chunk.length === 0) continue;
        if (audioLeadMs > 0 && this.#firstAudioWall) {
          const ahead = this.#audioMs - (performance.now() - this.#firstAudioWall);
          if (ahead > audioLeadMs) await sleep(ahead - audioLeadMs, signal);
        }
        if (signal.aborted) return;
        this.#emit({ type: 'response.output_audio.delta', ...ids, delta: pcm16ToBase64(chunk) });
        if (!this.#firstAudioWall) {
          this.#firstAudioWall = performance.now();
          timings.firstAudioDelta = this.#firstAudioWall;
        }
        this.#audioMs += samplesToMs(chunk.length, outputRate);
      }
    }
  }

  #item(status: 'in_progress' | 'completed' | 'incomplete') {
    const audio = this.#options.modalities.includes('audio');
    const content = audio ? [{ type: 'output_audio', transcript: this.#spoken.trim() }] : [{ type: 'output_text', text: this.#text }];
    return { id: this.itemId, object: 'realtime.item', type: 'message', role: 'assistant', status, content };
  }

  #describe(statusDetails: Record<string, unknown> | null = null) {
    return {
      object: 'realtime.response',
      id: this.id,
      status: this.#status,
      status_details: statusDetails,
      output: this.#status === 'in_progress' ? [] : [this.#item(this.#status === 'completed' ? 'completed' : 'incomplete')],
      output_modalities: this.#options.modalities,
      audio: { output: { format: { type: 'audio/pcm', rate: this.#options.outputRate } } },
      metadata: {
        reasoner: this.#options.reasoner.name,
        language_model: this.#options.reasoner.usesLanguageModel,
        audio_sent_ms: Math.round(this.#audioMs),
        ...(this.#status === 'cancelled' ? { audio_heard_ms: Math.round(this.heardMs) } : {}),
      },
      usage: null,
    };
  }
}

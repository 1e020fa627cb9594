import { concatPcm, pcm16ToBase64, samplesToMs } from '../audio/pcm.ts';
import { Resampler } from '../audio/resampler.ts';
import { isAbortError } from '../errors.ts';
import type { Reasoner, ReasonerRequest } from '../reasoning/index.ts';
import { SentenceChunker, type TtsEngine } from '../speech/index.ts';
import { AsyncQueue, sleep } from './async-queue.ts';
import { newId } from './ids.ts';
import { wireItem, type ResponsePart, type ResponseStatus, type ServerEventBody, type WireItem, type WireResponse } from '../protocol/server-events.ts';

export type { ResponseStatus };
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
  prepare?: (signal: AbortSignal) => Promise<Partial<ReasonerRequest>>;
  /** The conversation item the answer follows (`conversation.item.added`). */
  previousItemId?: string | null;
}

/** Send audio in pieces of this length: small enough to stop promptly. */
const AUDIO_DELTA_MS = 100;

/**
 * One assistant message of a response's output: text, or audio with its transcript. A
 * response holds a list of output items; tool calls will be items of their own beside these.
 */
class MessageOutput {
  readonly id = newId('item');
  text = '';
  /** Text whose audio was sent. */
  spoken = '';

  constructor(
    readonly outputIndex: number,
    readonly audio: boolean,
  ) {}

  ref(responseId: string) {
    return { response_id: responseId, item_id: this.id, output_index: this.outputIndex, content_index: 0 };
  }

  part(): ResponsePart {
    return this.audio ? { type: 'audio', transcript: this.spoken.trim() } : { type: 'text', text: this.text };
  }

  wire(status: WireItem['status']): WireItem {
    return wireItem(this.id, 'assistant', status, this.audio ? [{ type: 'output_audio', transcript: this.spoken.trim() }] : [{ type: 'output_text', text: this.text }]);
  }
}

/**
 * One assistant answer: reasoner stream → sentences → TTS → audio deltas, cancellable at any
 * point. After cancel() not one more event of this response goes out.
 */
export class Response {
  readonly id = newId('resp');
  readonly #options: ResponseOptions;
  readonly #abort = new AbortController();
  readonly #outputs: MessageOutput[];
  #status: ResponseStatus = 'in_progress';
  #audioMs = 0;
  #firstAudioWall = 0;
  #done: Promise<void> | undefined;

  constructor(options: ResponseOptions) {
    this.#options = options;
    // The answer's message exists from the start, so the conversation can place it at once.
    this.#outputs = [new MessageOutput(0, options.modalities.includes('audio'))];
  }

  get status(): ResponseStatus {
    return this.#status;
  }

  /** The answer's message item. */
  get itemId(): string {
    return this.#message.id;
  }

  get text(): string {
    return this.#message.text;
  }

  /** Whether the answer is spoken (audio) or text only. */
  get speaks(): boolean {
    return this.#message.audio;
  }

  /** Text whose audio was sent (all of it for a text-only response). */
  get spokenText(): string {
    return this.#message.audio ? this.#message.spoken : this.#message.text;
  }

  get timings(): TurnTimings {
    return this.#options.timings;
  }

  /** How much of the sent audio the client has had time to play, by the wall clock. */
  get heardMs(): number {
    if (!this.#firstAudioWall) return 0;
    return Math.min(this.#audioMs, performance.now() - this.#firstAudioWall);
  }

  get #message(): MessageOutput {
    return this.#outputs[0]!;
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
    const { timings } = this.#options;
    const signal = this.#abort.signal;
    const message = this.#message;
    const ids = message.ref(this.id);
    this.#emit({ type: 'response.created', response: this.#describe() });
    this.#emit({ type: 'response.output_item.added', response_id: this.id, output_index: message.outputIndex, item: message.wire('in_progress') });
    this.#emit({ type: 'conversation.item.added', previous_item_id: this.#options.previousItemId ?? null, item: message.wire('in_progress') });
    this.#emit({ type: 'response.content_part.added', ...ids, part: message.part() });
    timings.responseStart = performance.now();
    const sentences = new AsyncQueue<string>();
    try {
      if (this.#options.prepare) {
        Object.assign(this.#options.request, await this.#options.prepare(signal));
        timings.retrieved = performance.now();
        if (signal.aborted) return;
      }
      const speaking = message.audio ? this.#speak(message, sentences, signal) : Promise.resolve();
      speaking.catch(() => {}); // awaited below; keeps an early rejection from going unhandled
      const chunker = new SentenceChunker();
      for await (const delta of this.#options.reasoner.respond(this.#options.request, signal)) {
        if (signal.aborted) break;
        timings.firstLlmToken ??= performance.now();
        message.text += delta.text;
        this.#emit({ type: 'response.output_text.delta', ...ids, delta: delta.text });
        for (const s of chunker.push(delta.text)) sentences.push(s);
      }
      for (const s of chunker.flush()) sentences.push(s);
      sentences.close();
      await speaking;
      if (this.#status !== 'in_progress') return;
      if (message.audio) {
        this.#emit({ type: 'response.output_audio.done', ...ids });
        this.#emit({ type: 'response.output_audio_transcript.done', ...ids, transcript: message.spoken.trim() });
      }
      this.#emit({ type: 'response.output_text.done', ...ids, text: message.text });
      this.#emit({ type: 'response.content_part.done', ...ids, part: message.part() });
      this.#emit({ type: 'response.output_item.done', response_id: this.id, output_index: message.outputIndex, item: message.wire('completed') });
      this.#emit({ type: 'conversation.item.done', previous_item_id: this.#options.previousItemId ?? null, item: message.wire('completed') });
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

  /** Synthesizes sentences in order while the reasoner keeps streaming, and sends the audio. */
  async #speak(message: MessageOutput, sentences: AsyncQueue<string>, signal: AbortSignal): Promise<void> {
    const { tts, voice, outputRate, audioLeadMs, timings } = this.#options;
    const ids = message.ref(this.id);
    for await (const sentence of sentences) {
      const started = performance.now();
      const speech = await tts.synthesize(sentence, { signal, voice });
      if (signal.aborted) return;
      if (timings.firstTtsAudio === undefined) {
        timings.firstTtsAudio = performance.now();
        timings.firstTtsComputeMs = timings.firstTtsAudio - started;
      }
      const words = `${sentence} `;
      message.spoken += words;
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

  #describe(statusDetails: WireResponse['status_details'] = null): WireResponse {
    const itemStatus = this.#status === 'completed' ? 'completed' : 'incomplete';
    return {
      object: 'realtime.response',
      id: this.id,
      status: this.#status,
      status_details: statusDetails,
      output: this.#status === 'in_progress' ? [] : this.#outputs.map((o) => o.wire(itemStatus)),
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

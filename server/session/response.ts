import { concatPcm, samplesToMs } from '../audio/pcm.ts';
import { encodeAudio, type AudioEncoding } from '../audio/g711.ts';
import { Resampler } from '../audio/resampler.ts';
import { isAbortError } from '../errors.ts';
import type { ChatMessage, Reasoner, ReasonerDelta, ReasonerRequest } from '../reasoning/index.ts';
import { LanguageModelError } from '../reasoning/llm/failures.ts';
import type { ServerTool } from '../reasoning/tools/server-tools.ts';
import { SentenceChunker, type TtsEngine } from '../speech/index.ts';
import { AsyncQueue, sleep } from './async-queue.ts';
import { OutputGate } from './output-gate.ts';
import { FunctionCallOutput, MessageOutput, type OutputItem } from './output-items.ts';
import { newId } from './ids.ts';
import { serverError, wireFormat, type ItemStatus, type ResponseStatus, type ServerEventBody, type WireItem, type WireResponse } from '../protocol/server-events.ts';

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
  /** The answer was prepared during the user's pause, before the turn was confirmed. */
  speculative?: boolean;
  /** Answers prepared for earlier pauses of the turn and dropped when the user went on. */
  speculationDiscarded?: number;
}

export interface ResponseOptions {
  reasoner: Reasoner;
  tts: TtsEngine;
  voice: string;
  request: ReasonerRequest;
  modalities: ('text' | 'audio')[];
  outputRate: number;
  /** How answer audio is sent: pcm16, or G.711 for telephony. @defaultValue 'pcm16' */
  outputEncoding?: AudioEncoding;
  /** Live sessions keep at most this much audio ahead of the client's playback, so a
   *  barge-in leaves little to flush. 0: send as fast as it is made (media clock). */
  audioLeadMs: number;
  timings: TurnTimings;
  emit: (event: ServerEventBody) => void;
  /** Fills in what takes time to gather (memory, frames), inside the response so it can be cancelled. */
  prepare?: (signal: AbortSignal) => Promise<Partial<ReasonerRequest>>;
  /**
   * Where the answer's items go as they appear: `add` places one in the conversation and returns
   * the id it follows; `done` gives its final state. Absent for an out-of-band response
   * (`conversation: "none"`), whose items stay outside the conversation.
   */
  conversation?: { add(item: WireItem): string | null; done(item: WireItem): void };
  /** The client's metadata for this response, echoed in it. */
  metadata?: Record<string, string>;
  /** Tools the server runs itself (by name); their calls never reach the client. */
  serverTools?: ReadonlyMap<string, ServerTool>;
  /** Prepared during the user's pause: nothing is sent until release(). */
  held?: boolean;
}

/** Rounds of server tool calls one answer may take before it must speak. */
const MAX_TOOL_ROUNDS = 3;

/** Send audio in pieces of this length: small enough to stop promptly. */
const AUDIO_DELTA_MS = 100;


/**
 * One assistant answer: reasoner stream → output items (a message: sentences → TTS → audio
 * deltas; tool calls: arguments) in the order the model makes them, cancellable at any point.
 * After cancel() not one more event of this response goes out but the ends of what was open.
 */
export class Response {
  readonly id = newId('resp');
  readonly #options: ResponseOptions;
  readonly #abort = new AbortController();
  readonly #gate: OutputGate;
  readonly #outputs: OutputItem[] = [];
  /** The client's tool calls of this round, by the model's index. */
  readonly #calls = new Map<number, FunctionCallOutput>();
  /** The server's own tool calls of this round, by the model's index. */
  readonly #serverCalls = new Map<number, { callId: string; name: string; arguments: string }>();
  #status: ResponseStatus = 'in_progress';
  #audioMs = 0;
  #firstAudioWall = 0;
  #done: Promise<void> | undefined;
  /** Tokens over all of the answer's model calls, when the model server reports them. */
  #usage: { input: number; output: number } | undefined;

  constructor(options: ResponseOptions) {
    this.#options = options;
    this.#gate = new OutputGate(options.held ?? false);
  }

  /** Prepared during a pause and not yet released: nothing of it was sent. */
  get held(): boolean {
    return this.#gate.held;
  }

  /** Whether its audio is paused (a possible barge-in is being checked). */
  get paused(): boolean {
    return this.#gate.paused;
  }

  get status(): ResponseStatus {
    return this.#status;
  }

  /** The answer's message item, once it has begun. */
  get itemId(): string | undefined {
    return this.#messageOutput()?.id;
  }

  get text(): string {
    return this.#messageOutput()?.text ?? '';
  }

  /** Whether the answer is spoken (audio) or text only. */
  get speaks(): boolean {
    return this.#options.modalities.includes('audio');
  }

  /** Text whose audio was sent (all of it for a text-only response). */
  get spokenText(): string {
    const message = this.#messageOutput();
    if (!message) return '';
    return message.audio ? message.spoken : message.text;
  }

  /** The tool calls the model made, in order. */
  get calls(): readonly { itemId: string; callId: string; name: string; arguments: string }[] {
    return this.#outputs.filter((o) => o instanceof FunctionCallOutput).map((o) => ({ itemId: o.id, callId: o.callId, name: o.name, arguments: o.arguments }));
  }

  get timings(): TurnTimings {
    return this.#options.timings;
  }

  /** How much of the sent audio the client has had time to play, by the wall clock. */
  get heardMs(): number {
    if (!this.#firstAudioWall) return 0;
    return Math.min(this.#audioMs, (this.#gate.pausedAt || performance.now()) - this.#firstAudioWall);
  }

  /** Audio sent so far, ms. */
  get audioSentMs(): number {
    return this.#audioMs;
  }

  /** The message item as it stands (for conversation.item.retrieve), or undefined if not this response's. */
  wireItem(itemId: string): WireItem | undefined {
    const output = this.#outputs.find((o) => o.id === itemId);
    return output?.wire(this.#status === 'in_progress' ? 'in_progress' : this.#status === 'completed' ? 'completed' : 'incomplete');
  }

  /** conversation.item.truncate on this response's message: the client kept `audioEndMs` of it. */
  truncate(itemId: string, audioEndMs: number): WireItem | undefined {
    const message = this.#outputs.find((o): o is MessageOutput => o.id === itemId && o instanceof MessageOutput);
    if (!message) return undefined;
    message.truncatedAtMs = Math.min(audioEndMs, this.#audioMs);
    return message.wire(this.#status === 'completed' ? 'completed' : 'incomplete');
  }

  start(): Promise<void> {
    this.#done ??= this.#run();
    return this.#done;
  }

  /** The turn it was prepared for is confirmed: what it made so far goes out now, then the rest. */
  release(timings: TurnTimings): void {
    Object.assign(this.#options.timings, timings, { speculative: true });
    this.#gate.release();
  }

  /** Stops its audio from the next piece, while a possible barge-in is checked. */
  pauseAudio(): boolean {
    if (this.#status !== 'in_progress' || this.#gate.held || !this.speaks || !this.#gate.pause()) return false;
    this.#options.emit({ type: 'omnilive.output_audio.paused', response_id: this.id, item_id: this.itemId ?? null, audio_ms: Math.round(this.#audioMs), reason: 'speech_onset' });
    return true;
  }

  /** Nobody was talking: audio goes on from where it paused, in the same answer. */
  resumeAudio(): void {
    if (!this.#gate.paused) return;
    const pausedMs = this.#gate.resume();
    if (this.#firstAudioWall) this.#firstAudioWall += pausedMs; // the client's playback paused too
    if (this.#status === 'in_progress') this.#options.emit({ type: 'omnilive.output_audio.resumed', response_id: this.id, item_id: this.itemId ?? null, paused_ms: Math.round(pausedMs) });
  }

  /**
   * Idempotent; closes what was open as incomplete and emits response.done (cancelled) at once.
   * A held answer was never seen: it ends without a word.
   */
  cancel(reason: CancelReason): void {
    if (this.#status !== 'in_progress') return;
    this.#status = 'cancelled';
    if (this.#gate.held) {
      this.#gate.drop();
      this.#abort.abort(new DOMException(`prepared answer dropped: ${reason}`, 'AbortError'));
      return;
    }
    this.#abort.abort(new DOMException(`response cancelled: ${reason}`, 'AbortError'));
    for (const output of this.#outputs) this.#finishItem(output, 'incomplete', (event) => this.#options.emit(event));
    this.#options.emit({ type: 'response.done', response: this.#describe({ type: 'cancelled', reason }) });
  }

  #emit(event: ServerEventBody): void {
    if (this.#status === 'in_progress') this.#gate.send(() => this.#options.emit(event));
  }

  #messageOutput(): MessageOutput | undefined {
    return this.#outputs.find((o): o is MessageOutput => o instanceof MessageOutput);
  }

  /** Announces a new output item, in the response and (unless out of band) the conversation. */
  #addItem<T extends OutputItem>(output: T): T {
    this.#outputs.push(output);
    const item = output.wire('in_progress');
    this.#emit({ type: 'response.output_item.added', response_id: this.id, output_index: output.outputIndex, item });
    const conversation = this.#options.conversation;
    // A held answer's items join the conversation when it is released, after the question.
    if (conversation && this.#status === 'in_progress') this.#gate.send(() => this.#options.emit({ type: 'conversation.item.added', previous_item_id: conversation.add(item), item }));
    return output;
  }

  /** The message, begun at its first words. */
  #message(): MessageOutput {
    const existing = this.#messageOutput();
    if (existing) return existing;
    const message = this.#addItem(new MessageOutput(this.#outputs.length, this.speaks));
    this.#emit({ type: 'response.content_part.added', ...message.ref(this.id), part: message.part() });
    return message;
  }

  /**
   * The done events of one output item; `emit` decides whether they may still go out. `said`:
   * a message's words all went out (an apology ending a failed answer), so they get their done events.
   */
  #finishItem(output: OutputItem, status: ItemStatus, emit: (event: ServerEventBody) => void, said = status === 'completed'): void {
    const item = output.wire(status);
    if (output instanceof MessageOutput) {
      const ids = output.ref(this.id);
      if (said) {
        if (output.audio) {
          emit({ type: 'response.output_audio.done', ...ids });
          emit({ type: 'response.output_audio_transcript.done', ...ids, transcript: output.spoken.trim() });
        }
        emit({ type: 'response.output_text.done', ...ids, text: output.text });
      }
      emit({ type: 'response.content_part.done', ...ids, part: output.part() });
    } else if (status === 'completed') {
      emit({ type: 'response.function_call_arguments.done', response_id: this.id, item_id: output.id, output_index: output.outputIndex, call_id: output.callId, name: output.name, arguments: output.arguments });
    }
    emit({ type: 'response.output_item.done', response_id: this.id, output_index: output.outputIndex, item });
    const conversation = this.#options.conversation;
    if (conversation) {
      conversation.done(item);
      emit({ type: 'conversation.item.done', previous_item_id: null, item });
    }
  }

  /** A piece of a tool call from the reasoner: the first piece of a call opens its item. */
  #toolCall(delta: Extract<ReasonerDelta, { type: 'tool_call' }>): void {
    const serverCall = this.#serverCalls.get(delta.index);
    if (serverCall || (!this.#calls.has(delta.index) && delta.name && this.#options.serverTools?.has(delta.name))) {
      if (serverCall) serverCall.arguments += delta.arguments;
      else this.#serverCalls.set(delta.index, { callId: delta.callId ?? newId('call'), name: delta.name!, arguments: delta.arguments });
      return;
    }
    let call = this.#calls.get(delta.index);
    if (!call) {
      call = this.#addItem(new FunctionCallOutput(this.#outputs.length, delta.callId ?? newId('call'), delta.name ?? ''));
      this.#calls.set(delta.index, call);
    }
    if (!delta.arguments) return;
    call.arguments += delta.arguments;
    this.#emit({ type: 'response.function_call_arguments.delta', response_id: this.id, item_id: call.id, output_index: call.outputIndex, call_id: call.callId, delta: delta.arguments });
  }

  async #run(): Promise<void> {
    const { timings } = this.#options;
    const signal = this.#abort.signal;
    this.#emit({ type: 'response.created', response: this.#describe() });
    timings.responseStart = performance.now();
    const sentences = new AsyncQueue<string>();
    let speaking: Promise<void> = Promise.resolve();
    try {
      if (this.#options.prepare) {
        Object.assign(this.#options.request, await this.#options.prepare(signal));
        timings.retrieved = performance.now();
        if (signal.aborted) return;
      }
      const chunker = new SentenceChunker();
      /** Words of the answer's message: shown as they come, spoken sentence by sentence. */
      const say = (text: string) => {
        const begun = this.#messageOutput() !== undefined;
        const message = this.#message();
        if (!begun && message.audio) {
          speaking = this.#speak(message, sentences, signal);
          speaking.catch(() => {}); // awaited below; keeps an early rejection from going unhandled
        }
        message.text += text;
        this.#emit({ type: 'response.output_text.delta', ...message.ref(this.id), delta: text });
        for (const s of chunker.push(text)) sentences.push(s);
      };
      let modelFailure: LanguageModelError | undefined;
      try {
        for (let round = 0; round < MAX_TOOL_ROUNDS && !signal.aborted; round++) {
          this.#calls.clear();
          this.#serverCalls.clear();
          for await (const delta of this.#options.reasoner.respond(this.#options.request, signal)) {
            if (signal.aborted) break;
            timings.firstLlmToken ??= performance.now();
            if (delta.type === 'tool_call') {
              this.#toolCall(delta);
              continue;
            }
            if (delta.type === 'usage') {
              this.#usage = { input: (this.#usage?.input ?? 0) + delta.inputTokens, output: (this.#usage?.output ?? 0) + delta.outputTokens };
              continue;
            }
            say(delta.text);
          }
          // The server's own tools: run them and ask again with their results, unless the client has calls to run.
          if (this.#serverCalls.size === 0 || this.#calls.size > 0 || signal.aborted) break;
          await this.#runServerTools(signal);
        }
      } catch (error) {
        // The model refused, timed out or stalled: the person hears a short apology (after what
        // came of the answer), and the response then fails with the model's error code.
        if (!(error instanceof LanguageModelError) || signal.aborted) throw error;
        modelFailure = error;
        const sofar = this.#messageOutput()?.text.trim() ?? '';
        say(`${sofar ? (/[.!?]$/.test(sofar) ? ' ' : '... ') : ''}${error.apology}`);
      }
      for (const s of chunker.flush()) sentences.push(s);
      sentences.close();
      await speaking;
      await this.#gate.audio(signal); // a held answer ends only once it is the answer
      if (this.#status !== 'in_progress') return;
      if (modelFailure) return this.#fail(modelFailure, true);
      for (const output of this.#outputs) this.#finishItem(output, 'completed', (event) => this.#emit(event));
      this.#status = 'completed';
      this.#options.emit({ type: 'response.done', response: this.#describe() });
    } catch (error) {
      sentences.close();
      if (this.#status !== 'in_progress' || isAbortError(error)) return;
      this.#fail(error, false);
    }
  }

  /**
   * Ends the answer as failed: its items incomplete (a message that was fully said still gets
   * its done events), an `error` event whose code says what failed (llm_timeout, …;
   * response_failed otherwise), then response.done with status failed.
   */
  #fail(error: unknown, said: boolean): void {
    this.#status = 'failed';
    const code = error instanceof LanguageModelError ? error.code : 'response_failed';
    const message = error instanceof Error ? error.message : String(error);
    const send = (event: ServerEventBody) => this.#gate.send(() => this.#options.emit(event));
    for (const output of this.#outputs) this.#finishItem(output, 'incomplete', send, said);
    send(serverError(code, error));
    send({ type: 'response.done', response: this.#describe({ type: 'failed', error: { type: 'server_error', code, message } }) });
  }

  /** Runs this round's server tool calls and adds them, with their results, to what the reasoner reads next. */
  async #runServerTools(signal: AbortSignal): Promise<void> {
    const calls = [...this.#serverCalls.values()];
    const outputs = await Promise.all(
      calls.map(async (call) => {
        try {
          return await this.#options.serverTools!.get(call.name)!.run(call.arguments, signal);
        } catch (error) {
          if (isAbortError(error)) throw error;
          return `error: ${error instanceof Error ? error.message : String(error)}`;
        }
      }),
    );
    const request = this.#options.request;
    const followUp: ChatMessage[] = [
      { role: 'assistant', content: '', toolCalls: calls.map((c) => ({ callId: c.callId, name: c.name, arguments: c.arguments })) },
      ...calls.map((c, i): ChatMessage => ({ role: 'tool', callId: c.callId, content: outputs[i]! })),
    ];
    request.followUp = [...(request.followUp ?? []), ...followUp];
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
      await this.#gate.audio(signal); // held until the turn is confirmed, or paused by a possible barge-in
      if (signal.aborted) return;
      message.sentences.push({ text: sentence, startMs: this.#audioMs });
      this.#emit({ type: 'response.output_audio_transcript.delta', ...ids, delta: `${sentence} ` });
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
        await this.#gate.audio(signal);
        if (signal.aborted) return;
        this.#emit({ type: 'response.output_audio.delta', ...ids, delta: Buffer.from(encodeAudio(chunk, this.#options.outputEncoding ?? 'pcm16')).toString('base64') });
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
      audio: { output: { format: wireFormat(this.#options.outputEncoding ?? 'pcm16', this.#options.outputRate) } },
      metadata: {
        ...this.#options.metadata,
        reasoner: this.#options.reasoner.name,
        language_model: this.#options.reasoner.usesLanguageModel,
        ...(this.#options.reasoner.notice ? { notice: this.#options.reasoner.notice } : {}),
        audio_sent_ms: Math.round(this.#audioMs),
        ...(this.#status === 'cancelled' ? { audio_heard_ms: Math.round(this.heardMs) } : {}),
      },
      usage: this.#usage
        ? {
            total_tokens: this.#usage.input + this.#usage.output,
            input_tokens: this.#usage.input,
            output_tokens: this.#usage.output,
            input_token_details: { text_tokens: this.#usage.input, audio_tokens: 0, image_tokens: 0, cached_tokens: 0 },
            output_token_details: { text_tokens: this.#usage.output, audio_tokens: 0 },
          }
        : null,
    };
  }
}

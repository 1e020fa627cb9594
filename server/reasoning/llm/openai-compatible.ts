import OpenAI from 'openai';
import { setTimeout as sleep } from 'node:timers/promises';
import { formatMediaTime } from './media-clock.ts';
import type { ChatCompletion, ChatCompletionChunk, ChatCompletionCreateParamsNonStreaming, ChatCompletionCreateParamsStreaming, ChatCompletionMessageParam } from 'openai/resources/chat/completions';
import type { MemoryHit } from '../../../memory/types.ts';
import { opsMetrics } from '../../ops/metrics.ts';
import { defaultLlmTimeouts, LanguageModelError, type LlmFailureKind, type LlmTimeouts } from './failures.ts';
import type { ChatMessage, Reasoner, ReasonerDelta, ReasonerRequest } from './types.ts';

export interface OpenAICompatibleOptions extends Partial<LlmTimeouts> {
  /** Base URL ending in /v1 (vLLM, LMDeploy, SGLang, llama.cpp server, Ollama, OpenAI). */
  baseURL: string;
  model: string;
  apiKey?: string;
  /** @defaultValue 512 */
  maxTokens?: number;
  /** @defaultValue 0.3 */
  temperature?: number;
}

const SYSTEM_PROMPT =
  'You are OmniLive, a live voice assistant that watches and listens to the user continuously. ' +
  'Answer briefly in plain spoken sentences (no markdown, no lists). ' +
  'Use the memory given to you; if it does not contain the answer, say you do not know.';

/** A refused first attempt is asked again after this pause (once, and only before any token came). */
const RETRY_DELAY_MS = 250;

/**
 * Streams chat completions from any OpenAI-compatible server. Every request is bounded: the
 * first token must come within `firstTokenTimeoutMs` (one retry of a refused request
 * included), and a stream that has begun may not go silent for `idleTimeoutMs`. Failures are
 * LanguageModelErrors (counted in `omnilive_llm_failures_total` by kind); the caller says the
 * error's apology.
 */
export class OpenAICompatibleReasoner implements Reasoner {
  readonly name: string;
  readonly usesLanguageModel = true;
  readonly #client: OpenAI;
  readonly #options: OpenAICompatibleOptions;
  readonly #timeouts: LlmTimeouts;
  #acceptsImages = true;

  constructor(options: OpenAICompatibleOptions) {
    this.#options = options;
    this.#timeouts = {
      firstTokenTimeoutMs: options.firstTokenTimeoutMs ?? defaultLlmTimeouts.firstTokenTimeoutMs,
      idleTimeoutMs: options.idleTimeoutMs ?? defaultLlmTimeouts.idleTimeoutMs,
    };
    this.name = `openai-compatible:${options.model}`;
    // Local servers take any key; the SDK insists on one being set. Retries and waits are ours
    // (the SDK's would honour a Retry-After of a minute and retry after tokens were sent).
    this.#client = new OpenAI({ baseURL: options.baseURL, apiKey: options.apiKey || 'none', maxRetries: 0, timeout: 10 * 60_000 });
  }

  async *respond(request: ReasonerRequest, signal: AbortSignal): AsyncIterable<ReasonerDelta> {
    const deadline = performance.now() + this.#timeouts.firstTokenTimeoutMs;
    for (let attempt = 1; ; attempt++) {
      let begun = false;
      try {
        for await (const delta of this.#stream(request, signal, deadline)) {
          begun = true;
          yield delta;
        }
        return;
      } catch (error) {
        if (signal.aborted) throw signal.reason ?? error; // the caller's abort (barge-in), whatever the SDK made of it
        const failure = this.#failed(error, begun);
        // Asking again is safe only while nothing of this answer has gone out.
        if (begun || attempt > 1 || !retryable(failure, deadline)) throw failure;
        await sleep(RETRY_DELAY_MS, undefined, { signal });
      }
    }
  }

  /** One streaming request, each wait bounded: for the first token by `deadline`, then by the idle timeout. */
  async *#stream(request: ReasonerRequest, outer: AbortSignal, deadline: number): AsyncGenerator<ReasonerDelta> {
    const abort = linkedAbort(outer);
    try {
      const { firstTokenTimeoutMs, idleTimeoutMs } = this.#timeouts;
      const stream = await bounded(this.#create(request, abort.signal), deadline - performance.now(), abort, () => new LanguageModelError('timeout', `the language model sent no first token within ${firstTokenTimeoutMs} ms`));
      const chunks = stream[Symbol.asyncIterator]();
      let begun = false;
      for (;;) {
        // Only the wait for the server counts: time the caller spends between pieces does not.
        const next = begun
          ? await bounded(chunks.next(), idleTimeoutMs, abort, () => new LanguageModelError('stalled', `the language model's answer stalled: nothing for ${idleTimeoutMs} ms`))
          : await bounded(chunks.next(), deadline - performance.now(), abort, () => new LanguageModelError('timeout', `the language model sent no first token within ${firstTokenTimeoutMs} ms`));
        if (next.done) return;
        for (const delta of chunkDeltas(next.value)) {
          if (delta.type !== 'usage') begun = true;
          yield delta;
        }
      }
    } finally {
      abort.dispose(); // ends the HTTP request when we stop early (barge-in, a timeout)
    }
  }

  #create(request: ReasonerRequest, signal: AbortSignal): Promise<AsyncIterable<ChatCompletionChunk>> {
    const create = (withImages: boolean) =>
      this.#client.chat.completions.create(
        {
          model: this.#options.model,
          stream: true,
          max_tokens: request.maxOutputTokens ?? this.#options.maxTokens ?? 512,
          temperature: this.#options.temperature ?? 0.3,
          messages: buildMessages(request, withImages),
          stream_options: { include_usage: true },
          ...toolOptions(request),
        } satisfies ChatCompletionCreateParamsStreaming,
        { signal },
      );
    const withImages = this.#acceptsImages && hasImages(request);
    return create(withImages).catch((error) => {
      // A text-only model (vLLM, llama.cpp) refuses image parts with a 400: ask again without them, and remember.
      if (!withImages || !(error instanceof OpenAI.BadRequestError)) throw error;
      this.#acceptsImages = false;
      return create(false);
    });
  }

  /** A short non-streaming request (yes/no checks), bounded by the first-token timeout, one retry if refused. */
  async #complete(params: ChatCompletionCreateParamsNonStreaming, signal: AbortSignal): Promise<ChatCompletion> {
    const deadline = performance.now() + this.#timeouts.firstTokenTimeoutMs;
    for (let attempt = 1; ; attempt++) {
      const abort = linkedAbort(signal);
      try {
        return await bounded(this.#client.chat.completions.create(params, { signal: abort.signal }), deadline - performance.now(), abort, () => new LanguageModelError('timeout', `the language model did not answer within ${this.#timeouts.firstTokenTimeoutMs} ms`));
      } catch (error) {
        if (signal.aborted) throw signal.reason ?? error;
        if (error instanceof OpenAI.BadRequestError) throw error; // the caller may ask again without an image
        const failure = this.#failed(error, false);
        if (attempt > 1 || !retryable(failure, deadline)) throw failure;
        await sleep(RETRY_DELAY_MS, undefined, { signal });
      } finally {
        abort.dispose();
      }
    }
  }

  /** Names the failure and counts it (each failed request, the retried one too). */
  #failed(error: unknown, begun: boolean): LanguageModelError {
    const failure = languageModelError(error, begun);
    opsMetrics.llmFailures.inc({ kind: failure.kind });
    return failure;
  }

  /** The reference system's filter: ask the model whether this is meant for the assistant. */
  async isInstruction(text: string, signal: AbortSignal): Promise<boolean> {
    const reply = await this.#complete(
      {
        model: this.#options.model,
        max_tokens: 3,
        temperature: 0,
        messages: [
          {
            role: 'system',
            content:
              'Decide whether the user utterance is a question or instruction addressed to an AI assistant. ' +
              'Fillers, fragments and talk to other people are not. Answer only "yes" or "no".',
          },
          { role: 'user', content: text },
        ],
      },
      signal,
    );
    return /^\s*yes/i.test(reply.choices[0]?.message?.content ?? '');
  }

  /** A watch's yes/no on one clip: its facts in words, and its keyframe when the model takes images. */
  async judgeWatch(question: string, facts: string, keyframeJpeg: Uint8Array | undefined, signal: AbortSignal): Promise<boolean> {
    const text = `${question}\n\nWhat the camera shows:\n${facts}`;
    const ask = (image: Uint8Array | undefined) =>
      this.#complete(
        {
          model: this.#options.model,
          max_tokens: 3,
          temperature: 0,
          messages: [
            { role: 'system', content: WATCH_JUDGE_PROMPT },
            image
              ? { role: 'user', content: [{ type: 'text', text }, { type: 'image_url', image_url: { url: `data:image/jpeg;base64,${Buffer.from(image).toString('base64')}` } }] }
              : { role: 'user', content: text },
          ],
        },
        signal,
      );
    const image = this.#acceptsImages ? keyframeJpeg : undefined;
    let reply;
    try {
      reply = await ask(image);
    } catch (error) {
      // As in respond(): a text-only model refuses the image once; judge from the facts from then on.
      if (!image || !(error instanceof OpenAI.BadRequestError)) throw error;
      this.#acceptsImages = false;
      reply = await ask(undefined);
    }
    return /^\s*yes/i.test(reply.choices[0]?.message?.content ?? '');
  }

  async close(): Promise<void> {}
}

/** The typed deltas of one streamed chunk. */
function chunkDeltas(chunk: ChatCompletionChunk): ReasonerDelta[] {
  const out: ReasonerDelta[] = [];
  if (chunk.usage) out.push({ type: 'usage', inputTokens: chunk.usage.prompt_tokens, outputTokens: chunk.usage.completion_tokens });
  const delta = chunk.choices[0]?.delta;
  if (delta?.content) out.push({ type: 'text', text: delta.content });
  for (const call of delta?.tool_calls ?? []) {
    out.push({ type: 'tool_call', index: call.index, callId: call.id, name: call.function?.name, arguments: call.function?.arguments ?? '' });
  }
  return out;
}

/** A refused request is asked again when there is still time for it before the first-token deadline. */
function retryable(failure: LanguageModelError, deadline: number): boolean {
  return failure.kind === 'refused' && deadline - performance.now() > 2 * RETRY_DELAY_MS;
}

/** The SDK's errors, and ours, as one LanguageModelError. `begun`: part of the answer had come. */
export function languageModelError(error: unknown, begun: boolean): LanguageModelError {
  if (error instanceof LanguageModelError) return error;
  const reason = error instanceof Error ? error.message : String(error);
  let kind: LlmFailureKind;
  let message: string;
  if (error instanceof OpenAI.APIError && error.status !== undefined) {
    kind = error.status === 429 || error.status >= 500 ? 'refused' : 'error';
    message = `the language model server answered HTTP ${error.status}: ${reason}`;
  } else if (error instanceof OpenAI.APIConnectionError) {
    kind = begun ? 'error' : 'refused';
    message = `the language model server could not be reached: ${reason}`;
  } else {
    // A connection dropped mid-stream, a malformed event: before any token, worth one more try.
    kind = begun ? 'error' : 'refused';
    message = `the language model's answer broke off: ${reason}`;
  }
  return new LanguageModelError(kind, message, { cause: error });
}

/** An AbortController that follows `outer`; dispose() unhooks it and aborts what is still running. */
function linkedAbort(outer: AbortSignal): AbortController & { dispose(): void } {
  const controller = new AbortController();
  const follow = () => controller.abort(outer.reason);
  if (outer.aborted) follow();
  else outer.addEventListener('abort', follow, { once: true });
  return Object.assign(controller, {
    dispose: () => {
      outer.removeEventListener('abort', follow);
      controller.abort(new DOMException('request over', 'AbortError'));
    },
  });
}

/**
 * `work`, unless `ms` pass first: then `abort` ends the request and the call rejects with the
 * error `timedOut` makes. Racing, not only aborting, so a stuck socket read cannot outlast it.
 */
function bounded<T>(work: Promise<T>, ms: number, abort: AbortController, timedOut: () => LanguageModelError): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => {
      const error = timedOut();
      abort.abort(error);
      reject(error);
    }, Math.max(0, ms));
    work.then(
      (value) => (clearTimeout(timer), resolve(value)),
      (error) => (clearTimeout(timer), reject(error)),
    );
  });
}

const WATCH_JUDGE_PROMPT =
  'You watch a live camera and microphone for a user who asked to be told when something happens. ' +
  'Decide from the facts (and the image, if given) whether the condition holds in this scene now. ' +
  '"I", "me" and "my" in the condition mean the user. If the facts do not show it, answer no. Answer only "yes" or "no".';


/** One line of memory as the model reads it: "[02:14] Screen showed: …". */
function evidenceLine(hit: MemoryHit): string {
  const at = `[${formatMediaTime(hit.startMs)}]`;
  if (hit.kind === 'utterance') return `${at} ${hit.utterance?.role === 'assistant' ? 'You said' : 'User said'}: ${hit.text}`;
  const clip = hit.clip;
  const facts = [
    clip?.ocrText ? `screen text "${clip.ocrText.replace(/\s+/g, ' ').trim()}"` : '',
    clip?.objects.length ? `objects ${clip.objects.map((o) => `${o.label}×${o.count}`).join(', ')}` : '',
    clip?.transcript ? `heard "${clip.transcript}"` : '',
  ].filter(Boolean);
  return `${at}–[${formatMediaTime(hit.endMs)}] Saw: ${facts.join('; ') || 'a scene with no readable text or known objects'}`;
}

/** Whether the request shows the model any image: current frames, or ones the user sent. */
function hasImages(request: ReasonerRequest): boolean {
  const sent = (messages: ChatMessage[] = []) => messages.some((m) => m.role === 'user' && m.imageUrls?.length);
  return request.images.length > 0 || (request.questionImageUrls?.length ?? 0) > 0 || sent(request.conversation) || sent(request.followUp);
}

/** Chat-completions tool options for the request's tools (nothing when it has none). */
function toolOptions(request: ReasonerRequest): Pick<ChatCompletionCreateParamsStreaming, 'tools' | 'tool_choice' | 'parallel_tool_calls'> {
  if (!request.tools?.length) return {};
  const choice = request.toolChoice ?? 'auto';
  return {
    tools: request.tools.map((t) => ({ type: 'function', function: { name: t.name, description: t.description, parameters: t.parameters ?? { type: 'object', properties: {} } } })),
    tool_choice: typeof choice === 'string' ? choice : { type: 'function', function: { name: choice.name } },
    ...(request.parallelToolCalls === undefined ? {} : { parallel_tool_calls: request.parallelToolCalls }),
  };
}

/** A conversation message in chat-completions form. */
function chatParam(message: ChatMessage, withImages: boolean): ChatCompletionMessageParam {
  if (message.role === 'tool') return { role: 'tool', tool_call_id: message.callId, content: message.content };
  if (message.role === 'assistant' && message.toolCalls?.length) {
    return {
      role: 'assistant',
      content: message.content || null,
      tool_calls: message.toolCalls.map((c) => ({ id: c.callId, type: 'function', function: { name: c.name, arguments: c.arguments } })),
    };
  }
  if (message.role === 'user' && message.imageUrls?.length && withImages) {
    return { role: 'user', content: [{ type: 'text', text: message.content }, ...message.imageUrls.map((url) => ({ type: 'image_url' as const, image_url: { url } }))] };
  }
  return { role: message.role, content: message.content };
}

/** The last `n` messages, never starting inside a tool call's answer (a tool message needs its call). */
function lastMessages(messages: ChatMessage[], n: number): ChatMessage[] {
  const tail = messages.slice(-n);
  while (tail[0]?.role === 'tool') tail.shift();
  return tail;
}

/**
 * System text with question-related memory (long-term evidence, then the session transcript),
 * the conversation so far, and the question with the current frames as images.
 */
export function buildMessages(request: ReasonerRequest, withImages = true): ChatCompletionMessageParam[] {
  const evidence = request.evidence.filter((h) => h.id !== request.questionId).map((h) => ({ startMs: h.startMs, line: evidenceLine(h), id: h.id }));
  const related = request.transcript.search(request.question, { exclude: request.questionId, limit: 8 });
  const recent = request.transcript.recent(6).filter((u) => u.id !== request.questionId);
  const heard = [...new Map([...related.map((h) => h.utterance), ...recent].map((u) => [u.id, u])).values()]
    .filter((u) => !evidence.some((e) => e.id === u.id))
    .map((u) => ({ startMs: u.startMs, line: `[${formatMediaTime(u.startMs)}] ${u.role === 'user' ? 'User said' : 'You said'}: ${u.text}` }));
  const lines = [...evidence, ...heard].sort((a, b) => a.startMs - b.startMs).map((l) => l.line);
  const system = [SYSTEM_PROMPT, request.instructions ?? ''].filter(Boolean).join('\n\n');
  const memory = lines.length ? `Memory of this session (media time):\n${lines.join('\n')}` : 'Memory of this session: nothing yet.';
  const images = withImages ? request.images : [];
  const sent = withImages ? (request.questionImageUrls ?? []) : [];
  const question: ChatCompletionMessageParam[] = !request.question && sent.length === 0
    ? [] // a response that continues the conversation (its last question was answered)
    : images.length || sent.length
    ? [{
        role: 'user',
        content: [
          { type: 'text', text: images.length ? `${request.question}\n(The last ${images.length} of the images are the latest frames, at ${images.map((i) => formatMediaTime(i.t)).join(', ')}.)` : request.question },
          ...sent.map((url) => ({ type: 'image_url' as const, image_url: { url } })),
          ...images.map((i) => ({ type: 'image_url' as const, image_url: { url: `data:image/jpeg;base64,${Buffer.from(i.jpeg).toString('base64')}` } })),
        ],
      }]
    : [{ role: 'user', content: request.question }];
  return [
    { role: 'system', content: `${system}\n\nNow: ${formatMediaTime(request.nowMs)}.\n${memory}` },
    ...lastMessages(request.conversation, 12).map((m) => chatParam(m, withImages)),
    ...question,
    ...(request.followUp ?? []).map((m) => chatParam(m, withImages)),
  ];
}

import OpenAI from 'openai';
import { formatMediaTime } from './media-clock.ts';
import type { ChatCompletionCreateParamsStreaming, ChatCompletionMessageParam } from 'openai/resources/chat/completions';
import type { MemoryHit } from '../../../memory/types.ts';
import type { ChatMessage, Reasoner, ReasonerDelta, ReasonerRequest } from './types.ts';

export interface OpenAICompatibleOptions {
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

/** Streams chat completions from any OpenAI-compatible server. */
export class OpenAICompatibleReasoner implements Reasoner {
  readonly name: string;
  readonly usesLanguageModel = true;
  readonly #client: OpenAI;
  readonly #options: OpenAICompatibleOptions;
  #acceptsImages = true;

  constructor(options: OpenAICompatibleOptions) {
    this.#options = options;
    this.name = `openai-compatible:${options.model}`;
    // Local servers take any key; the SDK insists on one being set.
    this.#client = new OpenAI({ baseURL: options.baseURL, apiKey: options.apiKey || 'none', maxRetries: 1, timeout: 60_000 });
  }

  async *respond(request: ReasonerRequest, signal: AbortSignal): AsyncIterable<ReasonerDelta> {
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
        },
        { signal },
      );
    const withImages = this.#acceptsImages && hasImages(request);
    let stream;
    try {
      stream = await create(withImages);
    } catch (error) {
      // A text-only model (vLLM, llama.cpp) refuses image parts with a 400: ask again without them, and remember.
      if (!withImages || !(error instanceof OpenAI.BadRequestError)) throw error;
      this.#acceptsImages = false;
      stream = await create(false);
    }
    for await (const chunk of stream) {
      if (chunk.usage) yield { type: 'usage', inputTokens: chunk.usage.prompt_tokens, outputTokens: chunk.usage.completion_tokens };
      const delta = chunk.choices[0]?.delta;
      if (delta?.content) yield { type: 'text', text: delta.content };
      for (const call of delta?.tool_calls ?? []) {
        yield { type: 'tool_call', index: call.index, callId: call.id, name: call.function?.name, arguments: call.function?.arguments ?? '' };
      }
    }
  }

  /** The reference system's filter: ask the model whether this is meant for the assistant. */
  async isInstruction(text: string, signal: AbortSignal): Promise<boolean> {
    const reply = await this.#client.chat.completions.create(
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
      { signal },
    );
    return /^\s*yes/i.test(reply.choices[0]?.message?.content ?? '');
  }

  async close(): Promise<void> {}
}


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

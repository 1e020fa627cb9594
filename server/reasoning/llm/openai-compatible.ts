import OpenAI from 'openai';
import { formatMediaTime } from './media-clock.ts';
import type { ChatMessage, Reasoner, ReasonerRequest } from './types.ts';

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

  constructor(options: OpenAICompatibleOptions) {
    this.#options = options;
    this.name = `openai-compatible:${options.model}`;
    // Local servers take any key; the SDK insists on one being set.
    this.#client = new OpenAI({ baseURL: options.baseURL, apiKey: options.apiKey || 'none', maxRetries: 1, timeout: 60_000 });
  }

  async *respond(request: ReasonerRequest, signal: AbortSignal): AsyncIterable<string> {
    const stream = await this.#client.chat.completions.create(
      {
        model: this.#options.model,
        stream: true,
        max_tokens: this.#options.maxTokens ?? 512,
        temperature: this.#options.temperature ?? 0.3,
        messages: buildMessages(request),
      },
      { signal },
    );
    for await (const chunk of stream) {
      const delta = chunk.choices[0]?.delta?.content;
      if (delta) yield delta;
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


/** System text, then question-related memory, then the conversation so far, then the question. */
export function buildMessages(request: ReasonerRequest): ChatMessage[] {
  const related = request.transcript.search(request.question, { exclude: request.questionId, limit: 8 });
  const recent = request.transcript.recent(6).filter((u) => u.id !== request.questionId);
  const lines = [...new Map([...related.map((h) => h.utterance), ...recent].map((u) => [u.id, u])).values()]
    .sort((a, b) => a.startMs - b.startMs)
    .map((u) => `[${formatMediaTime(u.startMs)}] ${u.role === 'user' ? 'User said' : 'You said'}: ${u.text}`);
  const system = [SYSTEM_PROMPT, request.instructions ?? ''].filter(Boolean).join('\n\n');
  const memory = lines.length ? `Memory of this session (media time):\n${lines.join('\n')}` : 'Memory of this session: nothing yet.';
  return [
    { role: 'system', content: `${system}\n\nNow: ${formatMediaTime(request.nowMs)}.\n${memory}` },
    ...request.conversation.slice(-12),
    { role: 'user', content: request.question },
  ];
}

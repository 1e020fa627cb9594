import { contentWords } from '../../../memory/index.ts';
import { isQuestion } from '../turn/instruction-filter.ts';
import { formatMediaTime } from './media-clock.ts';
import type { Reasoner, ReasonerRequest } from './types.ts';

/** Words that ask about the conversation itself ("what did I ask?") rather than a topic. */
const ABOUT_TALK = new Set(['ask', 'asked', 'mention', 'mentioned', 'talk', 'talked', 'speak', 'spoke', 'last', 'before', 'earlier', 'just', 'now', 'ago']);

/**
 * The default when no language model is configured: answers by searching what the session
 * has heard and quoting it with times. It says plainly that no language model is configured,
 * and that it does not know when the transcript has nothing relevant.
 */
export class EmbeddedAnswerer implements Reasoner {
  readonly name = 'embedded-transcript-search';
  readonly usesLanguageModel = false;

  constructor(readonly options: { maxQuotes?: number } = {}) {}

  async *respond(request: ReasonerRequest, signal: AbortSignal): AsyncIterable<string> {
    if (!isQuestion(request.question)) {
      yield 'Noted. No language model is configured, so I only answer questions by searching what I have heard.';
      return;
    }
    const limit = this.options.maxQuotes ?? 3;
    const topic = contentWords(request.question).filter((w) => !ABOUT_TALK.has(w));
    // No topic ("what did I just say?"): the latest things the user said are the answer.
    const hits =
      topic.length === 0
        ? request.transcript.recent(limit + 1).filter((u) => u.role === 'user' && u.id !== request.questionId).slice(-limit).map((utterance) => ({ utterance }))
        : request.transcript.search(request.question, { exclude: request.questionId, role: 'user', limit });
    hits.sort((a, b) => a.utterance.startMs - b.utterance.startMs);
    if (signal.aborted) return;
    if (hits.length === 0) {
      yield "I don't know. I found nothing about that in what I have heard so far. ";
      yield 'No language model is configured, so I can only search the transcript.';
      return;
    }
    yield topic.length === 0 ? 'No language model is configured, so here is what you said last. ' : 'No language model is configured, so here is what I heard that matches. ';
    for (const { utterance } of hits) {
      if (signal.aborted) return;
      yield `At ${formatMediaTime(utterance.startMs)} you said: ${utterance.text.replace(/[.!?\n]+/g, ',')}. `;
    }
  }

  async close(): Promise<void> {}
}

import { contentWords } from '../../../memory/index.ts';
import { isQuestion } from '../turn/instruction-filter.ts';
import { formatMediaTime } from './media-clock.ts';
import type { Reasoner, ReasonerDelta, ReasonerRequest } from './types.ts';

interface Quote {
  startMs: number;
  text: string;
}

/** Words that ask about what is in view rather than name a topic. */
const ABOUT_SEEING = new Set(['see', 'seen', 'saw', 'look', 'looking', 'screen', 'show', 'showing', 'shown', 'front', 'view', 'camera', 'happening']);

function asksAboutSight(question: string): boolean {
  return contentWords(question).some((w) => ABOUT_SEEING.has(w));
}

function said(startMs: number, text: string): string {
  return `At ${formatMediaTime(startMs)} you said: ${text.replace(/[.!?\n]+/g, ',')}.`;
}

function plural(label: string, count: number): string {
  if (count === 1) return `${/^[aeiou]/.test(label) ? 'an' : 'a'} ${label}`;
  return `${count} ${label === 'person' ? 'people' : `${label}s`}`;
}

/** "At 02:14 the screen showed "EXIT 12", and I saw a cup and 2 people." */
export function describeClip(startMs: number, ocrText: string, objects: { label: string; count: number }[]): string | undefined {
  const text = ocrText.replace(/\s+/g, ' ').trim();
  const things = objects.slice(0, 4).map((o) => plural(o.label, o.count));
  const parts: string[] = [];
  if (text) parts.push(`the screen showed "${text.replace(/[.!?。？！]+/g, ' ').trim()}"`);
  if (things.length) parts.push(`I saw ${things.length > 1 ? `${things.slice(0, -1).join(', ')} and ${things.at(-1)}` : things[0]}`);
  if (!parts.length) return undefined;
  return `At ${formatMediaTime(startMs)} ${parts.join(', and ')}.`;
}

/** Words that ask about the conversation itself ("what did I ask?") rather than a topic. */
const ABOUT_TALK = new Set(['ask', 'asked', 'mention', 'mentioned', 'talk', 'talked', 'speak', 'spoke', 'last', 'before', 'earlier', 'just', 'now', 'ago']);

/**
 * The default when no language model is configured: answers by searching what the session
 * has heard and quoting it with times. It says plainly that no language model is configured,
 * and that it does not know when the transcript has nothing relevant.
 */
const NO_TOOLS = 'I cannot call tools: no language model is configured.';

export class EmbeddedAnswerer implements Reasoner {
  readonly name = 'embedded-transcript-search';
  readonly usesLanguageModel = false;

  constructor(readonly options: { maxQuotes?: number } = {}) {}

  async *respond(request: ReasonerRequest, signal: AbortSignal): AsyncIterable<ReasonerDelta> {
    // Tools need a language model to call them: say so once in a conversation, then answer as ever.
    const toldBefore = request.conversation.some((m) => m.role === 'assistant' && m.content.startsWith(NO_TOOLS));
    if (request.tools?.length && !toldBefore) yield { type: 'text', text: `${NO_TOOLS} ` };
    for await (const text of this.#answer(request, signal)) yield { type: 'text', text };
  }

  async *#answer(request: ReasonerRequest, signal: AbortSignal): AsyncIterable<string> {
    if (!isQuestion(request.question)) {
      yield 'Noted. No language model is configured, so I only answer questions by searching what I have heard and seen.';
      return;
    }
    const limit = this.options.maxQuotes ?? 3;
    const topic = contentWords(request.question).filter((w) => !ABOUT_TALK.has(w) && !ABOUT_SEEING.has(w));
    const quotes = topic.length === 0 && !asksAboutSight(request.question) ? this.#lastSaid(request, limit) : this.#relevant(request, topic.length === 0, limit);
    if (signal.aborted) return;
    if (quotes.length === 0) {
      yield "I don't know. I found nothing about that in what I have heard or seen so far. ";
      yield 'No language model is configured, so I can only search my memory.';
      return;
    }
    yield topic.length === 0 && !asksAboutSight(request.question)
      ? 'No language model is configured, so here is what you said last. '
      : 'No language model is configured, so here is what I found in my memory. ';
    for (const quote of quotes.sort((a, b) => a.startMs - b.startMs)) {
      if (signal.aborted) return;
      yield `${quote.text} `;
    }
  }

  /** "What did I just say?": the latest user utterances. */
  #lastSaid(request: ReasonerRequest, limit: number): Quote[] {
    return request.transcript
      .recent(limit + 1)
      .filter((u) => u.role === 'user' && u.id !== request.questionId)
      .slice(-limit)
      .map((u) => ({ startMs: u.startMs, text: said(u.startMs, u.text) }));
  }

  /** Long-term memory first; the session transcript when there is no memory store. */
  #relevant(request: ReasonerRequest, aboutNow: boolean, limit: number): Quote[] {
    const hits = request.evidence.filter((h) => h.id !== request.questionId && (aboutNow || h.matchedBy.some((m) => m !== 'recent')));
    const quotes: Quote[] = [];
    for (const hit of hits) {
      if (quotes.length >= limit) break;
      if (hit.kind === 'clip' && hit.clip) {
        const seen = describeClip(hit.clip.startMs, hit.clip.ocrText, hit.clip.objects);
        if (seen) quotes.push({ startMs: hit.startMs, text: seen });
      } else if (hit.kind === 'utterance' && hit.utterance?.role === 'user') {
        quotes.push({ startMs: hit.startMs, text: said(hit.startMs, hit.utterance.text) });
      }
    }
    if (quotes.length || request.evidence.length) return quotes;
    return request.transcript
      .search(request.question, { exclude: request.questionId, role: 'user', limit })
      .map(({ utterance: u }) => ({ startMs: u.startMs, text: said(u.startMs, u.text) }));
  }

  async close(): Promise<void> {}
}

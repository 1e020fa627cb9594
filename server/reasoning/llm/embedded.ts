import { contentWords } from '../../../memory/index.ts';
import type { ClipRecord } from '../../../memory/types.ts';
import { isQuestion } from '../turn/instruction-filter.ts';
import { formatMediaTime } from './media-clock.ts';
import { answerFrom, beyondSight, countOf, focusOf, momentOf, notInView, peopleAsk, sceneAsk, type Focus, type SceneAsk } from './scene-questions.ts';
import { capitalized, contents, listed, screenText } from './scene-sentence.ts';
import type { Reasoner, ReasonerDelta, ReasonerRequest } from './types.ts';

/** What the embedded answerer says once per conversation, after its first answer. */
export const NO_LANGUAGE_MODEL_NOTE = 'No language model is configured: I answer by searching what I have heard and seen.';

/** Said before the answer when a client offers tools: only a language model can call them. */
const NO_TOOLS = 'I cannot call tools: no language model is configured.';

/** One piece of evidence: something heard or seen, once. */
interface Sighting {
  kind: 'said' | 'seen';
  /** What was said or seen, without its time: "you said: …", "the screen showed "…"". */
  words: string;
  startMs: number;
  endMs: number;
}

/** When a fact came up: one utterance or clip, or a run of adjacent clips showing the same thing. */
interface Span {
  firstMs: number;
  /** Start of the run's last clip (firstMs for a single one). */
  lastMs: number;
  /** End of the run: a stretch of the screen is told until its last clip ends. */
  endMs: number;
}

/** One distinct thing heard or seen, with every time it came up. */
interface Fact {
  kind: Sighting['kind'];
  words: string;
  spans: Span[];
}

/** Clips this close are one stretch of the screen showing the same thing (frames are sampled, so clips rarely touch). */
const ADJACENT_CLIPS_MS = 2000;
/** More times than this for one fact are counted, not read out. */
const MAX_TIMES = 3;

/** Words that ask about what is in view rather than name a topic. */
const ABOUT_SEEING = new Set(['see', 'seen', 'saw', 'look', 'looking', 'screen', 'show', 'showing', 'shown', 'front', 'view', 'camera', 'happening']);

/** Words that ask about the conversation itself ("what did I ask?") rather than a topic. */
/** A question about what the user said or asked: their own questions are the answer then. */
const ABOUT_SAYING = /\b(say|said|ask|asked|tell|told|mention|mentioned|talk|talked|speak|spoke)\b/;
const ABOUT_TALK = new Set(['ask', 'asked', 'mention', 'mentioned', 'talk', 'talked', 'speak', 'spoke', 'last', 'before', 'earlier', 'just', 'now', 'ago']);

function asksAboutSight(question: string): boolean {
  return contentWords(question).some((w) => ABOUT_SEEING.has(w));
}

/** "you said: my keys are in the blue bowl" (sentence ends become commas, so it reads as one quote). */
function saying(text: string): string {
  return `you said: ${text.replace(/[.!?\n]+/g, ',').replace(/\s+/g, ' ').replace(/[,\s]+$/, '').trim()}`;
}

/** "the screen showed "EXIT 12", and I saw a red car and two people", or undefined for a clip with no facts. */
function seeing(clip: ClipRecord): string | undefined {
  const text = screenText(clip.ocrText);
  const things = contents(clip);
  const parts: string[] = [];
  if (text) parts.push(`the screen showed "${text}"`);
  if (things) parts.push(`I saw ${things}`);
  return parts.length ? parts.join(', and ') : undefined;
}

/**
 * What the scenes say to a question about them: the answer, or, when neither the view nor
 * memory holds it, what to say if the words heard do not either ("I see no dogs right now.").
 */
interface SceneAnswer {
  said?: string[];
  unseen?: string;
}

/** Said when a question is about what is in view now and the session sees nothing. */
const NO_VIEW = 'I have nothing in view right now.';

/** "At 03:00", "At 01:05 and 02:10", "From 03:00 to 03:20", "From 03:00 to 03:20 and at 07:40". */
function when(spans: Span[]): string {
  const shown = spans.slice(0, MAX_TIMES).map((s) => ({ from: formatMediaTime(s.firstMs), to: s.firstMs === s.lastMs ? undefined : formatMediaTime(s.endMs) }));
  const more = spans.length - shown.length;
  const tail = more > 0 ? [`${more} other time${more === 1 ? '' : 's'}`] : [];
  const ranged = shown.filter((t) => t.to && t.to !== t.from);
  if (ranged.length === 0) return `At ${listed([...shown.map((t) => t.from), ...tail])}`;
  const text = listed([...shown.map((t) => (ranged.includes(t) ? `from ${t.from} to ${t.to}` : `at ${t.from}`)), ...tail]);
  return text[0]!.toUpperCase() + text.slice(1);
}

function sentence(fact: Fact): string {
  return `${when(fact.spans)} ${fact.words}.`;
}

/** Spans of a fact in time order; for what was seen, adjacent clips join into one stretch. */
function spansOf(sightings: Sighting[]): Span[] {
  const spans: Span[] = [];
  for (const s of [...sightings].sort((a, b) => a.startMs - b.startMs)) {
    const last = spans.at(-1);
    if (last && last.lastMs === s.startMs) continue; // the same utterance or clip, found twice
    if (last && s.kind === 'seen' && s.startMs <= last.endMs + ADJACENT_CLIPS_MS) {
      last.lastMs = s.startMs;
      last.endMs = Math.max(last.endMs, s.endMs);
    } else spans.push({ firstMs: s.startMs, lastMs: s.startMs, endMs: s.endMs });
  }
  return spans;
}

/**
 * The first `limit` distinct facts among the sightings (best first), each with every time it
 * came up, so repeating one never crowds out another. Compared ignoring case and spacing.
 */
function distinctFacts(sightings: Iterable<Sighting>, limit: number): Fact[] {
  const groups = new Map<string, Sighting[]>();
  for (const s of sightings) {
    const key = `${s.kind}:${s.words.toLowerCase().replace(/\s+/g, ' ').trim()}`;
    const group = groups.get(key);
    if (group) group.push(s);
    else if (groups.size < limit) groups.set(key, [s]);
  }
  return [...groups.values()].map((group) => ({ kind: group[0]!.kind, words: group[0]!.words, spans: spansOf(group) }));
}

/**
 * The default when no language model is configured: answers by searching what the session
 * has heard and seen, leading with what it found and when (the same thing found twice is said
 * once, with its times). Questions about what is in view are answered from the scene's facts —
 * now from the view on screen, earlier from remembered clips — in one plain sentence, and what
 * sight cannot tell is said, not guessed. It says it does not know when nothing is relevant,
 * and notes once per conversation, after its first answer, that no language model is configured.
 */
export class EmbeddedAnswerer implements Reasoner {
  readonly name = 'embedded-transcript-search';
  readonly usesLanguageModel = false;
  readonly notice = NO_LANGUAGE_MODEL_NOTE;

  constructor(readonly options: { maxQuotes?: number } = {}) {}

  async *respond(request: ReasonerRequest, signal: AbortSignal): AsyncIterable<ReasonerDelta> {
    const toldBefore = (note: string) => request.conversation.some((m) => m.role === 'assistant' && m.content.includes(note));
    // Tools need a language model to call them: say so once in a conversation, then answer as ever.
    if (request.tools?.length && !toldBefore(NO_TOOLS)) yield { type: 'text', text: `${NO_TOOLS} ` };
    let first = true;
    for await (const text of this.#answer(request, signal)) {
      yield { type: 'text', text: first ? text : ` ${text}` };
      first = false;
    }
    // The useful part comes first; the limits are told once, after the first answer.
    if (!first && !signal.aborted && !toldBefore(NO_LANGUAGE_MODEL_NOTE)) yield { type: 'text', text: ` ${NO_LANGUAGE_MODEL_NOTE}` };
  }

  /** The answer's sentences. */
  async *#answer(request: ReasonerRequest, signal: AbortSignal): AsyncIterable<string> {
    if (!isQuestion(request.question)) {
      yield 'Noted.';
      return;
    }
    const limit = this.options.maxQuotes ?? 3;
    const seen = this.#aboutScene(request, limit);
    if (seen?.said) {
      for (const text of seen.said) {
        if (signal.aborted) return;
        yield text;
      }
      return;
    }
    const topic = contentWords(request.question).filter((w) => !ABOUT_TALK.has(w) && !ABOUT_SEEING.has(w));
    const aboutTalk = topic.length === 0 && !asksAboutSight(request.question);
    const facts = aboutTalk ? this.#lastSaid(request, limit) : this.#relevant(request, topic.length === 0, limit);
    if (signal.aborted) return;
    if (facts.length === 0) {
      yield seen?.unseen ?? "I don't know. I found nothing about that in what I have heard or seen so far.";
      return;
    }
    for (const fact of facts.sort((a, b) => a.spans[0]!.firstMs - b.spans[0]!.firstMs)) {
      if (signal.aborted) return;
      yield sentence(fact);
    }
  }

  /**
   * Questions about what is in view: "now" ones from the scene on screen, "earlier" ones from
   * the clips memory found (with their times), others from whichever holds the answer. What
   * sight cannot tell (names, ages, minds) is said first. Undefined: not a question about the
   * scene; nothing `said`: no scene holds the answer (the words heard may).
   */
  #aboutScene(request: ReasonerRequest, limit: number): SceneAnswer | undefined {
    const focus = focusOf(request.question);
    const cannot = beyondSight(request.question);
    if (cannot) return { said: [cannot, ...(this.#fromScenes(request, peopleAsk(request.question), focus, limit).said ?? [])] };
    const ask = sceneAsk(request.question);
    return ask && this.#fromScenes(request, ask, focus, limit);
  }

  #fromScenes(request: ReasonerRequest, ask: SceneAsk, focus: Focus, limit: number): SceneAnswer {
    const inView = focus !== 'past' && request.view;
    if (inView) {
      const now = answerFrom(inView, ask, 'present');
      if (now) return { said: [`${capitalized(now)}.`] };
    }
    if (focus === 'now') return { said: [request.view ? notInView(ask) : NO_VIEW] };
    const before = this.#remembered(request, ask, limit);
    // Not in view now but seen before: both are the answer.
    if (before) return { said: inView ? [notInView(ask), ...before] : before };
    return inView ? { unseen: notInView(ask) } : {};
  }

  /** The answer from the clips memory found: the earliest or latest when asked, the most seen at once for a count. */
  #remembered(request: ReasonerRequest, ask: SceneAsk, limit: number): string[] | undefined {
    const moment = momentOf(request.question);
    let clips = request.evidence.flatMap((h) => (h.kind === 'clip' && h.clip && h.id !== request.questionId ? [h.clip] : []));
    if (moment) clips.sort((a, b) => (moment === 'first' ? a.startMs - b.startMs : b.startMs - a.startMs));
    if (ask.kind === 'count') {
      const most = Math.max(0, ...clips.map((c) => countOf(c, ask)));
      clips = clips.filter((c) => most > 0 && countOf(c, ask) === most);
    }
    const sightings = clips.flatMap((c): Sighting[] => {
      const words = answerFrom(c, ask, 'past');
      return words ? [{ kind: 'seen', words, startMs: c.startMs, endMs: c.endMs }] : [];
    });
    if (!sightings.length) return undefined;
    return distinctFacts(sightings, moment ? 1 : limit)
      .sort((a, b) => a.spans[0]!.firstMs - b.spans[0]!.firstMs)
      .map(sentence);
  }

  /** "What did I just say?": the latest things the user said, newest first, anything but this question. */
  #lastSaid(request: ReasonerRequest, limit: number): Fact[] {
    // The window the answer used to read, widened by as much again for repeats that merge away.
    const recent = request.transcript.recent(2 * (limit + 1)).filter((u) => u.role === 'user' && u.id !== request.questionId);
    return distinctFacts(recent.reverse().map((u) => ({ kind: 'said', words: saying(u.text), startMs: u.startMs, endMs: u.endMs })), limit);
  }

  /**
   * Long-term memory first; the session transcript when there is no memory store. Questions are
   * not evidence of facts — but they are what "what did I say / ask about …" is after.
   */
  #relevant(request: ReasonerRequest, aboutNow: boolean, limit: number): Fact[] {
    const aboutSaying = ABOUT_SAYING.test(request.question.toLowerCase());
    const evidence = (text: string) => aboutSaying || !isQuestion(text);
    const sightings: Sighting[] = [];
    for (const hit of request.evidence) {
      if (hit.id === request.questionId || !(aboutNow || hit.matchedBy.some((m) => m !== 'recent'))) continue;
      if (hit.kind === 'clip' && hit.clip) {
        const words = seeing(hit.clip);
        if (words) sightings.push({ kind: 'seen', words, startMs: hit.clip.startMs, endMs: hit.clip.endMs });
      } else if (hit.kind === 'utterance' && hit.utterance?.role === 'user' && evidence(hit.utterance.text)) {
        sightings.push({ kind: 'said', words: saying(hit.utterance.text), startMs: hit.startMs, endMs: hit.endMs });
      }
    }
    if (sightings.length || request.evidence.length) return distinctFacts(sightings, limit);
    const heard = request.transcript
      .search(request.question, { exclude: request.questionId, role: 'user', limit: 4 * limit })
      .filter(({ utterance: u }) => evidence(u.text));
    return distinctFacts(heard.map(({ utterance: u }) => ({ kind: 'said', words: saying(u.text), startMs: u.startMs, endMs: u.endMs })), limit);
  }

  async close(): Promise<void> {}
}

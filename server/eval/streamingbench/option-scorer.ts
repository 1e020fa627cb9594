/**
 * Multiple choice without a language model: each option is scored against the evidence
 * retrieved for the question and for the question plus that option — text read on screen,
 * object labels and counts, what was heard, and the keyframes' scene facts (colours, kinds of
 * things, places, poses and expressions, light) — and the best-supported option's letter is
 * the answer. It reads facts and times only, never pixels, and says so in every answer.
 *
 * The score of an option (higher wins; all parts in [0, 1]):
 *   1.0 × coverage   IDF-weighted share of the option's distinguishing words (words not
 *                    shared by every option) found in the evidence; for "how many" questions
 *                    with numeric options, closeness to the count of separate runs of evidence
 *                    that show what the question names (or the object count seen); for
 *                    questions about a colour or a place whose options name them, the share
 *                    of that colour or place in the frame (or among the boxes of the things
 *                    the question names) at the moment asked about (see scene-evidence.ts).
 *                    A word an option uses for what the facts name otherwise ("puppy" for
 *                    dog, "navy" for blue) counts as found.
 *   0.5 × order      options that list several things ("X, then Y"): share of consecutive
 *                    pairs whose first sightings come in that order
 *   0.5 × alignment  when the question ties the answer to a moment it names ("when the
 *                    speaker said …", "while the screen showed …") and that moment is in the
 *                    evidence, how close in time the option's evidence is to it
 *   0.25 × recency   questions about now/the last/the first: how late (or early) the option
 *                    was last (first) seen, relative to the other options
 * Coverage decides; the others separate options the evidence supports alike. Exact ties are
 * broken by a hash of the question and its options: deterministic, and favouring no letter.
 */
import { contentWords, tokenize } from '../../../memory/index.ts';
import type { ClipScene, MemoryHit } from '../../../memory/types.ts';
import { EmbeddedAnswerer, type Reasoner, type ReasonerDelta, type ReasonerRequest } from '../../reasoning/index.ts';
import { colourFor, labelsFor } from '../../reasoning/vocabulary.ts';
import { BEST_OPTION } from './prompts.ts';
import { attributeScores, sceneCounts, sceneWords } from './scene-evidence.ts';

/** A piece of evidence: what one clip, frame or utterance said, and when. */
export interface EvidenceDoc {
  id: string;
  startMs: number;
  endMs: number;
  /** Text read on screen and object labels, or the words heard. */
  text: string;
  source: 'screen' | 'speech';
  /** Objects seen, by label. */
  counts?: Record<string, number>;
  /** What the keyframe showed beyond text and labels: colours, places, people, light. */
  scene?: ClipScene;
}

export interface MultipleChoice {
  question: string;
  options: { letter: string; text: string }[];
}

export interface OptionChoice {
  letter: string;
  /** Score of each option, in order. */
  scores: number[];
  coverage: number[];
  /** What "how many" counted, when it applied. */
  count?: number;
}

const NUMBER_WORDS: Record<string, string> = Object.fromEntries(
  'zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen sixteen seventeen eighteen nineteen twenty'.split(' ').map((w, i) => [w, String(i)]),
);

/** Plurals that do not end in s, among the object detector's labels (person, …). */
const IRREGULAR: Record<string, string> = { people: 'person', men: 'man', women: 'woman', children: 'child', mice: 'mouse', knives: 'knife' };

/** Matching form of a word: number words as digits, O/0 alike (OCR confuses them), plurals singular. */
function normalize(word: string): string {
  let w = NUMBER_WORDS[word] ?? IRREGULAR[word] ?? word.replace(/'s$/, '').replace(/'/g, '');
  w = w.replace(/0/g, 'o');
  if (w.length > 3 && w.endsWith('s') && !w.endsWith('ss')) w = w.slice(0, -1);
  return w;
}

/** Content words (stopwords out) and every number, in matching form. */
export function matchTerms(text: string): string[] {
  return tokenize(text)
    .filter((w) => /\d/.test(w) || w in NUMBER_WORDS || contentWords(w).length > 0)
    .map(normalize);
}

const PRESENT = /\b(now|currently|current|at the moment|at present|at this moment)\b/i;
const FIRST = /\b(first|earliest|initially|beginning|at the start)\b/i;
const LAST = /\b(last|latest|most recent|most recently|final)\b/i;
const HOW_MANY = /\bhow many\b/i;
/** Questions that tie the answer to another moment: "when the speaker said …", "while … showed …". */
const AT_THE_TIME = /\b(when|while|during)\b/i;

function optionNumber(text: string): number | undefined {
  const m = /^\s*(\d+)\b/.exec(text) ?? /^\s*([a-z]+)\b/i.exec(text);
  if (!m) return undefined;
  const v = /^\d+$/.test(m[1]!) ? m[1]! : NUMBER_WORDS[m[1]!.toLowerCase()];
  return v === undefined ? undefined : Number(v);
}

/** FNV-1a, for the tie break. */
function hash(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h;
}

/**
 * Parts of an option that lists things in sequence: "EXIT 12, then ROOM 204, then GATE B7".
 * Only short parts count as named things; a sentence with commas is not a list.
 */
function segments(text: string): string[] {
  const parts = text
    .split(/,|;|\bthen\b|\bfollowed by\b|\band later\b/i)
    .map((s) => s.trim())
    .filter((s) => matchTerms(s).length > 0);
  return parts.every((s) => matchTerms(s).length <= 4) ? parts : [];
}

class Corpus {
  /** Each doc with its terms (scene words included) and its counts (by label and by kind). */
  readonly docs: { doc: EvidenceDoc; terms: Set<string>; counts?: Record<string, number> }[];
  readonly #df = new Map<string, number>();

  constructor(evidence: readonly EvidenceDoc[]) {
    const byId = new Map(evidence.map((d) => [d.id, d]));
    this.docs = [...byId.values()].map((doc) => ({
      doc,
      terms: new Set(matchTerms(`${doc.text}\n${sceneWords(doc.scene)}`)),
      ...(doc.counts || doc.scene ? { counts: { ...doc.counts, ...(doc.scene ? sceneCounts(doc.scene) : {}) } } : {}),
    }));
    for (const { terms } of this.docs) for (const t of terms) this.#df.set(t, (this.#df.get(t) ?? 0) + 1);
  }

  df(term: string): number {
    return this.#df.get(term) ?? 0;
  }

  /**
   * Whether the evidence shows what the term names: the word itself, or the palette colour or
   * detector label the facts use for it ("navy" → blue, "puppy" → dog, "men" → person).
   */
  found(term: string): boolean {
    if (this.df(term) > 0) return true;
    const colour = colourFor(term);
    if (colour && this.df(colour) > 0) return true;
    return labelsFor(term).some((label) => matchTerms(label).every((t) => this.df(t) > 0));
  }

  idf(term: string): number {
    const n = this.df(term);
    const N = this.docs.length;
    return Math.log(1 + (N - n + 0.5) / (n + 0.5));
  }

  /** Docs that hold every term (or, for one term, that term). */
  matching(terms: readonly string[]): EvidenceDoc[] {
    return this.docs.filter((d) => terms.every((t) => d.terms.has(t))).map((d) => d.doc);
  }

  /** Docs that hold any of the terms. */
  touching(terms: readonly string[]): EvidenceDoc[] {
    return this.docs.filter((d) => terms.some((t) => d.terms.has(t))).map((d) => d.doc);
  }
}

/** Separate runs of evidence: docs that touch in time are one sighting. */
function runs(docs: readonly EvidenceDoc[]): number {
  const sorted = [...docs].sort((a, b) => a.startMs - b.startMs);
  let count = 0;
  let end = -Infinity;
  for (const d of sorted) {
    if (d.startMs > end) count++;
    end = Math.max(end, d.endMs);
  }
  return count;
}

/** Picks the option the evidence supports best (see the module comment). */
export function chooseOption(mc: MultipleChoice, evidence: readonly EvidenceDoc[]): OptionChoice {
  const corpus = new Corpus(evidence);
  const n = mc.options.length;
  const termSets = mc.options.map((o) => new Set(matchTerms(o.text)));
  const shared = [...(termSets[0] ?? [])].filter((t) => termSets.every((s) => s.has(t)));
  const distinct = termSets.map((s) => [...s].filter((t) => !shared.includes(t)));
  const coverage = distinct.map((terms) => {
    const total = terms.reduce((sum, t) => sum + corpus.idf(t), 0);
    return total ? terms.filter((t) => corpus.found(t)).reduce((sum, t) => sum + corpus.idf(t), 0) / total : 0;
  });

  // Words the question asks about that no option repeats: what answers are anchored to.
  const optionWords = new Set(termSets.flatMap((s) => [...s]));
  const anchorTerms = [...new Set(matchTerms(mc.question))].filter((t) => !optionWords.has(t) && corpus.df(t) > 0);

  let count: number | undefined;
  const numbers = mc.options.map((o) => optionNumber(o.text));
  if (HOW_MANY.test(mc.question) && numbers.every((v) => v !== undefined) && anchorTerms.length) {
    const present = PRESENT.test(mc.question);
    const labelled = corpus.docs
      .filter((d) => d.counts && anchorTerms.some((t) => Object.keys(d.counts!).some((label) => normalize(label) === t)))
      .sort((a, b) => b.doc.endMs - a.doc.endMs);
    if (labelled.length) {
      const counts = labelled.map((d) => Math.max(...Object.entries(d.counts!).filter(([label]) => anchorTerms.includes(normalize(label))).map(([, c]) => c)));
      count = present ? counts[0]! : Math.max(...counts);
    } else {
      // Every anchor word, else the rarest one: one run of evidence showing it is one sighting.
      const all = corpus.matching(anchorTerms);
      const rarest = [...anchorTerms].sort((a, b) => corpus.df(a) - corpus.df(b))[0]!;
      count = runs(all.length ? all : corpus.matching([rarest]));
    }
    for (let i = 0; i < n; i++) coverage[i] = 1 / (1 + Math.abs(numbers[i]! - count));
  }

  // The moment the question asks about, and the evidence of a moment it names ("when the speaker said …").
  const wantLate = PRESENT.test(mc.question) || LAST.test(mc.question);
  const wantEarly = !wantLate && FIRST.test(mc.question);
  const anchored = anchorTerms.length > 0 && AT_THE_TIME.test(mc.question);
  const anchors = () => {
    const best = Math.max(...corpus.docs.map((d) => anchorTerms.filter((t) => d.terms.has(t)).length));
    return corpus.docs.filter((d) => anchorTerms.filter((t) => d.terms.has(t)).length === best).map((d) => d.doc);
  };
  // A colour or a place: read off the scene facts' shares at that moment, which decides it (as a count does).
  let attribute: number[] | undefined;
  if (count === undefined) {
    const moment = wantLate ? 'late' : wantEarly ? 'first' : anchored ? 'anchored' : undefined;
    const options = mc.options.map((o) => tokenize(o.text));
    attribute = attributeScores({ words: tokenize(mc.question), text: mc.question, moment }, options, corpus.docs.map((d) => d.doc), moment === 'anchored' ? anchors() : []);
    if (attribute && Math.max(...attribute) > 0) attribute.forEach((v, i) => (coverage[i] = v));
    else attribute = undefined;
  }
  const decided = count !== undefined || attribute !== undefined;

  const scores = coverage.slice();
  // Order: the first sighting of each named part, in the option's order.
  mc.options.forEach((o, i) => {
    const firsts = segments(o.text).map((s) => {
      const seen = corpus.matching(matchTerms(s));
      return seen.length ? Math.min(...seen.map((d) => d.startMs)) : undefined;
    });
    const pairs = firsts.slice(1).map((t, k) => [firsts[k], t] as const).filter(([a, b]) => a !== undefined && b !== undefined);
    if (firsts.length >= 2 && pairs.length) scores[i]! += (0.5 * pairs.filter(([a, b]) => a! < b!).length) / (firsts.length - 1);
  });
  // Alignment: evidence of the option close in time to evidence of the moment the question names.
  if (anchored && !decided) {
    const moments = anchors();
    distinct.forEach((terms, i) => {
      const seen = corpus.touching(terms);
      if (!seen.length) return;
      const gap = Math.min(...seen.flatMap((d) => moments.map((a) => Math.max(0, a.startMs - d.endMs, d.startMs - a.endMs))));
      scores[i]! += 0.5 * Math.exp(-gap / 10_000);
    });
  }
  // Recency: now / last → latest sighting; first → earliest.
  if ((wantLate || wantEarly) && !decided) {
    const when = distinct.map((terms) => {
      const seen = corpus.touching(terms);
      if (!seen.length) return undefined;
      return wantLate ? Math.max(...seen.map((d) => d.endMs)) : -Math.min(...seen.map((d) => d.startMs));
    });
    const known = when.filter((w): w is number => w !== undefined);
    const lo = Math.min(...known);
    const hi = Math.max(...known);
    when.forEach((w, i) => {
      if (w !== undefined) scores[i]! += hi > lo ? (0.25 * (w - lo)) / (hi - lo) : 0;
    });
  }
  const top = Math.max(...scores);
  const tied = scores.map((s, i) => (Math.abs(s - top) < 1e-9 ? i : -1)).filter((i) => i >= 0);
  const pick = tied[hash(`${mc.question}\n${mc.options.map((o) => o.text).join('\n')}`) % tied.length]!;
  return { letter: mc.options[pick]!.letter, scores, coverage, ...(count === undefined ? {} : { count }) };
}

/** The question and lettered options of a multiple-choice prompt (the official layout). */
export function parseMultipleChoice(prompt: string): MultipleChoice | undefined {
  const start = prompt.lastIndexOf('Question: ');
  if (start < 0 || !prompt.includes(BEST_OPTION)) return undefined;
  const m = /^Question: ([\s\S]*?)\n\nOptions:\n([\s\S]*?)\n\nThe best option is:/.exec(prompt.slice(start));
  if (!m) return undefined;
  const options = m[2]!
    .split('\n')
    .map((line) => /^([A-Z])\.\s?(.*)$/.exec(line))
    .filter((x): x is RegExpExecArray => x !== null)
    .map((x) => ({ letter: x[1]!, text: x[2]! }));
  return options.length >= 2 ? { question: m[1]!.trim(), options } : undefined;
}

/** A proactive poll: `… Is it the right time to output "X"? You can only answer yes or no.` */
const POLL = /Question: ([\s\S]*?) Is it the right time to output "([\s\S]*)"\? You can only answer yes or no\./;
/** A proactive instruction: `When …, output "X".` */
const INSTRUCTION = /Question: ([\s\S]*?\boutput\s+"([^"]*)"[\s\S]*?)\n\nThe answer is:/i;

/** How far back "now" reaches for a proactive check. */
const NOW_WINDOW_MS = 2000;

/**
 * Whether the condition of a proactive question holds now: every word of the condition that
 * the evidence has ever shown (the observable part) is in the evidence of the last two seconds;
 * quoted words must be observable.
 */
export function conditionHolds(condition: string, evidence: readonly EvidenceDoc[], nowMs: number): boolean {
  const corpus = new Corpus(evidence);
  const quoted = [...condition.matchAll(/"([^"]+)"/g)].flatMap((m) => matchTerms(m[1]!));
  const observable = [...new Set(matchTerms(condition))].filter((t) => corpus.df(t) > 0);
  if (!observable.length || quoted.some((t) => corpus.df(t) === 0)) return false;
  const recent = new Corpus(evidence.filter((d) => d.endMs >= nowMs - NOW_WINDOW_MS && d.startMs <= nowMs));
  return observable.every((t) => recent.df(t) > 0);
}

/** The condition part of a proactive question: what comes before "output". */
function proactiveCondition(question: string): string {
  return question.split(/,?\s*\boutput\b/i)[0]!;
}

/** Memory hits as evidence; the evaluation's own prompts and the assistant's answers are not evidence. */
export function hitsToEvidence(hits: readonly MemoryHit[], exclude: ReadonlySet<string> = new Set()): EvidenceDoc[] {
  const docs: EvidenceDoc[] = [];
  for (const h of hits) {
    if (exclude.has(h.id)) continue;
    if (h.kind === 'clip' && h.clip) {
      const labels = h.clip.objects.map((o) => o.label);
      docs.push({
        id: h.id,
        startMs: h.startMs,
        endMs: h.endMs,
        text: [h.clip.ocrText, ...labels].join('\n'),
        source: 'screen',
        counts: Object.fromEntries(h.clip.objects.map((o) => [o.label, o.count])),
        ...(h.clip.scene ? { scene: h.clip.scene } : {}),
      });
    } else if (h.kind === 'utterance' && h.utterance?.role === 'user') {
      docs.push({ id: h.id, startMs: h.startMs, endMs: h.endMs, text: h.utterance.text, source: 'speech' });
    }
  }
  return docs;
}

/** The option scorer's name in reports and results. */
export const OPTION_SCORER = 'option-scorer';

export interface OptionScorerOptions {
  /** More evidence for a text: the session's memory in stream mode. */
  retrieve?: (text: string, limit: number) => Promise<EvidenceDoc[]>;
  /** Memory ids that are not evidence (the evaluation's prompts). */
  exclude?: ReadonlySet<string>;
}

/** What the scorer appends to every answer, so nobody mistakes it for a model's. */
const DISCLOSURE = 'No language model is configured: the option was chosen by matching each one against the text read on screen, the words heard and the scene facts (colours, objects, people).';

/**
 * The evaluation's reasoner when no language model is configured. Multiple-choice prompts get
 * a letter; proactive polls a plain "Yes." or "No."; proactive instructions their quoted
 * output; anything else goes to the embedded answerer.
 */
export class OptionScorer implements Reasoner {
  readonly name = OPTION_SCORER;
  readonly usesLanguageModel = false;
  readonly #options: OptionScorerOptions;
  readonly #fallback = new EmbeddedAnswerer();

  constructor(options: OptionScorerOptions = {}) {
    this.#options = options;
  }

  async *respond(request: ReasonerRequest, signal: AbortSignal): AsyncIterable<ReasonerDelta> {
    for await (const text of this.#answerText(request, signal)) yield { type: 'text', text };
  }

  async *#answerText(request: ReasonerRequest, signal: AbortSignal): AsyncIterable<string> {
    const exclude = new Set([...(this.#options.exclude ?? []), ...(request.questionId ? [request.questionId] : [])]);
    const evidence = hitsToEvidence(request.evidence, exclude);
    const retrieve = async (text: string, limit: number) => (this.#options.retrieve ? (await this.#options.retrieve(text, limit)).filter((d) => !exclude.has(d.id)) : []);
    // A spoken question arrives as the turn; its options as the session instructions.
    const typed = parseMultipleChoice(request.question);
    const mc = typed ?? parseMultipleChoice(request.instructions ?? '');
    if (mc) {
      const asked = typed ? mc : { ...mc, question: request.question };
      const found = await Promise.all([retrieve(asked.question, 32), ...asked.options.map((o) => retrieve(`${asked.question} ${o.text}`, 8))]);
      if (signal.aborted) return;
      yield this.answer(asked, [...evidence, ...found.flat()]);
      return;
    }
    const poll = POLL.exec(request.question);
    if (poll) {
      const condition = proactiveCondition(poll[1]!);
      const found = await retrieve(condition, 16);
      if (signal.aborted) return;
      yield conditionHolds(condition, [...evidence, ...found], request.nowMs) ? 'Yes.' : 'No.';
      return;
    }
    const instruction = INSTRUCTION.exec(request.question);
    if (instruction) {
      yield instruction[2]!;
      return;
    }
    for await (const delta of this.#fallback.respond(request, signal)) if (delta.type === 'text') yield delta.text;
  }

  /** The answer text for a multiple-choice question: the letter first, as the official scorer reads it. */
  answer(mc: MultipleChoice, evidence: readonly EvidenceDoc[]): string {
    const choice = chooseOption(mc, evidence);
    const option = mc.options.find((o) => o.letter === choice.letter)!;
    return `${choice.letter}. ${option.text}\n${DISCLOSURE}`;
  }

  /** A proactive poll or instruction answered from the given evidence (prefix mode). */
  answerProactive(prompt: string, evidence: readonly EvidenceDoc[], nowMs: number): string {
    const poll = POLL.exec(prompt);
    if (poll) return conditionHolds(proactiveCondition(poll[1]!), evidence, nowMs) ? 'Yes.' : 'No.';
    return INSTRUCTION.exec(prompt)?.[2] ?? 'No.';
  }

  async close(): Promise<void> {
    await this.#fallback.close();
  }
}

/**
 * One watch checked against everything new a session sees and hears. A rule is checked
 * synchronously (this runs for every clip, utterance and sound, for every watch); only a
 * `judged` watch returns a promise, when it asks its judge.
 *
 * When a rule fires:
 * - text: on a clip that reads all its words, when the clip before did not (so "every time"
 *   means every time it appears, not every clip it stays). The first clip checked fires if it
 *   reads them: text already on screen when the watch is made is news the person wants at once.
 *   `checkBaseline()` tells it without waiting for the next clip.
 * - object_appears / object_leaves / object_count: on a clip whose objects differ from the
 *   clip before. The clip before the first one checked is the `baseline` when given (the view
 *   when the watch was made), else the first clip checked sets it and cannot fire: a dog
 *   already in view has not appeared.
 * - phrase: on a user's utterance holding the words in order (the assistant's own words never).
 * - sound: on a sound event of the label (or an AudioSet name holding it).
 * - scene_change: on a clip that began with a scene cut.
 * - judged: on a clip, when the judge says yes after it said no (or first), at most once per
 *   `judgeIntervalMs` and one question at a time; a failing judge is counted, never thrown.
 * Once, cooldown and expiry are the caller's (see watch-state.ts); call `check` on every
 * observation, also while the watch cools down, so the clip before is always the one before.
 */
import { formatMediaTime } from '../llm/media-clock.ts';
import { amount, describeScene, pluralName, thingName } from '../llm/scene-sentence.ts';
import type { Observation, Watch, WatchEvidence, WatchJudge, WatchRule } from './types.ts';
import { clipped, findWord, flatOf, lineAt, matchForm, ruleWords, soundHappened, soundMatches, swapPerson, type FlatText } from './watch-words.ts';

export type ClipObservation = Extract<Observation, { kind: 'clip' }>;
type UtteranceObservation = Extract<Observation, { kind: 'utterance' }>;

export interface WatchCheckerOptions {
  /** Answers `judged` watches; without one they never fire. */
  judge?: WatchJudge;
  /**
   * Least time between two questions to the judge for this watch, ms of `now`: one watch
   * costs at most one language-model call per interval, however fast clips come.
   * @defaultValue 5000
   */
  judgeIntervalMs?: number;
  /** The clip on screen when the watch was made: what appears, leaves or changes count is measured against it. */
  baseline?: ClipObservation;
  /** Called with each judge failure (also counted in `judgeErrors`). */
  onJudgeError?: (error: unknown) => void;
  /** Clock of the judge's rate limit, ms. @defaultValue performance.now */
  now?: () => number;
}

export const defaultWatchCheckerOptions = { judgeIntervalMs: 5000 } as const satisfies WatchCheckerOptions;

/** Objects of a clip by label; every watch reads the same clip, so count it once. */
const countsMemo = new WeakMap<ClipObservation, Map<string, number>>();
function counts(clip: ClipObservation): Map<string, number> {
  let map = countsMemo.get(clip);
  if (!map) {
    map = new Map();
    for (const o of clip.objects) map.set(o.label, (map.get(o.label) ?? 0) + o.count);
    countsMemo.set(clip, map);
  }
  return map;
}

export class WatchChecker {
  readonly watch: Watch;
  readonly #judge?: WatchJudge;
  readonly #judgeIntervalMs: number;
  readonly #onJudgeError?: (error: unknown) => void;
  readonly #now: () => number;
  readonly #baseline?: ClipObservation;
  /** Text: the rule's words, normalised. Phrase: its words joined (heard text is matched without spaces). */
  readonly #words: string[];
  /** Objects of the clip before, by label; undefined until a clip (or the baseline) was seen. */
  #before?: Map<string, number>;
  /** Text and judged: whether the last clip checked held the condition. */
  #holding = false;
  #askedAt = -Infinity;
  #asking = false;
  #judgeErrors = 0;

  constructor(watch: Watch, options: WatchCheckerOptions = {}) {
    this.watch = watch;
    this.#judge = options.judge;
    this.#judgeIntervalMs = options.judgeIntervalMs ?? defaultWatchCheckerOptions.judgeIntervalMs;
    this.#onJudgeError = options.onJudgeError;
    this.#now = options.now ?? (() => performance.now());
    this.#baseline = options.baseline;
    const rule = watch.rule;
    const words = rule.kind === 'text' || rule.kind === 'phrase' ? rule.words.flatMap(ruleWords).map(matchForm).filter(Boolean) : [];
    this.#words = rule.kind === 'phrase' && words.length ? [words.join('')] : words;
    if (options.baseline) this.#before = counts(options.baseline);
  }

  /** Judge calls that failed (threw or rejected, not aborted). */
  get judgeErrors(): number {
    return this.#judgeErrors;
  }

  /**
   * Whether a text watch already holds on the baseline clip: call once after creation to say
   * so at once. The next clip then fires only if the text went away and came back.
   */
  checkBaseline(): WatchEvidence | undefined {
    return this.watch.rule.kind === 'text' && this.#baseline ? this.#read(this.#baseline) : undefined;
  }

  /**
   * Forgets that the condition already holds (text, judged): call when evidence was not
   * delivered (the watch was cooling, another session fired it first), so the next clip that
   * still holds fires instead of waiting for the condition to go and come back.
   */
  rearm(): void {
    this.#holding = false;
  }

  /** Evidence when the watch holds on this observation; a promise only when a judge is asked. */
  check(observation: Observation, signal: AbortSignal): WatchEvidence | undefined | Promise<WatchEvidence | undefined> {
    const rule = this.watch.rule;
    switch (rule.kind) {
      case 'text':
        return observation.kind === 'clip' ? this.#read(observation) : undefined;
      case 'object_appears':
      case 'object_leaves':
      case 'object_count':
        return observation.kind === 'clip' ? this.#compare(rule, observation) : undefined;
      case 'phrase':
        return observation.kind === 'utterance' && observation.role === 'user' ? this.#hear(observation) : undefined;
      case 'sound': {
        if (observation.kind !== 'sound' || !soundMatches(rule.label.toLowerCase(), observation.event.label)) return undefined;
        const { startMs, endMs } = observation.event;
        return { mediaMs: startMs, kind: 'sound', text: `${soundHappened(rule.label.toLowerCase())} (${formatMediaTime(startMs)}–${formatMediaTime(endMs)})` };
      }
      case 'scene_change':
        return observation.kind === 'clip' && observation.sceneChange ? { mediaMs: observation.startMs, kind: 'clip', text: 'the scene changed' } : undefined;
      case 'judged':
        return observation.kind === 'clip' ? this.#ask(rule.question, observation, signal) : undefined;
    }
  }

  #read(clip: ClipObservation): WatchEvidence | undefined {
    if (this.#words.length === 0) return undefined;
    const text = flatOf(clip, clip.ocrText);
    const lines = new Set<number>();
    for (const word of this.#words) {
      const at = findWord(text, word);
      if (at < 0) {
        this.#holding = false;
        return undefined;
      }
      lines.add(lineAt(text, at));
    }
    const was = this.#holding;
    this.#holding = true;
    if (was) return undefined;
    const quote = clipped([...lines].sort((a, b) => a - b).map((i) => text.lines[i]!.trim()).join(' / '));
    return { mediaMs: clip.startMs, kind: 'clip', text: `the screen showed '${quote}'` };
  }

  #compare(rule: Extract<WatchRule, { kind: 'object_appears' | 'object_leaves' | 'object_count' }>, clip: ClipObservation): WatchEvidence | undefined {
    const before = this.#before;
    const now = counts(clip);
    this.#before = now;
    if (!before) return undefined; // the first clip is the baseline
    const was = before.get(rule.label) ?? 0;
    const is = now.get(rule.label) ?? 0;
    const evidence = (text: string): WatchEvidence => ({ mediaMs: clip.startMs, kind: 'clip', text });
    switch (rule.kind) {
      case 'object_appears':
        return was === 0 && is > 0 ? evidence(`${amount(rule.label, is)} came into view`) : undefined;
      case 'object_leaves':
        return was > 0 && is === 0 ? evidence(rule.label === 'person' ? 'the last person left the view' : `the ${thingName(rule.label)} left the view`) : undefined;
      case 'object_count': {
        const fits = rule.direction === undefined ? is !== was : rule.direction === 'more' ? is > was : is < was;
        return fits ? evidence(`the number of ${pluralName(rule.label)} changed from ${was} to ${is}`) : undefined;
      }
    }
  }

  #hear(utterance: UtteranceObservation): WatchEvidence | undefined {
    const text = flatOf(utterance, utterance.text);
    const at = findWord(text, this.#words[0]!, true);
    if (at < 0) return undefined;
    return { mediaMs: utterance.startMs, kind: 'utterance', text: `someone said '${excerpt(utterance.text, text, at)}'` };
  }

  #ask(question: string, clip: ClipObservation, signal: AbortSignal): Promise<WatchEvidence | undefined> | undefined {
    const judge = this.#judge;
    if (!judge || signal.aborted || this.#asking) return undefined;
    const now = this.#now();
    if (now - this.#askedAt < this.#judgeIntervalMs) return undefined;
    this.#askedAt = now;
    this.#asking = true;
    return this.#verdict(judge, question, clip, signal).finally(() => {
      this.#asking = false;
    });
  }

  async #verdict(judge: WatchJudge, question: string, clip: ClipObservation, signal: AbortSignal): Promise<WatchEvidence | undefined> {
    try {
      // A keyframe that cannot be had leaves the judge the facts.
      const jpeg = clip.keyframeJpeg ? await clip.keyframeJpeg().catch(() => undefined) : undefined;
      const yes = await judge.judge(question, clipFacts(clip), jpeg, signal);
      if (signal.aborted) return undefined;
      const was = this.#holding;
      this.#holding = yes;
      return yes && !was ? { mediaMs: clip.startMs, kind: 'clip', text: `it looked as if ${swapPerson(this.watch.condition.trim().replace(/[\s.!?]+$/, ''))}` } : undefined;
    } catch (error) {
      if (signal.aborted) return undefined;
      this.#judgeErrors++;
      try {
        this.#onJudgeError?.(error);
      } catch {
        // A throwing listener must not turn a failed judgement into a failed check.
      }
      return undefined;
    }
  }
}

/** Whitespace-separated words of `text` around a match at `at` in its flat form (long utterances only). */
function excerpt(original: string, text: FlatText, at: number): string {
  if (original.length <= 100) return original.trim();
  let token = 0;
  for (let i = 0; i < at; i++) if (text.marks[i]! & 1) token++;
  const words = original.trim().split(/\s+/);
  const from = Math.max(0, token - 6);
  return `${from > 0 ? '…' : ''}${clipped(words.slice(from).join(' '), 100)}`;
}

/**
 * A clip's facts as a judge reads them: its time, the text read on screen, the objects with
 * counts, and what the keyframe showed of people, colours and light.
 */
export function clipFacts(clip: ClipObservation): string {
  const lines = [`Clip ${formatMediaTime(clip.startMs)}–${formatMediaTime(clip.endMs)} (media time)${clip.sceneChange ? ', just after a scene cut' : ''}.`];
  const read = clip.ocrText.split('\n').map((l) => l.trim()).filter(Boolean);
  lines.push(read.length ? `Text on screen: ${read.map((l) => `"${l}"`).join(', ')}.` : 'Text on screen: none.');
  lines.push(clip.objects.length ? `Objects: ${clip.objects.map((o) => `${o.label} ×${o.count}`).join(', ')}.` : 'Objects: none detected.');
  // The text was said above; the scene sentence adds people, positions, colours and light.
  const scene = clip.scene && describeScene({ startMs: clip.startMs, endMs: clip.endMs, ocrText: '', objects: clip.objects, scene: clip.scene }, 'present');
  if (scene) lines.push(`Scene: ${scene}.`);
  return lines.join('\n');
}

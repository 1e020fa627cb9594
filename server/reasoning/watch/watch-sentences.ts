/**
 * What the assistant says about a watch: the confirmation when it is set ("OK, I'll tell you
 * when the screen shows “gate”.") and the announcement when it holds, the news first ("The
 * screen now shows 'GATE B17'. You asked me to tell you when the gate number is on the screen.").
 */
import { formatMediaTime } from '../llm/media-clock.ts';
import { capitalized, pluralName, thingName } from '../llm/scene-sentence.ts';
import type { Watch, WatchEvidence, WatchRule, WatchSpec } from './types.ts';
import { soundHeard, swapPerson } from './watch-words.ts';

/** "a cup", "an apple", "someone". */
function aThing(label: string): string {
  if (label === 'person') return 'someone';
  const name = thingName(label);
  return `${/^[aeiou]/i.test(name) ? 'an' : 'a'} ${name}`;
}

/** What a rule watches for, as the clause after "when". */
function ruleClause(rule: Exclude<WatchRule, { kind: 'judged' }>): string {
  switch (rule.kind) {
    case 'text':
      return `the screen shows “${rule.words.join(' ')}”`;
    case 'object_appears':
      return `${aThing(rule.label)} comes into view`;
    case 'object_leaves':
      return rule.label === 'person' ? 'no one is in view any more' : `the ${thingName(rule.label)} leaves the view`;
    case 'object_count':
      if (rule.direction === 'more') return rule.label === 'person' ? 'someone comes into view' : `another ${thingName(rule.label)} comes into view`;
      if (rule.direction === 'fewer') return `${aThing(rule.label)} leaves the view`;
      return `the number of ${pluralName(rule.label)} in view changes`;
    case 'phrase':
      return `someone says “${rule.words.join(' ')}”`;
    case 'sound':
      return `I hear ${soundHeard(rule.label)}`;
    case 'scene_change':
      return 'the scene changes';
  }
}

/** The condition as the assistant says it back: "when I say banana" → "when you say banana". */
function spokenCondition(condition: string): string {
  return swapPerson(condition.trim().replace(/[\s.!?]+$/, ''));
}

/**
 * The one sentence that confirms a watch, saying what will actually be checked (so a reading
 * the user did not mean shows at once): "OK, I'll tell you every time someone says “boarding”."
 */
export function describeWatch(spec: WatchSpec): string {
  const when = spec.mode === 'every' ? 'every time' : 'when';
  if (spec.rule.kind === 'judged') return `OK, I'll keep an eye out and tell you ${when} ${spokenCondition(spec.condition)}.`;
  return `OK, I'll tell you ${when} ${ruleClause(spec.rule)}.`;
}

/** Past forms the checker's evidence uses, said as just now in an announcement. */
const JUST = /\b(came|left|changed|said|sounded|knocked|played|spoke|rang|barked|cried|applauded|broke|laughed|coughed|heard)\b/;

/** Evidence (told in the past, for the record) as news: "the screen showed …" → "the screen now shows …". */
function asNews(text: string): string {
  if (text.startsWith('the screen showed ')) return `the screen now shows ${text.slice('the screen showed '.length)}`;
  if (text.startsWith('it looked as if ')) return `it looks as if ${text.slice('it looked as if '.length)}`;
  return text.replace(JUST, 'just $1');
}

/**
 * The sentence the assistant says unasked when a watch fires: what happened first, with its
 * media time (sounds carry theirs), then the request it answers.
 */
export function announceWatch(watch: Watch, evidence: WatchEvidence): string {
  const at = evidence.kind === 'sound' ? '' : ` (${formatMediaTime(evidence.mediaMs)})`;
  const news = `${capitalized(asNews(evidence.text))}${at}.`;
  const when = watch.mode === 'every' ? 'every time' : 'when';
  // A judged watch's evidence already repeats the condition.
  const reason = watch.rule.kind === 'judged' ? `You asked me to tell you ${when} that happens.` : `You asked me to tell you ${when} ${spokenCondition(watch.condition)}.`;
  return `${news} ${reason}`;
}

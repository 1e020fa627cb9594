import { contentWords, tokenize } from '../../../memory/index.ts';
import { colourFor, labelsFor, positionFor } from '../vocabulary.ts';
import {
  amount, describeScene, listed, frameColourWords, peoplePhrase, placed, pluralName, screenText, thingName,
  thingPhrase, thingsOf, verb, type Person, type Tense, type Thing,
} from './scene-sentence.ts';
import type { SceneView } from './types.ts';

/**
 * Questions about what is (or was) in view, read into what they ask — a count, a colour, a
 * place, the things of a kind, the people — and answered from one scene's facts. Labels,
 * colours and places come from the shared vocabulary, so "vehicle" finds the car and "gray"
 * the grey.
 */

/** Which scene a question is about: on screen now, in memory, or whichever holds the answer. */
export type Focus = 'now' | 'past' | 'either';

/** What the question names: the labels it means, and the colour or place it narrows them to. */
export interface Subject {
  word: string;
  labels: Set<string>;
}

export type SceneAsk = { colour?: string; position?: string } & (
  | { kind: 'describe' }
  | { kind: 'count'; subject: Subject }
  /** No subject: the frame's colour ("the screen", "the background"). */
  | { kind: 'colour'; subject?: Subject; frame: string }
  /** "which animal…", "is there a dog?", "did you see a car?" */
  | { kind: 'things'; subject: Subject; yesNo: boolean }
  | { kind: 'where'; subject: Subject }
  /** "who / what is on the left?" */
  | { kind: 'at'; position: string; who: boolean }
  | { kind: 'people' }
  | { kind: 'text' }
  | { kind: 'light' }
  | { kind: 'motion' }
);

/** Words that name the whole frame, not a thing in it ("screen" is no TV here). */
const FRAME_WORDS = new Set(['screen', 'background', 'scene', 'frame', 'picture', 'image', 'video', 'view', 'camera', 'display', 'footage']);

const PAST = /\b(earlier|before|previously|so far|until now|up to now|ago|at the (start|beginning)|in the beginning|at first|first|have you (seen|noticed)|did you (see|notice)|you saw)\b/;
const NOW = /\b(now|currently|at the moment|at present|in front of (you|me|the camera)|can you see|do you see|are you seeing|you are seeing|are you looking at|you're looking at)\b/;
const PAST_TENSE = /\b(was|were|did|saw|seen|had|showed|appeared)\b/;
const ON_SCREEN = /\b(on (the )?screen|in (the )?(view|frame|picture|image)|visible)\b/;

/** "right now" is a time, not a side of the frame. */
function unsided(question: string): string {
  return question.toLowerCase().replace(/\bright (now|away)\b/g, 'now').replace(/\ball right\b/g, '');
}

/** Whether the question is about the scene on screen now, one seen before, or either. */
export function focusOf(question: string): Focus {
  const q = unsided(question);
  if (PAST.test(q)) return 'past';
  if (NOW.test(q)) return 'now';
  if (PAST_TENSE.test(q)) return 'past';
  return ON_SCREEN.test(q) ? 'now' : 'either';
}

/** Which of several sightings the question wants: the earliest, the latest, or any. */
export function momentOf(question: string): 'first' | 'last' | undefined {
  const q = question.toLowerCase();
  if (/\b(at the (start|beginning)|in the beginning|at first|first|earliest|initially)\b/.test(q)) return 'first';
  return /\b(last|latest|most recent(ly)?|just now|final)\b/.test(q) ? 'last' : undefined;
}

/** Words that make a question about sight, so "where is my car parked?" stays a memory question. */
const SIGHT = /\b(see|seen|saw|seeing|look|looks|looking|watch|watching|screen|show|shows|showing|shown|appear|appears|appeared|visible|view|camera|front|there|picture|frame|image|video|describe|happening|going on|scene)\b/;
const PEOPLE = /\b(doing|smil\w*|happy|sad|angry|upset|surprised|scared|afraid|expression|mood|face|feel|feeling|feels|standing|sitting|facing|gestur\w*|wav\w*|hands?|posture|pose)\b/;
const TEXT = /\b(text|written|writing|read|reads|sign|signs|caption|title|words)\b|\b(screen|sign|it) says?\b|\bdoes (the )?(screen|sign|it) say\b/;
const LIGHT = /\b(dark|bright|brightness|lit|dim|lighting)\b/;
const MOTION = /\b(moving|motion|movement|moves)\b/;
const TALK = /\b(i|we|you|he|she|they)\s+(say|said|mention|mentioned|ask|asked)\b/;
/** Someone in view the question points at (the user too: the camera sees them). */
const ANYONE = /\b(he|she|they|him|her|them|anyone|anybody|someone|somebody|everyone|everybody|am i|do i look)\b/;
const YES_NO = /^(is|are|was|were|do|does|did|can|could|have|has)\b/;
/** Words that ask about seeing or time, not about a topic: a question of only these asks for the whole scene. */
const NOT_TOPIC = new Set([
  'see', 'seen', 'saw', 'seeing', 'look', 'looking', 'screen', 'show', 'showing', 'shown', 'front', 'view', 'camera', 'happening', 'going',
  'now', 'currently', 'moment', 'right', 'so', 'far', 'earlier', 'before', 'first', 'start', 'beginning', 'last', 'ago', 'describe',
  'scene', 'picture', 'image', 'frame', 'video', 'visible', 'there', 'am', 'doing', 'noticed', 'notice', 'point', 'at',
]);

/** The first thing the question names (a label, its plural, a synonym or a kind), two-word labels first. */
function subjectOf(words: string[]): Subject | undefined {
  for (let i = 0; i < words.length; i++) {
    const w = words[i]!;
    if (FRAME_WORDS.has(w)) continue;
    const pair = i + 1 < words.length ? labelsFor(`${w} ${words[i + 1]}`) : [];
    if (pair.length) return { word: `${w} ${words[i + 1]}`, labels: new Set(pair) };
    // "orange" before a thing is its colour.
    if (colourFor(w) && words.slice(i + 1).some((x) => labelsFor(x).length)) continue;
    const labels = labelsFor(w);
    if (labels.length) return { word: w, labels: new Set(labels) };
  }
  return undefined;
}

/** What a question asks of the scene, or undefined when it is not about what is in view. */
export function sceneAsk(question: string): SceneAsk | undefined {
  const q = unsided(question);
  const words = tokenize(q);
  const subject = subjectOf(words);
  const position = words.map(positionFor).find(Boolean);
  const colour = words.filter((w) => !subject?.word.split(' ').includes(w)).map(colourFor).find(Boolean);
  const sight = SIGHT.test(q) || focusOf(q) === 'now';
  // What was said is the transcript's; "my car" is the user's own: what they said about it
  // beats whichever car is in view.
  if (TALK.test(q) || (/\b(my|our|mine)\b/.test(q) && !sight)) return undefined;
  const filters = { ...(colour ? { colour } : {}), ...(position ? { position } : {}) };
  const person = subject?.labels.size === 1 && subject.labels.has('person');
  if (/\bhow many\b/.test(q)) return subject ? { kind: 'count', subject, ...filters } : undefined;
  if (/\bcolou?rs?\b|\bwearing\b/.test(q)) {
    const frame = words.find((w) => FRAME_WORDS.has(w));
    const askedColour = { ...(position ? { position } : {}) };
    if (subject && !(frame && words.indexOf(frame) < words.indexOf(subject.word.split(' ')[0]!))) return { kind: 'colour', subject, frame: frame ?? 'scene', ...askedColour };
    if (/\bwearing\b/.test(q)) return { kind: 'colour', subject: { word: 'person', labels: new Set(['person']) }, frame: 'scene', ...askedColour };
    return { kind: 'colour', frame: frame ?? 'scene' };
  }
  const who = /\b(who|anyone|anybody|someone|somebody)\b/.test(q);
  if (position && (!subject || person) && (who || /\b(what|what's|whats|anything|something)\b/.test(q))) return { kind: 'at', position, who: who || !!person };
  if (/\bwhere\b/.test(q) && subject) return { kind: 'where', subject, ...filters };
  // "how are you feeling?" asks the assistant, not about anyone in view.
  if (PEOPLE.test(q) && (!subject || person) && (sight || person || ANYONE.test(q))) return { kind: 'people', ...filters };
  // "what is the dog doing?" asks after a thing in view as much as "do you see a dog?".
  if (subject) return sight || /\bdoing\b/.test(q) ? { kind: 'things', subject, yesNo: YES_NO.test(q), ...filters } : undefined;
  if (TEXT.test(q)) return { kind: 'text' };
  if (LIGHT.test(q)) return { kind: 'light' };
  if (MOTION.test(q)) return { kind: 'motion' };
  if (!sight) return undefined;
  // Contractions ("what's", "there's") carry no topic.
  return contentWords(q).every((w) => NOT_TOPIC.has(w) || w.includes("'")) ? { kind: 'describe' } : undefined;
}

/** The boxes of a thing that have the asked colour and place (all of it when none is asked). */
function narrowed(thing: Thing, colour?: string, position?: string): Thing | undefined {
  if (!colour && !position) return thing;
  const kept = [...Array(thing.count).keys()].filter((i) => (!colour || thing.colours?.[i] === colour) && (!position || thing.positions?.[i] === position));
  if (!kept.length) return undefined;
  const pick = (list?: string[]) => (list ? kept.map((i) => list[i] ?? '') : undefined);
  return { label: thing.label, count: kept.length, ...(thing.positions ? { positions: pick(thing.positions) } : {}), ...(thing.colours ? { colours: pick(thing.colours) } : {}) };
}

/** The things of a scene the subject names, narrowed to the asked colour and place. */
function matching(shot: SceneView, ask: { subject: Subject; colour?: string; position?: string }): Thing[] {
  return thingsOf(shot)
    .filter((t) => ask.subject.labels.has(t.label))
    .map((t) => narrowed(t, ask.colour, ask.position))
    .filter((t): t is Thing => t !== undefined);
}

/** The scene's people at the asked place (none when a colour is asked: people facts have none). */
function peopleAt(shot: SceneView, position?: string): Person[] {
  return (shot.scene?.people ?? []).filter((p) => !position || p.position === position);
}

/** How many of the subject the scene shows, by label (people facts count when they found more). */
export function countsIn(shot: SceneView, ask: SceneAsk & { subject: Subject }): Thing[] {
  const things = matching(shot, ask);
  if (!ask.subject.labels.has('person') || ask.colour) return things;
  const people = peopleAt(shot, ask.position);
  const detected = things.find((t) => t.label === 'person');
  if (people.length > (detected?.count ?? 0)) return [...things.filter((t) => t !== detected), { label: 'person', count: people.length, positions: people.map((p) => p.position) }];
  return things;
}

/** The things as a list, people described from their facts when the scene has them. */
function thingsList(shot: SceneView, things: Thing[], position?: string, colour?: string): string {
  const people = colour ? [] : peopleAt(shot, position);
  return listed(things.map((t) => (t.label === 'person' && people.length ? peoplePhrase(people, t)! : thingPhrase(t))));
}

/** A thing without its places, for answers that already said where. */
const unplaced = (t: Thing): Thing => ({ label: t.label, count: t.count, ...(t.colours ? { colours: t.colours } : {}) });

/** "the car is red", "the cups are white", "the person is in yellow"; undefined for mixed colours. */
function colourOf(thing: Thing, tense: Tense): string | undefined {
  const colours = new Set(thing.colours?.filter(Boolean) ?? []);
  if (colours.size !== 1 || thing.colours!.length !== thing.count) return undefined;
  const [colour] = colours;
  const name = thing.count === 1 ? thingName(thing.label) : pluralName(thing.label);
  const be = verb(thing.count === 1 ? 'is' : 'are', tense);
  return thing.label === 'person' ? `the ${name} ${be} in ${colour}` : `the ${name} ${be} ${colour}`;
}

/** The answer to `ask` from one scene as a clause (no capital, no full stop), or undefined when the scene does not hold it. */
export function answerFrom(shot: SceneView, ask: SceneAsk, tense: Tense): string | undefined {
  const see = verb('see', tense);
  const scene = shot.scene;
  switch (ask.kind) {
    case 'describe':
      return describeScene(shot, tense);
    case 'count': {
      const things = countsIn(shot, ask).filter((t) => t.count > 0);
      if (!things.length) return undefined;
      // A count is said as a number: "one cup", not "a cup".
      const counted = (t: Thing) => (t.count === 1 && t.label !== 'person' ? `one ${ask.colour ? `${ask.colour} ` : ''}${thingName(t.label)}` : amount(t.label, t.count, ask.colour));
      return `I ${see} ${listed(things.map(counted))}${ask.position ? ` ${placed(ask.position)}` : ''}`;
    }
    case 'colour': {
      if (!ask.subject) {
        const colours = scene && frameColourWords(scene.colours);
        return colours && `the ${ask.frame} ${verb('is', tense)} ${colours}`;
      }
      const things = matching(shot, { ...ask, subject: ask.subject });
      if (!things.length) return undefined;
      const plain = things.length === 1 ? colourOf(things[0]!, tense) : undefined;
      if (plain) return plain;
      if (things.every((t) => !t.colours?.some(Boolean))) {
        return `I ${see} ${listed(things.map((t) => amount(t.label, t.count)))}, but I can't tell ${things.length === 1 && things[0]!.count === 1 ? 'its colour' : 'their colours'}`;
      }
      return `I ${see} ${listed(things.map(thingPhrase))}`;
    }
    case 'things': {
      const things = matching(shot, ask);
      if (!things.length) return undefined;
      const seen = `I ${see} ${thingsList(shot, things, ask.position, ask.colour)}`;
      return ask.yesNo && tense === 'present' ? `yes, ${seen}` : seen;
    }
    case 'where': {
      const things = matching(shot, ask);
      if (!things.length) return undefined;
      const places = new Set(things.flatMap((t) => t.positions ?? []).filter(Boolean));
      if (places.size === 0) return `I ${see} ${listed(things.map((t) => amount(t.label, t.count)))}, but I can't tell where`;
      const single = things.length === 1 && places.size === 1;
      if (single && things[0]!.positions?.length === things[0]!.count) {
        const t = things[0]!;
        return `the ${t.count === 1 ? thingName(t.label) : pluralName(t.label)} ${verb(t.count === 1 ? 'is' : 'are', tense)} ${placed([...places][0]!)}`;
      }
      return `I ${see} ${thingsList(shot, things)}`;
    }
    case 'at': {
      const people = peopleAt(shot, ask.position);
      const things = thingsOf(shot)
        .map((t) => narrowed(t, undefined, ask.position))
        .filter((t): t is Thing => t !== undefined && !(t.label === 'person' && people.length));
      const persons = things.filter((t) => t.label === 'person');
      const items = [
        ...(people.length ? [peoplePhrase(people, undefined, false)!] : persons.map((t) => thingPhrase(unplaced(t)))),
        ...(ask.who ? [] : things.filter((t) => t.label !== 'person').map((t) => thingPhrase(unplaced(t)))),
      ];
      const where = placed(ask.position);
      if (items.length) return `${where} I ${see} ${listed(items)}`;
      const others = things.filter((t) => t.label !== 'person');
      // In memory, a clip without the person is no answer; in view it is.
      return ask.who && others.length && tense === 'present' ? `I ${see} no one ${where}, only ${listed(others.map((t) => thingPhrase(unplaced(t))))}` : undefined;
    }
    case 'people': {
      const people = peopleAt(shot, ask.position);
      if (people.length) return `I ${see} ${peoplePhrase(people, thingsOf(shot).find((t) => t.label === 'person'))}`;
      const persons = thingsOf(shot).filter((t) => t.label === 'person').map((t) => narrowed(t, undefined, ask.position)).filter((t): t is Thing => t !== undefined);
      return persons.length ? `I ${see} ${thingPhrase(persons[0]!)}, but I can't tell more about them` : undefined;
    }
    case 'text': {
      const text = screenText(shot.ocrText);
      return text && `the screen ${verb('shows', tense)} "${text}"`;
    }
    case 'light':
      return scene?.brightness && `the scene ${verb('is', tense)} ${scene.brightness}`;
    case 'motion':
      if (!scene?.motion) return undefined;
      return scene.motion === 'moving' ? `something ${verb('is', tense)} moving` : `the scene ${verb('is', tense)} still`;
  }
}

/** "cars", "people": the word as the user said it, counted as more than one. */
function many(subject: Subject): string {
  if (subject.labels.size === 1 && subject.labels.has('person')) return 'people';
  const w = subject.word;
  return /s$/.test(w) ? w : subject.labels.has(w) ? pluralName(w) : `${w}s`;
}

/** What to say when the scene on screen now does not hold the answer: plainly, nothing guessed. */
export function notInView(ask: SceneAsk): string {
  const where = ask.position ? ` ${placed(ask.position)}` : '';
  const none = (s: Subject) => (s.labels.size === 1 && s.labels.has('person') ? `I see no one${where} right now.` : `I see no ${ask.colour ? `${ask.colour} ` : ''}${many(s)}${where} right now.`);
  switch (ask.kind) {
    case 'count':
    case 'where':
      return none(ask.subject);
    case 'things':
      return ask.yesNo ? `No, ${none(ask.subject)}` : none(ask.subject);
    case 'colour':
      return ask.subject ? none(ask.subject) : `I can't tell the colours of the ${ask.frame} right now.`;
    case 'at':
      return ask.who ? `I see no one${where} right now.` : `I see nothing I can name${where} right now.`;
    case 'people':
      return `I see no one${where} right now.`;
    case 'text':
      return 'I see no text on the screen right now.';
    case 'light':
      return "I can't tell how bright it is right now.";
    case 'motion':
      return "I can't tell whether anything is moving right now.";
    case 'describe':
      return 'I see nothing I can name right now.';
  }
}

/** The number an answer about a count rests on, so memory can tell the most seen at once. */
export function countOf(shot: SceneView, ask: SceneAsk): number {
  return ask.kind === 'count' ? countsIn(shot, ask).reduce((sum, t) => sum + t.count, 0) : 0;
}

const THIRD_PERSON = String.raw`(he|she|they|him|her|them|that|this|the (man|woman|person|guy|girl|boy|lady|kid|child|people|men|women)|someone|somebody|anyone)`;
const NAMES = new RegExp(String.raw`\bwho('s| is| was| are| were) ${THIRD_PERSON}\b|\b(his|her|their) names?\b|\bnames? of ${THIRD_PERSON}\b|\bwhat('s| is| are) ${THIRD_PERSON} called\b|\brecogni[sz]e\b|\bknow (him|her|them|who)\b`);
const AGES = new RegExp(String.raw`\bhow old\b|\b(his|her|their) ages?\b|\bages? of\b`);
const MINDS = new RegExp(String.raw`\b(what|how|why|whether)\b.*\b${THIRD_PERSON}\b.*\b(think|thinks|thinking|thought|want|wants|wanted|wanting|intend|intends|plan|plans|planning|believe|believes|mean|means)\b|^why\b.*\b${THIRD_PERSON}\b`);

/**
 * What a question asks that seeing cannot tell — who someone is, how old, what they think or
 * why they act — said plainly instead of guessed; undefined for anything else.
 */
export function beyondSight(question: string): string | undefined {
  const q = question.toLowerCase();
  if (NAMES.test(q)) return "I can't tell who people are or what they are called: I only see how they look.";
  if (AGES.test(q)) return "I can't tell how old people are.";
  if (MINDS.test(q)) return "I can't tell what someone thinks, wants or why they do something: I only see how they look.";
  return undefined;
}

/** After saying what it cannot tell: what can be seen of the people the question is about. */
export function peopleAsk(question: string): SceneAsk {
  const position = tokenize(unsided(question)).map(positionFor).find(Boolean);
  return position ? { kind: 'at', position, who: true } : { kind: 'people' };
}


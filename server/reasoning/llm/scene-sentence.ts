import type { ClipScene } from '../../../memory/types.ts';
import type { SceneView } from './types.ts';

/**
 * A scene's facts told in words: one sentence a person would say ("I see one person on the
 * left, facing the camera and smiling, and a cup; the scene is mostly white."), and the
 * phrases it is made of, for answers about one thing. Everything said is a stored fact: what
 * a fact does not hold (a colour, a place) is left out, never guessed.
 */

/** What is on screen now, or what a clip showed. */
export type Tense = 'present' | 'past';

/** An object as the phrases read it: a label, how many, and per box where and what colour. */
export interface Thing {
  label: string;
  count: number;
  positions?: string[];
  colours?: string[];
}

export type Person = ClipScene['people'][number];

const VERBS: Record<string, [string, string]> = {
  see: ['see', 'saw'],
  is: ['is', 'was'],
  are: ['are', 'were'],
  shows: ['shows', 'showed'],
};

/** "see" / "saw", "is" / "was" … */
export function verb(word: keyof typeof VERBS, tense: Tense): string {
  return VERBS[word]![tense === 'present' ? 0 : 1];
}

const NUMBERS = ['no', 'one', 'two', 'three', 'four', 'five', 'six', 'seven', 'eight', 'nine', 'ten', 'eleven', 'twelve'];

/** Counts in words, as they are spoken: "two", "twelve", then digits. */
export function numberWord(n: number): string {
  return NUMBERS[n] ?? String(n);
}

/** Detector labels as people say them. */
const SAID_AS: Record<string, string> = {
  'dining table': 'table', 'potted plant': 'plant', 'sports ball': 'ball', 'cell phone': 'phone', tv: 'TV', 'hair drier': 'hair dryer',
};
const PLURALS: Record<string, string> = { person: 'people', knife: 'knives', mouse: 'mice', sheep: 'sheep', skis: 'skis' };

export function thingName(label: string): string {
  return SAID_AS[label] ?? label;
}

export function pluralName(label: string): string {
  const name = thingName(label);
  return PLURALS[name] ?? (/(s|x|ch|sh)$/.test(name) ? `${name}es` : `${name}s`);
}

/** "a cup", "an apple", "one person", "two red cars", "two people in black". */
export function amount(label: string, count: number, colour = ''): string {
  if (label === 'person') return `${count === 1 ? 'one person' : `${numberWord(count)} people`}${colour ? ` in ${colour}` : ''}`;
  const adjective = colour ? `${colour} ` : '';
  if (count === 1) {
    const head = `${adjective}${thingName(label)}`;
    return `${/^[aeiou]/i.test(head) ? 'an' : 'a'} ${head}`;
  }
  return `${numberWord(count)} ${adjective}${pluralName(label)}`;
}

/** "on the left", "in the middle", "on the right". */
export function placed(position: string): string {
  return position === 'centre' ? 'in the middle' : `on the ${position}`;
}

/** "a", "a and b", "a, b and c"; items with commas or "and" of their own are set apart by ", and". */
export function listed(items: string[]): string {
  if (items.length <= 1) return items[0] ?? '';
  const last = items.at(-1)!;
  const joiner = items.some((i) => /,| and /.test(i)) ? ', and ' : ' and ';
  return `${items.slice(0, -1).join(', ')}${joiner}${last}`;
}

/** The groups of a thing's boxes that look alike: same colour and place. */
function groups(thing: Thing, byPlace: boolean): { colour: string; position: string; count: number }[] {
  const out: { colour: string; position: string; count: number }[] = [];
  const known = (list?: string[]) => list?.length === thing.count;
  for (let i = 0; i < thing.count; i++) {
    const colour = known(thing.colours) ? thing.colours![i]! : '';
    const position = byPlace && known(thing.positions) ? thing.positions![i]! : '';
    const same = out.find((g) => g.colour === colour && g.position === position);
    if (same) same.count++;
    else out.push({ colour, position, count: 1 });
  }
  return out;
}

/**
 * A thing in words, as detailed as stays short: "a brown cat on the left", "two cups on the
 * right", "a red car on the left and a blue car on the right", else "five cars".
 */
export function thingPhrase(thing: Thing): string {
  for (const byPlace of [true, false]) {
    const alike = groups(thing, byPlace);
    if (alike.length <= 3) return listed(alike.map((g) => `${amount(thing.label, g.count, g.colour)}${g.position ? ` ${placed(g.position)}` : ''}`));
  }
  return amount(thing.label, thing.count);
}

/** A person's expression as seen: "smiling", "looking sad"; a neutral face goes without saying. */
const EXPRESSIONS: Record<string, string> = {
  happy: 'smiling', happiness: 'smiling', sad: 'looking sad', angry: 'looking angry', surprise: 'looking surprised', surprised: 'looking surprised',
  fear: 'looking afraid', disgust: 'looking disgusted', contempt: 'looking scornful',
};

/** How a person looks and stands, in the order one would say it. */
export function personDetails(person: Person): string[] {
  const out: string[] = [];
  if (person.distance === 'near') out.push('close to the camera');
  else if (person.distance === 'far') out.push('far away');
  if (person.posture) out.push(person.posture);
  if (person.facing === 'camera') out.push('facing the camera');
  else if (person.facing === 'away') out.push('facing away');
  else if (person.facing === 'side') out.push('turned to the side');
  if (person.gestures.includes('raise both hands')) out.push('with both hands raised');
  else if (person.handRaised || person.gestures.some((g) => g.startsWith('raise '))) out.push('with a hand raised');
  for (const g of person.gestures) {
    if (g.startsWith('raise ')) continue;
    if (g === 'thumbs up') out.push('giving a thumbs up');
    else if (g === 'victory') out.push('making a victory sign');
    else if (g === 'mouth open') out.push('with the mouth open');
    else out.push(g.replace(/^leaning (left|right)$/, 'leaning to the $1'));
  }
  const expression = person.emotion ? EXPRESSIONS[person.emotion] : undefined;
  if (expression) out.push(expression);
  return out;
}

/** Colours of clothes worth saying; beige and brown on a person are as often skin or hair. */
const SKIN_OR_HAIR = new Set(['beige', 'brown', '']);

/** Each person's clothing colour, from the person box at the same place (each box used once). */
function clothing(people: Person[], personObject?: Thing): (string | undefined)[] {
  const positions = personObject?.positions ?? [];
  const colours = personObject?.colours ?? [];
  const used = new Set<number>();
  return people.map((p) => {
    const i = positions.findIndex((pos, k) => pos === p.position && !used.has(k) && colours[k] !== undefined);
    if (i < 0) return undefined;
    used.add(i);
    return SKIN_OR_HAIR.has(colours[i]!) ? undefined : colours[i];
  });
}

/** More people than this are counted, not described one by one. */
const MAX_DESCRIBED_PEOPLE = 3;

/**
 * "one person on the left, facing the camera and smiling", "two people: one on the left,
 * smiling, and one on the right"; without places when the answer already said where.
 */
export function peoplePhrase(people: Person[], personObject?: Thing, withPlace = true): string | undefined {
  if (people.length === 0) return undefined;
  if (people.length > MAX_DESCRIBED_PEOPLE) return `${numberWord(people.length)} people`;
  const colours = clothing(people, personObject);
  const one = (p: Person, i: number, noun: string) => {
    const head = [noun, colours[i] && `in ${colours[i]}`, withPlace && placed(p.position)].filter(Boolean).join(' ');
    const details = listed(personDetails(p));
    return details ? `${head}${head === 'one' ? ' ' : ', '}${details}` : head;
  };
  if (people.length === 1) return one(people[0]!, 0, 'one person');
  return `${numberWord(people.length)} people: ${listed(people.map((p, i) => one(p, i, 'one')))}`;
}

/** The things a scene holds, from its described objects when there are any. */
export function thingsOf(shot: SceneView): Thing[] {
  return shot.scene?.objects.length ? shot.scene.objects : shot.objects;
}

/** "mostly white", "all red", "mostly blue and white": the frame's leading colours. */
export function frameColourWords(colours: ClipScene['colours']): string | undefined {
  const top = colours[0];
  if (!top) return undefined;
  if (top.share >= 0.9) return `all ${top.name}`;
  const leading = colours.filter((c) => c.share >= 0.2).slice(0, 2).map((c) => c.name);
  return leading.length ? `mostly ${listed(leading)}` : 'of many colours';
}

/** "the scene is dark and mostly black"; `subject` names the frame as the question did. */
export function lightClause(scene: ClipScene, tense: Tense, subject = 'the scene'): string | undefined {
  const parts: string[] = [];
  if (scene.brightness === 'dark' || scene.brightness === 'dim') parts.push(scene.brightness);
  const colours = frameColourWords(scene.colours);
  if (colours) parts.push(colours);
  return parts.length ? `${subject} ${verb('is', tense)} ${parts.join(' and ')}` : undefined;
}

/** The text on screen as one quote, sentence ends dropped so it reads as one. */
export function screenText(ocrText: string): string | undefined {
  const text = ocrText.replace(/[.!?。？！]+/g, ' ').replace(/\s+/g, ' ').trim();
  return text || undefined;
}

/** More things (people counting as one) than this are left unsaid: the sentence stays one breath. */
const MAX_THINGS = 3;

/** What a scene holds: people (one at a time, or a group told last) and things, as one list. */
export function contents(shot: SceneView): string | undefined {
  const people = shot.scene?.people ?? [];
  const things = thingsOf(shot);
  const personObject = things.find((t) => t.label === 'person');
  const others = people.length ? things.filter((t) => t !== personObject) : things;
  const crowd = peoplePhrase(people, personObject);
  const items = others.slice(0, crowd ? MAX_THINGS - 1 : MAX_THINGS).map(thingPhrase);
  if (crowd) people.length === 1 ? items.unshift(crowd) : items.push(crowd);
  return items.length ? listed(items) : undefined;
}

/**
 * The whole scene in one sentence (no full stop), or undefined when it holds no facts:
 * "I see one person on the left, facing the camera and smiling, and a cup; the scene is mostly white".
 */
export function describeScene(shot: SceneView, tense: Tense): string | undefined {
  const seen = contents(shot);
  const text = screenText(shot.ocrText);
  const main = [seen && `I ${verb('see', tense)} ${seen}`, text && `the screen ${verb('shows', tense)} "${text}"`].filter(Boolean).join(', and ');
  const light = shot.scene ? lightClause(shot.scene, tense) : undefined;
  if (!main) return light;
  return light ? `${main}; ${light}` : main;
}

/** First letter up. */
export function capitalized(text: string): string {
  return text ? text[0]!.toUpperCase() + text.slice(1) : text;
}

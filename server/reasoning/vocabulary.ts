import type { FramePosition } from '../perception/video/facts.ts';
import { COCO_SUPERCATEGORIES, COLOUR_NAMES, type CocoLabel, type ColourName } from '../perception/video/scene-facts.ts';

/**
 * What the words of a question imply about the facts a keyframe stores: COCO labels, palette
 * colours and frame positions. A small table rather than word vectors: vectors put "cat" next to
 * "dog" and "red" next to "blue", which is exactly the confusion a fact lookup must not make.
 */

export { COLOUR_NAMES };
export type { ColourName };

const LABELS = Object.keys(COCO_SUPERCATEGORIES) as CocoLabel[];
const LABEL_SET = new Set<string>(LABELS);

/** Supercategories people ask about by name; "outdoor" and "indoor" are COCO's leftovers, not words people mean that way. */
const GROUP_WORDS: Record<string, string> = {
  vehicle: 'vehicle', vehicles: 'vehicle', traffic: 'vehicle',
  animal: 'animal', animals: 'animal', creature: 'animal', creatures: 'animal', wildlife: 'animal',
  food: 'food', foods: 'food', snack: 'food', snacks: 'food', meal: 'food', eat: 'food', eating: 'food',
  furniture: 'furniture',
  electronic: 'electronic', electronics: 'electronic', device: 'electronic', devices: 'electronic', gadget: 'electronic', gadgets: 'electronic',
  kitchen: 'kitchen', kitchenware: 'kitchen', dishes: 'kitchen', tableware: 'kitchen',
  appliance: 'appliance', appliances: 'appliance',
  accessory: 'accessory', accessories: 'accessory',
  sport: 'sports', sports: 'sports',
};

const labelsOf = (supercategory: string): CocoLabel[] => LABELS.filter((l) => COCO_SUPERCATEGORIES[l] === supercategory);

/** Everyday words for one or a few labels (singular; plurals are handled below). */
const LABEL_WORDS: Record<string, CocoLabel[]> = {
  // People: the detector has one label for all of them.
  people: ['person'], persons: ['person'], man: ['person'], men: ['person'], woman: ['person'], women: ['person'],
  child: ['person'], children: ['person'], kid: ['person'], baby: ['person'], toddler: ['person'], teenager: ['person'],
  someone: ['person'], somebody: ['person'], anyone: ['person'], anybody: ['person'], everyone: ['person'], everybody: ['person'],
  guy: ['person'], girl: ['person'], boy: ['person'], lady: ['person'], ladies: ['person'], gentleman: ['person'], gentlemen: ['person'],
  human: ['person'], adult: ['person'], pedestrian: ['person'], crowd: ['person'], folks: ['person'],
  // Things under other names.
  bike: ['bicycle', 'motorcycle'], motorbike: ['motorcycle'], scooter: ['motorcycle'], plane: ['airplane'], aeroplane: ['airplane'],
  aircraft: ['airplane'], jet: ['airplane'], automobile: ['car'], taxi: ['car'], van: ['car', 'truck'], lorry: ['truck'],
  ship: ['boat'], tram: ['train'], pet: ['cat', 'dog'], puppy: ['dog'], kitten: ['cat'], kitty: ['cat'],
  phone: ['cell phone'], cellphone: ['cell phone'], smartphone: ['cell phone'], mobile: ['cell phone'],
  television: ['tv'], telly: ['tv'], monitor: ['tv', 'laptop'], screen: ['tv', 'laptop'], computer: ['laptop'],
  sofa: ['couch'], table: ['dining table'], desk: ['dining table'], plant: ['potted plant'], flower: ['potted plant', 'vase'],
  fridge: ['refrigerator'], mug: ['cup'], glass: ['cup', 'wine glass'], ball: ['sports ball'], racket: ['tennis racket'],
  bag: ['backpack', 'handbag', 'suitcase'], purse: ['handbag'], luggage: ['suitcase'], rucksack: ['backpack'],
  doughnut: ['donut'], hairdryer: ['hair drier'], teddy: ['teddy bear'],
  fruit: ['banana', 'apple', 'orange'], vegetable: ['broccoli', 'carrot'], veggie: ['broccoli', 'carrot'],
  cutlery: ['fork', 'knife', 'spoon'], utensil: ['fork', 'knife', 'spoon'], silverware: ['fork', 'knife', 'spoon'],
};

/** Plurals that dropping an "s" or "es" does not undo. */
const IRREGULAR: Record<string, string> = {
  knives: 'knife', mice: 'mouse', puppies: 'puppy', kitties: 'kitty', babies: 'baby',
};

/** Colour words people use, mapped onto the palette the scene facts are named in. */
const COLOUR_WORDS: Record<string, ColourName> = {
  gray: 'grey', silver: 'grey', greyish: 'grey', grayish: 'grey',
  violet: 'purple', lilac: 'purple', lavender: 'purple', magenta: 'purple', mauve: 'purple', indigo: 'purple', purplish: 'purple',
  crimson: 'red', scarlet: 'red', maroon: 'red', burgundy: 'red', reddish: 'red',
  navy: 'blue', cyan: 'blue', turquoise: 'blue', teal: 'blue', azure: 'blue', bluish: 'blue', blueish: 'blue',
  lime: 'green', olive: 'green', greenish: 'green',
  gold: 'yellow', golden: 'yellow', yellowish: 'yellow',
  orangey: 'orange', orangish: 'orange', amber: 'orange',
  pinkish: 'pink', salmon: 'pink', fuchsia: 'pink',
  tan: 'beige', cream: 'beige', khaki: 'beige', sand: 'beige',
  brownish: 'brown', chocolate: 'brown', bronze: 'brown',
  whitish: 'white', ivory: 'white', blackish: 'black',
};

const POSITION_WORDS: Record<string, FramePosition> = {
  left: 'left', leftmost: 'left', 'left-hand': 'left',
  right: 'right', rightmost: 'right', 'right-hand': 'right',
  middle: 'centre', center: 'centre', centre: 'centre', central: 'centre', centered: 'centre', centred: 'centre',
};

const COLOUR_SET = new Set<string>(COLOUR_NAMES);

/** The word in the singular when that is a label or a known word; else the word itself. */
function singular(word: string): string {
  if (Object.hasOwn(IRREGULAR, word)) return IRREGULAR[word]!;
  if (LABEL_SET.has(word) || Object.hasOwn(LABEL_WORDS, word)) return word;
  for (const cut of [1, 2]) {
    const stem = word.slice(0, -cut);
    if (word.endsWith(cut === 1 ? 's' : 'es') && (LABEL_SET.has(stem) || Object.hasOwn(LABEL_WORDS, stem))) return stem;
  }
  return word;
}

/** COCO labels a single word implies: a label itself (or its plural), a synonym, or a supercategory word. */
export function labelsFor(word: string): CocoLabel[] {
  const w = word.toLowerCase();
  if (Object.hasOwn(GROUP_WORDS, w)) return labelsOf(GROUP_WORDS[w]!);
  const s = singular(w);
  if (LABEL_SET.has(s)) return [s as CocoLabel];
  return Object.hasOwn(LABEL_WORDS, s) ? LABEL_WORDS[s]! : [];
}

/** The palette colour a word names, if any. */
export function colourFor(word: string): ColourName | undefined {
  const w = word.toLowerCase();
  if (COLOUR_SET.has(w)) return w as ColourName;
  return Object.hasOwn(COLOUR_WORDS, w) ? COLOUR_WORDS[w] : undefined;
}

/** The third of the frame a word points at, if any. */
export function positionFor(word: string): FramePosition | undefined {
  const w = word.toLowerCase();
  return Object.hasOwn(POSITION_WORDS, w) ? POSITION_WORDS[w] : undefined;
}

/**
 * The question's words (lower-cased) followed by what they imply: COCO labels (multi-word labels
 * like "cell phone" as one string, also when the question spells them as two words), palette
 * colours and frame positions. Each word once, in first-seen order.
 */
export function expandQuery(words: string[]): string[] {
  const lower = words.map((w) => w.toLowerCase());
  const out = new Set<string>(lower);
  for (let i = 0; i < lower.length; i++) {
    const w = lower[i]!;
    // "hot dog" is no dog and "traffic light" no traffic: a two-word label stands for itself alone.
    const pair = i + 1 < lower.length ? `${w} ${singular(lower[i + 1]!)}` : '';
    if (LABEL_SET.has(pair)) {
      out.add(pair);
      i++;
      continue;
    }
    for (const label of labelsFor(w)) out.add(label);
    const colour = colourFor(w);
    if (colour) out.add(colour);
    const position = positionFor(w);
    if (position) out.add(position);
  }
  return [...out];
}

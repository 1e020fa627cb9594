/**
 * Words as watches compare them: one normal form for the words of a rule, the text read on
 * screen and the words heard, and the few phrases (sounds, persons) the sentences about
 * watches share. Pure and cheap: every clip is read once however many watches look at it.
 */

/** Lower case, accents and curly quotes folded, so "Café’s" and "cafe's" are one word. */
export function normalise(text: string): string {
  return text.normalize('NFKD').replace(/\p{M}+/gu, '').toLowerCase().replace(/[‘’ʼ`]/g, "'");
}

/**
 * The words of a rule as said back: normalised, space-separated, punctuation trimmed from their
 * ends but kept inside ("gate", "b-17", "9:40").
 */
export function ruleWords(text: string): string[] {
  return normalise(text).split(/\s+/).map((w) => w.replace(/^[^\p{L}\p{N}]+|[^\p{L}\p{N}]+$/gu, '')).filter(Boolean);
}

/** A rule word as matched: letters and digits only, so a code or a time is one word ("b-17" → "b17", "9:40" → "940") however OCR spaces it. */
export function matchForm(word: string): string {
  return normalise(word).replace(/[^\p{L}\p{N}]+/gu, '');
}

/** Tokens of a line: letters and digits, apostrophes joined ("don't" → "dont", as in rule words). */
function tokens(line: string): string[] {
  return normalise(line).replace(/'/g, '').split(/[^\p{L}\p{N}]+/u).filter(Boolean);
}

const START = 1;
const END = 2;

/**
 * Text with its spaces taken out and where they were kept as marks: OCR and ASR split and join
 * words unpredictably ("B 17", "GATEB17"), and a word found in the joined text at the right
 * marks matches either way. Lines are kept apart by "\n", so no match spans two lines.
 */
export interface FlatText {
  flat: string;
  /** Per position of `flat` (and one past its end): START and/or END of a token. */
  marks: Uint8Array;
  /** Offset in `flat` where each line begins. */
  lineStarts: number[];
  /** The lines as given. */
  lines: string[];
}

export function flatten(text: string): FlatText {
  const lines = text.split('\n');
  const parts: string[][] = lines.map(tokens);
  const length = parts.reduce((n, p) => n + p.reduce((m, t) => m + t.length, 0), 0) + lines.length - 1;
  const marks = new Uint8Array(length + 1);
  const lineStarts: number[] = [];
  let flat = '';
  for (const [i, part] of parts.entries()) {
    if (i > 0) flat += '\n';
    lineStarts.push(flat.length);
    for (const token of part) {
      marks[flat.length]! |= START;
      flat += token;
      marks[flat.length]! |= END;
    }
  }
  return { flat, marks, lineStarts, lines };
}

// Observations are read by every watch of the session: flatten each one's text once.
const flatMemo = new WeakMap<object, FlatText>();

/** `text` flattened, remembered for `owner` (an observation) while it lives. */
export function flatOf(owner: object, text: string): FlatText {
  let flat = flatMemo.get(owner);
  if (!flat) flatMemo.set(owner, (flat = flatten(text)));
  return flat;
}

const isDigit = (c: string | undefined) => c !== undefined && c >= '0' && c <= '9';
const HAS_DIGIT = /\p{N}/u;
/** Scripts written without spaces: a word may sit anywhere in a token. */
const UNSPACED = /[\p{Script=Han}\p{Script=Hiragana}\p{Script=Katakana}\p{Script=Thai}]/u;

/** Letters next to digits or digits next to letters: where OCR glues a code onto a word ("GATEB17"). */
function transition(text: FlatText, at: number): boolean {
  const before = text.flat[at - 1];
  const after = text.flat[at];
  if (before === undefined || after === undefined || before === '\n' || after === '\n') return false;
  return isDigit(before) !== isDigit(after);
}

/** The word ends at a token end, or is followed there by a plural "s"/"es". */
function endsWord(text: FlatText, end: number): boolean {
  if (text.marks[end]! & END) return true;
  if (text.flat[end] === 's' && text.marks[end + 1]! & END) return true;
  return text.flat.startsWith('es', end) && (text.marks[end + 2]! & END) !== 0;
}

/**
 * Where `word` (a rule word, normalised) is read in `text`, or -1. Screen text is matched
 * leniently, for OCR: a word starts at a token start (a code with digits, or a word of a script
 * without spaces, anywhere), and ends at a token end, before a plural "s", at a letter/digit
 * change ("b17" in "GATEB17") or — for words of four or more letters — inside a longer token
 * ("gate" in "GATEB17", "departure" in "DEPARTURES"; also "gate" in "GATEWAY": the price of OCR
 * gluing words). "cat" is never read in "LOCATION" nor "gate" in "DELEGATE".
 * Heard words (`strict`) must start and end at token ends, a plural "s" allowed.
 */
export function findWord(text: FlatText, word: string, strict = false): number {
  if (!word) return -1;
  const unspaced = !strict && UNSPACED.test(word);
  const code = !strict && HAS_DIGIT.test(word);
  for (let at = text.flat.indexOf(word); at >= 0; at = text.flat.indexOf(word, at + 1)) {
    if (unspaced) return at;
    const end = at + word.length;
    const starts = (text.marks[at]! & START) !== 0 || (!strict && (code || transition(text, at)));
    if (!starts) continue;
    if (endsWord(text, end)) return at;
    if (!strict && (transition(text, end) || (!code && word.length >= 4 && text.flat[end] !== '\n'))) return at;
  }
  return -1;
}

/** The line a position of `text.flat` is on. */
export function lineAt(text: FlatText, at: number): number {
  let line = 0;
  while (line + 1 < text.lineStarts.length && text.lineStarts[line + 1]! <= at) line++;
  return line;
}

/** "text" cut to about `max` characters at a word end, with an ellipsis when cut. */
export function clipped(text: string, max = 80): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  if (flat.length <= max) return flat;
  const cut = flat.slice(0, max);
  return `${cut.slice(0, Math.max(cut.lastIndexOf(' '), max / 2)).trim()}…`;
}

// ---- persons: a condition said by the user, said back by the assistant ----

const ME_TO_YOU: Record<string, string> = {
  i: 'you', me: 'you', my: 'your', mine: 'yours', myself: 'yourself', "i'm": "you're", "i've": "you've", "i'll": "you'll", "i'd": "you'd",
  we: 'you', us: 'you', our: 'your', ours: 'yours', "we're": "you're",
};
const YOU_TO_ME: Record<string, string> = { your: 'my', yours: 'mine', yourself: 'myself', "you're": "I'm", "you've": "I've", "you'll": "I'll", "you'd": "I'd" };
/** Words after which "you" starts a clause (subject: "I"); elsewhere it is an object ("me"). */
const CLAUSE_STARTS = new Set(['when', 'if', 'and', 'or', 'that', 'until', 'before', 'after', 'as', 'once', 'while', 'whenever', 'but', 'so']);

/**
 * The user's words as the assistant says them back: "I say banana" → "you say banana", "you
 * see a dog" → "I see a dog", "my phone rings" → "your phone rings". Quoted text is left alone.
 */
export function swapPerson(text: string): string {
  const parts = text.split(/(\s+|["“”]+[^"“”]*["“”]+)/);
  let previous = '';
  let swappedTo = '';
  return parts
    .map((part) => {
      if (!part || /^\s+$/.test(part) || /^["“”]/.test(part)) return part;
      const match = /^([\p{L}'’]+)(.*)$/u.exec(part);
      if (!match) {
        previous = part.toLowerCase();
        return part;
      }
      const word = match[1]!;
      const rest = match[2]!;
      const lower = normalise(word);
      let out: string | undefined;
      if (lower === 'you') out = previous === '' || CLAUSE_STARTS.has(previous) ? 'I' : 'me';
      else if (lower === 'am' && swappedTo === 'you') out = 'are';
      else if (lower === 'are' && swappedTo === 'I') out = 'am';
      else if (lower === 'was' && swappedTo === 'you') out = 'were';
      else if (lower === 'were' && swappedTo === 'I') out = 'was';
      else out = Object.hasOwn(ME_TO_YOU, lower) ? ME_TO_YOU[lower] : Object.hasOwn(YOU_TO_ME, lower) ? YOU_TO_ME[lower] : undefined;
      swappedTo = out === 'you' || out === 'I' ? out : '';
      previous = lower;
      // The condition is said mid-sentence: swapped words in lower case, but for "I".
      return out === undefined ? part : out + rest;
    })
    .join('');
}

// ---- sounds ----

/** How a sound label is said: as a thing heard ("an alarm"), and as what happened ("an alarm sounded"). */
const SOUNDS: Record<string, { heard: string; happened: string }> = {
  alarm: { heard: 'an alarm', happened: 'an alarm sounded' },
  siren: { heard: 'a siren', happened: 'a siren sounded' },
  knock: { heard: 'a knock', happened: 'someone knocked' },
  music: { heard: 'music', happened: 'music played' },
  speech: { heard: 'someone speaking', happened: 'someone spoke' },
  doorbell: { heard: 'the doorbell', happened: 'the doorbell rang' },
  telephone: { heard: 'a phone ringing', happened: 'a phone rang' },
  bark: { heard: 'a dog barking', happened: 'a dog barked' },
  cry: { heard: 'a baby crying', happened: 'a baby cried' },
  applause: { heard: 'applause', happened: 'people applauded' },
  shatter: { heard: 'glass breaking', happened: 'glass broke' },
  laughter: { heard: 'laughter', happened: 'someone laughed' },
  cough: { heard: 'coughing', happened: 'someone coughed' },
};

export function soundHeard(label: string): string {
  return Object.hasOwn(SOUNDS, label) ? SOUNDS[label]!.heard : `the sound “${label}”`;
}

export function soundHappened(label: string): string {
  return Object.hasOwn(SOUNDS, label) ? SOUNDS[label]!.happened : `I heard “${label}”`;
}

/** Other words in AudioSet names that mean the same as a rule's label ("Beep, bleep" is an alarm to a person). */
const SOUND_KIN: Record<string, string[]> = {
  alarm: ['beep', 'bleep', 'buzzer'],
  music: ['singing', 'song', 'musical'],
  speech: ['speaking', 'conversation', 'narration'],
  knock: ['knocking'],
  telephone: ['ringtone'],
};

/**
 * Whether an event's label is the rule's: the same, or one word of an AudioSet name ("alarm" in
 * "smoke detector, smoke alarm", "siren" in "police car (siren)"), or a kin word of it.
 */
export function soundMatches(ruleLabel: string, eventLabel: string): boolean {
  const event = eventLabel.toLowerCase();
  if (event === ruleLabel) return true;
  const words = event.split(/[^a-z]+/);
  return words.includes(ruleLabel) || (Object.hasOwn(SOUND_KIN, ruleLabel) && SOUND_KIN[ruleLabel]!.some((w) => words.includes(w)));
}

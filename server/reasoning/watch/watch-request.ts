/**
 * Watches from words: a request in a user's utterance ("tell me when the gate number is on the
 * screen"), the rule its condition means over what OmniLive sees and hears, and the sentences
 * said back (the confirmation, then the announcement when it holds).
 *
 * The condition grammar is small on purpose: a rule fires without a language model, so it must
 * mean exactly what was asked. Anything it cannot read exactly ("a red car appears", "an animal
 * comes in", "my flight is on the board") gives undefined, and the caller asks a judge instead.
 */
import { labelsFor } from '../vocabulary.ts';
import type { WatchMode, WatchRule } from './types.ts';
import { normalise, ruleWords } from './watch-words.ts';

export { describeWatch, announceWatch } from './watch-sentences.ts';

// ---- the request ----

const LEAD = String.raw`^(?:(?:hey|hi|ok|okay|so|and|um+|uh+|er+|well|oh|please|omni(?:live)?|assistant|also|now|then|just|right|alright|all right)[\s,]+)*`;
const POLITE = String.raw`(?:(?:can|could|would|will) you (?:please |just |also )?|please |(?:i want|i'd like|i would like|i need) you to |make sure (?:to |you )|be sure to |don't forget to |do not forget to |remember to |just )*`;
const ASK = String.raw`(?:tell me|let me know|warn me|remind me|notify me|alert me|ping me|inform me|give me a (?:shout|heads up))`;
const CONNECTIVE = String.raw`(?:whenever|every single time|every time|each time|any ?time|as soon as|the moment|the minute|when|if|once)`;
const END = String.raw`[\s,]*(?:please|thanks|thank you|ok|okay)?[\s.!?]*$`;
/** "tell me when …" */
const FORWARD = new RegExp(`${LEAD}${POLITE}${ASK}[\\s,]+(?<conn>${CONNECTIVE})\\s+(?:that\\s+)?(?<cond>.+?)${END}`, 'i');
/** "when … tell me" */
const BACKWARD = new RegExp(`${LEAD}(?<conn>${CONNECTIVE})\\s+(?<cond>.+?)[\\s,]+(?:then\\s+)?${POLITE}${ASK}${END}`, 'i');
const EVERY = /^(whenever|every single time|every time|each time|any ?time)$/i;

/** Past tense: "tell me when the alarm went off" asks about what happened, not for a watch. */
const PAST = new Set(['was', 'were', 'did', 'had', 'said', 'saw', 'came', 'went', 'happened', 'arrived', 'appeared', 'started', 'began',
  'got', 'took', 'told', 'asked', 'mentioned', 'rang', 'heard', 'showed', 'knocked', 'played', 'sounded', 'entered', 'walked', 'called',
  'wrote', 'ago', 'earlier', 'yesterday']);
/** A past form after these is a participle of the present: "is displayed", "has changed". */
const AUXILIARY = new Set(['is', 'are', 'be', 'been', 'being', 'has', 'have', 'gets', 'get']);
/** Conditions that are the question itself: "tell me if I'm wrong", "let me know if you need anything". */
const NOT_A_CONDITION = [
  /^(again|more|about|what|how|who|why|where|which)\b/,
  /^(i am|i was|i should|i need|i can|i could|i have|i did|i made|i got|i look|i sound|i understand|i understood)\b/,
  /^you (can|could|know|think|understand|remember|have|need|want|like|agree|mean|are ready|are done|are finished|got|mind|find)\b/,
  /^(there is|there are) (anything|something) (else|i|you)\b/,
  /^anything else\b/,
];
/** Only after "if": "tell me if this is a dog" asks now; "tell me when it is time" still watches. */
const NOT_AFTER_IF = /^(this|that|it|these|those)\b/;

/**
 * A standing request in a user's utterance (typed, or ASR text without capitals or
 * punctuation), with its condition in the user's words and whether it fires once or every time;
 * undefined for anything else, questions about the past and the present first of all.
 */
export function parseWatchRequest(text: string): { condition: string; mode: WatchMode } | undefined {
  for (const sentence of text.replace(/[’ʼ]/g, "'").split(/(?<=[.!?])\s+|\n+/)) {
    const match = FORWARD.exec(sentence.trim()) ?? BACKWARD.exec(sentence.trim());
    if (!match?.groups) continue;
    const condition = match.groups.cond!.replace(/^[\s,]+|[\s,.!?;:]+$/g, '');
    // Quoted words are what will be read or said, not the grammar of the request: "someone says 'I was here'".
    const unquoted = QUOTED.reduce((c, re) => c.replace(re, ' “” '), condition);
    if (!plain(condition) || !isCondition(plain(unquoted), match.groups.conn!.toLowerCase())) continue;
    return { condition, mode: EVERY.test(match.groups.conn!) ? 'every' : 'once' };
  }
  return undefined;
}

function isCondition(condition: string, connective: string): boolean {
  const words = condition.split(' ');
  if (words.some((w, i) => PAST.has(w) && !AUXILIARY.has(words[i - 1] ?? ''))) return false;
  // "remind me when the meeting is": when it is, not a watch.
  if (/^(is|are|was|were|be)$/.test(words.at(-1)!)) return false;
  if (NOT_A_CONDITION.some((re) => re.test(condition))) return false;
  return !(connective === 'if' && NOT_AFTER_IF.test(condition));
}

// ---- the condition ----

const CONTRACTIONS: [RegExp, string][] = [
  [/\bcan't\b/g, 'cannot'], [/\bwon't\b/g, 'will not'], [/n't\b/g, ' not'], [/\bi'm\b/g, 'i am'], [/'re\b/g, ' are'],
  [/'ve\b/g, ' have'], [/'ll\b/g, ' will'], [/\b(there|it|that|what|who|he|she|someone|somebody|everyone|everybody|nobody|no one)'s\b/g, '$1 is'],
];
/** Words at the end that say when, not what: "… on the screen again", "… now please". */
const TRAILING = /( (now|again|soon|later|today|please|for me|at some point|right away|straight away|immediately))+$/;

/** Lower case, contractions opened, punctuation trimmed from word ends (a time or code keeps its own: "9:40"), trailing time words dropped. */
function plain(text: string): string {
  let s = normalise(text);
  for (const [re, to] of CONTRACTIONS) s = s.replace(re, to);
  const words = s.split(/\s+/).map((w) => w.replace(/^[^\p{L}\p{N}]+|[^\p{L}\p{N}]+$/gu, '')).filter(Boolean);
  return words.join(' ').replace(TRAILING, '');
}

const QUOTED = [/“([^”]+)”/, /"([^"]+)"/, /‘([^’]+)’/, /(?:^|[\s(:])'([^']+)'(?=$|[\s.,!?;:)])/];
/** Verbs of speech in what surrounds a quote: "someone says 'boarding'" is heard, "'EXIT' appears" is read. */
const SPEECH = /\b(say|says|said|saying|mention|mentions|mentioned|hear|hears|heard|announce|announces|announced|call|calls|called|shout|shouts|yell|yells|speak|speaks|spoken|talk|talks|utter|utters)\b/;

/** Places text is read from; "tv" here is the screen, not the object. */
const SCREENS = 'screen|screens|display|sign|board|monitor|tv|television|notice|caption|captions|subtitle|subtitles|page|label|slide|whiteboard|blackboard|poster|banner|paper|scoreboard|noticeboard';
const SCREEN_WORD = new RegExp(`\\b(${SCREENS}|text|written|writing|reads)\\b`);

/**
 * The rule a condition means, or undefined when none fits exactly (the caller then asks a
 * language-model judge, or refuses). In order: quoted words (heard if spoken, else read on
 * screen), scene changes, counts, words said, text on screen (its patterns name a screen, so
 * "the screen shows the song title" is read, not heard), sounds, objects in view.
 */
export function parseCondition(condition: string): WatchRule | undefined {
  for (const re of QUOTED) {
    const quote = re.exec(condition);
    if (!quote) continue;
    const words = ruleWords(quote[1]!);
    if (words.length === 0) return undefined;
    const around = plain(condition.replace(quote[0], ' '));
    return SPEECH.test(around) && !SCREEN_WORD.test(around) ? { kind: 'phrase', words } : { kind: 'text', words };
  }
  const s = plain(condition);
  if (!s) return undefined;
  return sceneRule(s) ?? countRule(s) ?? phraseRule(s) ?? textRule(s) ?? soundRule(s) ?? objectRule(s);
}

const SCENE = [
  /^(the |my |your )?(scene|view|picture|image|shot|screen|video|camera view|camera image|background)( on (the )?(camera|screen))? (changes|switches|cuts|is different|looks different|changes completely)$/,
  /^(something|anything) (changes|is different|looks different)( on (the )?(camera|screen|view|picture))?$/,
  /^(the |my )?camera (moves|is moved|turns|pans|points elsewhere|points somewhere else|is pointed somewhere else|is pointed elsewhere|shows something else|shows something different)$/,
  /^(there is )?(a )?(scene change|new scene|cut)$/,
];

function sceneRule(s: string): WatchRule | undefined {
  return SCENE.some((re) => re.test(s)) ? { kind: 'scene_change' } : undefined;
}

const UP = 'goes up|increases|rises|grows';
const DOWN = 'goes down|decreases|drops|falls|shrinks';
const COUNT_WHERE = '(?: in view| on (?:the )?(?:screen|camera)| in the (?:room|picture|frame)| here| there)?';
const COUNT = [
  new RegExp(`^the (?:number|count|amount) of (?<np>.+?)${COUNT_WHERE} (?<verb>changes|${UP}|${DOWN})$`),
  new RegExp(`^the (?<np>.+?) count (?<verb>changes|${UP}|${DOWN})$`),
  /^(?<verb>more|fewer|less) (?<np>.+?) (?:are |is )?(?:in view|visible|on (?:the )?(?:screen|camera)|there|here|around|show up|turn up|arrive|appear|come in|come into view|in the (?:room|picture|frame))$/,
];

const RISE = new RegExp(`^(more|${UP})$`);
const FALL = new RegExp(`^(fewer|less|${DOWN})$`);

function countRule(s: string): WatchRule | undefined {
  for (const re of COUNT) {
    const m = re.exec(s)?.groups;
    const thing = m && nounPhrase(m.np!);
    if (!thing) continue;
    const direction = RISE.test(m.verb!) ? 'more' : FALL.test(m.verb!) ? 'fewer' : undefined;
    return { kind: 'object_count', label: thing.label, ...(direction ? { direction } : {}) };
  }
  return undefined;
}

const SAY_VERBS = 'says?|shouts?|yells?|announces?|calls? out|utters?|uses? the words?|starts? saying';
const TOPIC_VERBS = 'mentions?|talks? about|speaks? about|brings? up|asks? about|starts? talking about';
const PHRASE = [
  new RegExp(`^(?<subject>(?:\\S+ ){1,3}?)(?<verb>${SAY_VERBS}|${TOPIC_VERBS}) (?<rest>.+)$`),
  /^(?:you|i|we) (?:can )?hear (?:(?:someone|somebody|anyone|anybody|people) )?(?<verb>say|saying|mention|mentioning|talk about|talking about) (?<rest>.+)$/,
  /^(?:you|i|we) (?:can )?hear (?<rest>the (?:word|words|name|phrase) .+)$/,
  /^(?<rest>.+?) (?:is|are|gets|get) (?<verb>said|mentioned|announced|called out|spoken|brought up)$/,
];
/** Words that name what is said without saying it: "my name", "something". */
const VAGUE = new Set(['something', 'anything', 'stuff', 'it', 'that', 'this', 'name', 'number', 'word', 'words']);
const POSSESSIVE = /\b(my|our|your|his|her|their)\b/;
/** Small words dropped from a topic ("anyone mentions the train" → "train"). */
const TOPIC_FILLER = new Set(['a', 'an', 'the', 'some', 'any', 'of', 'about', 'to', 'for', 'on', 'in', 'at', 'and', 'or', 'with', 'is', 'are']);

function phraseRule(s: string): WatchRule | undefined {
  for (const re of PHRASE) {
    const m = re.exec(s)?.groups;
    if (!m) continue;
    if (m.subject !== undefined && SCREEN_WORD.test(m.subject)) return undefined; // "the screen says …" is read
    const topic = /mention|talk|speak|brings|bring|ask/.test(m.verb ?? '');
    const rest = m.rest!.replace(/^(that |the words? |the phrase |the name |something about |anything about |about |words like )/, '');
    if (POSSESSIVE.test(rest)) return undefined; // "someone says my name": words only the user knows
    const words = ruleWords(rest).filter((w) => !topic || !TOPIC_FILLER.has(w));
    if (words.length === 0 || words.every((w) => VAGUE.has(w))) return undefined;
    return { kind: 'phrase', words };
  }
  return undefined;
}

/** Sounds by what people say about them; labels are SOUND_LABELS, else a word of the AudioSet name a model engine reports. */
const SOUND: [RegExp, string][] = [
  [/\b(alarms?|smoke detectors?|timers?|buzzers?|beepers?)\b.*\b(goes off|go off|sounds?|rings?|beeps?|buzz|buzzes|starts|going off|ringing|beeping|sounding|buzzing|finishes|runs out|is done|ends)\b/, 'alarm'],
  [/\b(beeps?|beeping|bleeps?|bleeping)\b/, 'alarm'],
  [/^(you|i|we) (can )?hear (an? |the |any )?(\w+ )?(alarm|buzzer)s?$/, 'alarm'],
  [/\bsirens?\b/, 'siren'],
  [/\b(knocks?|knocking)\b(?! (over|down))/, 'knock'],
  [/\b(doorbell|door bell)\b/, 'doorbell'],
  [/\b(phone|telephone|cellphone|mobile)s? (rings|ringing|is ringing|goes off|starts ringing)\b/, 'telephone'],
  [/\b(barks?|barking)\b/, 'bark'],
  [/\b(baby|babies|child|kid) (cries|cry|is crying|starts crying)\b/, 'cry'],
  [/\b(applause|applauds?|applauding|clapping|claps?)\b/, 'applause'],
  [/\b(glass (breaks|shatters|smashes)|shatters?|shattering|breaking glass)\b/, 'shatter'],
  [/\b(laughs?|laughing|laughter)\b/, 'laughter'],
  [/\b(coughs?|coughing)\b/, 'cough'],
  [/\b(music|song|songs|singing|sings)\b/, 'music'],
  [/^(someone|somebody|anyone|anybody|people|a person) (starts )?(talking|speaking|talks|speaks)$|\bhears? (someone |somebody |anyone |people )?(talking|speaking|voices?|speech)\b/, 'speech'],
];

function soundRule(s: string): WatchRule | undefined {
  const hit = SOUND.find(([re]) => re.test(s));
  return hit ? { kind: 'sound', label: hit[1] } : undefined;
}

const WHERE = `(?:the |a |my |your |that |this )?(?:\\S+ )?(?:${SCREENS})`;
const SHOWN = 'is|are|appears|appear|shows up|show up|comes up|come up|pops up|pop up|is shown|are shown|is displayed|are displayed|is written|are written|gets displayed|flashes up|lights up|is up|goes up|is posted|is listed';
const TEXT: { re: RegExp; cue?: true }[] = [
  { re: new RegExp(`^${WHERE} (?:says|shows|reads|displays|lists|flashes|changes to|switches to|has|mentions)(?: the (?:words?|text|number|code))? (?<x>.+)$`) },
  { re: new RegExp(`^(?<x>.+?) (?:${SHOWN}) (?:on|in) ${WHERE}$`) },
  { re: /^(?:you|i|we) (?:can )?(?:see|read|spot|notice) (?:the )?(?:words?|text|number|code|message|writing) (?<x>.+)$/, cue: true },
  { re: /^(?:the |some |any )?(?:words?|text|message|writing) (?<x>.+?) (?:appears?|shows up|is shown|is written|comes up|pops up|is visible|is displayed)(?: (?:on|in) .+)?$/, cue: true },
  { re: /^(?<x>.+?) (?:is|are) (?:written|displayed)(?: (?:on|in) .+)?$/, cue: true },
  { re: /^(?:you|i|we) (?:can )?read (?<x>.+)$/, cue: true },
];
/** Words that say what kind of text, not what it says: "the gate number" is read as "gate". */
const TEXT_FILLER = new Set([...SCREENS.split('|'),
  'a', 'an', 'the', 'some', 'any', 'this', 'that', 'these', 'those', 'of', 'for', 'to', 'on', 'in', 'at', 'is', 'are', 'be', 'and', 'or',
  'with', 'from', 'it', 'its', 'next', 'current', 'word', 'words', 'text', 'number', 'numbers', 'name', 'names', 'time', 'times', 'code',
  'codes', 'message', 'messages', 'info', 'information', 'details', 'letters', 'digits', 'value', 'something', 'anything', 'up']);

function textRule(s: string): WatchRule | undefined {
  for (const { re, cue } of TEXT) {
    const x = re.exec(s)?.groups?.x;
    if (!x) continue;
    // "a dog is on the screen", "the screen shows a cup": the camera sees it.
    const thing = cue ? undefined : nounPhrase(x);
    if (thing) return appearRule(thing);
    if (POSSESSIVE.test(x)) return undefined; // "my gate is on the board": which gate, only the user knows
    const words = ruleWords(x).filter((w) => !TEXT_FILLER.has(w));
    return words.length ? { kind: 'text', words } : undefined;
  }
  return undefined;
}

const ROOMS = '(?:room|frame|picture|view|shot|kitchen|house|office)';
const APPEAR = `(?:appears?|shows? up|comes? (?:in|into view|into (?:the )?${ROOMS}|back|home|by|along|through the door)|walks? in|enters?(?: the ${ROOMS})?|arrives?|turns? up|pops? up|gets? (?:here|home)|(?:is|are) (?:here|back|home|there|in view|in (?:the )?${ROOMS}|in frame|in shot|on camera|on screen|visible|in sight|around|nearby)|can be seen|becomes? visible|is seen)`;
const LEAVE = `(?:disappears?|vanish(?:es)?|leaves?(?: the ${ROOMS})?|goes away|go away|walks? (?:out|away|off)|goes out(?: of (?:view|sight|frame|the ${ROOMS}))?|go out|moves? away|(?:is|are) (?:gone|taken(?: away)?|removed|moved(?: away)?|missing|away|out of (?:view|sight|frame|the ${ROOMS})|no longer (?:there|here|visible|in view|in the ${ROOMS}|on (?:the )?(?:camera|screen))|not (?:there|here|visible|in view) any ?more)|gets? (?:taken|removed|moved)(?: away)?|(?:has|have) (?:left|gone))`;
const OBJECT: { re: RegExp; leaves: boolean }[] = [
  { re: new RegExp(`^(?<np>.+?) ${APPEAR}$`), leaves: false },
  { re: new RegExp(`^(?<np>.+?) ${LEAVE}$`), leaves: true },
  { re: /^(?:you|i|we) (?:can )?(?:see|spot|notice|catch sight of) (?<np>.+?)(?: in view| on (?:the )?(?:camera|screen)| in the (?:picture|frame|room))?$/, leaves: false },
  { re: /^there (?:is|are) (?<np>.+?)(?: here| there| in view| in the (?:picture|frame|room|shot)| on (?:the )?(?:camera|screen)| visible)?$/, leaves: false },
  { re: /^(?:i|someone|somebody|anyone|he|she|they) (?:am |is |are )?(?:holds?|holding|holds? up|hold up|holding up|shows? you|showing you|brings? in|bringing in) (?<np>.+)$/, leaves: false },
  { re: /^(?:you|i|we) (?:cannot|can not|do not|can no longer|no longer) (?:see|spot) (?<np>.+?)(?: any ?more)?$/, leaves: true },
  { re: /^(?:someone|somebody|anyone|he|she|they|i) (?:takes?|removes?|moves?|carries) (?:away )?(?<np>.+?)(?: away| out)?$/, leaves: true },
];
/** "nobody is there", "the room is empty": every person gone. */
const NOBODY = /^((nobody|no one|noone) is (there|here|in view|left|around|in the (room|picture|frame|shot))( any ?more)?|the (room|place|office|kitchen) is empty)$/;

function objectRule(s: string): WatchRule | undefined {
  if (NOBODY.test(s)) return { kind: 'object_leaves', label: 'person' };
  for (const { re, leaves } of OBJECT) {
    const np = re.exec(s)?.groups?.np;
    const thing = np && nounPhrase(np);
    if (thing) return leaves ? leaveRule(thing) : appearRule(thing);
  }
  return undefined;
}

interface NounPhrase {
  label: string;
  /** "another dog", "someone else", "more people": one more of what may be there already. */
  more: boolean;
  /** "everyone", "all the people". */
  all: boolean;
}

const DETERMINERS = new Set(['a', 'an', 'one', 'the', 'my', 'your', 'our', 'his', 'her', 'their', 'this', 'that', 'these', 'those', 'any', 'some', 'its']);
const MORE = new Set(['another', 'more', 'second', 'new', 'extra', 'additional', 'else', 'other', 'further']);
const ALL = new Set(['all', 'every', 'everyone', 'everybody']);

/**
 * The COCO label a noun phrase names, when it names exactly one and says nothing more than
 * which or how many: "the cup", "my phone", "someone else", "another dog", "all the people".
 * "a red car" (a colour the rule cannot check), "an animal" or "a bag" (several labels) give
 * undefined: a rule on the bare label would fire on the wrong thing.
 */
function nounPhrase(np: string): NounPhrase | undefined {
  const words = np.split(' ');
  // "someone else": the "else" asks for one more.
  const more = words.length > 1 && words.at(-1) === 'else';
  if (more) words.pop();
  const head = words.at(-1)!;
  // A two-word label ("cell phone", "teddy bear") first, then the last word alone.
  const pair = words.length >= 2 ? labelsFor(words.slice(-2).join(' ')) : [];
  const labels = pair.length === 1 ? pair : labelsFor(head);
  if (labels.length !== 1) return undefined;
  const rest = words.slice(0, pair.length === 1 ? -2 : -1);
  if (!rest.every((w) => DETERMINERS.has(w) || MORE.has(w) || ALL.has(w))) return undefined;
  return { label: labels[0]!, more: more || rest.some((w) => MORE.has(w)), all: ALL.has(head) || rest.some((w) => ALL.has(w)) };
}

/**
 * Someone arriving is one more person, not a person where none was: the user is usually in
 * view already. So people (and "another X") count up; other things appear.
 */
function appearRule(thing: NounPhrase): WatchRule {
  if (thing.label === 'person' || thing.more) return { kind: 'object_count', label: thing.label, direction: 'more' };
  return { kind: 'object_appears', label: thing.label };
}

/** Someone leaving is one person fewer; "everyone leaves" is no person left. */
function leaveRule(thing: NounPhrase): WatchRule {
  if (thing.label === 'person' && !thing.all) return { kind: 'object_count', label: 'person', direction: 'fewer' };
  return { kind: 'object_leaves', label: thing.label };
}

/** The rule for a condition no rule reads: a judge answers the user's own words about each clip. */
export function judgedRule(condition: string): WatchRule {
  return { kind: 'judged', question: `Does this hold in the scene now: “${condition.trim()}”?` };
}

/**
 * Time words in a question → a time range to search. Relative phrases ("two minutes ago",
 * "at the start", "five minutes in") follow media time, the clock every stage follows;
 * calendar phrases ("earlier today", "yesterday") follow the wall clock (local time zone).
 */

export interface TimeRange {
  /** `media`: ms since the session started (ClipRecord.startMs); `wall`: epoch ms (wallStartMs). */
  basis: 'media' | 'wall';
  fromMs: number;
  toMs: number;
  /** The moment the question points at: hits in the range rank by their distance to it. */
  centerMs: number;
  /** The words that matched, as written. */
  phrase: string;
  /** The question without the time phrase, for the word search. */
  rest: string;
}

const SECOND = 1000;
const MINUTE = 60 * SECOND;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

/** Half-width of the window around a point in time: ±max(30 s, 20 % of how far back it is). */
export function tolerance(offsetMs: number): number {
  return Math.max(30 * SECOND, 0.2 * Math.abs(offsetMs));
}

const SMALL = ['zero', 'one', 'two', 'three', 'four', 'five', 'six', 'seven', 'eight', 'nine', 'ten', 'eleven', 'twelve', 'thirteen', 'fourteen', 'fifteen', 'sixteen', 'seventeen', 'eighteen', 'nineteen'];
const TENS = ['twenty', 'thirty', 'forty', 'fifty', 'sixty', 'seventy', 'eighty', 'ninety'];
const ONES = SMALL.slice(1, 10).join('|');
const NUM = `(?:\\d+(?:\\.\\d+)?|(?:${TENS.join('|')})(?:[- ](?:${ONES}))?|${[...SMALL].reverse().join('|')}|a\\s+couple\\s+of|a\\s+couple|a\\s+few|several|an?)`;
const UNIT = '(?:seconds?|secs?|minutes?|mins?|hours?|hrs?)';
const SPAN = `(${NUM})\\s+(${UNIT})(\\s+and\\s+a\\s+half)?`;
const MEDIA_NOUN = '(?:video|stream|session|call|recording|meeting|conversation|clip)';

function parseNumber(raw: string): number {
  const s = raw.toLowerCase().replace(/\s+/g, ' ');
  if (/^\d/.test(s)) return Number(s);
  if (s === 'a' || s === 'an') return 1;
  if (s.startsWith('a couple')) return 2;
  if (s === 'a few') return 3;
  if (s === 'several') return 4;
  const [tens, ones] = s.split(/[- ]/);
  const t = TENS.indexOf(tens!);
  if (t >= 0) return (t + 2) * 10 + (ones ? SMALL.indexOf(ones) : 0);
  return SMALL.indexOf(s);
}

function unitMs(raw: string): number {
  const u = raw.toLowerCase();
  if (u.startsWith('s')) return SECOND;
  if (u.startsWith('m')) return MINUTE;
  return HOUR;
}

const spanMs = (m: RegExpExecArray, at = 1) => (parseNumber(m[at]!) + (m[at + 2] ? 0.5 : 0)) * unitMs(m[at + 1]!);

interface Rule {
  re: RegExp;
  range(m: RegExpExecArray, nowMs: number, nowWallMs: number): Omit<TimeRange, 'phrase' | 'rest'>;
}

/** "N minutes ago": a window around now − N; before this session began, it means wall time. */
function ago(offsetMs: number, nowMs: number, nowWallMs: number): Omit<TimeRange, 'phrase' | 'rest'> {
  const tol = tolerance(offsetMs);
  const center = nowMs - offsetMs;
  if (center + tol < 0) {
    const wallCenter = nowWallMs - offsetMs;
    return { basis: 'wall', fromMs: wallCenter - tol, toMs: wallCenter + tol, centerMs: wallCenter };
  }
  return { basis: 'media', fromMs: Math.max(0, center - tol), toMs: Math.min(nowMs, center + tol), centerMs: Math.max(0, center) };
}

function lastSpan(spanMsValue: number, nowMs: number): Omit<TimeRange, 'phrase' | 'rest'> {
  return { basis: 'media', fromMs: Math.max(0, nowMs - spanMsValue), toMs: nowMs, centerMs: nowMs };
}

function localMidnight(wallMs: number): number {
  const d = new Date(wallMs);
  d.setHours(0, 0, 0, 0);
  return d.getTime();
}

function wallWindow(nowWallMs: number, fromHour: number, toHour: number, dayOffset = 0): Omit<TimeRange, 'phrase' | 'rest'> {
  const midnight = localMidnight(nowWallMs) + dayOffset * DAY;
  const fromMs = midnight + fromHour * HOUR;
  const toMs = Math.min(nowWallMs, midnight + toHour * HOUR);
  return { basis: 'wall', fromMs, toMs: Math.max(fromMs, toMs), centerMs: dayOffset < 0 ? (fromMs + toMs) / 2 : Math.max(fromMs, toMs) };
}

/** Ordered: the first rule that matches wins. */
const RULES: Rule[] = [
  {
    re: /\b(?:just now|right now|a (?:moment|second|sec) ago|moments ago|a little while ago|just a moment ago)\b/i,
    range: (_m, nowMs) => lastSpan(MINUTE, nowMs),
  },
  {
    re: /\bhalf (?:an?|of an?) (hour|minute) ago\b/i,
    range: (m, nowMs, nowWallMs) => ago(0.5 * unitMs(m[1]!), nowMs, nowWallMs),
  },
  {
    re: new RegExp(`\\b${SPAN}\\s+ago\\b`, 'i'),
    range: (m, nowMs, nowWallMs) => ago(spanMs(m), nowMs, nowWallMs),
  },
  {
    re: new RegExp(`\\b(?:in|over|during|within|for)?\\s*the\\s+(?:last|past|previous)\\s+(?:(${NUM})\\s+)?(${UNIT})(\\s+and\\s+a\\s+half)?\\b`, 'i'),
    range: (m, nowMs) => lastSpan((m[1] ? parseNumber(m[1]) : 1) * unitMs(m[2]!) + (m[3] ? 0.5 * unitMs(m[2]!) : 0), nowMs),
  },
  {
    re: new RegExp(`\\b${SPAN}\\s+(?:in(?=\\s*(?:[,.;:!?]|$))|into\\s+(?:the\\s+|this\\s+)?${MEDIA_NOUN})`, 'i'),
    range: (m, nowMs) => {
      const at = spanMs(m);
      const tol = tolerance(at);
      return { basis: 'media', fromMs: Math.max(0, at - tol), toMs: Math.min(Math.max(nowMs, at), at + tol), centerMs: at };
    },
  },
  {
    re: new RegExp(`\\bat\\s+(?:the\\s+)?${SPAN}\\s+mark\\b`, 'i'),
    range: (m) => {
      const at = spanMs(m);
      const tol = tolerance(at);
      return { basis: 'media', fromMs: Math.max(0, at - tol), toMs: at + tol, centerMs: at };
    },
  },
  {
    re: new RegExp(
      `\\b(?:(?:at|in|near|from)\\s+the\\s+(?:very\\s+)?(?:start|beginning)(?:\\s+of\\s+(?:the\\s+|this\\s+)?${MEDIA_NOUN})?|when\\s+(?:we|i|it|you|the\\s+${MEDIA_NOUN})\\s+(?:first\\s+)?(?:started|began|start|begin))\\b`,
      'i',
    ),
    range: (_m, nowMs) => {
      const span = Math.min(5 * MINUTE, Math.max(MINUTE, 0.1 * nowMs));
      return { basis: 'media', fromMs: 0, toMs: span, centerMs: 0 };
    },
  },
  { re: /\b(?:earlier today|today|so far today)\b/i, range: (_m, _n, nowWallMs) => wallWindow(nowWallMs, 0, 24) },
  { re: /\bthis morning\b/i, range: (_m, _n, nowWallMs) => wallWindow(nowWallMs, 0, 12) },
  { re: /\bthis afternoon\b/i, range: (_m, _n, nowWallMs) => wallWindow(nowWallMs, 12, 18) },
  { re: /\b(?:this evening|tonight)\b/i, range: (_m, _n, nowWallMs) => wallWindow(nowWallMs, 18, 24) },
  { re: /\byesterday\b/i, range: (_m, _n, nowWallMs) => wallWindow(nowWallMs, 0, 24, -1) },
];

/**
 * Finds the first time expression in `text`. `nowMs` is media ms now, `nowWallMs` epoch ms
 * now. Returns undefined when the question names no time.
 */
export function parseTimeExpression(text: string, nowMs: number, nowWallMs: number): TimeRange | undefined {
  for (const rule of RULES) {
    const m = rule.re.exec(text);
    if (!m) continue;
    const phrase = m[0].trim();
    const rest = (text.slice(0, m.index) + ' ' + text.slice(m.index + m[0].length)).replace(/\s+/g, ' ').trim();
    return { ...rule.range(m, nowMs, nowWallMs), phrase, rest };
  }
  return undefined;
}

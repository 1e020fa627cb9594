/**
 * Generated speech for turn-taking tests and the turn-latency benchmark: sentences with a pause
 * where people really pause (after "the", "and", "um", an unfinished clause), complete
 * questions, fillers, and short noise bursts (a cough, a door) for false interruptions.
 * Flite's slt voice at 16 kHz pcm16, like `speak()`.
 */
import { seededRandom } from '../../benchmarks/seeded-random.ts';
import { speak } from './speech.ts';

const RATE = 16000;
/** |sample| at or above this (−40 dBFS) counts as speech: Flite pads with ~−55 dBFS noise. */
export const SPEECH_LEVEL = 328;
/** How far (ms) around the estimated word boundary the cut may move to the quietest spot, at most. */
const SEARCH_MS = 120;
/** Length (ms) of the window whose energy picks the cut. */
const WINDOW_MS = 10;
/** Fade (ms) on both sides of the cut, so the silence starts and ends without a click. */
const FADE_MS = 2;
/** How far (ms) beyond the two alignment estimates the cut may move. */
const MARGIN_MS = 20;

const msOf = (samples: number) => (samples * 1000) / RATE;
const samplesOf = (ms: number) => Math.round((ms * RATE) / 1000);

/** First and last sample at or above −40 dBFS (−1 when there is none). */
export function speechBounds(pcm: Int16Array, level = SPEECH_LEVEL): { start: number; end: number } {
  let start = -1;
  let end = -1;
  for (let i = 0; i < pcm.length; i++) {
    if (Math.abs(pcm[i]!) < level) continue;
    if (start < 0) start = i;
    end = i;
  }
  return { start, end };
}

export interface PausedSentence {
  /** The whole sentence, `${before} ${after}`. */
  text: string;
  before: string;
  after: string;
  /** 16 kHz pcm16: the sentence with `pauseMs` of digital silence inserted at the word boundary. */
  pcm: Int16Array;
  /** Media ms within `pcm`: the inserted silence is [pauseStartMs, pauseEndMs). */
  pauseStartMs: number;
  pauseEndMs: number;
  /** Media ms within `pcm` of the first and last sample at or above −40 dBFS. */
  speechStartMs: number;
  speechEndMs: number;
}

/**
 * ONE sentence with a mid-sentence pause: the whole of `${before} ${after}` is synthesized (so
 * the pitch does not fall at the pause as it would at the end of a separate sentence), and
 * `pauseMs` of silence goes in at the word boundary. The boundary is estimated by aligning
 * `before` and `after`, each synthesized alone, with the start and the end of the sentence
 * (dynamic time warping over log band energies: spoken alone, `before` ends with sentence-final
 * lengthening, so its plain length overshoots), then the cut moves to the quietest 10 ms
 * between the two estimates ±20 ms, never farther than ±120 ms from their middle (the gap
 * between two words, the closure of a stop).
 */
export async function pausedSentence(before: string, after: string, pauseMs: number): Promise<PausedSentence> {
  const text = `${before} ${after}`;
  const [whole, first, second] = await Promise.all([speak(text), speak(before), speak(after)]);
  const w = speechBounds(whole);
  const f = speechBounds(first);
  const s2 = speechBounds(second);
  if (w.start < 0 || f.start < 0 || s2.start < 0) throw new Error(`no speech synthesized for "${text}"`);
  const { firstEnd, secondStart } = alignBoundary(whole.subarray(w.start, w.end + 1), first.subarray(f.start, f.end + 1), second.subarray(s2.start, s2.end + 1));
  const lo = w.start + Math.min(firstEnd, secondStart);
  const hi = w.start + Math.max(firstEnd, secondStart);
  const cut = quietestPoint(whole, Math.round((lo + hi) / 2), Math.max(hi - lo, 0) / 2, w.start, w.end);
  const gap = samplesOf(pauseMs);
  const pcm = new Int16Array(whole.length + gap);
  pcm.set(whole.subarray(0, cut), 0);
  pcm.set(whole.subarray(cut), cut + gap);
  const fade = samplesOf(FADE_MS);
  for (let i = 0; i < fade; i++) {
    const g = i / fade;
    if (cut - 1 - i >= 0) pcm[cut - 1 - i] = Math.round(pcm[cut - 1 - i]! * g);
    if (cut + gap + i < pcm.length) pcm[cut + gap + i] = Math.round(pcm[cut + gap + i]! * g);
  }
  const s = speechBounds(pcm);
  return { text, before, after, pcm, pauseStartMs: msOf(cut), pauseEndMs: msOf(cut + gap), speechStartMs: msOf(s.start), speechEndMs: msOf(s.end) };
}

/**
 * The cut near `around`: the middle of the quietest 10 ms window (at its smallest |x| — a zero
 * crossing, usually) within `spread` samples of it plus 20 ms, and never farther than ±120 ms.
 * Wider, the search would find the gap of a neighbouring word boundary instead.
 */
function quietestPoint(pcm: Int16Array, around: number, spread: number, speechStart: number, speechEnd: number): number {
  const win = samplesOf(WINDOW_MS);
  const reach = Math.min(samplesOf(SEARCH_MS), Math.round(spread) + samplesOf(MARGIN_MS));
  // Stay strictly inside the speech, so both parts keep some of it.
  const lo = Math.max(speechStart + win, around - reach - (win >> 1));
  const hi = Math.min(speechEnd - 2 * win, around + reach - (win >> 1));
  if (hi <= lo) return Math.max(speechStart + 1, Math.min(speechEnd - 1, around));
  const step = RATE / 1000; // slide by 1 ms
  let best = lo;
  let bestEnergy = Infinity;
  for (let at = lo; at <= hi; at += step) {
    let e = 0;
    for (let i = at; i < at + win; i++) e += pcm[i]! * pcm[i]!;
    // Ties (digital silence): prefer the window closest to the estimate.
    if (e < bestEnergy || (e === bestEnergy && Math.abs(at - around) < Math.abs(best - around))) {
      bestEnergy = e;
      best = at;
    }
  }
  let cut = best;
  for (let i = best; i < best + win; i++) if (Math.abs(pcm[i]!) < Math.abs(pcm[cut]!)) cut = i;
  return cut;
}

// ---- where `before` ends and `after` starts inside the whole sentence ----

const FRAME = 512; // 32 ms analysis window
const HOP = samplesOf(10);
const BANDS = 24;

/**
 * Sample offsets (within `whole`, all three trimmed to their speech) where the alignment of
 * `first` with the start of `whole` ends, and where that of `second` with its end starts.
 */
function alignBoundary(whole: Int16Array, first: Int16Array, second: Int16Array): { firstEnd: number; secondStart: number } {
  const W = features(whole);
  const F = features(first);
  const S = features(second);
  const firstEndFrame = openEndDtw(F, W);
  const secondStartFrame = W.length - 1 - openEndDtw([...S].reverse(), [...W].reverse());
  return { firstEnd: Math.min(whole.length, (firstEndFrame + 1) * HOP + (FRAME - HOP) / 2), secondStart: Math.max(0, secondStartFrame * HOP + (FRAME - HOP) / 2) };
}

/** DTW of `a` (whole) against a prefix of `b`: the frame of `b` where `a`'s last frame lands. */
function openEndDtw(a: Float32Array[], b: Float32Array[]): number {
  const n = a.length;
  const m = b.length;
  let prev = new Float64Array(m).fill(Infinity);
  let prevLen = new Float64Array(m);
  for (let i = 0; i < n; i++) {
    const cur = new Float64Array(m).fill(Infinity);
    const curLen = new Float64Array(m);
    for (let j = 0; j < m; j++) {
      const d = distance(a[i]!, b[j]!);
      if (i === 0 && j === 0) {
        cur[0] = d;
        curLen[0] = 1;
        continue;
      }
      // Steps (i-1, j), (i, j-1), (i-1, j-1): the cheapest by cost per step.
      let best = Infinity;
      let len = 0;
      const consider = (cost: number, l: number) => {
        if (cost === Infinity) return;
        if ((cost + d) / (l + 1) < (best === Infinity ? Infinity : best / len)) {
          best = cost + d;
          len = l + 1;
        }
      };
      if (i > 0) consider(prev[j]!, prevLen[j]!);
      if (j > 0) consider(cur[j - 1]!, curLen[j - 1]!);
      if (i > 0 && j > 0) consider(prev[j - 1]!, prevLen[j - 1]!);
      cur[j] = best;
      curLen[j] = len;
    }
    prev = cur;
    prevLen = curLen;
  }
  let end = 0;
  for (let j = 1; j < m; j++) if (prev[j]! / prevLen[j]! < prev[end]! / prevLen[end]!) end = j;
  return end;
}

function distance(x: Float32Array, y: Float32Array): number {
  let d = 0;
  for (let k = 0; k < x.length; k++) d += (x[k]! - y[k]!) ** 2;
  return Math.sqrt(d);
}

/** Log mel-spaced band energies, one vector per 10 ms. */
function features(pcm: Int16Array): Float32Array[] {
  const out: Float32Array[] = [];
  const re = new Float64Array(FRAME);
  const im = new Float64Array(FRAME);
  const edges = melEdges();
  for (let at = 0; at + FRAME <= Math.max(pcm.length, FRAME); at += HOP) {
    for (let i = 0; i < FRAME; i++) {
      const x = at + i < pcm.length ? pcm[at + i]! / 32768 : 0;
      re[i] = x * (0.5 - 0.5 * Math.cos((2 * Math.PI * i) / FRAME)); // Hann
      im[i] = 0;
    }
    fft(re, im);
    const v = new Float32Array(BANDS);
    for (let b = 0; b < BANDS; b++) {
      let e = 0;
      for (let k = edges[b]!; k < edges[b + 2]!; k++) {
        const w = k < edges[b + 1]! ? (k - edges[b]!) / Math.max(1, edges[b + 1]! - edges[b]!) : (edges[b + 2]! - k) / Math.max(1, edges[b + 2]! - edges[b + 1]!);
        e += w * (re[k]! * re[k]! + im[k]! * im[k]!);
      }
      v[b] = Math.log10(e + 1e-8);
    }
    out.push(v);
  }
  return out;
}

/** FFT bin edges of BANDS triangular bands, mel-spaced from 100 Hz to 7 kHz. */
function melEdges(): number[] {
  const mel = (hz: number) => 2595 * Math.log10(1 + hz / 700);
  const hz = (m: number) => 700 * (10 ** (m / 2595) - 1);
  const lo = mel(100);
  const hi = mel(7000);
  return Array.from({ length: BANDS + 2 }, (_, i) => Math.round((hz(lo + ((hi - lo) * i) / (BANDS + 1)) * FRAME) / RATE));
}

/** In-place iterative radix-2 FFT (length a power of two). */
function fft(re: Float64Array, im: Float64Array): void {
  const n = re.length;
  for (let i = 1, j = 0; i < n; i++) {
    let bit = n >> 1;
    for (; j & bit; bit >>= 1) j ^= bit;
    j ^= bit;
    if (i < j) {
      [re[i], re[j]] = [re[j]!, re[i]!];
      [im[i], im[j]] = [im[j]!, im[i]!];
    }
  }
  for (let len = 2; len <= n; len <<= 1) {
    const ang = (-2 * Math.PI) / len;
    for (let i = 0; i < n; i += len) {
      for (let k = 0; k < len / 2; k++) {
        const wr = Math.cos(ang * k);
        const wi = Math.sin(ang * k);
        const a = i + k;
        const b = a + len / 2;
        const tr = re[b]! * wr - im[b]! * wi;
        const ti = re[b]! * wi + im[b]! * wr;
        re[b] = re[a]! - tr;
        im[b] = im[a]! - ti;
        re[a] = re[a]! + tr;
        im[a] = im[a]! + ti;
      }
    }
  }
}

/** Sentences split where people pause: after an article, a preposition, a conjunction, a filler, an unfinished clause. */
export const PAUSED_TEMPLATES: readonly { before: string; after: string }[] = [
  { before: 'I would like to go to the', after: 'train station' },
  { before: 'can you tell me about the', after: 'red car' },
  { before: 'I need to buy some milk and', after: 'eggs' },
  { before: 'so um', after: 'what time is it' },
  { before: 'the meeting is at', after: 'nine tomorrow' },
  { before: 'remind me to', after: 'call my mother' },
  { before: 'what is the weather like in', after: 'london today' },
  { before: 'tell me a story about', after: 'the sea' },
  { before: 'I think that', after: 'the car is red' },
  { before: 'please show me the', after: 'pictures of the house' },
];

/**
 * Complete questions and commands that pocketsphinx transcribes word for word from Flite's slt
 * voice after the 16 → 24 → 16 kHz round trip of a 24 kHz session ("what is the color of the
 * car" is not among them: it comes out "what is the color because").
 */
export const COMPLETE_QUESTIONS: readonly string[] = [
  'what is the weather like today',
  'tell me a long story about the sea',
  'what time is it',
  'where is the train station',
  'what is the name of the house',
  'how old is the man',
  'what is the capital of france',
  'what day is it today',
  'where is the car',
  'tell me a joke',
];

/**
 * Fillers: a turn of these alone should not be answered. Flite says "hmm" and "uh huh" as
 * letters or words ("h m m", "the head"), so those are not here; pocketsphinx still hears
 * some of these as short words ("um" as "and").
 */
export const FILLERS: readonly string[] = ['um', 'uh um', 'ah', 'yeah', 'well'];

/**
 * A short cough/door-like burst: seeded white noise, lightly low-passed, with a ~4 ms attack and
 * an exponential decay to about −40 dB below its peak by the end. `level` is the peak in dBFS
 * (e.g. −10). 16 kHz pcm16.
 */
export function noiseBurst(ms: number, level: number, seed: number | string): Int16Array {
  const random = seededRandom(seed);
  const n = samplesOf(ms);
  const out = new Int16Array(n);
  const peak = 32767 * 10 ** (Math.min(0, level) / 20);
  const attack = Math.max(1, Math.min(samplesOf(4), n >> 2));
  const tau = Math.max(1, (n - attack) / Math.log(100)); // −40 dB at the end
  let lp = 0;
  for (let i = 0; i < n; i++) {
    const white = random() * 2 - 1;
    lp += 0.5 * (white - lp); // one-pole low-pass, a cough's energy sits low
    const env = i < attack ? i / attack : Math.exp(-(i - attack) / tau);
    out[i] = Math.max(-32768, Math.min(32767, Math.round(lp * 2 * peak * env)));
  }
  return out;
}

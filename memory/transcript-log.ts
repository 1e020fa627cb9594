/**
 * What a session has heard and said, in RAM, searchable by words (BM25). The long-term
 * LanceDB MemoryStore takes over persistence; this is the short-term transcript.
 */
export interface Utterance {
  id: string;
  role: 'user' | 'assistant';
  text: string;
  /** Media time, ms since the session started. */
  startMs: number;
  endMs: number;
}

export interface UtteranceHit {
  utterance: Utterance;
  score: number;
}

const STOPWORDS = new Set(
  ('a an and are as at be but by did do does for from had has have he her his how i if in into is it its ' +
    'me my of on or our she so than that the their them then there these they this to was we were what ' +
    'when where which who why will with would you your about can could tell say said anything something ' +
    'please just there here').split(' '),
);

export function tokenize(text: string): string[] {
  return text.toLowerCase().match(/[\p{L}\p{N}']+/gu) ?? [];
}

export function contentWords(text: string): string[] {
  return tokenize(text).filter((w) => !STOPWORDS.has(w) && w.length > 1);
}

export class TranscriptLog {
  readonly #utterances: Utterance[] = [];
  readonly #limit: number;

  /** Oldest utterances are dropped beyond `limit`; long-term memory keeps them. */
  constructor(limit = 10_000) {
    this.#limit = limit;
  }

  get size(): number {
    return this.#utterances.length;
  }

  add(utterance: Utterance): void {
    this.#utterances.push(utterance);
    if (this.#utterances.length > this.#limit) this.#utterances.shift();
  }

  recent(n: number): Utterance[] {
    return this.#utterances.slice(-n);
  }

  /** BM25 over content words; `exclude` drops e.g. the question itself. */
  search(query: string, options: { limit?: number; role?: Utterance['role']; exclude?: string } = {}): UtteranceHit[] {
    const terms = [...new Set(contentWords(query))];
    const docs = this.#utterances.filter((u) => u.id !== options.exclude && (!options.role || u.role === options.role));
    if (terms.length === 0 || docs.length === 0) return [];
    const tokens = docs.map((d) => tokenize(d.text));
    const avgLen = tokens.reduce((s, t) => s + t.length, 0) / docs.length || 1;
    const df = new Map<string, number>();
    for (const term of terms) df.set(term, tokens.filter((t) => t.includes(term)).length);
    const k1 = 1.2;
    const b = 0.75;
    const hits: UtteranceHit[] = [];
    docs.forEach((utterance, i) => {
      const doc = tokens[i]!;
      let score = 0;
      for (const term of terms) {
        const tf = doc.filter((w) => w === term).length;
        if (tf === 0) continue;
        const n = df.get(term)!;
        const idf = Math.log(1 + (docs.length - n + 0.5) / (n + 0.5));
        score += (idf * tf * (k1 + 1)) / (tf + k1 * (1 - b + (b * doc.length) / avgLen));
      }
      if (score > 0) hits.push({ utterance, score });
    });
    return hits.sort((x, y) => y.score - x.score || y.utterance.startMs - x.utterance.startMs).slice(0, options.limit ?? 5);
  }
}

/**
 * Cuts a streamed answer into sentences on [.\n。？！?!] so each can be spoken as soon as it
 * is complete. A period inside a number ("3.5") or after a one-letter initial does not cut.
 * The first piece may end earlier, at a clause (a comma, semicolon, colon or dash after a few
 * words): synthesis time grows with length, and the first piece is what the person waits for.
 */
const ENDINGS = /[.\n。？！?!]/;
const CLAUSE_ENDINGS = /[,;:，；：—]/;

export interface SentenceChunkerOptions {
  /** The first piece ends at a clause once it has this many words (0: sentences only). @defaultValue 5 */
  firstClauseWords?: number;
}

export class SentenceChunker {
  #buffer = '';
  readonly #firstClauseWords: number;
  #emitted = false;

  constructor(options: SentenceChunkerOptions = {}) {
    this.#firstClauseWords = options.firstClauseWords ?? 5;
  }

  /** Adds text; returns the sentences it completed. */
  push(text: string): string[] {
    this.#buffer += text;
    const out: string[] = [];
    let start = 0;
    for (let i = 0; i < this.#buffer.length; i++) {
      const ch = this.#buffer[i]!;
      if (!this.#emitted && out.length === 0 && this.#firstClauseWords > 0 && CLAUSE_ENDINGS.test(ch) && this.#clauseEnds(start, i)) {
        out.push(this.#buffer.slice(start, i + 1).trim());
        start = i + 1;
        continue;
      }
      if (!ENDINGS.test(ch)) continue;
      if (ch === '.') {
        const next = this.#buffer[i + 1];
        if (next === undefined) break; // wait: "3." may become "3.5"
        if (/\d/.test(this.#buffer[i - 1] ?? '') && /\d/.test(next)) continue;
        if (/(^|\s)\p{L}$/u.test(this.#buffer.slice(Math.max(0, i - 2), i)) && /\s/.test(next)) continue;
      }
      // Keep runs like "?!" or "..." with their sentence.
      let end = i + 1;
      while (end < this.#buffer.length && /[.?!。？！]/.test(this.#buffer[end]!)) end++;
      const sentence = this.#buffer.slice(start, end).trim();
      if (sentence) out.push(sentence);
      start = end;
      i = end - 1;
    }
    this.#buffer = this.#buffer.slice(start);
    if (out.length > 0) this.#emitted = true;
    return out;
  }

  /** A clause mark at `i` ends the first piece: enough words before it, and not inside a number ("1,500"). */
  #clauseEnds(start: number, i: number): boolean {
    const next = this.#buffer[i + 1];
    if (next === undefined || !/\s/.test(next)) return false;
    return this.#buffer.slice(start, i).trim().split(/\s+/).length >= this.#firstClauseWords;
  }

  /** The unfinished tail, at the end of the stream. */
  flush(): string[] {
    const rest = this.#buffer.trim();
    this.#buffer = '';
    return rest ? [rest] : [];
  }
}

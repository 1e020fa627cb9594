/**
 * Cuts a streamed answer into sentences on [.\n。？！?!] so each can be spoken as soon as it
 * is complete. A period inside a number ("3.5") or after a one-letter initial does not cut.
 */
const ENDINGS = /[.\n。？！?!]/;

export class SentenceChunker {
  #buffer = '';

  /** Adds text; returns the sentences it completed. */
  push(text: string): string[] {
    this.#buffer += text;
    const out: string[] = [];
    let start = 0;
    for (let i = 0; i < this.#buffer.length; i++) {
      const ch = this.#buffer[i]!;
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
    return out;
  }

  /** The unfinished tail, at the end of the stream. */
  flush(): string[] {
    const rest = this.#buffer.trim();
    this.#buffer = '';
    return rest ? [rest] : [];
  }
}

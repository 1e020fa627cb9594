/**
 * The results file: the question file itself, each question gaining its response under
 * "OmniLive" (as the official scripts add MODEL.name(); so `python count.py --model OmniLive
 * --src results.json` scores it too) and the run's details under "OmniLive_details". Written
 * as answers come (at most every two seconds, atomically), so an interrupted run loses little
 * and a rerun with the same file skips what is answered.
 */
import fs from 'node:fs';
import path from 'node:path';
import { QuestionFileError, type BenchQuestion, type QuestionFile } from './questions.ts';
import type { ProactiveMode } from './proactive.ts';
import { DETAILS_KEY, MODEL_KEY, type ProactiveResponse } from './scoring.ts';

/** What must match for earlier answers to be reused. */
export interface RunSettings {
  mode: 'prefix' | 'stream';
  /** Prefix mode: seconds of context (≤ 0: from the start). */
  context: number | null;
  /** Prefix mode: most frames shown. */
  frames: number | null;
  reasoner: string;
  /** Stream mode, proactive files: how proactive questions were answered. */
  proactive: ProactiveMode | null;
}

const WRITE_EVERY_MS = 2000;

type Obj = Record<string, unknown>;

/** The question object at the same place in another copy of the file. */
function counterpart(data: unknown, q: BenchQuestion): Obj | undefined {
  const list = data as unknown[];
  const group = list?.[q.entryIndex];
  const entry = (q.subIndex === undefined ? group : (group as unknown[] | undefined)?.[q.subIndex]) as Obj | undefined;
  const questions = entry?.questions;
  return Array.isArray(questions) ? (questions[q.questionIndex] as Obj | undefined) : undefined;
}

export class ResultsFile {
  readonly path: string;
  readonly #file: QuestionFile;
  readonly #run: RunSettings;
  #dirty = false;
  #lastWrite = 0;

  private constructor(file: string, questions: QuestionFile, run: RunSettings) {
    this.path = file;
    this.#file = questions;
    this.#run = run;
  }

  /**
   * Opens `out` for this run. An existing file must hold the same questions and answers made
   * the same way (mode, context, frames, reasoner); its answers are taken over.
   */
  static open(out: string, questions: QuestionFile, run: RunSettings): ResultsFile {
    const results = new ResultsFile(path.resolve(out), questions, run);
    if (!fs.existsSync(results.path)) return results;
    let earlier: unknown;
    try {
      earlier = JSON.parse(fs.readFileSync(results.path, 'utf8'));
    } catch (error) {
      throw new QuestionFileError(`--out ${out} exists but is not a results file (${(error as Error).message}); move it away or pick another --out`);
    }
    for (const q of questions.questions) {
      const old = counterpart(earlier, q);
      if (!old || old.question !== q.question || old.time_stamp !== q.timeStamp) {
        throw new QuestionFileError(`--out ${out} holds results of other questions (entry ${q.entryIndex}${q.subIndex === undefined ? '' : `[${q.subIndex}]`}, question ${q.questionIndex} differs from ${questions.name}); pick another --out`);
      }
      if (old[MODEL_KEY] === undefined) continue;
      const details = (old[DETAILS_KEY] ?? {}) as Partial<RunSettings>;
      // Proactive answers in stream mode were polled before watches existed.
      const made = { ...details, ...(details.mode === 'stream' && run.proactive && details.proactive === undefined ? { proactive: 'poll' as const } : {}) };
      for (const key of ['mode', 'context', 'frames', 'reasoner', 'proactive'] as const) {
        if (made[key] !== undefined && made[key] !== run[key]) {
          throw new QuestionFileError(`--out ${out} holds answers made with ${key} ${JSON.stringify(made[key])}, this run uses ${JSON.stringify(run[key])}; pick another --out to keep both`);
        }
      }
      q.raw[MODEL_KEY] = old[MODEL_KEY];
      if (old[DETAILS_KEY] !== undefined) q.raw[DETAILS_KEY] = old[DETAILS_KEY];
    }
    return results;
  }

  /** Stores an answer; the file is rewritten at most every two seconds (and by flush()). */
  record(q: BenchQuestion, response: string | ProactiveResponse, details: Record<string, unknown>): void {
    q.raw[MODEL_KEY] = response;
    q.raw[DETAILS_KEY] = { ...this.#run, ...details };
    this.#dirty = true;
    if (performance.now() - this.#lastWrite >= WRITE_EVERY_MS) this.flush();
  }

  /** Notes a failure without a response: the question stays unanswered and a rerun retries it. */
  fail(q: BenchQuestion, error: string): void {
    q.raw[DETAILS_KEY] = { ...this.#run, error };
    this.#dirty = true;
  }

  flush(): void {
    if (!this.#dirty) return;
    fs.mkdirSync(path.dirname(this.path), { recursive: true });
    const tmp = `${this.path}.${process.pid}.tmp`;
    fs.writeFileSync(tmp, JSON.stringify(this.#file.data, null, 4));
    fs.renameSync(tmp, this.path);
    this.#dirty = false;
    this.#lastWrite = performance.now();
  }
}

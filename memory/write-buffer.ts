/**
 * Write batching: rows are queued and flushed every `flushIntervalMs` or at `maxBatch` rows,
 * one `table.add()` per table per flush. Flushes run one at a time on their own chain, which
 * nothing else joins: an append commits concurrently with a compaction in LanceDB, so a flush
 * (and a search that waits for one) never waits behind maintenance. A flush is durable once
 * it resolves: a crash loses at most the rows not yet flushed.
 */
import { untilAborted } from './errors.ts';
import type { Row } from './rows.ts';
import type { TableState } from './table-state.ts';

export interface WriteBufferOptions {
  flushIntervalMs: number;
  /** Rows queued (clips + utterances) that trigger an immediate flush. */
  maxBatch: number;
}

export interface FlushReport {
  clips: string[];
  utterances: string[];
  ms: number;
}

/** How the buffer tells its owner what became durable; none of these may throw. */
export interface WriteBufferHooks {
  /** A flush's clips are committed (its utterances are written next). */
  clipsDurable(rows: readonly Row[]): void;
  /** A flush wrote what it could: `complete` is false when the utterances failed after the clips. */
  flushed(report: FlushReport, complete: boolean): void;
  /** A flush failed; its rows stay queued, in order, for the next one. */
  flushFailed(error: Error): void;
}

interface Queued {
  id: string;
  row: Row;
}

export class WriteBuffer {
  readonly #state: TableState;
  readonly #options: WriteBufferOptions;
  readonly #hooks: WriteBufferHooks;
  #clips: Queued[] = [];
  #utterances: Queued[] = [];
  #timer: NodeJS.Timeout | undefined;
  #flushQueued = false;
  /** After a failed flush, no immediate (maxBatch) flush before this time. */
  #retryAfter = 0;
  #appends: Promise<unknown> = Promise.resolve();

  constructor(state: TableState, options: WriteBufferOptions, hooks: WriteBufferHooks) {
    this.#state = state;
    this.#options = options;
    this.#hooks = hooks;
  }

  /** Rows queued and not yet durable. */
  get pending(): number {
    return this.#clips.length + this.#utterances.length;
  }

  addClip(row: Row): void {
    this.#clips.push({ id: row.id as string, row });
    this.#schedule();
  }

  addUtterance(row: Row): void {
    this.#utterances.push({ id: row.id as string, row });
    this.#schedule();
  }

  /**
   * Resolves once everything queued before the call is durable. An abort ends the wait, not
   * the flush: the rows are committed or stay queued either way.
   */
  flush(signal?: AbortSignal): Promise<void> {
    if (signal?.aborted) return Promise.reject(signal.reason);
    return untilAborted(this.#append(() => this.#flushQueuedRows()), signal);
  }

  /** Resolves (never rejects) once the flushes started so far are over. */
  settled(): Promise<unknown> {
    return this.#appends;
  }

  /** Takes matching rows out of the queue (forget); a flush already in flight keeps its own. */
  drop(matches: (row: Row) => boolean): { clips: number; utterances: number } {
    const before = { clips: this.#clips.length, utterances: this.#utterances.length };
    this.#clips = this.#clips.filter((c) => !matches(c.row));
    this.#utterances = this.#utterances.filter((u) => !matches(u.row));
    return { clips: before.clips - this.#clips.length, utterances: before.utterances - this.#utterances.length };
  }

  /** Stops the timer and writes what is queued; a failure goes to `flushFailed`, not to the caller. */
  async close(): Promise<void> {
    if (this.#timer) clearTimeout(this.#timer);
    try {
      await this.#append(() => this.#flushQueuedRows());
    } catch (error) {
      this.#hooks.flushFailed(error as Error);
    }
  }

  #schedule(): void {
    if (this.pending >= this.#options.maxBatch && performance.now() >= this.#retryAfter) this.#backgroundFlush();
    else this.#startTimer();
  }

  #startTimer(): void {
    if (this.#timer) return;
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      this.#backgroundFlush();
    }, this.#options.flushIntervalMs);
    this.#timer.unref();
  }

  #backgroundFlush(): void {
    if (this.#flushQueued || this.#state.closed) return;
    this.#flushQueued = true;
    this.#append(() => {
      this.#flushQueued = false;
      return this.#flushQueuedRows();
    }).then(
      () => {
        if (this.pending > 0 && !this.#state.closed) this.#schedule();
      },
      (error: Error) => {
        this.#hooks.flushFailed(error);
        // Retry after an interval (not at once, even past maxBatch); rows stay queued in order.
        this.#retryAfter = performance.now() + this.#options.flushIntervalMs;
        if (!this.#state.closed) this.#startTimer();
      },
    );
  }

  async #flushQueuedRows(): Promise<void> {
    if (this.#timer) {
      clearTimeout(this.#timer);
      this.#timer = undefined;
    }
    const clips = this.#clips.splice(0);
    const utterances = this.#utterances.splice(0);
    if (clips.length === 0 && utterances.length === 0) return;
    const t0 = performance.now();
    const { tables } = this.#state;
    try {
      if (clips.length > 0) await tables.clips.add(clips.map((c) => c.row));
    } catch (error) {
      this.#clips.unshift(...clips);
      this.#utterances.unshift(...utterances);
      throw error;
    }
    const clipRows = clips.map((c) => c.row);
    this.#state.clipsWritten(clipRows);
    this.#hooks.clipsDurable(clipRows);
    const clipIds = clips.map((c) => c.id);
    try {
      if (utterances.length > 0) await tables.utterances.add(utterances.map((u) => u.row));
    } catch (error) {
      this.#utterances.unshift(...utterances);
      this.#hooks.flushed({ clips: clipIds, utterances: [], ms: performance.now() - t0 }, false);
      throw error;
    }
    this.#hooks.flushed({ clips: clipIds, utterances: utterances.map((u) => u.id), ms: performance.now() - t0 }, true);
  }

  #append<T>(task: () => Promise<T>): Promise<T> {
    const run = this.#appends.then(task);
    this.#appends = run.catch(() => {});
    return run;
  }
}

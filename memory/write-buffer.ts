/**
 * Write batching: rows are queued and flushed every `flushIntervalMs` or at `maxBatch` rows,
 * one `table.add()` per table per flush. Flushes run one at a time on their own chain, which
 * nothing else joins: an append commits concurrently with a compaction in LanceDB, so a flush
 * (and a search that waits for one) never waits behind maintenance. A flush is durable once
 * it resolves without a failure report: a crash loses at most the rows not yet flushed.
 *
 * When writing fails (a full disk, a read-only mount, a quota), the rows stay queued in order
 * and are retried after waits that double from `flushIntervalMs` up to `maxRetryDelayMs`; the
 * failure goes to `flushFailed`, never to whoever waits on `flush()` — reads go on with what is
 * on disk. At most `maxQueuedRows` stay queued: past that the oldest are dropped (and reported),
 * so a long outage costs its oldest rows, not the process's RAM.
 */
import { untilAborted } from './errors.ts';
import type { Row } from './rows.ts';
import type { TableState } from './table-state.ts';

export interface WriteBufferOptions {
  flushIntervalMs: number;
  /** Rows queued (clips + utterances) that trigger an immediate flush. */
  maxBatch: number;
  /** Rows kept queued at most while writes fail; past it the oldest are dropped. */
  maxQueuedRows: number;
  /** Retries of a failing write wait from `flushIntervalMs`, doubling, up to this. */
  maxRetryDelayMs: number;
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
  /** A flush failed; its rows stay queued, in order, for a retry in `retryInMs` (0: none, closing). */
  flushFailed(error: MemoryWriteError, retryInMs: number): void;
  /** The queue was full while writes failed: this many of the oldest rows were dropped unwritten. */
  dropped(counts: { clips: number; utterances: number }): void;
}

/** Writing memory failed; `code` names why in the words of the OS (ENOSPC, EROFS, …), or 'unknown'. */
export class MemoryWriteError extends Error {
  override name = 'MemoryWriteError';

  constructor(
    readonly code: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** LanceDB's errors carry the OS error in their text ("No space left on device (os error 28)"), not a code. */
const OS_ERRORS: [code: string, pattern: RegExp][] = [
  ['ENOSPC', /ENOSPC|No space left on device|os error 28\b/i],
  ['EDQUOT', /EDQUOT|Disk quota exceeded|os error 122\b/i],
  ['EROFS', /EROFS|Read-only file system|os error 30\b/i],
  ['EACCES', /EACCES|EPERM|Permission denied|os error 13\b/i],
  ['EIO', /EIO\b|Input\/output error|os error 5\b/i],
];

/** The OS error code of a failed write, as far as its error says. */
export function writeErrorCode(error: unknown): string {
  const own = (error as { code?: unknown } | null)?.code;
  if (typeof own === 'string' && /^E[A-Z]+$/.test(own)) return own;
  const text = error instanceof Error ? `${error.message} ${String(error.cause ?? '')}` : String(error);
  return OS_ERRORS.find(([, pattern]) => pattern.test(text))?.[0] ?? 'unknown';
}

function asWriteError(error: unknown): MemoryWriteError {
  if (error instanceof MemoryWriteError) return error;
  return new MemoryWriteError(writeErrorCode(error), error instanceof Error ? error.message : String(error), { cause: error });
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
  /** Failed flushes in a row. */
  #failures = 0;
  /** After a failed flush, no flush of its own accord (timer, maxBatch) before this time. */
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

  /** Failed flushes in a row (0 while writes work). */
  get failures(): number {
    return this.#failures;
  }

  addClip(row: Row): void {
    this.#clips.push({ id: row.id as string, row });
    this.#trim();
    this.#schedule();
  }

  addUtterance(row: Row): void {
    this.#utterances.push({ id: row.id as string, row });
    this.#trim();
    this.#schedule();
  }

  /**
   * Resolves once everything queued before the call was written, or once writing it failed
   * (then the rows stay queued for the retry, and `flushFailed` said why). An abort ends the
   * wait, not the flush: the rows are committed or stay queued either way.
   */
  flush(signal?: AbortSignal): Promise<void> {
    if (signal?.aborted) return Promise.reject(signal.reason);
    return untilAborted(this.#append(() => this.#attempt()), signal);
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
    await this.#append(() => this.#attempt(false));
  }

  #schedule(): void {
    if (this.pending >= this.#options.maxBatch && performance.now() >= this.#retryAfter) this.#backgroundFlush();
    else this.#startTimer();
  }

  /** Arms the flush timer, no earlier than a failing write's retry time. */
  #startTimer(): void {
    if (this.#timer) return;
    const wait = Math.max(this.#options.flushIntervalMs, this.#retryAfter - performance.now());
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      this.#backgroundFlush();
    }, wait);
    this.#timer.unref();
  }

  #backgroundFlush(): void {
    if (this.#flushQueued || this.#state.closed) return;
    this.#flushQueued = true;
    void this.#append(() => {
      this.#flushQueued = false;
      return this.#attempt();
    });
  }

  /** One flush; a failure is reported and (unless `retry` is off) retried later, never thrown. */
  async #attempt(retry = true): Promise<void> {
    try {
      await this.#flushQueuedRows();
    } catch (error) {
      this.#failures++;
      const delay = retry ? Math.min(this.#options.maxRetryDelayMs, this.#options.flushIntervalMs * 2 ** (this.#failures - 1)) : 0;
      this.#retryAfter = performance.now() + delay;
      this.#hooks.flushFailed(asWriteError(error), delay);
      if (retry && !this.#state.closed) {
        // Rows added during the attempt may have armed the usual timer: the retry waits longer.
        clearTimeout(this.#timer);
        this.#timer = undefined;
        this.#startTimer();
      }
      return;
    }
    this.#failures = 0;
    this.#retryAfter = 0;
    if (retry && this.pending > 0 && !this.#state.closed) this.#schedule();
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
      this.#trim();
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
      this.#trim();
      this.#hooks.flushed({ clips: clipIds, utterances: [], ms: performance.now() - t0 }, false);
      throw error;
    }
    this.#hooks.flushed({ clips: clipIds, utterances: utterances.map((u) => u.id), ms: performance.now() - t0 }, true);
  }

  /** Past `maxQueuedRows`, drops the oldest rows of the longer queue: recent memory is worth more. */
  #trim(): void {
    let clips = 0;
    let utterances = 0;
    while (this.pending > this.#options.maxQueuedRows) {
      if (this.#clips.length >= this.#utterances.length) {
        this.#clips.shift();
        clips++;
      } else {
        this.#utterances.shift();
        utterances++;
      }
    }
    if (clips + utterances > 0) this.#hooks.dropped({ clips, utterances });
  }

  #append<T>(task: () => Promise<T>): Promise<T> {
    const run = this.#appends.then(task);
    this.#appends = run.catch(() => {});
    return run;
  }
}

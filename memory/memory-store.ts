/**
 * Long-term memory over LanceDB: a row per clip and per utterance (plus rolled-up episodes),
 * written in batches, searched by vector, full text and time, fused by reciprocal rank.
 *
 * `MemoryStore` is the facade: it checks arguments, wires the parts together and owns the
 * close order. The parts share one `TableState`:
 * - `WriteBuffer` (write-buffer.ts): batched appends with retries, on their own chain;
 * - `Maintenance` (maintenance.ts): optimize, FTS warm-up, vector index, retention, on
 *   another chain, with its own schedule: appends never wait behind a compaction;
 * - `EpisodeRoller` (episode-roller.ts): which episodes need rolling up, and doing it;
 * - `RetrievalQuery` (retrieval.ts): the lazy query builder behind `query()` and `search()`;
 * - `MemoryAdmin` (admin.ts): list, export, forget.
 */
import type { ConnectionOptions } from '@lancedb/lancedb';
import type { ClipRecord, EpisodeRecord, MemoryHit, UtteranceRecord } from './types.ts';
import { EventEmitter } from 'node:events';
import pino, { type Logger } from 'pino';
import { DEFAULT_EPISODE_MINUTES } from './episodes.ts';
import { assertFinite, assertString } from './errors.ts';
import { clipRow, utteranceRow } from './rows.ts';
import type { DataTableName } from './schema.ts';
import { WatchTable, type StoredWatch } from './watch-table.ts';
import { openTables, SEARCHED_TABLES, type TableState } from './table-state.ts';
import { WriteBuffer, type FlushReport, type MemoryWriteError } from './write-buffer.ts';
import { Maintenance, type DeletedCounts, type RetentionOptions } from './maintenance.ts';
import { EpisodeRoller, type ListEpisodesOptions } from './episode-roller.ts';
import { RetrievalQuery, type MemorySearchQuery, type RetrievalExecutionOptions, type RetrievalOptions } from './retrieval.ts';
import { MemoryAdmin, type ExportedRecord, type ForgetSelector, type ListOptions } from './admin.ts';

export interface MemoryStoreOptions {
  /** A directory (e.g. `<dataDir>/memory`) or any LanceDB URI (`s3://…`, `db://…`). */
  uri: string;
  /** Embedding dimension; omit when no embedding model exists (FTS + time only). */
  vectorDims?: number;
  /** @defaultValue 1000 */
  flushIntervalMs?: number;
  /** Rows queued (clips + utterances) that trigger an immediate flush. @defaultValue 256 */
  maxBatch?: number;
  /**
   * Rows kept queued in RAM at most while writes fail (a full disk): past it the oldest rows
   * are dropped ('drop' event), so an outage costs its oldest rows, not the process's memory.
   * @defaultValue 5000
   */
  maxQueuedRows?: number;
  /** A failing write is retried after `flushIntervalMs`, then waits that double up to this. @defaultValue 15000 */
  maxRetryDelayMs?: number;
  retention?: RetentionOptions;
  /** Compaction + index refresh (+ retention) period; 0 disables the schedule. @defaultValue 300000 */
  optimizeIntervalMs?: number;
  /** Old table versions kept by `optimize()` (each flush is a version). @defaultValue 60000 */
  keepVersionsMs?: number;
  /** Scheduled optimize: tables under this many rows are always optimized. @defaultValue 20000 */
  optimizeSmallTableRows?: number;
  /** Scheduled optimize: a table with this many fragments is optimized. @defaultValue 256 */
  optimizeMaxFragments?: number;
  /** Scheduled optimize: a table whose unindexed rows reach this share is optimized. @defaultValue 0.05 */
  optimizeGrowth?: number;
  /** Episode length in media minutes. @defaultValue 5 */
  episodeMinutes?: number;
  /** Build an IVF-PQ index once this many clips exist. @defaultValue 10000 */
  vectorIndexMinRows?: number;
  /** A memory with at most this many clips is searched exactly (no ANN index). @defaultValue 5000 */
  exactSearchMaxRows?: number;
  /** Cosine similarity a vector hit needs (IXC keeps > 0.2–0.3). @defaultValue 0.25 */
  minSimilarity?: number;
  /** IVF partitions probed per vector query when an index exists. @defaultValue 20 */
  nprobes?: number;
  /**
   * Bounds of LanceDB's caches in bytes: `index` (full-text and vector index pages) and
   * `metadata` (manifests, file footers, schemas). Past them the least recently used entries
   * go. LanceDB's own defaults (6 GB + 1 GB) let a long-running store grow without limit in practice.
   * @defaultValue { index: 64 MiB, metadata: 32 MiB }
   */
  cacheBytes?: { index?: number; metadata?: number };
  /**
   * After an optimize the tables are reopened through a fresh connection (LanceDB's caches
   * keep replaced index versions open); the old connection stays open this long for reads
   * that began on it. @defaultValue 30000
   */
  retiredGraceMs?: number;
  /** Passed to `lancedb.connect()`: storageOptions for object stores, apiKey for LanceDB Cloud… */
  connection?: Partial<ConnectionOptions>;
  /** Called for each migration step run while opening an older store. */
  onMigrate?: (step: { from: number; to: number; description: string }) => void;
  /** Where warnings and failed background work are logged (pino's interface). @defaultValue silent */
  logger?: Logger;
}

export const defaultMemoryStoreOptions = {
  flushIntervalMs: 1000,
  maxBatch: 256,
  maxQueuedRows: 5000,
  maxRetryDelayMs: 15_000,
  optimizeIntervalMs: 5 * 60_000,
  keepVersionsMs: 60_000,
  optimizeSmallTableRows: 20_000,
  optimizeMaxFragments: 256,
  optimizeGrowth: 0.05,
  episodeMinutes: DEFAULT_EPISODE_MINUTES,
  vectorIndexMinRows: 10_000,
  exactSearchMaxRows: 5_000,
  minSimilarity: 0.25,
  nprobes: 20,
  cacheBytes: { index: 64 * 2 ** 20, metadata: 32 * 2 ** 20 },
} as const satisfies Partial<MemoryStoreOptions>;

export interface MemoryStoreStats {
  clips: number;
  utterances: number;
  episodes: number;
  /** Bytes on disk (local directories), or the tables' data + index bytes (remote). */
  bytes: number;
  pending: number;
  vectorIndex: boolean;
  /** Bytes in LanceDB's index and metadata caches (bounded by `cacheBytes`). */
  cacheBytes: number;
}

/** Writes that fail right now: since when, why, how often in a row. */
export interface MemoryWriteOutage {
  /** ENOSPC, EDQUOT, EROFS, EACCES, EIO or 'unknown'. */
  code: string;
  message: string;
  /** Epoch ms of the first failure. */
  since: number;
  failures: number;
  /** Rows dropped unwritten during this outage (the queue was full). */
  dropped: number;
}

export type MemoryStoreEvents = {
  flush: [FlushReport];
  /** Each failed flush (retries too); the rows stay queued. The error's `code` says why. */
  flusherror: [MemoryWriteError];
  /** Writes work again after failing: how long they failed and how many rows waited. */
  writeresume: [{ downMs: number; written: number; dropped: number }];
  /** Rows dropped unwritten because the queue was full while writes failed. */
  drop: [{ clips: number; utterances: number }];
  optimize: [{ ms: number }];
  /** A whole memory id was forgotten (its watches too): caches of it elsewhere must go. */
  forgotten: [{ memoryId: string }];
  warning: [string];
  close: [];
};

type ResolvedOptions = Required<Omit<MemoryStoreOptions, 'vectorDims' | 'retention' | 'connection' | 'onMigrate' | 'logger' | 'cacheBytes' | 'retiredGraceMs'>> & { retention: RetentionOptions };

export class MemoryStore extends EventEmitter<MemoryStoreEvents> {
  readonly uri: string;
  /** Embedding dimension of the vector columns, or undefined when the store has none. */
  readonly vectorDims: number | undefined;
  readonly #state: TableState;
  readonly #log: Logger;
  readonly #retrieval: RetrievalOptions;
  readonly #writes: WriteBuffer;
  readonly #maintenance: Maintenance;
  readonly #episodes: EpisodeRoller;
  readonly #admin: MemoryAdmin;
  readonly #watches: WatchTable;
  #closing: Promise<void> | undefined;
  #warnedNoVectors = false;
  #outage: MemoryWriteOutage | undefined;

  private constructor(state: TableState, opts: ResolvedOptions, log: Logger) {
    super();
    this.uri = state.uri;
    this.vectorDims = state.vectorDims;
    this.#state = state;
    this.#log = log;
    this.#retrieval = opts;
    this.#episodes = new EpisodeRoller(state, opts.episodeMinutes);
    this.#writes = new WriteBuffer(state, opts, {
      clipsDurable: (rows) => this.#episodes.clipsDurable(rows),
      flushed: (report, complete) => this.#flushed(report, complete),
      flushFailed: (error, retryInMs) => this.#flushFailed(error, retryInMs),
      dropped: (counts) => {
        if (this.#outage) {
          // One line per outage, not per row; the total is logged when writes resume.
          if (this.#outage.dropped === 0) this.#log.error({ maxQueuedRows: opts.maxQueuedRows }, `memory's write queue is full (${opts.maxQueuedRows} rows): dropping the oldest rows until writes work again`);
          this.#outage.dropped += counts.clips + counts.utterances;
        }
        this.#announce('drop', counts);
      },
    });
    this.#maintenance = new Maintenance(state, opts, {
      flushWrites: () => this.#writes.flush(),
      optimized: (report) => this.#announce('optimize', report),
      warn: (message, error) => this.#warn(message, error),
    });
    this.#admin = new MemoryAdmin(state, this.#writes, this.#maintenance, this.#episodes);
    this.#watches = new WatchTable(state);
  }

  /** Opens (creating or migrating) the store at `options.uri`. */
  static async open(options: MemoryStoreOptions): Promise<MemoryStore> {
    assertString('uri', options.uri);
    if (options.vectorDims !== undefined && (!Number.isInteger(options.vectorDims) || options.vectorDims <= 0)) {
      throw new TypeError('vectorDims must be a positive integer');
    }
    const opts: ResolvedOptions = { ...defaultMemoryStoreOptions, ...stripUndefined(options), uri: options.uri, retention: options.retention ?? {} };
    const cacheBytes = { ...defaultMemoryStoreOptions.cacheBytes, ...stripUndefined(options.cacheBytes ?? {}) };
    for (const [name, bytes] of Object.entries(cacheBytes)) {
      if (!Number.isSafeInteger(bytes) || bytes < 0) throw new TypeError(`cacheBytes.${name} must be a whole number of bytes ≥ 0, got ${bytes}`);
    }
    const state = await openTables({ ...options, cacheBytes });
    const store = new MemoryStore(state, opts, (options.logger ?? pino({ level: 'silent' })).child({ component: 'memory' }));
    store.#maintenance.startSchedule();
    return store;
  }

  /** Bytes in LanceDB's index and metadata caches now (bounded by `cacheBytes`). */
  get cacheBytes(): number {
    return this.#state.cacheBytes();
  }

  get closed(): boolean {
    return this.#state.closed;
  }

  /** Rows queued and not yet durable. */
  get pending(): number {
    return this.#writes.pending;
  }

  /** While writes fail (a full disk…): since when and why; undefined while they work. */
  get writeError(): Readonly<MemoryWriteOutage> | undefined {
    return this.#outage;
  }

  // -------------------------------------------------------------------------------------
  // Writes

  /** Queues a clip; it is durable after the next flush (see the 'flush' event, `flush()`). */
  addClip(record: ClipRecord): void {
    this.#state.assertOpen();
    assertString('clip.id', record.id);
    assertString('clip.memoryId', record.memoryId);
    assertString('clip.sessionId', record.sessionId);
    for (const k of ['startMs', 'endMs', 'wallStartMs', 'frameCount'] as const) assertFinite(`clip.${k}`, record[k]);
    if (!(record.thumbnail instanceof Uint8Array)) throw new TypeError('clip.thumbnail must be a Uint8Array');
    const dims = this.vectorDims;
    const hasVectors = record.globalVector !== undefined || (record.frameVectors?.length ?? 0) > 0;
    if (hasVectors && dims === undefined && !this.#warnedNoVectors) {
      this.#warnedNoVectors = true;
      this.#warn('clip vectors ignored: the memory store was opened without vectorDims');
    }
    if (dims !== undefined) {
      if (record.globalVector && record.globalVector.length !== dims) throw new TypeError(`clip.globalVector must have ${dims} dims`);
      if (record.frameVectors?.some((v) => v.length !== dims)) throw new TypeError(`clip.frameVectors must have ${dims} dims`);
    }
    this.#writes.addClip(clipRow(record, dims));
  }

  /** Queues an utterance; durable after the next flush. */
  addUtterance(record: UtteranceRecord): void {
    this.#state.assertOpen();
    assertString('utterance.id', record.id);
    assertString('utterance.memoryId', record.memoryId);
    assertString('utterance.sessionId', record.sessionId);
    for (const k of ['startMs', 'endMs', 'wallStartMs'] as const) assertFinite(`utterance.${k}`, record[k]);
    if (record.role !== 'user' && record.role !== 'assistant') throw new TypeError("utterance.role must be 'user' or 'assistant'");
    this.#writes.addUtterance(utteranceRow(record));
  }

  /**
   * Resolves once everything queued before the call is durable — or once writing it failed:
   * then the rows stay queued for the retry, `writeError` and 'flusherror' say why, and reads
   * go on with what is on disk. Aborting `signal` ends the wait with an AbortError; the rows
   * are still written.
   */
  flush(options: { signal?: AbortSignal } = {}): Promise<void> {
    this.#state.assertOpen();
    return this.#writes.flush(options.signal);
  }

  /** A flush is over: new rows reach the FTS index of a cold table, closed episodes roll up. */
  #flushed(report: FlushReport, complete: boolean): void {
    if (report.clips.length + report.utterances.length > 0) this.#announce('flush', report);
    if (!complete) return;
    const outage = this.#outage;
    if (outage) {
      this.#outage = undefined;
      const downMs = Date.now() - outage.since;
      const written = report.clips.length + report.utterances.length;
      this.#log.info({ downMs, written, dropped: outage.dropped }, `memory writes work again after ${Math.round(downMs / 1000)} s: ${written} queued rows written${outage.dropped ? `, ${outage.dropped} dropped while the queue was full` : ''}`);
      this.#announce('writeresume', { downMs, written, dropped: outage.dropped });
    }
    this.#maintenance.warmFts(SEARCHED_TABLES.filter((name) => report[name].length > 0));
    if (report.clips.length > 0) {
      void this.#maintenance.run(() => this.#episodes.rollUpDirty(false)).catch((error) => this.#warn('episode roll-up failed', error));
    }
  }

  /** One log line per outage (and per change of cause), not one per retry. */
  #flushFailed(error: MemoryWriteError, retryInMs: number): void {
    const outage = this.#outage;
    if (!outage || outage.code !== error.code) {
      this.#log.error(
        { err: error, code: error.code, pending: this.pending, retryInMs },
        `memory writes fail (${error.code}): ${this.pending} rows stay queued in RAM and are retried; reads go on`,
      );
    } else {
      this.#log.debug({ code: error.code, pending: this.pending, retryInMs, failures: outage.failures + 1 }, 'memory write failed again');
    }
    this.#outage = { code: error.code, message: error.message, since: outage?.since ?? Date.now(), failures: (outage?.failures ?? 0) + 1, dropped: outage?.dropped ?? 0 };
    this.#announce('flusherror', error);
  }

  // -------------------------------------------------------------------------------------
  // Episodes

  /**
   * Rolls the memory's clips up into episodes (one per session per `episodeMinutes` of media
   * time), recomputed from the clips: idempotent. Removes episodes whose clips are gone.
   * New clips are also rolled up automatically when their bucket closes, and on `close()`.
   */
  async rollUpEpisodes(memoryId: string): Promise<(EpisodeRecord & { sessionId: string })[]> {
    this.#state.assertOpen();
    assertString('memoryId', memoryId);
    await this.flush();
    return this.#maintenance.run(() => this.#episodes.rollUpMemory(memoryId));
  }

  /** Episodes of a memory, oldest first. */
  async listEpisodes(options: ListEpisodesOptions): Promise<(EpisodeRecord & { sessionId: string })[]> {
    this.#state.assertOpen();
    assertString('memoryId', options.memoryId);
    await this.#maintenance.settled(); // roll-ups already queued
    return this.#episodes.list(options);
  }

  // -------------------------------------------------------------------------------------
  // Retrieval

  /**
   * A lazy query over one memory: `query(memoryId).text(q).at(nowMs, nowWallMs).limit(8)
   * .toArray({ signal })`; `.vector(v)` adds the search by meaning. Nothing runs before
   * `toArray()`.
   */
  query(memoryId: string): RetrievalQuery {
    this.#state.assertOpen();
    assertString('memoryId', memoryId);
    return new RetrievalQuery(this.#state, this.#retrieval, memoryId);
  }

  /** `query()` from one object: see `RetrievalQuery` for what each field does. */
  async search(query: MemorySearchQuery, options: RetrievalExecutionOptions = {}): Promise<MemoryHit[]> {
    let q = this.query(query.memoryId)
      .text(query.text ?? '')
      .at(query.nowMs, query.nowWallMs)
      .exclude(query.excludeIds ?? []);
    if (query.sessionId !== undefined) q.inSession(query.sessionId);
    if (query.limit !== undefined) q.limit(query.limit);
    if (query.vector) {
      const byMeaning = q.vector(query.vector);
      if (query.minSimilarity !== undefined) byMeaning.minSimilarity(query.minSimilarity);
      q = byMeaning;
    }
    return q.toArray(options);
  }

  // -------------------------------------------------------------------------------------
  // Controls

  /** Clips (with thumbnails) for a timeline, newest first unless `order: 'asc'`. */
  async list(options: ListOptions = {}): Promise<ClipRecord[]> {
    this.#state.assertOpen();
    return this.#admin.list(options);
  }

  /** Utterances, newest first unless `order: 'asc'`. */
  async listUtterances(options: ListOptions = {}): Promise<UtteranceRecord[]> {
    this.#state.assertOpen();
    return this.#admin.listUtterances(options);
  }

  /** Every record of a memory (or of the whole store), as JSON-able objects; flushes first. */
  async *export(memoryId?: string): AsyncIterable<ExportedRecord> {
    this.#state.assertOpen();
    yield* this.#admin.export(memoryId);
  }

  /**
   * Deletes matching clips, utterances and episodes (queued rows too), re-rolls the episodes
   * they touched, then compacts and prunes old table versions so the rows are gone from
   * search, list and export for good.
   */
  async forget(selector: ForgetSelector): Promise<DeletedCounts> {
    this.#state.assertOpen();
    const { memoryId, sessionId, ids, all } = selector;
    if (!all && memoryId === undefined && sessionId === undefined) throw new TypeError('forget needs memoryId, sessionId, or all: true');
    if (memoryId !== undefined) assertString('memoryId', memoryId);
    if (sessionId !== undefined) assertString('sessionId', sessionId);
    ids?.forEach((id, i) => assertString(`ids[${i}]`, id));
    const counts = await this.#admin.forget(selector);
    // Forgetting a whole user forgets what they asked to be told, too.
    const wholeMemory = memoryId !== undefined && sessionId === undefined && ids === undefined && selector.fromWallMs === undefined && selector.toWallMs === undefined;
    if (wholeMemory) {
      await this.#watches.remove(memoryId);
      this.#announce('forgotten', { memoryId });
    }
    return counts;
  }

  // -------------------------------------------------------------------------------------
  // Standing requests (watches): kept with the user's memory, written at once

  /** The watches of a memory id, as saved. */
  listWatches(memoryId: string): Promise<StoredWatch[]> {
    this.#state.assertOpen();
    assertString('memoryId', memoryId);
    return this.#watches.list(memoryId);
  }

  /** Saves (inserts or replaces by id) one watch; durable when the promise resolves. */
  saveWatch(watch: StoredWatch): Promise<void> {
    this.#state.assertOpen();
    assertString('watch.id', watch.id);
    assertString('watch.memoryId', watch.memoryId);
    return this.#watches.save(watch);
  }

  /** Deletes one watch of a memory id, or all of them without `id`; resolves with the count. */
  deleteWatches(memoryId: string, id?: string): Promise<number> {
    this.#state.assertOpen();
    assertString('memoryId', memoryId);
    return this.#watches.remove(memoryId, id);
  }

  /** Applies `retention`: max age by wallStartMs, then max size by deleting the oldest rows. */
  async enforceRetention(nowWallMs = Date.now()): Promise<DeletedCounts & { bytes: number }> {
    this.#state.assertOpen();
    return this.#maintenance.enforceRetention(nowWallMs);
  }

  /**
   * Compacts files, folds new rows into every index, prunes old versions, applies retention.
   * With `ifDue`, a table is only optimized when it is due: the scheduled call uses that, an
   * explicit call optimizes everything.
   */
  async optimize(options: { ifDue?: boolean } = {}): Promise<{ tables: DataTableName[]; ms: number }> {
    this.#state.assertOpen();
    return this.#maintenance.optimize(options);
  }

  /** Builds the vector index now (benchmarks; normally `optimize()` does it past vectorIndexMinRows). */
  buildVectorIndex(): Promise<void> {
    this.#state.assertOpen();
    return this.#maintenance.buildVectorIndex(true);
  }

  async stats(): Promise<MemoryStoreStats> {
    this.#state.assertOpen();
    const { tables } = this.#state;
    const [clips, utterances, episodes, bytes] = await Promise.all([tables.clips.countRows(), tables.utterances.countRows(), tables.episodes.countRows(), this.#state.bytes()]);
    return { clips, utterances, episodes, bytes, pending: this.pending, vectorIndex: this.#state.vectorIndex, cacheBytes: this.#state.cacheBytes() };
  }

  /** Flushes, rolls up open episodes, and closes the tables. Idempotent. */
  close(): Promise<void> {
    if (this.#closing) return this.#closing;
    this.#state.closing = true;
    // Last writes first, so the final roll-up sees every clip; then no background work may
    // start, and the tables close once both chains are idle.
    this.#closing = (async () => {
      this.#maintenance.stopSchedule();
      await this.#writes.close();
      if (this.#writes.pending > 0) this.#log.error({ lost: this.#writes.pending, code: this.#outage?.code }, `memory closed with ${this.#writes.pending} rows it could not write; they are lost`);
      try {
        await this.#maintenance.run(() => this.#episodes.rollUpDirty(true));
      } catch (error) {
        this.#warn('episode roll-up failed', error);
      }
      this.#state.closed = true;
      await this.#watches.close();
      // An IVF-PQ build in flight is not awaited (it can take minutes and cannot be
      // cancelled); LanceDB finishes or drops it on its own handle, uncommitted files are
      // harmless, and the next optimize() starts it again if still due.
      await Promise.all([this.#writes.settled(), this.#maintenance.settled()]);
      this.#state.release();
      this.#announce('close');
    })();
    return this.#closing;
  }

  /** Tells listeners; one that throws is logged and cannot break the store's own work. */
  #announce<K extends keyof MemoryStoreEvents>(event: K, ...args: MemoryStoreEvents[K]): void {
    try {
      (this.emit as (event: K, ...args: MemoryStoreEvents[K]) => boolean)(event, ...args);
    } catch (error) {
      this.#log.error({ err: error, event }, `a '${event}' listener of the memory store threw`);
    }
  }

  /** Warnings go to 'warning' listeners (as one line of text) and to the log (structured). */
  #warn(message: string, error?: unknown): void {
    if (this.listenerCount('warning') > 0) this.#announce('warning', error === undefined ? message : `${message}: ${String(error)}`);
    this.#log.warn(error === undefined ? {} : { err: error }, message);
  }
}

function stripUndefined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}

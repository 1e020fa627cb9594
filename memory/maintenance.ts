/**
 * Maintenance of the tables: compaction and index refresh (optimize), FTS warm-up, the IVF-PQ
 * build, retention. LanceDB commits an append concurrently with a compaction, but a
 * compaction conflicts with another compaction or a delete, so everything here that rewrites
 * or deletes (and everything else that deletes: forget, episode upserts) runs one at a time
 * on this queue, never on the write buffer's.
 */
import * as lancedb from '@lancedb/lancedb';
import { sqlNum } from './rows.ts';
import { DATA_TABLES, INDEXES, writeMeta, type DataTableName } from './schema.ts';
import { SEARCHED_TABLES, type SearchedTableName, type TableState } from './table-state.ts';

export interface RetentionOptions {
  /** Rows whose wallStartMs is older than this are deleted. */
  maxAgeMs?: number;
  /** Oldest clips (and utterances/episodes of that age) are deleted until the store is under this size. */
  maxBytes?: number;
}

export interface DeletedCounts {
  clips: number;
  utterances: number;
  episodes: number;
}

export interface MaintenanceOptions {
  /** Period of the scheduled `optimize({ ifDue: true })`; 0 disables the schedule. */
  optimizeIntervalMs: number;
  /** Old table versions kept by an optimize (each flush is a version). */
  keepVersionsMs: number;
  optimizeSmallTableRows: number;
  optimizeMaxFragments: number;
  optimizeGrowth: number;
  /** Clips with a vector before the IVF-PQ index is built. */
  vectorIndexMinRows: number;
  retention: RetentionOptions;
}

/** What maintenance needs from its owner; none of these may throw. */
export interface MaintenanceHooks {
  /** Makes the queued rows durable, so an optimize or retention pass sees them. */
  flushWrites(): Promise<void>;
  optimized(report: { ms: number }): void;
  warn(message: string, error: unknown): void;
}

export class Maintenance {
  readonly #state: TableState;
  readonly #options: MaintenanceOptions;
  readonly #hooks: MaintenanceHooks;
  #queue: Promise<unknown> = Promise.resolve();
  #timer: NodeJS.Timeout | undefined;
  #vectorIndexBuild: Promise<void> | undefined;

  constructor(state: TableState, options: MaintenanceOptions, hooks: MaintenanceHooks) {
    this.#state = state;
    this.#options = options;
    this.#hooks = hooks;
  }

  /** Runs `task` once every task queued before it is over. */
  run<T>(task: () => Promise<T>): Promise<T> {
    const run = this.#queue.then(task);
    this.#queue = run.catch(() => {});
    return run;
  }

  /** Resolves (never rejects) once the tasks queued so far are over. */
  settled(): Promise<unknown> {
    return this.#queue;
  }

  startSchedule(): void {
    if (this.#options.optimizeIntervalMs <= 0 || this.#timer) return;
    this.#timer = setInterval(() => {
      if (this.#state.closing || this.#state.closed) return;
      this.optimize({ ifDue: true }).catch((error) => this.#hooks.warn('scheduled optimize failed', error));
    }, this.#options.optimizeIntervalMs);
    // A store never keeps its process alive.
    this.#timer.unref();
  }

  stopSchedule(): void {
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = undefined;
  }

  /**
   * Compacts files, folds new rows into every index, prunes old versions, applies retention.
   * With `ifDue`, a table is only optimized when it is due (see `#due`): the schedule uses
   * that, an explicit call optimizes everything.
   */
  async optimize(options: { ifDue?: boolean } = {}): Promise<{ tables: DataTableName[]; ms: number }> {
    await this.#hooks.flushWrites();
    const result = await this.run(async () => {
      const t0 = performance.now();
      const tables: DataTableName[] = [];
      for (const name of DATA_TABLES) {
        if (options.ifDue && !(await this.#due(name))) continue;
        await this.#state.tables[name].optimize({ cleanupOlderThan: this.#keepSince() });
        if (name !== 'episodes') await this.#state.checkFtsWarm(name);
        tables.push(name);
      }
      const { maxAgeMs, maxBytes } = this.#options.retention;
      if (maxAgeMs !== undefined || maxBytes !== undefined) await this.#enforceRetention(Date.now());
      // The replaced index versions stay cached, files open, until the connection is renewed.
      if (tables.length > 0) await this.#state.renew().catch((error) => this.#hooks.warn('reopening memory after optimize failed', error));
      const ms = performance.now() - t0;
      this.#hooks.optimized({ ms });
      return { tables, ms };
    });
    void this.buildVectorIndex();
    return result;
  }

  /** Applies `retention`: max age by wallStartMs, then max size by deleting the oldest rows. */
  async enforceRetention(nowWallMs: number): Promise<DeletedCounts & { bytes: number }> {
    await this.#hooks.flushWrites();
    return this.run(() => this.#enforceRetention(nowWallMs));
  }

  /** Rewrites every table and prunes old versions, so deleted rows are gone for good. Call from a task. */
  async compact(cleanupOlderThan: Date): Promise<void> {
    for (const table of Object.values(this.#state.tables)) await table.optimize({ cleanupOlderThan });
    for (const name of SEARCHED_TABLES) await this.#state.checkFtsWarm(name);
  }

  /** Folds the first rows of cold tables into their FTS index (see `TableState.ftsWarm`). */
  warmFts(written: readonly SearchedTableName[]): void {
    const state = this.#state;
    const cold = written.filter((name) => !state.ftsWarm.has(name));
    if (cold.length === 0 || state.ftsWarming) return;
    const warming = this.run(async () => {
      for (const name of cold) {
        if (state.ftsWarm.has(name)) continue;
        await state.tables[name].optimize({ cleanupOlderThan: this.#keepSince() });
        await state.checkFtsWarm(name);
      }
    })
      .catch((error) => this.#hooks.warn('FTS index refresh failed', error))
      .finally(() => {
        if (state.ftsWarming === warming) state.ftsWarming = undefined;
      });
    state.ftsWarming = warming;
  }

  /**
   * Builds (or retrains, after 4× growth) the IVF-PQ index, off both queues: it can take
   * minutes and neither appends nor compactions conflict with it. `force` builds it now,
   * past 256 vectors (benchmarks); otherwise only once `vectorIndexMinRows` is reached.
   */
  buildVectorIndex(force = false): Promise<void> {
    const state = this.#state;
    if (!state.vectorDims || this.#vectorIndexBuild || state.closed) return this.#vectorIndexBuild ?? Promise.resolve();
    const dims = state.vectorDims;
    this.#vectorIndexBuild = (async () => {
      const rows = await state.tables.clips.countRows('globalVector IS NOT NULL');
      const due = force ? rows >= 256 : rows >= this.#options.vectorIndexMinRows && (!state.vectorIndex || rows >= 4 * state.vectorIndexTrainedRows);
      if (!due) return;
      await state.tables.clips.createIndex('globalVector', {
        replace: true,
        config: lancedb.Index.ivfPq({
          distanceType: 'cosine',
          numPartitions: Math.max(1, Math.min(4096, Math.round(Math.sqrt(rows)))),
          numSubVectors: dims % 8 === 0 ? dims / 8 : dims % 4 === 0 ? dims / 4 : 1,
        }),
      });
      if (state.closed) return;
      state.vectorIndex = true;
      state.vectorIndexTrainedRows = rows;
      await this.run(() => writeMeta(state.db, { vectorIndexTrainedRows: String(rows) }));
    })()
      .catch((error) => {
        if (!state.closed) this.#hooks.warn('vector index build failed', error);
      })
      .finally(() => {
        this.#vectorIndexBuild = undefined;
      });
    return this.#vectorIndexBuild;
  }

  /**
   * LanceDB's optimize() compacts with its default target of ~1M rows per fragment, so until
   * a table's first fragment holds ~1M rows every compaction rewrites the whole table. The
   * scheduled optimize therefore runs on a table only when that is worth it: the table is
   * small, or flushes left ≥ optimizeMaxFragments fragments (each append writes a manifest
   * listing every fragment, so their count bounds the per-write cost), or the rows not yet
   * in the indexes reach optimizeGrowth of the table (they are searched by a flat scan).
   */
  async #due(name: DataTableName): Promise<boolean> {
    const table = this.#state.tables[name];
    const stats = await table.stats();
    if (stats.fragmentStats.numFragments <= 1) return false;
    if (stats.numRows < this.#options.optimizeSmallTableRows) return true;
    if (stats.fragmentStats.numFragments >= this.#options.optimizeMaxFragments) return true;
    const fts = INDEXES[name].fts;
    const index = fts ? await table.indexStats(`${fts}_idx`) : undefined;
    return (index?.numUnindexedRows ?? 0) >= this.#options.optimizeGrowth * stats.numRows;
  }

  async #enforceRetention(nowWallMs: number): Promise<DeletedCounts & { bytes: number }> {
    const { maxAgeMs, maxBytes } = this.#options.retention;
    const { tables } = this.#state;
    const deleted: DeletedCounts = { clips: 0, utterances: 0, episodes: 0 };
    const deleteBefore = async (cutoffWallMs: number, inclusive: boolean) => {
      const op = inclusive ? '<=' : '<';
      deleted.clips += (await tables.clips.delete(`wallStartMs ${op} ${sqlNum(cutoffWallMs)}`)).numDeletedRows ?? 0;
      deleted.utterances += (await tables.utterances.delete(`wallStartMs ${op} ${sqlNum(cutoffWallMs)}`)).numDeletedRows ?? 0;
      deleted.episodes += (await tables.episodes.delete(`wallEndMs ${op} ${sqlNum(cutoffWallMs)}`)).numDeletedRows ?? 0;
      this.#state.rowsDeleted();
    };
    if (maxAgeMs !== undefined) {
      // Deletes in steps (once the oldest rows are 1 % of maxAge, ≤ 1 h, past it) and leaves
      // the rewrite to the next due optimize: deleted rows are invisible at once, and
      // compacting a big table for a handful of expired rows is what we avoid.
      const cutoff = nowWallMs - maxAgeMs;
      const slack = Math.min(3_600_000, 0.01 * maxAgeMs);
      const expired = (await tables.clips.countRows(`wallStartMs < ${sqlNum(cutoff - slack)}`)) + (await tables.utterances.countRows(`wallStartMs < ${sqlNum(cutoff - slack)}`));
      if (expired > 0) await deleteBefore(cutoff, false);
    }
    let bytes = await this.#state.bytes();
    if (maxBytes !== undefined) {
      for (let round = 0; round < 8 && bytes > maxBytes; round++) {
        const clips = await tables.clips.countRows();
        if (clips === 0) break;
        // Delete the oldest share that should bring the size under the limit, plus 10 %.
        const share = Math.min(1, (bytes - maxBytes) / bytes + 0.1);
        const n = Math.max(1, Math.ceil(clips * share));
        const oldest = await tables.clips
          .query()
          .withRowId()
          .orderBy({ columnName: 'wallStartMs', ascending: true })
          .select(['wallStartMs'])
          .offset(Math.min(n, clips) - 1)
          .limit(1)
          .toArray();
        if (oldest.length === 0) break;
        await deleteBefore(Number(oldest[0].wallStartMs), true);
        await this.compact(new Date());
        bytes = await this.#state.bytes();
      }
    }
    return { ...deleted, bytes };
  }

  #keepSince(): Date {
    return new Date(Date.now() - this.#options.keepVersionsMs);
  }
}

/**
 * Long-term memory over LanceDB: a row per clip and per utterance (plus rolled-up episodes),
 * written in batches, searched by vector, full text and time, fused by reciprocal rank.
 *
 * Writes are queued and flushed every `flushIntervalMs` or at `maxBatch` rows, one
 * `table.add()` per table per flush. Flushes run one at a time on their own chain; deletes,
 * compaction and episode upserts one at a time on another, so this process never races
 * itself into LanceDB commit conflicts and a flush never waits behind a compaction.
 * A flush is durable once it resolves (the LanceDB commit is written): a crash loses at most
 * the batch not yet flushed.
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import * as lancedb from '@lancedb/lancedb';
import type { Connection, ConnectionOptions, Table } from '@lancedb/lancedb';
import type { ClipRecord, EpisodeRecord, MemoryHit, MemoryQuery, UtteranceRecord } from './types.ts';
import { TypedEmitter } from '../common/typed-emitter.ts';
import { contentWords } from './transcript-log.ts';
import { parseTimeExpression, type TimeRange } from './time-expressions.ts';
import { bucketOf, DEFAULT_EPISODE_MINUTES, episodeId, summarizeClips, type EpisodeClip, type EpisodeKey } from './episodes.ts';
import {
  CLIP_COLUMNS,
  EPISODE_CLIP_COLUMNS,
  UTTERANCE_COLUMNS,
  and,
  clipEvidenceText,
  clipSearchText,
  copyVector,
  overlapWhere,
  rowToClip,
  rowToEpisode,
  rowToUtterance,
  sqlNum,
  sqlString,
  utteranceEvidenceText,
  type ArrowRow,
} from './rows.ts';
import {
  FTS_OPTIONS,
  INDEXES,
  MIGRATIONS,
  SCHEMA_VERSION,
  ensureTables,
  readSchemaVersion,
  vectorDimsOf,
  writeMeta,
  type DataTableName,
} from './schema.ts';

export interface RetentionOptions {
  /** Rows whose wallStartMs is older than this are deleted. */
  maxAgeMs?: number;
  /** Oldest clips (and utterances/episodes of that age) are deleted until the store is under this size. */
  maxBytes?: number;
}

export interface MemoryStoreOptions {
  /** A directory (e.g. `<dataDir>/memory`) or any LanceDB URI (`s3://…`, `db://…`). */
  uri: string;
  /** Embedding dimension; omit when no embedding model exists (FTS + time only). */
  vectorDims?: number;
  /** @defaultValue 1000 */
  flushIntervalMs?: number;
  /** Rows queued (clips + utterances) that trigger an immediate flush. @defaultValue 256 */
  maxBatch?: number;
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
  /** Passed to `lancedb.connect()`: storageOptions for object stores, apiKey for LanceDB Cloud… */
  connection?: Partial<ConnectionOptions>;
  /** Called for each migration step run while opening an older store. */
  onMigrate?: (step: { from: number; to: number; description: string }) => void;
}

export const defaultMemoryStoreOptions = {
  flushIntervalMs: 1000,
  maxBatch: 256,
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
} as const satisfies Partial<MemoryStoreOptions>;

/** MemoryQuery plus optional narrowing the session can supply. */
export interface MemorySearchQuery extends MemoryQuery {
  /** Scopes media-time expressions ("two minutes ago") to this session's clock. */
  sessionId?: string;
  /** Rows never returned (e.g. the utterance that asked the question). */
  excludeIds?: string[];
  /** Overrides the store's minSimilarity. */
  minSimilarity?: number;
}

export interface ListOptions {
  memoryId?: string;
  sessionId?: string;
  /** Media-ms range the clip overlaps. */
  fromMs?: number;
  toMs?: number;
  fromWallMs?: number;
  toWallMs?: number;
  /** @defaultValue 100 */
  limit?: number;
  /** @defaultValue 'desc' (newest first) */
  order?: 'asc' | 'desc';
  /** Include the pooled frame vectors (not needed for a timeline). */
  withVectors?: boolean;
}

export interface ForgetSelector {
  memoryId?: string;
  sessionId?: string;
  /** Single clips or utterances, by id. */
  ids?: string[];
  fromWallMs?: number;
  toWallMs?: number;
  /** Required to forget without a memory or session id (everything, or a time range of everything). */
  all?: boolean;
}

export interface DeletedCounts {
  clips: number;
  utterances: number;
  episodes: number;
}

export type ExportedRecord =
  | ({ kind: 'clip' } & Omit<ClipRecord, 'thumbnail' | 'frameVectors' | 'globalVector'> & { thumbnail: string; frameVectors?: number[][]; globalVector?: number[] })
  | ({ kind: 'utterance' } & UtteranceRecord)
  | ({ kind: 'episode' } & Omit<EpisodeRecord, 'centroid'> & { sessionId: string; centroid?: number[] });

export interface MemoryStoreStats {
  clips: number;
  utterances: number;
  episodes: number;
  /** Bytes on disk (local directories), or the tables' data + index bytes (remote). */
  bytes: number;
  pending: number;
  vectorIndex: boolean;
}

export type MemoryStoreEvents = {
  flush: [{ clips: string[]; utterances: string[]; ms: number }];
  flusherror: [Error];
  optimize: [{ ms: number }];
  warning: [string];
  listenererror: [string, unknown];
  close: [];
};

export class MemoryStoreClosedError extends Error {
  override name = 'MemoryStoreClosedError';
  constructor() {
    super('MemoryStore is closed');
  }
}

/** Reciprocal-rank-fusion constant. */
export const RRF_K = 60;
/** Hits returned when nothing matches (IXC rule: the latest clips). */
export const RECENT_FALLBACK = 3;

type ResolvedOptions = Required<Omit<MemoryStoreOptions, 'vectorDims' | 'retention' | 'connection' | 'onMigrate'>> & { retention: RetentionOptions };
type Row = Record<string, unknown>;

/** What fusion needs of a hit; the clip itself is read once it made the final list. */
interface Candidate {
  kind: 'clip' | 'utterance';
  id: string;
  memoryId: string;
  startMs: number;
  endMs: number;
  wallStartMs: number;
  rowId?: bigint;
  clip?: ClipRecord;
  utterance?: UtteranceRecord;
}

const CLIP_KEY_COLUMNS = ['id', 'memoryId', 'startMs', 'endMs', 'wallStartMs'];

function clipKey(r: ArrowRow): Candidate {
  return {
    kind: 'clip',
    id: String(r.id),
    memoryId: String(r.memoryId),
    startMs: Number(r.startMs),
    endMs: Number(r.endMs),
    wallStartMs: Number(r.wallStartMs),
    ...(typeof r._rowid === 'bigint' ? { rowId: r._rowid } : {}),
  };
}

const utteranceCandidate = (u: UtteranceRecord): Candidate => ({ kind: 'utterance', id: u.id, memoryId: u.memoryId, startMs: u.startMs, endMs: u.endMs, wallStartMs: u.wallStartMs, utterance: u });

function isLocalUri(uri: string): boolean {
  return !/^[a-z][a-z0-9+.-]*:\/\//i.test(uri) || uri.startsWith('file://');
}

async function directoryBytes(dir: string): Promise<number> {
  let total = 0;
  let entries: import('node:fs').Dirent[];
  try {
    entries = await fs.readdir(dir, { withFileTypes: true });
  } catch {
    return 0;
  }
  for (const e of entries) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) total += await directoryBytes(p);
    else if (e.isFile()) total += (await fs.stat(p).catch(() => ({ size: 0 }))).size;
  }
  return total;
}

function assertString(name: string, v: unknown): asserts v is string {
  if (typeof v !== 'string' || v.length === 0) throw new TypeError(`${name} must be a non-empty string`);
}
function assertFinite(name: string, v: unknown): asserts v is number {
  if (typeof v !== 'number' || !Number.isFinite(v)) throw new TypeError(`${name} must be a finite number`);
}

// ---------------------------------------------------------------------------------------

export class MemoryStore extends TypedEmitter<MemoryStoreEvents> {
  readonly uri: string;
  /** Embedding dimension of the vector columns, or undefined when the store has none. */
  readonly vectorDims: number | undefined;
  readonly #db: Connection;
  readonly #tables: Record<DataTableName, Table>;
  readonly #opts: ResolvedOptions;
  readonly #episodeMs: number;

  #pendingClips: { id: string; row: Row; key: EpisodeKey }[] = [];
  #pendingUtterances: { id: string; row: Row }[] = [];
  #flushTimer: NodeJS.Timeout | undefined;
  #optimizeTimer: NodeJS.Timeout | undefined;
  #flushQueued = false;
  /** After a failed flush, no immediate (maxBatch) flush before this time. */
  #retryAfter = 0;
  /**
   * Two serial chains. Appends (flushes) never wait behind maintenance, so a flush (and a
   * search that flushes first) stays fast while a compaction runs: LanceDB commits an
   * append concurrently with a compaction, but a compaction conflicts with another
   * compaction or a delete, so those (optimize, forget, retention, episode upserts, index
   * refresh) run one at a time on the maintenance chain.
   */
  #appends: Promise<unknown> = Promise.resolve();
  #maintenance: Promise<unknown> = Promise.resolve();
  #closed = false;
  #closing: Promise<void> | undefined;
  #warnedNoVectors = false;
  #vectorIndex = false;
  #vectorIndexBuild: Promise<void> | undefined;
  #vectorIndexTrainedRows = 0;
  /**
   * Tables whose FTS index covers at least one row. LanceDB 0.37 quirk: while an FTS index
   * covers no rows, a limited full-text query over the (all unindexed) rows returns the
   * first matches in scan order instead of the best ones; once any row is indexed it
   * unions indexed + unindexed matches and sorts by score. So the first flush into a cold
   * table also folds its rows into the index.
   */
  readonly #ftsWarm = new Set<DataTableName>();
  /** The pending warm-up; a word search waits for it (once per cold table). */
  #ftsWarming: Promise<void> | undefined;
  /** Clip counts per memory id (decides exact vs ANN search); cleared on deletes. */
  readonly #clipCounts = new Map<string, number>();
  /** Episode buckets that got new clips and are not rolled up yet. */
  readonly #dirtyBuckets = new Map<string, EpisodeKey>();
  /** Latest clip start per (memory, session): a bucket is closed once the head passed it. */
  readonly #sessionHead = new Map<string, number>();

  private constructor(
    uri: string,
    db: Connection,
    tables: Record<DataTableName, Table>,
    vectorDims: number | undefined,
    opts: ResolvedOptions,
  ) {
    super();
    this.uri = uri;
    this.#db = db;
    this.#tables = tables;
    this.vectorDims = vectorDims;
    this.#opts = opts;
    this.#episodeMs = opts.episodeMinutes * 60_000;
  }

  /** Opens (creating or migrating) the store at `options.uri`. */
  static async open(options: MemoryStoreOptions): Promise<MemoryStore> {
    assertString('uri', options.uri);
    if (options.vectorDims !== undefined && (!Number.isInteger(options.vectorDims) || options.vectorDims <= 0)) {
      throw new TypeError('vectorDims must be a positive integer');
    }
    const opts: ResolvedOptions = { ...defaultMemoryStoreOptions, ...stripUndefined(options), uri: options.uri, retention: options.retention ?? {} };
    if (isLocalUri(options.uri)) await fs.mkdir(options.uri.replace(/^file:\/\//, ''), { recursive: true });
    const db = await lancedb.connect(options.uri, options.connection);
    try {
      // The dimension is the store's: an existing vector column wins over an absent option.
      const names = new Set(await db.tableNames());
      let stored: number | undefined;
      if (names.has('clips')) {
        const t = await db.openTable('clips');
        stored = vectorDimsOf(await t.schema(), 'globalVector');
        t.close();
      }
      if (stored !== undefined && options.vectorDims !== undefined && stored !== options.vectorDims) {
        throw new TypeError(`memory at ${options.uri} holds ${stored}-d vectors; opened with vectorDims ${options.vectorDims} (use another uri per embedding model)`);
      }
      const vectorDims = options.vectorDims ?? stored;

      const { version, fresh } = await readSchemaVersion(db);
      if (version > SCHEMA_VERSION) {
        throw new Error(`memory at ${options.uri} has schema version ${version}, newer than this build (${SCHEMA_VERSION})`);
      }
      if (!fresh && version < SCHEMA_VERSION) {
        for (const m of MIGRATIONS.filter((m) => m.to > version)) {
          await m.up({ db, vectorDims });
          options.onMigrate?.({ from: Math.max(version, m.to - 1), to: m.to, description: m.description });
        }
      }
      // Every open: create missing tables, add vector columns when a model appeared, indexes.
      const tables = await ensureTables(db, vectorDims);
      if (fresh || version < SCHEMA_VERSION) await writeMeta(db, { schemaVersion: String(SCHEMA_VERSION) });
      const store = new MemoryStore(options.uri, db, tables, vectorDims, opts);
      await store.#ensureIndexes();
      store.#startOptimizeSchedule();
      return store;
    } catch (error) {
      db.close();
      throw error;
    }
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** Rows queued and not yet durable. */
  get pending(): number {
    return this.#pendingClips.length + this.#pendingUtterances.length;
  }

  // -------------------------------------------------------------------------------------
  // Writes

  /** Queues a clip; it is durable after the next flush (see the 'flush' event, `flush()`). */
  addClip(record: ClipRecord): void {
    this.#assertOpen();
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
    const objects = (record.objects ?? []).map((o) => ({ label: String(o.label), count: Math.round(o.count) }));
    const soundEvents = (record.soundEvents ?? []).map(String);
    const row: Row = {
      id: record.id,
      memoryId: record.memoryId,
      sessionId: record.sessionId,
      startMs: record.startMs,
      endMs: record.endMs,
      wallStartMs: record.wallStartMs,
      frameCount: Math.round(record.frameCount),
      thumbnail: record.thumbnail.slice(),
      ocrText: record.ocrText ?? '',
      objects,
      transcript: record.transcript ?? '',
      soundEvents,
      searchText: clipSearchText({ ocrText: record.ocrText ?? '', objects, transcript: record.transcript ?? '', soundEvents }),
    };
    if (dims !== undefined) {
      row.globalVector = record.globalVector ? record.globalVector.slice() : null;
      row.frameVectors = record.frameVectors?.length ? record.frameVectors.map((v) => v.slice()) : null;
    }
    const key = { memoryId: record.memoryId, sessionId: record.sessionId, bucket: bucketOf(record.startMs, this.#episodeMs) };
    this.#pendingClips.push({ id: record.id, row, key });
    this.#scheduleFlush();
  }

  /** Queues an utterance; durable after the next flush. */
  addUtterance(record: UtteranceRecord): void {
    this.#assertOpen();
    assertString('utterance.id', record.id);
    assertString('utterance.memoryId', record.memoryId);
    assertString('utterance.sessionId', record.sessionId);
    for (const k of ['startMs', 'endMs', 'wallStartMs'] as const) assertFinite(`utterance.${k}`, record[k]);
    if (record.role !== 'user' && record.role !== 'assistant') throw new TypeError("utterance.role must be 'user' or 'assistant'");
    this.#pendingUtterances.push({
      id: record.id,
      row: {
        id: record.id,
        memoryId: record.memoryId,
        sessionId: record.sessionId,
        role: record.role,
        text: String(record.text ?? ''),
        startMs: record.startMs,
        endMs: record.endMs,
        wallStartMs: record.wallStartMs,
      },
    });
    this.#scheduleFlush();
  }

  /** Resolves once everything queued before the call is durable. */
  flush(): Promise<void> {
    this.#assertOpen();
    return this.#append(() => this.#flushPending());
  }

  #scheduleFlush(): void {
    if (this.pending >= this.#opts.maxBatch && performance.now() >= this.#retryAfter) {
      this.#backgroundFlush();
    } else if (!this.#flushTimer) {
      this.#flushTimer = setTimeout(() => {
        this.#flushTimer = undefined;
        this.#backgroundFlush();
      }, this.#opts.flushIntervalMs);
      this.#flushTimer.unref();
    }
  }

  #backgroundFlush(): void {
    if (this.#flushQueued || this.#closed) return;
    this.#flushQueued = true;
    this.#append(() => {
      this.#flushQueued = false;
      return this.#flushPending();
    }).then(
      () => {
        if (this.pending > 0 && !this.#closed) this.#scheduleFlush();
      },
      (error: Error) => {
        this.safeEmit('flusherror', error);
        // Retry after an interval (not at once, even past maxBatch); rows stay queued in order.
        this.#retryAfter = performance.now() + this.#opts.flushIntervalMs;
        if (!this.#closed && !this.#flushTimer) {
          this.#flushTimer = setTimeout(() => {
            this.#flushTimer = undefined;
            this.#backgroundFlush();
          }, this.#opts.flushIntervalMs);
          this.#flushTimer.unref();
        }
      },
    );
  }

  async #flushPending(): Promise<void> {
    if (this.#flushTimer) {
      clearTimeout(this.#flushTimer);
      this.#flushTimer = undefined;
    }
    const clips = this.#pendingClips.splice(0);
    const utterances = this.#pendingUtterances.splice(0);
    if (clips.length === 0 && utterances.length === 0) return;
    const t0 = performance.now();
    try {
      if (clips.length > 0) await this.#tables.clips.add(clips.map((c) => c.row));
    } catch (error) {
      this.#pendingClips.unshift(...clips);
      this.#pendingUtterances.unshift(...utterances);
      throw error;
    }
    this.#clipsDurable(clips);
    try {
      if (utterances.length > 0) await this.#tables.utterances.add(utterances.map((u) => u.row));
    } catch (error) {
      this.#pendingUtterances.unshift(...utterances);
      this.safeEmit('flush', { clips: clips.map((c) => c.id), utterances: [], ms: performance.now() - t0 });
      throw error;
    }
    this.safeEmit('flush', { clips: clips.map((c) => c.id), utterances: utterances.map((u) => u.id), ms: performance.now() - t0 });
    const cold = (['clips', 'utterances'] as const).filter((name) => (name === 'clips' ? clips : utterances).length > 0 && !this.#ftsWarm.has(name));
    if (cold.length > 0 && !this.#ftsWarming) {
      const warming = this.#maintain(async () => {
        for (const name of cold) if (!this.#ftsWarm.has(name)) await this.#warmFts(name);
      })
        .catch((error) => this.#warn(`FTS index refresh failed: ${String(error)}`))
        .finally(() => {
          if (this.#ftsWarming === warming) this.#ftsWarming = undefined;
        });
      this.#ftsWarming = warming;
    }
    if (clips.length > 0) {
      void this.#maintain(() => this.#rollUpBuckets(false)).catch((error) => this.#warn(`episode roll-up failed: ${String(error)}`));
    }
  }

  #clipsDurable(clips: { key: EpisodeKey; row: Row }[]): void {
    for (const c of clips) {
      const n = this.#clipCounts.get(c.key.memoryId);
      if (n !== undefined) this.#clipCounts.set(c.key.memoryId, n + 1);
      this.#dirtyBuckets.set(episodeId(c.key), c.key);
      const head = `${c.key.memoryId}\u0000${c.key.sessionId}`;
      this.#sessionHead.set(head, Math.max(this.#sessionHead.get(head) ?? -Infinity, c.row.startMs as number));
    }
  }

  // -------------------------------------------------------------------------------------
  // Episodes

  /**
   * Rolls the memory's clips up into episodes (one per session per `episodeMinutes` of media
   * time), recomputed from the clips: idempotent. Removes episodes whose clips are gone.
   * Reads the memory's (sessionId, startMs) columns once; new clips are also rolled up
   * automatically when their bucket closes, and on `close()`.
   */
  async rollUpEpisodes(memoryId: string): Promise<EpisodeRecord[]> {
    this.#assertOpen();
    assertString('memoryId', memoryId);
    await this.flush();
    return this.#maintain(async () => {
      const rows = await this.#tables.clips.query().where(`memoryId = ${sqlString(memoryId)}`).select(['sessionId', 'startMs']).toArray();
      const keys = new Map<string, EpisodeKey>();
      for (const r of rows) {
        const key = { memoryId, sessionId: String(r.sessionId ?? ''), bucket: bucketOf(Number(r.startMs), this.#episodeMs) };
        keys.set(episodeId(key), key);
      }
      const episodes = await this.#writeEpisodes([...keys.values()]);
      const existing = await this.#tables.episodes.query().where(`memoryId = ${sqlString(memoryId)}`).select(['id']).toArray();
      const stale = existing.map((r) => String(r.id)).filter((id) => !keys.has(id));
      if (stale.length > 0) await this.#tables.episodes.delete(`memoryId = ${sqlString(memoryId)} AND id IN (${stale.map(sqlString).join(', ')})`);
      for (const id of keys.keys()) this.#dirtyBuckets.delete(id);
      return episodes;
    });
  }

  /** Episodes of a memory, oldest first. */
  async listEpisodes(options: { memoryId: string; fromWallMs?: number; toWallMs?: number; limit?: number }): Promise<(EpisodeRecord & { sessionId: string })[]> {
    this.#assertOpen();
    assertString('memoryId', options.memoryId);
    await this.#maintenance; // roll-ups already queued
    const where = and(
      `memoryId = ${sqlString(options.memoryId)}`,
      options.fromWallMs !== undefined && `wallEndMs >= ${sqlNum(options.fromWallMs)}`,
      options.toWallMs !== undefined && `wallStartMs <= ${sqlNum(options.toWallMs)}`,
    );
    const rows = await this.#tables.episodes
      .query()
      .where(where)
      .withRowId()
      .orderBy([{ columnName: 'wallStartMs', ascending: true }, { columnName: 'startMs', ascending: true }])
      .limit(options.limit ?? 1000)
      .toArray();
    return rows.map(rowToEpisode);
  }

  /** Rolls up dirty buckets: only closed ones (head moved past) unless `all`. Runs on the chain. */
  async #rollUpBuckets(all: boolean): Promise<void> {
    const ready: EpisodeKey[] = [];
    for (const [id, key] of this.#dirtyBuckets) {
      const head = this.#sessionHead.get(`${key.memoryId}\u0000${key.sessionId}`) ?? -Infinity;
      if (all || head >= (key.bucket + 1) * this.#episodeMs) {
        ready.push(key);
        this.#dirtyBuckets.delete(id);
      }
    }
    if (ready.length > 0) await this.#writeEpisodes(ready);
  }

  /**
   * Recomputes the given buckets from their clips and upserts them (one merge-insert). One
   * clip query per (memory, session) covers all its buckets' time span.
   */
  async #writeEpisodes(keys: EpisodeKey[]): Promise<(EpisodeRecord & { sessionId: string })[]> {
    const episodes: (EpisodeRecord & { sessionId: string })[] = [];
    const empty: string[] = [];
    const columns = this.vectorDims ? [...EPISODE_CLIP_COLUMNS, 'globalVector'] : EPISODE_CLIP_COLUMNS;
    const groups = new Map<string, EpisodeKey[]>();
    for (const key of keys) {
      const g = `${key.memoryId}\u0000${key.sessionId}`;
      groups.set(g, [...(groups.get(g) ?? []), key]);
    }
    for (const group of groups.values()) {
      const { memoryId, sessionId } = group[0]!;
      const wanted = new Set(group.map((k) => k.bucket));
      let first = Infinity;
      let last = -Infinity;
      for (const b of wanted) {
        first = Math.min(first, b);
        last = Math.max(last, b);
      }
      const from = first * this.#episodeMs;
      const to = (last + 1) * this.#episodeMs;
      const rows = await this.#tables.clips
        .query()
        .where(and(`memoryId = ${sqlString(memoryId)}`, `sessionId = ${sqlString(sessionId)}`, `startMs >= ${sqlNum(from)} AND startMs < ${sqlNum(to)}`))
        .select(columns)
        .toArray();
      const byBucket = new Map<number, EpisodeClip[]>();
      for (const r of rows) {
        const bucket = bucketOf(Number(r.startMs), this.#episodeMs);
        if (!wanted.has(bucket)) continue;
        const list = byBucket.get(bucket) ?? [];
        list.push({
          memoryId: r.memoryId,
          sessionId: r.sessionId ?? '',
          startMs: Number(r.startMs),
          endMs: Number(r.endMs),
          wallStartMs: Number(r.wallStartMs),
          ocrText: r.ocrText ?? '',
          objects: r.objects ? (r.objects.toArray() as ArrowRow[]).map((o) => ({ label: String(o.label), count: Number(o.count) })) : [],
          transcript: r.transcript ?? '',
          soundEvents: r.soundEvents ? Array.from(r.soundEvents.toArray() as string[]) : [],
          globalVector: copyVector(r.globalVector),
        });
        byBucket.set(bucket, list);
      }
      for (const key of group) {
        const clips = byBucket.get(key.bucket);
        if (clips) episodes.push(summarizeClips(key, clips));
        else empty.push(episodeId(key));
      }
    }
    if (episodes.length > 0) {
      const rows = episodes.map((e) => {
        const row: Row = { ...e };
        delete row.centroid;
        if (this.vectorDims) row.centroid = e.centroid ?? null;
        return row;
      });
      await this.#tables.episodes.mergeInsert('id').whenMatchedUpdateAll().whenNotMatchedInsertAll().execute(rows);
    }
    if (empty.length > 0) await this.#tables.episodes.delete(`id IN (${empty.map(sqlString).join(', ')})`);
    return episodes;
  }

  // -------------------------------------------------------------------------------------
  // Retrieval

  /**
   * Candidates by vector (cosine ≥ minSimilarity), by words (BM25 over clips and utterances)
   * and by a time expression in the question (also applied as a filter to the other two),
   * fused by reciprocal rank (k = 60); the latest clips when nothing matches. Always scoped
   * to `query.memoryId`. Candidate queries read only ids and times; the clips that make the
   * final list are then read whole (thumbnail included) in one take.
   */
  async search(query: MemorySearchQuery): Promise<MemoryHit[]> {
    this.#assertOpen();
    assertString('memoryId', query.memoryId);
    assertFinite('nowMs', query.nowMs);
    assertFinite('nowWallMs', query.nowWallMs);
    if (query.vector && this.vectorDims !== undefined && query.vector.length !== this.vectorDims) {
      throw new TypeError(`query.vector must have ${this.vectorDims} dims`);
    }
    const limit = Math.max(1, query.limit ?? 8);
    const k = Math.max(limit * 3, 20);
    const time = parseTimeExpression(query.text ?? '', query.nowMs, query.nowWallMs);
    const scope = and(`memoryId = ${sqlString(query.memoryId)}`, time?.basis === 'media' && query.sessionId !== undefined && `sessionId = ${sqlString(query.sessionId)}`);
    const where = and(scope, time && overlapWhere(time));
    const words = [...new Set(contentWords(time ? time.rest : (query.text ?? '')))];
    const exclude = new Set(query.excludeIds ?? []);
    const questionKey = words.join(' ');
    // The question itself (just asked, same words) is not evidence.
    const isQuestion = (u: UtteranceRecord) => u.startMs >= query.nowMs - 60_000 && [...new Set(contentWords(u.text))].join(' ') === questionKey;

    const lists: { by: MemoryHit['matchedBy'][number]; items: Candidate[] }[] = [];
    const tasks: Promise<void>[] = [];
    if (words.length > 0 && this.#ftsWarming) await this.#ftsWarming;
    const push = (by: MemoryHit['matchedBy'][number]) => (items: Candidate[]) => void lists.push({ by, items });
    if (query.vector && this.vectorDims !== undefined) tasks.push(this.#vectorCandidates(query, where, k).then(push('vector')));
    if (words.length > 0) {
      const text = words.join(' ');
      tasks.push(
        this.#tables.clips
          .query()
          .fullTextSearch(text, { columns: INDEXES.clips.fts! })
          .where(where)
          .withRowId()
          .select([...CLIP_KEY_COLUMNS, '_score'])
          .limit(k)
          .toArray()
          .then((rows) => rows.map(clipKey))
          .then(push('text')),
      );
      tasks.push(
        this.#tables.utterances
          .query()
          .fullTextSearch(text, { columns: INDEXES.utterances.fts! })
          .where(where)
          .select([...UTTERANCE_COLUMNS, '_score'])
          .limit(k + 2)
          .toArray()
          .then((rows) => rows.map(rowToUtterance).filter((u) => !isQuestion(u)).map(utteranceCandidate))
          .then(push('text')),
      );
    }
    if (time) tasks.push(this.#timeCandidates(time, scope, k).then((items) => items.filter((c) => !(c.utterance && isQuestion(c.utterance)))).then(push('time')));
    await Promise.all(tasks);

    const fused = new Map<string, { c: Candidate; score: number; by: Set<MemoryHit['matchedBy'][number]> }>();
    for (const list of lists) {
      let rank = 0;
      for (const c of list.items) {
        if (exclude.has(c.id)) continue;
        rank++;
        const key = `${c.kind}:${c.id}`;
        const e = fused.get(key) ?? { c, score: 0, by: new Set() };
        e.score += 1 / (RRF_K + rank);
        e.by.add(list.by);
        fused.set(key, e);
      }
    }
    const top = [...fused.values()].sort((a, b) => b.score - a.score || b.c.wallStartMs - a.c.wallStartMs || b.c.startMs - a.c.startMs).slice(0, limit);
    if (top.length === 0) {
      const recent = await this.#recentClips(query.memoryId, RECENT_FALLBACK, query.nowWallMs);
      return recent.filter((c) => !exclude.has(c.id)).map((clip, i) => this.#hit({ ...clipKey(clip), clip }, 1 / (RRF_K + i + 1), ['recent']));
    }
    const clips = await this.#hydrateClips(top.map((e) => e.c).filter((c) => c.kind === 'clip'));
    return top.flatMap((e) => {
      const clip = e.c.kind === 'clip' ? clips.get(e.c.id) : undefined;
      if (e.c.kind === 'clip' && !clip) return []; // forgotten between the two reads
      return [this.#hit(clip ? { ...e.c, clip } : e.c, e.score, [...e.by])];
    });
  }

  /** Clip columns for list/export: everything but the pooled frame vectors. */
  #clipColumns(): string[] {
    return this.vectorDims ? [...CLIP_COLUMNS, 'globalVector'] : CLIP_COLUMNS;
  }

  #hit(c: Candidate, score: number, matchedBy: MemoryHit['matchedBy']): MemoryHit {
    return {
      kind: c.kind,
      id: c.id,
      startMs: c.startMs,
      endMs: c.endMs,
      wallStartMs: c.wallStartMs,
      score,
      matchedBy,
      text: c.clip ? clipEvidenceText(c.clip) : utteranceEvidenceText(c.utterance!),
      ...(c.clip ? { clip: c.clip } : { utterance: c.utterance! }),
    };
  }

  /**
   * Reads whole clips (no vectors) by row id; a row id can go stale when a compaction commits
   * between the candidate query and this take, so the ids are checked and any miss is read
   * by id (BTree-indexed) instead.
   */
  async #hydrateClips(candidates: Candidate[]): Promise<Map<string, ClipRecord>> {
    const out = new Map<string, ClipRecord>();
    if (candidates.length === 0) return out;
    const withRowId = candidates.filter((c) => c.rowId !== undefined);
    if (withRowId.length > 0) {
      try {
        const rows = await this.#tables.clips.takeRowIds(withRowId.map((c) => c.rowId!)).select(CLIP_COLUMNS).toArray();
        for (const r of rows) out.set(String(r.id), rowToClip(r, false));
      } catch {
        // stale row ids: fall through to the by-id read
      }
    }
    const missing = candidates.filter((c) => !out.has(c.id) || out.get(c.id)!.memoryId !== c.memoryId);
    if (missing.length > 0) {
      const memoryId = candidates[0]!.memoryId;
      const rows = await this.#tables.clips
        .query()
        .where(and(`memoryId = ${sqlString(memoryId)}`, `id IN (${missing.map((c) => sqlString(c.id)).join(', ')})`))
        .select(CLIP_COLUMNS)
        .toArray();
      for (const r of rows) out.set(String(r.id), rowToClip(r, false));
    }
    for (const [id, clip] of out) if (clip.memoryId !== candidates[0]!.memoryId) out.delete(id);
    return out;
  }

  async #vectorCandidates(query: MemorySearchQuery, where: string, k: number): Promise<Candidate[]> {
    const minSimilarity = query.minSimilarity ?? this.#opts.minSimilarity;
    let q = this.#tables.clips
      .vectorSearch(query.vector!)
      .column('globalVector')
      .distanceType('cosine')
      .where(where)
      .withRowId()
      .select([...CLIP_KEY_COLUMNS, '_distance'])
      .limit(k);
    // A small memory is searched exactly (its rows found through the memoryId index);
    // a big one through the IVF-PQ index, re-ranked on the full vectors so the
    // similarity threshold sees exact cosines, not PQ estimates.
    if (!this.#vectorIndex || (await this.#clipCount(query.memoryId)) <= this.#opts.exactSearchMaxRows) q = q.bypassVectorIndex();
    else q = q.nprobes(this.#opts.nprobes).refineFactor(4);
    const rows = await q.toArray();
    return rows.filter((r) => 1 - Number(r._distance) >= minSimilarity).map(clipKey);
  }

  /** Clips and utterances overlapping the range, nearest to its center first. */
  async #timeCandidates(time: TimeRange, scope: string, k: number): Promise<Candidate[]> {
    const where = and(scope, overlapWhere(time));
    const key = time.basis === 'media' ? 'startMs' : 'wallStartMs';
    const distance = (c: Candidate) => {
      const start = key === 'startMs' ? c.startMs : c.wallStartMs;
      const end = start + (c.endMs - c.startMs);
      return time.centerMs < start ? start - time.centerMs : time.centerMs > end ? time.centerMs - end : 0;
    };
    const [clips, utterances] = await Promise.all([
      this.#tables.clips.query().where(where).withRowId().select(CLIP_KEY_COLUMNS).limit(20_000).toArray(),
      this.#tables.utterances.query().where(where).select(UTTERANCE_COLUMNS).limit(20_000).toArray(),
    ]);
    return [...clips.map(clipKey), ...utterances.map((r) => utteranceCandidate(rowToUtterance(r)))]
      .map((c) => ({ c, d: distance(c) }))
      .sort((a, b) => a.d - b.d || b.c.wallStartMs - a.c.wallStartMs)
      .slice(0, k)
      .map((x) => x.c);
  }

  /** Latest clips of a memory (by wall time), looking back progressively wider. */
  async #recentClips(memoryId: string, n: number, nowWallMs: number): Promise<ClipRecord[]> {
    for (const windowMs of [10 * 60_000, 24 * 3_600_000, Infinity]) {
      const rows = await this.#tables.clips
        .query()
        .where(and(`memoryId = ${sqlString(memoryId)}`, Number.isFinite(windowMs) && `wallStartMs >= ${sqlNum(nowWallMs - windowMs)}`))
        .withRowId() // LanceDB 0.37: orderBy + select needs the row id in the plan
        .orderBy([{ columnName: 'wallStartMs', ascending: false }, { columnName: 'startMs', ascending: false }])
        .select(CLIP_COLUMNS)
        .limit(n)
        .toArray();
      if (rows.length >= n || !Number.isFinite(windowMs)) return rows.map((r) => rowToClip(r, false));
    }
    return [];
  }

  async #clipCount(memoryId: string): Promise<number> {
    let n = this.#clipCounts.get(memoryId);
    if (n === undefined) {
      n = await this.#tables.clips.countRows(`memoryId = ${sqlString(memoryId)}`);
      this.#clipCounts.set(memoryId, n);
    }
    return n;
  }

  // -------------------------------------------------------------------------------------
  // Controls

  /** Clips (with thumbnails) for a timeline, newest first unless `order: 'asc'`. */
  async list(options: ListOptions = {}): Promise<ClipRecord[]> {
    this.#assertOpen();
    const rows = await this.#tables.clips
      .query()
      .where(this.#listWhere(options))
      .withRowId()
      .orderBy([{ columnName: 'wallStartMs', ascending: options.order === 'asc' }, { columnName: 'startMs', ascending: options.order === 'asc' }])
      .select(options.withVectors && this.vectorDims ? [...this.#clipColumns(), 'frameVectors'] : this.#clipColumns())
      .limit(options.limit ?? 100)
      .toArray();
    return rows.map((r) => rowToClip(r, options.withVectors === true));
  }

  /** Utterances, newest first unless `order: 'asc'`. */
  async listUtterances(options: ListOptions = {}): Promise<UtteranceRecord[]> {
    this.#assertOpen();
    const rows = await this.#tables.utterances
      .query()
      .where(this.#listWhere(options))
      .withRowId()
      .orderBy([{ columnName: 'wallStartMs', ascending: options.order === 'asc' }, { columnName: 'startMs', ascending: options.order === 'asc' }])
      .select(UTTERANCE_COLUMNS)
      .limit(options.limit ?? 100)
      .toArray();
    return rows.map(rowToUtterance);
  }

  #listWhere(o: ListOptions): string {
    return and(
      o.memoryId !== undefined && `memoryId = ${sqlString(o.memoryId)}`,
      o.sessionId !== undefined && `sessionId = ${sqlString(o.sessionId)}`,
      o.fromMs !== undefined && `endMs >= ${sqlNum(o.fromMs)}`,
      o.toMs !== undefined && `startMs <= ${sqlNum(o.toMs)}`,
      o.fromWallMs !== undefined && `wallStartMs >= ${sqlNum(o.fromWallMs)}`,
      o.toWallMs !== undefined && `wallStartMs <= ${sqlNum(o.toWallMs)}`,
    );
  }

  /** Every record of a memory (or of the whole store), as JSON-able objects; flushes first. */
  async *export(memoryId?: string): AsyncIterable<ExportedRecord> {
    this.#assertOpen();
    await this.flush();
    const where = memoryId === undefined ? 'true' : `memoryId = ${sqlString(memoryId)}`;
    for await (const batch of this.#tables.clips.query().where(where)) {
      for (const r of batch.toArray() as ArrowRow[]) {
        const { thumbnail, frameVectors, globalVector, ...rest } = rowToClip(r, true);
        yield {
          kind: 'clip',
          ...rest,
          thumbnail: Buffer.from(thumbnail.buffer, thumbnail.byteOffset, thumbnail.byteLength).toString('base64'),
          ...(globalVector ? { globalVector: Array.from(globalVector) } : {}),
          ...(frameVectors ? { frameVectors: frameVectors.map((v) => Array.from(v)) } : {}),
        };
      }
    }
    for await (const batch of this.#tables.utterances.query().where(where)) {
      for (const r of batch.toArray() as ArrowRow[]) yield { kind: 'utterance', ...rowToUtterance(r) };
    }
    for await (const batch of this.#tables.episodes.query().where(where)) {
      for (const r of batch.toArray() as ArrowRow[]) {
        const { centroid, ...rest } = rowToEpisode(r);
        yield { kind: 'episode', ...rest, ...(centroid ? { centroid: Array.from(centroid) } : {}) };
      }
    }
  }

  /**
   * Deletes matching clips, utterances and episodes (queued rows too), re-rolls the episodes
   * they touched, then compacts and prunes old table versions so the rows are gone from
   * search, list and export for good.
   */
  async forget(selector: ForgetSelector): Promise<DeletedCounts> {
    this.#assertOpen();
    const { memoryId, sessionId, ids, fromWallMs, toWallMs, all } = selector;
    if (!all && memoryId === undefined && sessionId === undefined) throw new TypeError('forget needs memoryId, sessionId, or all: true');
    if (memoryId !== undefined) assertString('memoryId', memoryId);
    if (sessionId !== undefined) assertString('sessionId', sessionId);
    ids?.forEach((id, i) => assertString(`ids[${i}]`, id));
    const where = and(
      memoryId !== undefined && `memoryId = ${sqlString(memoryId)}`,
      sessionId !== undefined && `sessionId = ${sqlString(sessionId)}`,
      ids !== undefined && `id IN (${ids.length ? ids.map(sqlString).join(', ') : "''"})`,
      fromWallMs !== undefined && `wallStartMs >= ${sqlNum(fromWallMs)}`,
      toWallMs !== undefined && `wallStartMs < ${sqlNum(toWallMs)}`,
    );
    const matches = (r: Row) =>
      (memoryId === undefined || r.memoryId === memoryId) &&
      (sessionId === undefined || r.sessionId === sessionId) &&
      (ids === undefined || ids.includes(r.id as string)) &&
      (fromWallMs === undefined || (r.wallStartMs as number) >= fromWallMs) &&
      (toWallMs === undefined || (r.wallStartMs as number) < toWallMs);
    // Queued rows go at once; a flush already in flight is waited for before deleting.
    const dropped = { clips: 0, utterances: 0 };
    this.#pendingClips = this.#pendingClips.filter((c) => !(matches(c.row) && ++dropped.clips));
    this.#pendingUtterances = this.#pendingUtterances.filter((u) => !(matches(u.row) && ++dropped.utterances));
    const inFlight = this.#appends;
    return this.#maintain(async () => {
      await inFlight;
      const wholeMemories = fromWallMs === undefined && toWallMs === undefined && sessionId === undefined && ids === undefined;
      // Episodes touched by a partial forget are rebuilt from the clips that remain.
      const touched = new Map<string, EpisodeKey>();
      if (!wholeMemories) {
        for (const r of await this.#tables.clips.query().where(where).select(['memoryId', 'sessionId', 'startMs']).toArray()) {
          const key = { memoryId: String(r.memoryId), sessionId: String(r.sessionId), bucket: bucketOf(Number(r.startMs), this.#episodeMs) };
          touched.set(episodeId(key), key);
        }
      }
      const clips = (await this.#tables.clips.delete(where)).numDeletedRows ?? 0;
      const utterances = (await this.#tables.utterances.delete(where)).numDeletedRows ?? 0;
      let episodes = 0;
      if (wholeMemories) {
        episodes = (await this.#tables.episodes.delete(memoryId !== undefined ? `memoryId = ${sqlString(memoryId)}` : 'true')).numDeletedRows ?? 0;
        for (const [id, key] of this.#dirtyBuckets) if (memoryId === undefined || key.memoryId === memoryId) this.#dirtyBuckets.delete(id);
      } else if (touched.size > 0) {
        const rebuilt = await this.#writeEpisodes([...touched.values()]);
        episodes = touched.size - rebuilt.length;
      }
      this.#clipCounts.clear();
      await this.#compact(new Date());
      return { clips: clips + dropped.clips, utterances: utterances + dropped.utterances, episodes };
    });
  }

  /** Applies `retention`: max age by wallStartMs, then max size by deleting the oldest rows. */
  async enforceRetention(nowWallMs = Date.now()): Promise<DeletedCounts & { bytes: number }> {
    this.#assertOpen();
    await this.flush();
    return this.#maintain(() => this.#enforceRetention(nowWallMs));
  }

  async #enforceRetention(nowWallMs: number): Promise<DeletedCounts & { bytes: number }> {
    const { maxAgeMs, maxBytes } = this.#opts.retention;
    const deleted: DeletedCounts = { clips: 0, utterances: 0, episodes: 0 };
    const deleteBefore = async (cutoffWallMs: number, inclusive: boolean) => {
      const op = inclusive ? '<=' : '<';
      deleted.clips += (await this.#tables.clips.delete(`wallStartMs ${op} ${sqlNum(cutoffWallMs)}`)).numDeletedRows ?? 0;
      deleted.utterances += (await this.#tables.utterances.delete(`wallStartMs ${op} ${sqlNum(cutoffWallMs)}`)).numDeletedRows ?? 0;
      deleted.episodes += (await this.#tables.episodes.delete(`wallEndMs ${op} ${sqlNum(cutoffWallMs)}`)).numDeletedRows ?? 0;
      this.#clipCounts.clear();
    };
    if (maxAgeMs !== undefined) {
      // Deletes in steps (once the oldest rows are 1 % of maxAge, ≤ 1 h, past it) and leaves
      // the rewrite to the next due optimize: deleted rows are invisible at once, and
      // compacting a big table for a handful of expired rows is what we avoid.
      const cutoff = nowWallMs - maxAgeMs;
      const slack = Math.min(3_600_000, 0.01 * maxAgeMs);
      const expired = (await this.#tables.clips.countRows(`wallStartMs < ${sqlNum(cutoff - slack)}`)) + (await this.#tables.utterances.countRows(`wallStartMs < ${sqlNum(cutoff - slack)}`));
      if (expired > 0) await deleteBefore(cutoff, false);
    }
    let bytes = await this.#bytes();
    if (maxBytes !== undefined) {
      for (let round = 0; round < 8 && bytes > maxBytes; round++) {
        const clips = await this.#tables.clips.countRows();
        if (clips === 0) break;
        // Delete the oldest share that should bring the size under the limit, plus 10 %.
        const share = Math.min(1, (bytes - maxBytes) / bytes + 0.1);
        const n = Math.max(1, Math.ceil(clips * share));
        const oldest = await this.#tables.clips
          .query()
          .withRowId()
          .orderBy({ columnName: 'wallStartMs', ascending: true })
          .select(['wallStartMs'])
          .offset(Math.min(n, clips) - 1)
          .limit(1)
          .toArray();
        if (oldest.length === 0) break;
        await deleteBefore(Number(oldest[0].wallStartMs), true);
        await this.#compact(new Date());
        bytes = await this.#bytes();
      }
    }
    return { ...deleted, bytes };
  }

  /**
   * Compacts files, folds new rows into every index, prunes old versions, applies retention.
   * With `ifDue`, a table is only optimized when it is due (see `#optimizeDue`): the
   * scheduled call uses that, an explicit call optimizes everything.
   */
  async optimize(options: { ifDue?: boolean } = {}): Promise<{ tables: DataTableName[]; ms: number }> {
    this.#assertOpen();
    await this.flush();
    const result = await this.#maintain(async () => {
      const t0 = performance.now();
      const tables: DataTableName[] = [];
      for (const name of ['clips', 'utterances', 'episodes'] as const) {
        if (options.ifDue && !(await this.#optimizeDue(name))) continue;
        await this.#tables[name].optimize({ cleanupOlderThan: new Date(Date.now() - this.#opts.keepVersionsMs) });
        if (name !== 'episodes') await this.#checkFtsWarm(name);
        tables.push(name);
      }
      if (this.#opts.retention.maxAgeMs !== undefined || this.#opts.retention.maxBytes !== undefined) await this.#enforceRetention(Date.now());
      const ms = performance.now() - t0;
      this.safeEmit('optimize', { ms });
      return { tables, ms };
    });
    void this.#maybeBuildVectorIndex();
    return result;
  }

  /**
   * LanceDB's optimize() compacts with its default target of ~1M rows per fragment, so until
   * a table's first fragment holds ~1M rows every compaction rewrites the whole table. The
   * scheduled optimize therefore runs on a table only when that is worth it: the table is
   * small, or flushes left ≥ optimizeMaxFragments fragments (each append writes a manifest
   * listing every fragment, so their count bounds the per-write cost), or the rows not yet
   * in the indexes reach optimizeGrowth of the table (they are searched by a flat scan).
   */
  async #optimizeDue(name: DataTableName): Promise<boolean> {
    const table = this.#tables[name];
    const stats = await table.stats();
    if (stats.fragmentStats.numFragments <= 1) return false;
    if (stats.numRows < this.#opts.optimizeSmallTableRows) return true;
    if (stats.fragmentStats.numFragments >= this.#opts.optimizeMaxFragments) return true;
    const fts = INDEXES[name].fts;
    const index = fts ? await table.indexStats(`${fts}_idx`) : undefined;
    return (index?.numUnindexedRows ?? 0) >= this.#opts.optimizeGrowth * stats.numRows;
  }

  async #compact(cleanupOlderThan: Date): Promise<void> {
    for (const table of Object.values(this.#tables)) await table.optimize({ cleanupOlderThan });
    for (const name of ['clips', 'utterances'] as const) await this.#checkFtsWarm(name);
  }

  async #checkFtsWarm(name: DataTableName): Promise<void> {
    const stats = await this.#tables[name].indexStats(`${INDEXES[name].fts}_idx`);
    if ((stats?.numIndexedRows ?? 0) > 0) this.#ftsWarm.add(name);
    else this.#ftsWarm.delete(name);
  }

  /** Folds a cold table's rows into its FTS index (see #ftsWarm). */
  async #warmFts(name: DataTableName): Promise<void> {
    await this.#tables[name].optimize({ cleanupOlderThan: new Date(Date.now() - this.#opts.keepVersionsMs) });
    await this.#checkFtsWarm(name);
  }

  /** Builds (or retrains, after 4× growth) the IVF-PQ index off the write chain. */
  #maybeBuildVectorIndex(force = false): Promise<void> {
    if (!this.vectorDims || this.#vectorIndexBuild || this.#closed) return this.#vectorIndexBuild ?? Promise.resolve();
    this.#vectorIndexBuild = (async () => {
      const rows = await this.#tables.clips.countRows('globalVector IS NOT NULL');
      const due = force ? rows >= 256 : rows >= this.#opts.vectorIndexMinRows && (!this.#vectorIndex || rows >= 4 * this.#vectorIndexTrainedRows);
      if (!due) return;
      const dims = this.vectorDims!;
      await this.#tables.clips.createIndex('globalVector', {
        replace: true,
        config: lancedb.Index.ivfPq({
          distanceType: 'cosine',
          numPartitions: Math.max(1, Math.min(4096, Math.round(Math.sqrt(rows)))),
          numSubVectors: dims % 8 === 0 ? dims / 8 : dims % 4 === 0 ? dims / 4 : 1,
        }),
      });
      if (this.#closed) return;
      this.#vectorIndex = true;
      this.#vectorIndexTrainedRows = rows;
      await this.#maintain(() => writeMeta(this.#db, { vectorIndexTrainedRows: String(rows) }));
    })()
      .catch((error) => {
        if (!this.#closed) this.#warn(`vector index build failed: ${String(error)}`);
      })
      .finally(() => {
        this.#vectorIndexBuild = undefined;
      });
    return this.#vectorIndexBuild;
  }

  /** Builds the vector index now (benchmarks; normally `optimize()` does it past vectorIndexMinRows). */
  buildVectorIndex(): Promise<void> {
    this.#assertOpen();
    return this.#maybeBuildVectorIndex(true);
  }

  async stats(): Promise<MemoryStoreStats> {
    this.#assertOpen();
    const [clips, utterances, episodes, bytes] = await Promise.all([
      this.#tables.clips.countRows(),
      this.#tables.utterances.countRows(),
      this.#tables.episodes.countRows(),
      this.#bytes(),
    ]);
    return { clips, utterances, episodes, bytes, pending: this.pending, vectorIndex: this.#vectorIndex };
  }

  async #bytes(): Promise<number> {
    if (isLocalUri(this.uri)) return directoryBytes(this.uri.replace(/^file:\/\//, ''));
    const stats = await Promise.all(Object.values(this.#tables).map((t) => t.stats()));
    return stats.reduce((s, x) => s + x.totalBytes, 0);
  }

  /** Flushes, rolls up open episodes, and closes the tables. Idempotent. */
  close(): Promise<void> {
    if (this.#closing) return this.#closing;
    this.#closing = (async () => {
      if (this.#flushTimer) clearTimeout(this.#flushTimer);
      if (this.#optimizeTimer) clearInterval(this.#optimizeTimer);
      try {
        await this.#append(() => this.#flushPending());
      } catch (error) {
        this.safeEmit('flusherror', error as Error);
      }
      try {
        await this.#maintain(() => this.#rollUpBuckets(true));
      } catch (error) {
        this.#warn(`episode roll-up failed: ${String(error)}`);
      }
      this.#closed = true;
      // An IVF-PQ build in flight is not awaited (it can take minutes and cannot be
      // cancelled); LanceDB finishes or drops it on its own handle, uncommitted files are
      // harmless, and the next optimize() starts it again if still due.
      await Promise.all([this.#appends.catch(() => {}), this.#maintenance.catch(() => {})]);
      for (const t of Object.values(this.#tables)) t.close();
      this.#db.close();
      this.safeEmit('close');
    })();
    return this.#closing;
  }

  // -------------------------------------------------------------------------------------

  async #ensureIndexes(): Promise<void> {
    for (const name of ['clips', 'utterances', 'episodes'] as const) {
      const table = this.#tables[name];
      const existing = await table.listIndices();
      const typeOf = (column: string) => existing.find((i) => i.columns.length === 1 && i.columns[0] === column)?.indexType.toLowerCase();
      const has = (column: string) => typeOf(column) !== undefined;
      const plan = INDEXES[name];
      for (const column of plan.btree) {
        if (typeOf(column) !== 'btree') await table.createIndex(column, { config: lancedb.Index.btree(), replace: true });
      }
      for (const column of plan.bitmap) {
        if (typeOf(column) !== 'bitmap') await table.createIndex(column, { config: lancedb.Index.bitmap(), replace: true });
      }
      if (plan.fts && !has(plan.fts)) await table.createIndex(plan.fts, { config: lancedb.Index.fts(FTS_OPTIONS) });
      if (name === 'clips' && plan.vector && has(plan.vector)) this.#vectorIndex = true;
      if (name !== 'episodes') await this.#checkFtsWarm(name);
    }
    if (this.#vectorIndex) {
      const meta = await this.#db.openTable('meta');
      const rows = await meta.query().where("key = 'vectorIndexTrainedRows'").toArray();
      meta.close();
      this.#vectorIndexTrainedRows = Number(rows[0]?.value ?? 0);
      if (!(this.#vectorIndexTrainedRows > 0)) {
        const stats = await this.#tables.clips.indexStats(`${INDEXES.clips.vector}_idx`);
        this.#vectorIndexTrainedRows = stats?.numIndexedRows ?? 0;
      }
    }
  }

  #startOptimizeSchedule(): void {
    if (this.#opts.optimizeIntervalMs <= 0) return;
    this.#optimizeTimer = setInterval(() => {
      if (this.#closed || this.#closing) return;
      this.optimize({ ifDue: true }).catch((error) => this.#warn(`scheduled optimize failed: ${String(error)}`));
    }, this.#opts.optimizeIntervalMs);
    this.#optimizeTimer.unref();
  }

  #append<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.#appends.then(fn);
    this.#appends = run.catch(() => {});
    return run;
  }

  #maintain<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.#maintenance.then(fn);
    this.#maintenance = run.catch(() => {});
    return run;
  }

  #assertOpen(): void {
    if (this.#closed || this.#closing) throw new MemoryStoreClosedError();
  }

  #warn(message: string): void {
    if (this.listenerCount('warning') > 0) this.safeEmit('warning', message);
    else console.warn(`omnilive memory: ${message}`);
  }
}

function stripUndefined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}

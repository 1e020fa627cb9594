/**
 * The opened store: the LanceDB connection and tables, which indexes they carry, and the few
 * facts the write buffer, maintenance, the episode roller and retrieval share about them.
 * One object, handed to each of those parts, instead of fields they poke on each other.
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import * as lancedb from '@lancedb/lancedb';
import type { Connection, ConnectionOptions, Table } from '@lancedb/lancedb';
import { MemoryStoreClosedError } from './errors.ts';
import { sqlString, type Row } from './rows.ts';
import { DATA_TABLES, FTS_OPTIONS, INDEXES, MIGRATIONS, SCHEMA_VERSION, ensureTables, readSchemaVersion, vectorDimsOf, writeMeta, type DataTableName } from './schema.ts';

/** The tables questions are asked of (episodes are read by listing, not searched). */
export type SearchedTableName = Exclude<DataTableName, 'episodes'>;
export const SEARCHED_TABLES: readonly SearchedTableName[] = ['clips', 'utterances'];

export interface OpenTablesOptions {
  uri: string;
  vectorDims?: number;
  connection?: Partial<ConnectionOptions>;
  /** LanceDB's index and metadata caches, in bytes (see MemoryStoreOptions.cacheBytes). */
  cacheBytes: { index: number; metadata: number };
  /** See MemoryStoreOptions.retiredGraceMs. @defaultValue 30000 */
  retiredGraceMs?: number;
  onMigrate?: (step: { from: number; to: number; description: string }) => void;
}

/** One LanceDB connection: its caches and the data tables opened through it. */
interface Handles {
  db: Connection;
  session: lancedb.Session;
  tables: Record<DataTableName, Table>;
}

/** How long handles replaced by renew() stay open for reads that began on them. */
const DEFAULT_RETIRED_GRACE_MS = 30_000;

export class TableState {
  readonly uri: string;
  /** Embedding dimension of the vector columns, or undefined when the store has none. */
  readonly vectorDims: number | undefined;
  /** close() has begun: no new work is accepted. */
  closing = false;
  /** The tables are about to close: background work (flush retries, index builds) stops. */
  closed = false;
  /** clips.globalVector carries an IVF-PQ index, trained on `vectorIndexTrainedRows` rows. */
  vectorIndex = false;
  vectorIndexTrainedRows = 0;
  /**
   * Tables whose FTS index covers at least one row. LanceDB 0.37 quirk: while an FTS index
   * covers no rows, a limited full-text query over the (all unindexed) rows returns the
   * first matches in scan order instead of the best ones; once any row is indexed it
   * unions indexed + unindexed matches and sorts by score. So the first flush into a cold
   * table also folds its rows into the index.
   */
  readonly ftsWarm = new Set<SearchedTableName>();
  /** The pending warm-up; a word search waits for it (once per cold table). */
  ftsWarming: Promise<void> | undefined;
  /** Clip counts per memory id (decides exact vs ANN search); dropped on any delete. */
  readonly #clipCounts = new Map<string, number>();

  /** The current connection; renew() replaces it. */
  #handles: Handles;
  /** Closers of handles renew() replaced, run once their grace period is over. */
  readonly #retired = new Map<NodeJS.Timeout, () => void>();
  readonly #options: OpenTablesOptions;

  constructor(options: OpenTablesOptions, handles: Handles, vectorDims: number | undefined) {
    this.uri = options.uri;
    this.#options = options;
    this.#handles = handles;
    this.vectorDims = vectorDims;
  }

  /** The current connection: a part that opens a table of its own (watches) reopens it when this changes. */
  get db(): Connection {
    return this.#handles.db;
  }

  get tables(): Readonly<Record<DataTableName, Table>> {
    return this.#handles.tables;
  }

  /**
   * Opens the tables again through a new connection with empty caches, and lets the old one
   * go. LanceDB's index cache keeps every index version it has read with its files open (two
   * per FTS index), also after an optimize replaced that version and cleanup deleted its
   * files; the entries are small, so a byte bound lets hundreds of them, and their file
   * handles, pile up over hours. Maintenance calls this after each optimize. The old handles
   * close after a grace period for reads still running on them; their cache and files go
   * when the collector frees the old session object.
   */
  async renew(): Promise<void> {
    if (this.closing || this.closed) return;
    const fresh = await connect(this.#options);
    try {
      const tables = {} as Record<DataTableName, Table>;
      for (const name of DATA_TABLES) tables[name] = await fresh.db.openTable(name);
      if (this.closing || this.closed) {
        closeHandles({ ...fresh, tables });
        return;
      }
      const old = this.#handles;
      this.#handles = { ...fresh, tables };
      this.retire(() => closeHandles(old));
    } catch (error) {
      fresh.db.close();
      throw error;
    }
  }

  assertOpen(): void {
    if (this.closing || this.closed) throw new MemoryStoreClosedError();
  }

  async clipCount(memoryId: string): Promise<number> {
    let n = this.#clipCounts.get(memoryId);
    if (n === undefined) {
      n = await this.tables.clips.countRows(`memoryId = ${sqlString(memoryId)}`);
      this.#clipCounts.set(memoryId, n);
    }
    return n;
  }

  /** Clip rows just committed: counts already read stay right without a recount. */
  clipsWritten(rows: readonly Row[]): void {
    for (const row of rows) {
      const memoryId = row.memoryId as string;
      const n = this.#clipCounts.get(memoryId);
      if (n !== undefined) this.#clipCounts.set(memoryId, n + 1);
    }
  }

  /** Rows were deleted somewhere: the counts are read again when next needed. */
  rowsDeleted(): void {
    this.#clipCounts.clear();
  }

  async checkFtsWarm(name: SearchedTableName): Promise<void> {
    const stats = await this.tables[name].indexStats(`${INDEXES[name].fts}_idx`);
    if ((stats?.numIndexedRows ?? 0) > 0) this.ftsWarm.add(name);
    else this.ftsWarm.delete(name);
  }

  /** Bytes on disk (local directories), or the tables' data + index bytes (remote). */
  async bytes(): Promise<number> {
    if (isLocalUri(this.uri)) return directoryBytes(localPath(this.uri));
    const stats = await Promise.all(Object.values(this.tables).map((t) => t.stats()));
    return stats.reduce((s, x) => s + x.totalBytes, 0);
  }

  /**
   * Closes a handle of a connection renew() replaced once reads that began on it are over
   * (after the grace period), or when the store closes. Any handle left open keeps that
   * connection's caches, and their files, alive.
   */
  retire(close: () => void): void {
    const timer = setTimeout(() => {
      this.#retired.delete(timer);
      close();
    }, this.#options.retiredGraceMs ?? DEFAULT_RETIRED_GRACE_MS);
    timer.unref();
    this.#retired.set(timer, close);
  }

  /** Bytes LanceDB holds in its index and metadata caches right now. */
  cacheBytes(): number {
    return Number(this.#handles.session.sizeBytes());
  }

  /** Releases the native handles; the caller has waited for every task that uses them. */
  release(): void {
    for (const [timer, close] of this.#retired) {
      clearTimeout(timer);
      close();
    }
    this.#retired.clear();
    closeHandles(this.#handles);
  }
}

function closeHandles(handles: Handles): void {
  for (const t of Object.values(handles.tables)) t.close();
  handles.db.close();
}

/**
 * A connection with caches of our size. LanceDB's own default session caches up to 6 GB of
 * index and 1 GB of metadata: every appended fragment and every new version is cached, so a
 * store written all day grows the process by ~10 MB a minute under 8 sessions.
 */
async function connect(options: OpenTablesOptions): Promise<{ db: Connection; session: lancedb.Session }> {
  const session = new lancedb.Session(BigInt(options.cacheBytes.index), BigInt(options.cacheBytes.metadata));
  // (0.37's connect() drops a session given as its third argument: it goes in the options.)
  const db = await lancedb.connect(options.uri, { ...options.connection, session });
  return { db, session };
}

/**
 * Connects, checks the vector dimension against the stored one, migrates an older store,
 * creates missing tables and indexes. Closes the connection again if any step fails.
 */
export async function openTables(options: OpenTablesOptions): Promise<TableState> {
  const { uri } = options;
  if (isLocalUri(uri)) await fs.mkdir(localPath(uri), { recursive: true });
  const { db, session } = await connect(options);
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
      throw new TypeError(`memory at ${uri} holds ${stored}-d vectors; opened with vectorDims ${options.vectorDims} (use another uri per embedding model)`);
    }
    const vectorDims = options.vectorDims ?? stored;

    const { version, fresh } = await readSchemaVersion(db);
    if (version > SCHEMA_VERSION) {
      throw new Error(`memory at ${uri} has schema version ${version}, newer than this build (${SCHEMA_VERSION})`);
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
    const state = new TableState(options, { db, session, tables }, vectorDims);
    await ensureIndexes(state);
    return state;
  } catch (error) {
    db.close();
    throw error;
  }
}

/** Creates the scalar and FTS indexes a table lacks and learns which ones are already there. */
async function ensureIndexes(state: TableState): Promise<void> {
  for (const name of DATA_TABLES) {
    const table = state.tables[name];
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
    if (name === 'clips' && plan.vector && has(plan.vector)) state.vectorIndex = true;
    if (name !== 'episodes') await state.checkFtsWarm(name);
  }
  if (state.vectorIndex) {
    const meta = await state.db.openTable('meta');
    const rows = await meta.query().where("key = 'vectorIndexTrainedRows'").toArray();
    meta.close();
    state.vectorIndexTrainedRows = Number(rows[0]?.value ?? 0);
    if (!(state.vectorIndexTrainedRows > 0)) {
      const stats = await state.tables.clips.indexStats(`${INDEXES.clips.vector}_idx`);
      state.vectorIndexTrainedRows = stats?.numIndexedRows ?? 0;
    }
  }
}

function isLocalUri(uri: string): boolean {
  return !/^[a-z][a-z0-9+.-]*:\/\//i.test(uri) || uri.startsWith('file://');
}

const localPath = (uri: string) => uri.replace(/^file:\/\//, '');

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

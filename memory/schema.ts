/**
 * The long-term memory's on-disk layout, declared once: the Arrow schema of every LanceDB
 * table, the indexes each one carries, the schema version, and the migrations that bring an
 * older store up to it. Everything else in `memory/` derives its columns from here.
 */
import { createRequire } from 'node:module';
import type * as ArrowTypes from 'apache-arrow';
import type { Connection, Table } from '@lancedb/lancedb';

/**
 * apache-arrow is a dual ESM/CommonJS package and @lancedb/lancedb loads the CommonJS build.
 * Its `addColumns()` (and other helpers) check `instanceof Field`/`Schema`, which fails for
 * objects built from the ESM build, so schema objects are built from the same module
 * instance LanceDB uses.
 */
export const arrow = createRequire(import.meta.url)('apache-arrow') as typeof ArrowTypes;

/** Bump when the layout changes, and append a migration below. */
export const SCHEMA_VERSION = 2;

export const TABLES = { clips: 'clips', utterances: 'utterances', episodes: 'episodes', meta: 'meta' } as const;
export const DATA_TABLES = ['clips', 'utterances', 'episodes'] as const;
export type DataTableName = (typeof DATA_TABLES)[number];

/**
 * Per-table index plan: BTree on ids and time columns, Bitmap on the scope columns, FTS on
 * the text column. Scope columns take a Bitmap, not a BTree: every query filters on
 * memoryId, and at 1M rows of one memory a BTree lookup materializes a 1M-row id list per
 * query (~9 ms, and it slows the time-range filters it is ANDed with) where a bitmap costs
 * well under 1 ms.
 */
export const INDEXES: Record<DataTableName, { btree: string[]; bitmap: string[]; fts?: string; vector?: string }> = {
  clips: { btree: ['id', 'startMs', 'wallStartMs'], bitmap: ['memoryId', 'sessionId'], fts: 'searchText', vector: 'globalVector' },
  utterances: { btree: ['id', 'startMs', 'wallStartMs'], bitmap: ['memoryId', 'sessionId'], fts: 'text' },
  episodes: { btree: ['id', 'wallStartMs'], bitmap: ['memoryId'], fts: 'summary', vector: 'centroid' },
};

/** Tokenizer for every FTS index (and therefore for the flat search over unindexed rows). */
export const FTS_OPTIONS = { baseTokenizer: 'simple', lowercase: true, stem: true, language: 'English', removeStopWords: true, asciiFolding: true, withPosition: false } as const;

const { Schema, Field, Utf8, Float64, Float32, Int32, Binary, List, Struct, FixedSizeList } = arrow;

const vector = (name: string, dims: number) =>
  new Field(name, new FixedSizeList(dims, new Field('item', new Float32(), true)), true);

export function clipSchema(vectorDims?: number): ArrowTypes.Schema {
  const fields: ArrowTypes.Field[] = [
    new Field('id', new Utf8(), false),
    new Field('memoryId', new Utf8(), false),
    new Field('sessionId', new Utf8(), false),
    new Field('startMs', new Float64(), false),
    new Field('endMs', new Float64(), false),
    new Field('wallStartMs', new Float64(), false),
    new Field('frameCount', new Int32(), false),
    new Field('thumbnail', new Binary(), false),
    new Field('ocrText', new Utf8(), false),
    new Field(
      'objects',
      new List(new Field('item', new Struct([new Field('label', new Utf8(), false), new Field('count', new Int32(), false)]), true)),
      false,
    ),
    new Field('transcript', new Utf8(), false),
    new Field('soundEvents', new List(new Field('item', new Utf8(), true)), false),
    /** ocrText + object labels + transcript + sounds + scene words: the one column the FTS index covers. */
    new Field('searchText', new Utf8(), false),
    /** ClipScene as JSON (people, colours, positions, light); null in clips stored before version 2. */
    new Field('scene', new Utf8(), true),
  ];
  if (vectorDims) {
    fields.push(vector('globalVector', vectorDims));
    fields.push(new Field('frameVectors', new List(new Field('item', new FixedSizeList(vectorDims, new Field('item', new Float32(), true)), true)), true));
  }
  return new Schema(fields, new Map([['omnilive.schemaVersion', String(SCHEMA_VERSION)]]));
}

export function utteranceSchema(): ArrowTypes.Schema {
  return new Schema(
    [
      new Field('id', new Utf8(), false),
      new Field('memoryId', new Utf8(), false),
      new Field('sessionId', new Utf8(), false),
      new Field('role', new Utf8(), false),
      new Field('text', new Utf8(), false),
      new Field('startMs', new Float64(), false),
      new Field('endMs', new Float64(), false),
      new Field('wallStartMs', new Float64(), false),
    ],
    new Map([['omnilive.schemaVersion', String(SCHEMA_VERSION)]]),
  );
}

export function episodeSchema(vectorDims?: number): ArrowTypes.Schema {
  const fields: ArrowTypes.Field[] = [
    new Field('id', new Utf8(), false),
    new Field('memoryId', new Utf8(), false),
    /** Episodes roll up one session's clips by media time (the clock stages follow). */
    new Field('sessionId', new Utf8(), false),
    new Field('startMs', new Float64(), false),
    new Field('endMs', new Float64(), false),
    new Field('wallStartMs', new Float64(), false),
    new Field('wallEndMs', new Float64(), false),
    new Field('clipCount', new Int32(), false),
    new Field('summary', new Utf8(), false),
  ];
  if (vectorDims) fields.push(vector('centroid', vectorDims));
  return new Schema(fields, new Map([['omnilive.schemaVersion', String(SCHEMA_VERSION)]]));
}

export function metaSchema(): ArrowTypes.Schema {
  return new Schema([new Field('key', new Utf8(), false), new Field('value', new Utf8(), false)]);
}

export function schemaFor(table: DataTableName, vectorDims?: number): ArrowTypes.Schema {
  if (table === 'clips') return clipSchema(vectorDims);
  if (table === 'utterances') return utteranceSchema();
  return episodeSchema(vectorDims);
}

/** Dimension of a fixed-size-list vector column in a table schema, if it has one. */
export function vectorDimsOf(schema: ArrowTypes.Schema, column: string): number | undefined {
  const field = schema.fields.find((f) => f.name === column);
  if (!field) return undefined;
  const type = field.type as { listSize?: number };
  return typeof type.listSize === 'number' ? type.listSize : undefined;
}

// ---------------------------------------------------------------------------------------
// Schema version and migrations

export interface MigrationContext {
  db: Connection;
  /** Dimension the store is being opened with (undefined: no vectors). */
  vectorDims?: number;
}

export interface Migration {
  /** Version the store has after this step. */
  to: number;
  description: string;
  up(ctx: MigrationContext): Promise<void>;
}

/**
 * Version 0 is "no recorded version" (a store written before versions were recorded, or a
 * partial one): create what is missing and add any declared column an old table lacks.
 * Added columns are nullable (existing rows read as null); readers treat null as empty.
 */
export const MIGRATIONS: readonly Migration[] = [
  {
    to: 1,
    description: 'record schema version; create missing tables; add missing columns',
    async up(ctx) {
      await ensureTables(ctx.db, ctx.vectorDims);
    },
  },
  {
    to: 2,
    description: "add the clips' scene column (people, colours, positions, light)",
    async up(ctx) {
      await ensureTables(ctx.db, ctx.vectorDims);
    },
  },
];

/** Creates missing tables and adds declared-but-missing columns (nullable) to existing ones. */
export async function ensureTables(db: Connection, vectorDims?: number): Promise<Record<DataTableName, Table>> {
  const names = new Set(await db.tableNames());
  const out = {} as Record<DataTableName, Table>;
  for (const name of DATA_TABLES) {
    const declared = schemaFor(name, vectorDims);
    if (!names.has(name)) {
      out[name] = await db.createEmptyTable(name, declared, { existOk: true });
      continue;
    }
    const table = await db.openTable(name);
    const have = new Set((await table.schema()).fields.map((f) => f.name));
    const missing = declared.fields.filter((f) => !have.has(f.name)).map((f) => new Field(f.name, f.type, true));
    if (missing.length > 0) await table.addColumns(missing);
    out[name] = table;
  }
  return out;
}

export async function readSchemaVersion(db: Connection): Promise<{ version: number; fresh: boolean }> {
  const names = new Set(await db.tableNames());
  if (!names.has(TABLES.meta)) {
    const fresh = !DATA_TABLES.some((n) => names.has(n));
    return { version: fresh ? SCHEMA_VERSION : 0, fresh };
  }
  const meta = await db.openTable(TABLES.meta);
  const rows = await meta.query().where("key = 'schemaVersion'").toArray();
  meta.close();
  const value = Number(rows[0]?.value);
  return { version: Number.isFinite(value) ? value : 0, fresh: false };
}

export async function writeMeta(db: Connection, entries: Record<string, string>): Promise<void> {
  const names = new Set(await db.tableNames());
  const meta = names.has(TABLES.meta) ? await db.openTable(TABLES.meta) : await db.createEmptyTable(TABLES.meta, metaSchema(), { existOk: true });
  try {
    await meta
      .mergeInsert('key')
      .whenMatchedUpdateAll()
      .whenNotMatchedInsertAll()
      .execute(Object.entries(entries).map(([key, value]) => ({ key, value })));
  } finally {
    meta.close();
  }
}

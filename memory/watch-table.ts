/**
 * Standing requests kept with a user's memory (the session's watches): one row per watch,
 * its body as JSON, so memory needs no knowledge of what a watch holds. Written at once, not
 * through the write buffer: a confirmed watch must survive a crash right after "OK, I'll tell you".
 */
import type { Connection, Table } from '@lancedb/lancedb';
import { arrow } from './schema.ts';
import { sqlString } from './rows.ts';
import type { TableState } from './table-state.ts';

const TABLE = 'watches';

export interface StoredWatch {
  id: string;
  memoryId: string;
  /** The watch itself, JSON-able. */
  body: Record<string, unknown>;
}

function watchSchema() {
  const { Schema, Field, Utf8, Float64 } = arrow;
  return new Schema([new Field('id', new Utf8(), false), new Field('memoryId', new Utf8(), false), new Field('body', new Utf8(), false), new Field('updatedAt', new Float64(), false)]);
}

export class WatchTable {
  readonly #state: TableState;
  #table: Promise<Table> | undefined;
  /** The store's connection #table was opened through. */
  #tableDb: Connection | undefined;
  /** Writes one after another: LanceDB commits of one table would otherwise conflict. */
  #chain: Promise<unknown> = Promise.resolve();

  constructor(state: TableState) {
    this.#state = state;
  }

  async list(memoryId: string): Promise<StoredWatch[]> {
    const table = await this.#open();
    const rows = await table.query().where(`memoryId = ${sqlString(memoryId)}`).toArray();
    return rows.map((r) => ({ id: String(r.id), memoryId: String(r.memoryId), body: JSON.parse(String(r.body)) as Record<string, unknown> }));
  }

  /** Inserts or replaces the watch with this id. */
  save(watch: StoredWatch): Promise<void> {
    return this.#serial(async () => {
      const table = await this.#open();
      await table
        .mergeInsert('id')
        .whenMatchedUpdateAll()
        .whenNotMatchedInsertAll()
        .execute([{ id: watch.id, memoryId: watch.memoryId, body: JSON.stringify(watch.body), updatedAt: Date.now() }]);
    });
  }

  /** Deletes one watch (`id`) or all of a memory's; resolves with how many rows went. */
  remove(memoryId: string, id?: string): Promise<number> {
    return this.#serial(async () => {
      const table = await this.#open();
      const where = `memoryId = ${sqlString(memoryId)}` + (id === undefined ? '' : ` AND id = ${sqlString(id)}`);
      const before = await table.countRows(where);
      if (before > 0) await table.delete(where);
      return before;
    });
  }

  /** Waits for the writes in flight, then releases the table. */
  async close(): Promise<void> {
    await this.#chain;
    const table = await this.#table?.catch(() => undefined);
    table?.close();
  }

  #serial<T>(work: () => Promise<T>): Promise<T> {
    const next = this.#chain.then(work, work);
    this.#chain = next.catch(() => {});
    return next;
  }

  #open(): Promise<Table> {
    this.#state.assertOpen();
    // Reopened through the current connection after the store renewed it (its old one closes).
    if (this.#table && this.#tableDb !== this.#state.db) {
      const stale = this.#table;
      this.#table = undefined;
      this.#state.retire(() => void stale.then((t) => t.close()).catch(() => {}));
    }
    this.#tableDb = this.#state.db;
    this.#table ??= this.#state.db.createEmptyTable(TABLE, watchSchema(), { existOk: true });
    return this.#table;
  }
}

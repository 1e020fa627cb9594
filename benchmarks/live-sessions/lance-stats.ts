/**
 * LanceDB tables of the server's memory, seen from outside: files on disk (data files under
 * `<table>.lance/data`, manifests under `_versions`) and, through a read-only connection of our
 * own, the live table's fragment count, row count and version. Disk counts include what an
 * optimize has replaced but not yet pruned; the API counts only the current version.
 */
import * as lancedb from '@lancedb/lancedb';
import fs from 'node:fs';
import path from 'node:path';

export interface TableFiles {
  dataFiles: number;
  versionFiles: number;
  bytes: number;
}

export interface TableLive {
  fragments: number;
  smallFragments: number;
  rows: number;
  version: number;
}

export interface LanceSample {
  files: Record<string, TableFiles>;
  /** Per table; missing where the table does not exist yet or a read failed (a prune racing it). */
  live: Record<string, TableLive>;
}

function countDir(dir: string, suffix: string): { n: number; bytes: number } {
  let n = 0;
  let bytes = 0;
  let names: string[];
  try {
    names = fs.readdirSync(dir);
  } catch {
    return { n, bytes };
  }
  for (const name of names) {
    if (!name.endsWith(suffix)) continue;
    n++;
    try {
      bytes += fs.statSync(path.join(dir, name)).size;
    } catch {
      // pruned between the listing and the stat
    }
  }
  return { n, bytes };
}

export class LanceWatcher {
  readonly #dir: string;
  #db: lancedb.Connection | undefined;
  readonly #tables = new Map<string, lancedb.Table>();
  #closed = false;

  /** `dir`: the memory directory (`<data>/memory`). */
  constructor(dir: string) {
    this.#dir = dir;
  }

  /** Table directories on disk now. */
  tableNames(): string[] {
    try {
      return fs
        .readdirSync(this.#dir)
        .filter((n) => n.endsWith('.lance'))
        .map((n) => n.slice(0, -'.lance'.length))
        .sort();
    } catch {
      return [];
    }
  }

  async sample(): Promise<LanceSample> {
    const files: Record<string, TableFiles> = {};
    const live: Record<string, TableLive> = {};
    for (const name of this.tableNames()) {
      const dir = path.join(this.#dir, `${name}.lance`);
      const data = countDir(path.join(dir, 'data'), '.lance');
      const versions = countDir(path.join(dir, '_versions'), '.manifest');
      files[name] = { dataFiles: data.n, versionFiles: versions.n, bytes: data.bytes };
      const table = await this.#open(name);
      if (!table) continue;
      try {
        const stats = await table.stats();
        live[name] = { fragments: stats.fragmentStats.numFragments, smallFragments: stats.fragmentStats.numSmallFragments, rows: stats.numRows, version: await table.version() };
      } catch {
        // A version pruned under our feet: the next sample reads the newer one.
      }
    }
    return { files, live };
  }

  async #open(name: string): Promise<lancedb.Table | undefined> {
    if (this.#closed) return undefined;
    const open = this.#tables.get(name);
    if (open) return open;
    try {
      // Every read checks for a newer version: the server writes, we only look.
      this.#db ??= await lancedb.connect(this.#dir, { readConsistencyInterval: 0 });
      const table = await this.#db.openTable(name);
      this.#tables.set(name, table);
      return table;
    } catch {
      return undefined; // not created yet, or half-written: try again next time
    }
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    for (const t of this.#tables.values()) t.close();
    this.#tables.clear();
    this.#db?.close();
  }
}

/**
 * The user's controls over their memory: list it (the timeline), export it, forget parts of
 * it for good.
 */
import type { Table } from '@lancedb/lancedb';
import type { ClipRecord, EpisodeRecord, UtteranceRecord } from './types.ts';
import { episodeId, type EpisodeKey } from './episodes.ts';
import type { EpisodeRoller } from './episode-roller.ts';
import type { DeletedCounts, Maintenance } from './maintenance.ts';
import { CLIP_COLUMNS, UTTERANCE_COLUMNS, and, rowToClip, rowToEpisode, rowToUtterance, sqlNum, sqlString, type ArrowRow, type Row } from './rows.ts';
import type { TableState } from './table-state.ts';
import type { WriteBuffer } from './write-buffer.ts';

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

export type ExportedRecord =
  | ({ kind: 'clip' } & Omit<ClipRecord, 'thumbnail' | 'frameVectors' | 'globalVector'> & { thumbnail: string; frameVectors?: number[][]; globalVector?: number[] })
  | ({ kind: 'utterance' } & UtteranceRecord)
  | ({ kind: 'episode' } & Omit<EpisodeRecord, 'centroid'> & { sessionId: string; centroid?: number[] });

export class MemoryAdmin {
  readonly #state: TableState;
  readonly #writes: WriteBuffer;
  readonly #maintenance: Maintenance;
  readonly #episodes: EpisodeRoller;

  constructor(state: TableState, writes: WriteBuffer, maintenance: Maintenance, episodes: EpisodeRoller) {
    this.#state = state;
    this.#writes = writes;
    this.#maintenance = maintenance;
    this.#episodes = episodes;
  }

  /** Clips (with thumbnails) for a timeline, newest first unless `order: 'asc'`. */
  async list(options: ListOptions): Promise<ClipRecord[]> {
    // Everything but the pooled frame vectors, unless asked for.
    const columns = this.#state.vectorDims ? [...CLIP_COLUMNS, 'globalVector'] : CLIP_COLUMNS;
    const rows = await timeline(this.#state.tables.clips, options, options.withVectors && this.#state.vectorDims ? [...columns, 'frameVectors'] : columns);
    return rows.map((r) => rowToClip(r, options.withVectors === true));
  }

  /** Utterances, newest first unless `order: 'asc'`. */
  async listUtterances(options: ListOptions): Promise<UtteranceRecord[]> {
    return (await timeline(this.#state.tables.utterances, options, UTTERANCE_COLUMNS)).map(rowToUtterance);
  }

  /** Every record of a memory (or of the whole store), as JSON-able objects; flushes first. */
  async *export(memoryId: string | undefined): AsyncIterable<ExportedRecord> {
    await this.#writes.flush();
    const { tables } = this.#state;
    const where = memoryId === undefined ? 'true' : `memoryId = ${sqlString(memoryId)}`;
    for await (const batch of tables.clips.query().where(where)) {
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
    for await (const batch of tables.utterances.query().where(where)) {
      for (const r of batch.toArray() as ArrowRow[]) yield { kind: 'utterance', ...rowToUtterance(r) };
    }
    for await (const batch of tables.episodes.query().where(where)) {
      for (const r of batch.toArray() as ArrowRow[]) {
        const { centroid, ...rest } = rowToEpisode(r);
        yield { kind: 'episode', ...rest, ...(centroid ? { centroid: Array.from(centroid) } : {}) };
      }
    }
  }

  /**
   * Deletes matching clips, utterances and episodes (queued rows too), re-rolls the episodes
   * they touched, then compacts and prunes old table versions so the rows are gone from
   * search, list and export for good. The selector was checked by the caller.
   */
  forget(selector: ForgetSelector): Promise<DeletedCounts> {
    const { memoryId, sessionId, ids, fromWallMs, toWallMs } = selector;
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
    const dropped = this.#writes.drop(matches);
    const inFlight = this.#writes.settled();
    return this.#maintenance.run(async () => {
      await inFlight;
      const { tables } = this.#state;
      const wholeMemories = fromWallMs === undefined && toWallMs === undefined && sessionId === undefined && ids === undefined;
      // Episodes touched by a partial forget are rebuilt from the clips that remain.
      const touched = new Map<string, EpisodeKey>();
      if (!wholeMemories) {
        for (const r of await tables.clips.query().where(where).select(['memoryId', 'sessionId', 'startMs']).toArray()) {
          const key = this.#episodes.keyOf(String(r.memoryId), String(r.sessionId), Number(r.startMs));
          touched.set(episodeId(key), key);
        }
      }
      const clips = (await tables.clips.delete(where)).numDeletedRows ?? 0;
      const utterances = (await tables.utterances.delete(where)).numDeletedRows ?? 0;
      let episodes = 0;
      if (wholeMemories) {
        episodes = (await tables.episodes.delete(memoryId !== undefined ? `memoryId = ${sqlString(memoryId)}` : 'true')).numDeletedRows ?? 0;
        this.#episodes.forgetDirty(memoryId);
      } else if (touched.size > 0) {
        const rebuilt = await this.#episodes.rebuild([...touched.values()]);
        episodes = touched.size - rebuilt.length;
      }
      this.#state.rowsDeleted();
      await this.#maintenance.compact(new Date());
      return { clips: clips + dropped.clips, utterances: utterances + dropped.utterances, episodes };
    });
  }
}

/** Rows of a timeline: filtered by scope and time, by wall time (then media time). */
function timeline(table: Table, o: ListOptions, columns: string[]): Promise<ArrowRow[]> {
  const ascending = o.order === 'asc';
  return table
    .query()
    .where(
      and(
        o.memoryId !== undefined && `memoryId = ${sqlString(o.memoryId)}`,
        o.sessionId !== undefined && `sessionId = ${sqlString(o.sessionId)}`,
        o.fromMs !== undefined && `endMs >= ${sqlNum(o.fromMs)}`,
        o.toMs !== undefined && `startMs <= ${sqlNum(o.toMs)}`,
        o.fromWallMs !== undefined && `wallStartMs >= ${sqlNum(o.fromWallMs)}`,
        o.toWallMs !== undefined && `wallStartMs <= ${sqlNum(o.toWallMs)}`,
      ),
    )
    .withRowId()
    .orderBy([{ columnName: 'wallStartMs', ascending }, { columnName: 'startMs', ascending }])
    .select(columns)
    .limit(o.limit ?? 100)
    .toArray();
}

/**
 * Episode bookkeeping: which episode buckets got new clips, when a bucket is closed, and
 * recomputing episodes from their clips. Every method that writes runs inside a maintenance
 * task (episode upserts are merge-inserts and deletes, which conflict with a compaction).
 */
import type { EpisodeRecord } from './types.ts';
import { bucketOf, episodeId, summarizeClips, type EpisodeClip, type EpisodeKey } from './episodes.ts';
import { EPISODE_CLIP_COLUMNS, and, rowToClip, rowToEpisode, sqlNum, sqlString, type Row } from './rows.ts';
import type { TableState } from './table-state.ts';

export type StoredEpisode = EpisodeRecord & { sessionId: string };

export interface ListEpisodesOptions {
  memoryId: string;
  fromWallMs?: number;
  toWallMs?: number;
  /** @defaultValue 1000 */
  limit?: number;
}

const sessionOf = (key: Pick<EpisodeKey, 'memoryId' | 'sessionId'>) => `${key.memoryId}\u0000${key.sessionId}`;

export class EpisodeRoller {
  readonly #state: TableState;
  readonly #episodeMs: number;
  /** Episode buckets that got new clips and are not rolled up yet. */
  readonly #dirty = new Map<string, EpisodeKey>();
  /** Latest clip start per (memory, session): a bucket is closed once the head passed it. */
  readonly #sessionHead = new Map<string, number>();

  constructor(state: TableState, episodeMinutes: number) {
    this.#state = state;
    this.#episodeMs = episodeMinutes * 60_000;
  }

  keyOf(memoryId: string, sessionId: string, startMs: number): EpisodeKey {
    return { memoryId, sessionId, bucket: bucketOf(startMs, this.#episodeMs) };
  }

  /** Clip rows just committed: their buckets are rolled up once closed. */
  clipsDurable(rows: readonly Row[]): void {
    for (const row of rows) {
      const key = this.keyOf(row.memoryId as string, row.sessionId as string, row.startMs as number);
      this.#dirty.set(episodeId(key), key);
      const head = sessionOf(key);
      this.#sessionHead.set(head, Math.max(this.#sessionHead.get(head) ?? -Infinity, row.startMs as number));
    }
  }

  /** Rolls up dirty buckets: only closed ones (the session's head moved past) unless `all`. */
  async rollUpDirty(all: boolean): Promise<void> {
    const ready: EpisodeKey[] = [];
    for (const [id, key] of this.#dirty) {
      const head = this.#sessionHead.get(sessionOf(key)) ?? -Infinity;
      if (all || head >= (key.bucket + 1) * this.#episodeMs) {
        ready.push(key);
        this.#dirty.delete(id);
      }
    }
    if (ready.length > 0) await this.rebuild(ready);
  }

  /**
   * Rolls every clip of the memory up again, recomputed from the clips (idempotent), and
   * removes episodes whose clips are gone. Reads the memory's (sessionId, startMs) once.
   */
  async rollUpMemory(memoryId: string): Promise<StoredEpisode[]> {
    const { tables } = this.#state;
    const rows = await tables.clips.query().where(`memoryId = ${sqlString(memoryId)}`).select(['sessionId', 'startMs']).toArray();
    const keys = new Map<string, EpisodeKey>();
    for (const r of rows) {
      const key = this.keyOf(memoryId, String(r.sessionId ?? ''), Number(r.startMs));
      keys.set(episodeId(key), key);
    }
    const episodes = await this.rebuild([...keys.values()]);
    const existing = await tables.episodes.query().where(`memoryId = ${sqlString(memoryId)}`).select(['id']).toArray();
    const stale = existing.map((r) => String(r.id)).filter((id) => !keys.has(id));
    if (stale.length > 0) await tables.episodes.delete(`memoryId = ${sqlString(memoryId)} AND id IN (${stale.map(sqlString).join(', ')})`);
    for (const id of keys.keys()) this.#dirty.delete(id);
    return episodes;
  }

  /** The memory's (or every memory's) episodes were deleted: nothing of theirs is left to roll up. */
  forgetDirty(memoryId: string | undefined): void {
    for (const [id, key] of this.#dirty) if (memoryId === undefined || key.memoryId === memoryId) this.#dirty.delete(id);
  }

  /**
   * Recomputes the given buckets from their clips and upserts them (one merge-insert); a
   * bucket with no clips left loses its episode. One clip query per (memory, session)
   * covers all its buckets' time span.
   */
  async rebuild(keys: EpisodeKey[]): Promise<StoredEpisode[]> {
    const { tables, vectorDims } = this.#state;
    const episodes: StoredEpisode[] = [];
    const empty: string[] = [];
    const columns = vectorDims ? [...EPISODE_CLIP_COLUMNS, 'globalVector'] : EPISODE_CLIP_COLUMNS;
    const groups = new Map<string, EpisodeKey[]>();
    for (const key of keys) groups.set(sessionOf(key), [...(groups.get(sessionOf(key)) ?? []), key]);
    for (const group of groups.values()) {
      const { memoryId, sessionId } = group[0]!;
      const wanted = new Set(group.map((k) => k.bucket));
      const from = Math.min(...wanted) * this.#episodeMs;
      const to = (Math.max(...wanted) + 1) * this.#episodeMs;
      const rows = await tables.clips
        .query()
        .where(and(`memoryId = ${sqlString(memoryId)}`, `sessionId = ${sqlString(sessionId)}`, `startMs >= ${sqlNum(from)} AND startMs < ${sqlNum(to)}`))
        .select(columns)
        .toArray();
      const byBucket = new Map<number, EpisodeClip[]>();
      for (const r of rows) {
        const bucket = bucketOf(Number(r.startMs), this.#episodeMs);
        if (!wanted.has(bucket)) continue;
        const list = byBucket.get(bucket) ?? [];
        list.push(rowToClip(r, false)); // only the EpisodeClip columns were read
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
        if (vectorDims) row.centroid = e.centroid ?? null;
        return row;
      });
      await tables.episodes.mergeInsert('id').whenMatchedUpdateAll().whenNotMatchedInsertAll().execute(rows);
    }
    if (empty.length > 0) await tables.episodes.delete(`id IN (${empty.map(sqlString).join(', ')})`);
    return episodes;
  }

  /** Episodes of a memory, oldest first. Reads only: callers wait for queued roll-ups first. */
  async list(options: ListEpisodesOptions): Promise<StoredEpisode[]> {
    const where = and(
      `memoryId = ${sqlString(options.memoryId)}`,
      options.fromWallMs !== undefined && `wallEndMs >= ${sqlNum(options.fromWallMs)}`,
      options.toWallMs !== undefined && `wallStartMs <= ${sqlNum(options.toWallMs)}`,
    );
    const rows = await this.#state.tables.episodes
      .query()
      .where(where)
      .withRowId()
      .orderBy([{ columnName: 'wallStartMs', ascending: true }, { columnName: 'startMs', ascending: true }])
      .limit(options.limit ?? 1000)
      .toArray();
    return rows.map(rowToEpisode);
  }
}

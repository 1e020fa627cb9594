/**
 * Retrieval: candidates by vector (cosine ≥ minSimilarity), by words (BM25 over clips and
 * utterances) and by a time expression in the question (also applied as a filter to the
 * other two), fused by reciprocal rank (k = 60); the latest clips when nothing matches.
 * Always scoped to one memory id. Candidate queries read only ids and times; the clips that
 * make the final list are then read whole (thumbnail included) in one take.
 *
 * Asked through a lazy builder, as LanceDB's own queries are:
 * `store.query(memoryId).text(q).at(nowMs, nowWallMs).vector(v).limit(8).toArray({ signal })`.
 * Nothing runs before `toArray()`, and a builder can run again.
 */
import type { ClipRecord, MemoryHit, MemoryQuery, UtteranceRecord } from './types.ts';
import { assertFinite, untilAborted } from './errors.ts';
import { contentWords } from './transcript-log.ts';
import { parseTimeExpression, type TimeRange } from './time-expressions.ts';
import { CLIP_COLUMNS, UTTERANCE_COLUMNS, and, clipEvidenceText, overlapWhere, rowToClip, rowToUtterance, sqlNum, sqlString, utteranceEvidenceText, type ArrowRow } from './rows.ts';
import { INDEXES } from './schema.ts';
import type { TableState } from './table-state.ts';

/** Reciprocal-rank-fusion constant. */
export const RRF_K = 60;
/** Hits returned when nothing matches (IXC rule: the latest clips). */
export const RECENT_FALLBACK = 3;

/** MemoryQuery plus optional narrowing the session can supply. */
export interface MemorySearchQuery extends MemoryQuery {
  /** Scopes media-time expressions ("two minutes ago") to this session's clock. */
  sessionId?: string;
  /** Rows never returned (e.g. the utterance that asked the question). */
  excludeIds?: string[];
  /** Overrides the store's minSimilarity. */
  minSimilarity?: number;
}

export interface RetrievalOptions {
  /** Cosine similarity a vector hit needs. */
  minSimilarity: number;
  /** A memory with at most this many clips is searched exactly (no ANN index). */
  exactSearchMaxRows: number;
  /** IVF partitions probed per vector query when an index exists. */
  nprobes: number;
}

/** Per execution, like LanceDB's QueryExecutionOptions. */
export interface RetrievalExecutionOptions {
  /** Checked between stages; an abort rejects with the signal's reason (an AbortError by default). */
  signal?: AbortSignal;
}

type Match = MemoryHit['matchedBy'][number];

interface QueryParams {
  memoryId: string;
  text: string;
  nowMs?: number;
  nowWallMs?: number;
  sessionId?: string;
  exclude: Set<string>;
  limit: number;
  vector?: Float32Array;
  minSimilarity?: number;
}

/** A question to one memory. Build it with `MemoryStore.query()`; run it with `toArray()`. */
export class RetrievalQuery {
  protected readonly state: TableState;
  protected readonly options: RetrievalOptions;
  protected readonly params: QueryParams;

  /** @hidden use `MemoryStore.query()` */
  constructor(state: TableState, options: RetrievalOptions, memoryId: string) {
    this.state = state;
    this.options = options;
    this.params = { memoryId, text: '', exclude: new Set(), limit: 8 };
  }

  /** The question in words; time words in it ("ten minutes ago") become a time range. */
  text(question: string): this {
    this.params.text = question;
    return this;
  }

  /** "Now" on the session's media clock and on the wall clock, for time expressions. Required. */
  at(nowMs: number, nowWallMs: number): this {
    assertFinite('nowMs', nowMs);
    assertFinite('nowWallMs', nowWallMs);
    this.params.nowMs = nowMs;
    this.params.nowWallMs = nowWallMs;
    return this;
  }

  /** Scopes media-time expressions ("two minutes ago") to this session's clock. */
  inSession(sessionId: string): this {
    this.params.sessionId = sessionId;
    return this;
  }

  /** Rows never returned (e.g. the utterance that asked the question). */
  exclude(ids: Iterable<string>): this {
    for (const id of ids) this.params.exclude.add(id);
    return this;
  }

  /** @defaultValue 8 */
  limit(n: number): this {
    this.params.limit = n;
    return this;
  }

  /**
   * Also searches by meaning, with the question's embedding. Ignored by a store without
   * vectors; the options only a vector search has live on the returned query.
   */
  vector(vector: Float32Array): VectorRetrievalQuery {
    const byMeaning = new VectorRetrievalQuery(this.state, this.options, this.params.memoryId);
    Object.assign(byMeaning.params, this.params, { exclude: new Set(this.params.exclude) });
    return byMeaning.vector(vector);
  }

  async toArray(options: RetrievalExecutionOptions = {}): Promise<MemoryHit[]> {
    options.signal?.throwIfAborted();
    this.state.assertOpen();
    const { nowMs, nowWallMs } = this.params;
    if (nowMs === undefined || nowWallMs === undefined) throw new TypeError('call at(nowMs, nowWallMs) before toArray()');
    return retrieve(this.state, this.options, { ...this.params, nowMs, nowWallMs }, options.signal);
  }
}

export class VectorRetrievalQuery extends RetrievalQuery {
  override vector(vector: Float32Array): VectorRetrievalQuery {
    const dims = this.state.vectorDims;
    if (dims !== undefined && vector.length !== dims) throw new TypeError(`query.vector must have ${dims} dims`);
    this.params.vector = vector;
    return this;
  }

  /** Cosine similarity a vector hit needs; overrides the store's. */
  minSimilarity(similarity: number): this {
    this.params.minSimilarity = similarity;
    return this;
  }
}

// ---------------------------------------------------------------------------------------
// Execution

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

type Stage = <T>(start: () => Promise<T>) => Promise<T>;

async function retrieve(state: TableState, options: RetrievalOptions, p: QueryParams & { nowMs: number; nowWallMs: number }, signal: AbortSignal | undefined): Promise<MemoryHit[]> {
  // Each stage starts only if not aborted yet, and its wait ends as soon as the signal fires.
  const stage: Stage = (start) => {
    signal?.throwIfAborted();
    return untilAborted(start(), signal);
  };
  const limit = Math.max(1, p.limit);
  const k = Math.max(limit * 3, 20);
  const time = parseTimeExpression(p.text, p.nowMs, p.nowWallMs);
  const scope = and(`memoryId = ${sqlString(p.memoryId)}`, time?.basis === 'media' && p.sessionId !== undefined && `sessionId = ${sqlString(p.sessionId)}`);
  const where = and(scope, time && overlapWhere(time));
  const words = [...new Set(contentWords(time ? time.rest : p.text))];
  const questionKey = words.join(' ');
  // The question itself (just asked, same words) is not evidence.
  const isQuestion = (u: UtteranceRecord) => u.startMs >= p.nowMs - 60_000 && [...new Set(contentWords(u.text))].join(' ') === questionKey;
  const notQuestion = (c: Candidate) => !(c.utterance && isQuestion(c.utterance));
  const { clips, utterances } = state.tables;

  if (words.length > 0 && state.ftsWarming) {
    const warming = state.ftsWarming;
    await stage(() => warming);
  }
  const lists = await stage(() => {
    const searches: Promise<{ by: Match; items: Candidate[] }>[] = [];
    const ranked = (by: Match, items: Promise<Candidate[]>) => searches.push(items.then((list) => ({ by, items: list })));
    if (p.vector && state.vectorDims !== undefined) ranked('vector', vectorCandidates(state, options, p.memoryId, p.vector, p.minSimilarity, where, k));
    if (words.length > 0) {
      const text = words.join(' ');
      ranked(
        'text',
        clips
          .query()
          .fullTextSearch(text, { columns: INDEXES.clips.fts! })
          .where(where)
          .withRowId()
          .select([...CLIP_KEY_COLUMNS, '_score'])
          .limit(k)
          .toArray()
          .then((rows) => rows.map(clipKey)),
      );
      ranked(
        'text',
        utterances
          .query()
          .fullTextSearch(text, { columns: INDEXES.utterances.fts! })
          .where(where)
          .select([...UTTERANCE_COLUMNS, '_score'])
          .limit(k + 2)
          .toArray()
          .then((rows) => rows.map((r) => utteranceCandidate(rowToUtterance(r))).filter(notQuestion)),
      );
    }
    if (time) ranked('time', timeCandidates(state, time, scope, k).then((items) => items.filter(notQuestion)));
    return Promise.all(searches);
  });

  const top = fuse(lists, p.exclude, limit);
  if (top.length === 0) {
    const recent = await stage(() => recentClips(state, p.memoryId, RECENT_FALLBACK, p.nowWallMs));
    return recent.filter((c) => !p.exclude.has(c.id)).map((clip, i) => toHit({ ...clipKey(clip), clip }, 1 / (RRF_K + i + 1), ['recent']));
  }
  const hydrated = await stage(() => hydrateClips(state, top.map((e) => e.c).filter((c) => c.kind === 'clip')));
  return top.flatMap((e) => {
    const clip = e.c.kind === 'clip' ? hydrated.get(e.c.id) : undefined;
    if (e.c.kind === 'clip' && !clip) return []; // forgotten between the two reads
    return [toHit(clip ? { ...e.c, clip } : e.c, e.score, [...e.by])];
  });
}

/** Reciprocal-rank fusion of the ranked lists; ties go to the newer row. */
function fuse(lists: { by: Match; items: Candidate[] }[], exclude: Set<string>, limit: number): { c: Candidate; score: number; by: Set<Match> }[] {
  const fused = new Map<string, { c: Candidate; score: number; by: Set<Match> }>();
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
  return [...fused.values()].sort((a, b) => b.score - a.score || b.c.wallStartMs - a.c.wallStartMs || b.c.startMs - a.c.startMs).slice(0, limit);
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

function toHit(c: Candidate, score: number, matchedBy: MemoryHit['matchedBy']): MemoryHit {
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

async function vectorCandidates(state: TableState, options: RetrievalOptions, memoryId: string, vector: Float32Array, minSimilarity: number | undefined, where: string, k: number): Promise<Candidate[]> {
  let q = state.tables.clips
    .vectorSearch(vector)
    .column('globalVector')
    .distanceType('cosine')
    .where(where)
    .withRowId()
    .select([...CLIP_KEY_COLUMNS, '_distance'])
    .limit(k);
  // A small memory is searched exactly (its rows found through the memoryId index);
  // a big one through the IVF-PQ index, re-ranked on the full vectors so the
  // similarity threshold sees exact cosines, not PQ estimates.
  if (!state.vectorIndex || (await state.clipCount(memoryId)) <= options.exactSearchMaxRows) q = q.bypassVectorIndex();
  else q = q.nprobes(options.nprobes).refineFactor(4);
  const rows = await q.toArray();
  const threshold = minSimilarity ?? options.minSimilarity;
  return rows.filter((r) => 1 - Number(r._distance) >= threshold).map(clipKey);
}

/** Clips and utterances overlapping the range, nearest to its center first. */
async function timeCandidates(state: TableState, time: TimeRange, scope: string, k: number): Promise<Candidate[]> {
  const where = and(scope, overlapWhere(time));
  const key = time.basis === 'media' ? 'startMs' : 'wallStartMs';
  const distance = (c: Candidate) => {
    const start = key === 'startMs' ? c.startMs : c.wallStartMs;
    const end = start + (c.endMs - c.startMs);
    return time.centerMs < start ? start - time.centerMs : time.centerMs > end ? time.centerMs - end : 0;
  };
  const [clips, utterances] = await Promise.all([
    state.tables.clips.query().where(where).withRowId().select(CLIP_KEY_COLUMNS).limit(20_000).toArray(),
    state.tables.utterances.query().where(where).select(UTTERANCE_COLUMNS).limit(20_000).toArray(),
  ]);
  return [...clips.map(clipKey), ...utterances.map((r) => utteranceCandidate(rowToUtterance(r)))]
    .map((c) => ({ c, d: distance(c) }))
    .sort((a, b) => a.d - b.d || b.c.wallStartMs - a.c.wallStartMs)
    .slice(0, k)
    .map((x) => x.c);
}

/** Latest clips of a memory (by wall time), looking back progressively wider. */
async function recentClips(state: TableState, memoryId: string, n: number, nowWallMs: number): Promise<ClipRecord[]> {
  for (const windowMs of [10 * 60_000, 24 * 3_600_000, Infinity]) {
    const rows = await state.tables.clips
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

/**
 * Reads whole clips (no vectors) by row id; a row id can go stale when a compaction commits
 * between the candidate query and this take, so the ids are checked and any miss is read
 * by id (BTree-indexed) instead.
 */
async function hydrateClips(state: TableState, candidates: Candidate[]): Promise<Map<string, ClipRecord>> {
  const out = new Map<string, ClipRecord>();
  if (candidates.length === 0) return out;
  const { clips } = state.tables;
  const memoryId = candidates[0]!.memoryId;
  const withRowId = candidates.filter((c) => c.rowId !== undefined);
  if (withRowId.length > 0) {
    try {
      const rows = await clips.takeRowIds(withRowId.map((c) => c.rowId!)).select(CLIP_COLUMNS).toArray();
      for (const r of rows) out.set(String(r.id), rowToClip(r, false));
    } catch {
      // stale row ids: fall through to the by-id read
    }
  }
  const missing = candidates.filter((c) => !out.has(c.id) || out.get(c.id)!.memoryId !== c.memoryId);
  if (missing.length > 0) {
    const rows = await clips
      .query()
      .where(and(`memoryId = ${sqlString(memoryId)}`, `id IN (${missing.map((c) => sqlString(c.id)).join(', ')})`))
      .select(CLIP_COLUMNS)
      .toArray();
    for (const r of rows) out.set(String(r.id), rowToClip(r, false));
  }
  for (const [id, clip] of out) if (clip.memoryId !== memoryId) out.delete(id);
  return out;
}

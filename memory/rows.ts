/**
 * Rows in and out of LanceDB: column lists, record → row and Arrow row → record conversion,
 * evidence text, and the SQL (DataFusion) filter helpers the MemoryStore builds its queries with.
 */
import type { ClipRecord, ClipScene, EpisodeRecord, UtteranceRecord } from './types.ts';
import type { TimeRange } from './time-expressions.ts';

/** LanceDB returns Arrow StructRow proxies; nested values are Arrow Vectors. */
export type ArrowRow = Record<string, any>;
/** A row as written with `table.add()`. */
export type Row = Record<string, unknown>;

export const CLIP_COLUMNS = ['id', 'memoryId', 'sessionId', 'startMs', 'endMs', 'wallStartMs', 'frameCount', 'thumbnail', 'ocrText', 'objects', 'transcript', 'soundEvents', 'scene'];
export const UTTERANCE_COLUMNS = ['id', 'memoryId', 'sessionId', 'role', 'text', 'startMs', 'endMs', 'wallStartMs'];
export const EPISODE_CLIP_COLUMNS = ['memoryId', 'sessionId', 'startMs', 'endMs', 'wallStartMs', 'ocrText', 'objects', 'transcript', 'soundEvents'];

/** Clip/utterance length bound used to turn "overlaps [from, to]" into an indexable range. */
export const OVERLAP_SLACK_MS = 120_000;

// SQL helpers (LanceDB filters are DataFusion SQL)

export const sqlString = (s: string) => `'${s.replaceAll("'", "''")}'`;
export const sqlNum = (n: number) => {
  if (!Number.isFinite(n)) throw new TypeError(`not a finite number: ${n}`);
  return String(n);
};
export const and = (...parts: (string | undefined | false)[]) => parts.filter(Boolean).map((p) => `(${p})`).join(' AND ') || 'true';

export function overlapWhere(range: Pick<TimeRange, 'basis' | 'fromMs' | 'toMs'>): string {
  const from = sqlNum(range.fromMs);
  const to = sqlNum(range.toMs);
  const lower = sqlNum(range.fromMs - OVERLAP_SLACK_MS);
  return range.basis === 'media'
    ? `startMs >= ${lower} AND startMs <= ${to} AND endMs >= ${from}`
    : `wallStartMs >= ${lower} AND wallStartMs <= ${to} AND wallStartMs + (endMs - startMs) >= ${from}`;
}

// ---------------------------------------------------------------------------------------
// Row conversion

/**
 * The clip's row, copied (the caller may reuse its buffers once `addClip()` returns). Vector
 * columns exist only in a store with `vectorDims`; elsewhere vectors are dropped.
 */
export function clipRow(record: ClipRecord, vectorDims: number | undefined): Row {
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
    searchText: clipSearchText({ ocrText: record.ocrText ?? '', objects, transcript: record.transcript ?? '', soundEvents, scene: record.scene }),
    scene: record.scene ? JSON.stringify(record.scene) : null,
  };
  if (vectorDims !== undefined) {
    row.globalVector = record.globalVector ? record.globalVector.slice() : null;
    row.frameVectors = record.frameVectors?.length ? record.frameVectors.map((v) => v.slice()) : null;
  }
  return row;
}

export function utteranceRow(record: UtteranceRecord): Row {
  return {
    id: record.id,
    memoryId: record.memoryId,
    sessionId: record.sessionId,
    role: record.role,
    text: String(record.text ?? ''),
    startMs: record.startMs,
    endMs: record.endMs,
    wallStartMs: record.wallStartMs,
  };
}

export function copyVector(v: unknown): Float32Array | undefined {
  if (v == null) return undefined;
  const arr = (v as { toArray?: () => ArrayLike<number> }).toArray ? (v as { toArray: () => ArrayLike<number> }).toArray() : (v as ArrayLike<number>);
  return Float32Array.from(arr);
}

export function rowToClip(r: ArrowRow, withVectors: boolean): ClipRecord {
  const objects = r.objects ? (r.objects.toArray() as ArrowRow[]).map((o) => ({ label: String(o.label), count: Number(o.count) })) : [];
  const clip: ClipRecord = {
    id: r.id,
    memoryId: r.memoryId,
    sessionId: r.sessionId ?? '',
    startMs: Number(r.startMs),
    endMs: Number(r.endMs),
    wallStartMs: Number(r.wallStartMs),
    frameCount: Number(r.frameCount ?? 0),
    thumbnail: r.thumbnail ? (r.thumbnail as Uint8Array).slice() : new Uint8Array(0),
    ocrText: r.ocrText ?? '',
    objects,
    transcript: r.transcript ?? '',
    soundEvents: r.soundEvents ? Array.from(r.soundEvents.toArray() as string[]) : [],
  };
  const scene = parseScene(r.scene);
  if (scene) clip.scene = scene;
  const global = copyVector(r.globalVector);
  if (global) clip.globalVector = global;
  if (withVectors && r.frameVectors) clip.frameVectors = (r.frameVectors.toArray() as unknown[]).map((v) => copyVector(v)!);
  return clip;
}

export function rowToUtterance(r: ArrowRow): UtteranceRecord {
  return {
    id: r.id,
    memoryId: r.memoryId,
    sessionId: r.sessionId ?? '',
    role: r.role === 'assistant' ? 'assistant' : 'user',
    text: r.text ?? '',
    startMs: Number(r.startMs),
    endMs: Number(r.endMs),
    wallStartMs: Number(r.wallStartMs),
  };
}

export function rowToEpisode(r: ArrowRow): EpisodeRecord & { sessionId: string } {
  const e: EpisodeRecord & { sessionId: string } = {
    id: r.id,
    memoryId: r.memoryId,
    sessionId: r.sessionId ?? '',
    startMs: Number(r.startMs),
    endMs: Number(r.endMs),
    wallStartMs: Number(r.wallStartMs),
    wallEndMs: Number(r.wallEndMs),
    clipCount: Number(r.clipCount),
    summary: r.summary ?? '',
  };
  const c = copyVector(r.centroid);
  if (c) e.centroid = c;
  return e;
}

export function clipSearchText(c: Pick<ClipRecord, 'ocrText' | 'objects' | 'transcript' | 'soundEvents' | 'scene'>): string {
  return [c.ocrText, c.objects.map((o) => o.label).join(' '), c.transcript, c.soundEvents.join(' '), c.scene ? sceneWords(c.scene) : ''].filter(Boolean).join('\n');
}

/** The words a question may use for what a scene showed: supercategories, colours, where, expressions. */
export function sceneWords(scene: ClipScene): string {
  const words = new Set<string>();
  for (const c of scene.colours) words.add(c.name);
  if (scene.brightness) words.add(scene.brightness);
  for (const o of scene.objects) {
    if (o.supercategory && o.supercategory !== o.label) words.add(o.supercategory);
    for (const [i, colour] of (o.colours ?? []).entries()) words.add(`${colour} ${o.label}`).add(o.positions?.[i] ?? '');
  }
  if (scene.people.length) words.add(scene.people.length > 1 ? 'people' : 'person');
  for (const p of scene.people) {
    words.add(p.position);
    if (p.emotion) words.add(p.emotion);
    for (const g of p.gestures) words.add(g);
    if (p.handRaised) words.add('hand raised');
  }
  words.delete('');
  return [...words].join(' ');
}

/** A stored scene column back into a ClipScene; anything unreadable counts as none. */
function parseScene(value: unknown): ClipScene | undefined {
  if (typeof value !== 'string' || !value) return undefined;
  try {
    const scene = JSON.parse(value) as ClipScene;
    return Array.isArray(scene.colours) && Array.isArray(scene.objects) && Array.isArray(scene.people) ? scene : undefined;
  } catch {
    return undefined;
  }
}

/** The evidence text of a clip, as the answerer and the UI show it. */
export function clipEvidenceText(c: ClipRecord): string {
  const parts: string[] = [];
  if (c.ocrText) parts.push(`Text on screen: ${c.ocrText.split('\n').join(' | ')}`);
  if (c.objects.length > 0) parts.push(`Objects: ${c.objects.map((o) => `${o.label} ×${o.count}`).join(', ')}`);
  if (c.scene) parts.push(`Scene: ${sceneWords(c.scene)}`);
  if (c.transcript) parts.push(`Heard: ${c.transcript}`);
  if (c.soundEvents.length > 0) parts.push(`Sounds: ${c.soundEvents.join(', ')}`);
  return parts.join('\n');
}

export const utteranceEvidenceText = (u: UtteranceRecord) => `${u.role === 'assistant' ? 'Assistant' : 'User'}: ${u.text}`;

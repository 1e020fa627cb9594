/**
 * Episodes: a session's clips rolled up per few minutes of media time, so a question over a
 * long stretch touches hundreds of rows, not hundreds of thousands. Pure functions; the
 * EpisodeRoller (episode-roller.ts) decides when to roll up and writes the rows.
 */
import type { ClipRecord, EpisodeRecord } from './types.ts';
import { mergeText, meanDirection } from './compression.ts';

export const DEFAULT_EPISODE_MINUTES = 5;

/** What an episode needs from each clip (no thumbnails or pooled vectors). */
export type EpisodeClip = Pick<
  ClipRecord,
  'memoryId' | 'sessionId' | 'startMs' | 'endMs' | 'wallStartMs' | 'ocrText' | 'objects' | 'transcript' | 'soundEvents' | 'globalVector'
>;

export interface EpisodeKey {
  memoryId: string;
  sessionId: string;
  /** floor(startMs / episodeMs). */
  bucket: number;
}

export const bucketOf = (startMs: number, episodeMs: number) => Math.floor(startMs / episodeMs);

/** Deterministic, so rolling the same clips up twice rewrites the same row. */
export const episodeId = (k: EpisodeKey) => `${k.memoryId}/${k.sessionId}/${k.bucket}`;

const SUMMARY_MAX_CHARS = 4000;
const SNIPPET_MAX_CHARS = 240;

function clip(text: string, max: number): string {
  return text.length <= max ? text : text.slice(0, max - 1).trimEnd() + '…';
}

/**
 * Summary text: unique OCR lines, object labels with the most seen at once and in how many
 * clips, transcript snippets and sounds. Centroid: mean direction of the clips' vectors.
 */
export function summarizeClips(key: EpisodeKey, clips: readonly EpisodeClip[]): EpisodeRecord & { sessionId: string } {
  if (clips.length === 0) throw new TypeError('summarizeClips: no clips');
  const sorted = [...clips].sort((a, b) => a.startMs - b.startMs);
  const lines = mergeText(sorted.map((c) => c.ocrText ?? ''));
  const objects = new Map<string, { max: number; clips: number }>();
  for (const c of sorted) {
    for (const o of c.objects ?? []) {
      const e = objects.get(o.label) ?? { max: 0, clips: 0 };
      e.max = Math.max(e.max, o.count);
      e.clips++;
      objects.set(o.label, e);
    }
  }
  const said = [...new Set(sorted.map((c) => (c.transcript ?? '').trim()).filter(Boolean))].map((t) => `"${clip(t, SNIPPET_MAX_CHARS)}"`);
  const sounds = [...new Set(sorted.flatMap((c) => c.soundEvents ?? []))];
  const parts: string[] = [];
  if (lines) parts.push(`Text seen: ${lines.split('\n').join(' | ')}`);
  if (objects.size > 0) {
    const facts = [...objects].sort((a, b) => b[1].clips - a[1].clips || a[0].localeCompare(b[0]));
    parts.push(`Objects: ${facts.map(([label, e]) => `${label} ×${e.max} (in ${e.clips} clip${e.clips === 1 ? '' : 's'})`).join(', ')}`);
  }
  if (said.length > 0) parts.push(`Heard: ${said.join(' ')}`);
  if (sounds.length > 0) parts.push(`Sounds: ${sounds.join(', ')}`);
  const vectors = sorted.map((c) => c.globalVector).filter((v): v is Float32Array => v instanceof Float32Array && v.length > 0);
  const last = sorted[sorted.length - 1]!;
  return {
    id: episodeId(key),
    memoryId: key.memoryId,
    sessionId: key.sessionId,
    startMs: sorted[0]!.startMs,
    endMs: Math.max(...sorted.map((c) => c.endMs)),
    wallStartMs: sorted[0]!.wallStartMs,
    wallEndMs: last.wallStartMs + (last.endMs - last.startMs),
    clipCount: sorted.length,
    summary: clip(parts.join('\n'), SUMMARY_MAX_CHARS),
    ...(vectors.length > 0 ? { centroid: meanDirection(vectors) } : {}),
  };
}

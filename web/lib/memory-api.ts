// The memory controls: the user's timeline across past sessions, search, and forget, through
// the server's HTTP API (always the page's own user; the server enforces it).
import { apiFetch, userQuery } from './access';

export type MemoryItem = {
  kind: 'clip' | 'utterance';
  id: string;
  session_id?: string;
  wall_start_ms: number;
  start_ms: number;
  end_ms: number;
  thumbnail_jpeg?: string;
  ocr_text?: string;
  objects?: { label: string; count: number }[];
  transcript?: string;
  role?: 'user' | 'assistant';
  text?: string;
  matched_by?: string[];
};

export type Forgotten = { clips: number; utterances: number; episodes: number };

function withUser(path: string, params: Record<string, string | number | undefined> = {}): string {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined) q.set(k, String(v));
  const user = userQuery();
  const query = [q.toString(), user].filter(Boolean).join('&');
  return query ? `${path}?${query}` : path;
}

export async function loadTimeline(limit = 200): Promise<{ user: string; items: MemoryItem[] }> {
  const res = await apiFetch<{ user: string; data: MemoryItem[] }>(withUser('/v1/memory', { limit }));
  return { user: res.user, items: res.data };
}

export async function searchMemory(q: string): Promise<MemoryItem[]> {
  return (await apiFetch<{ data: MemoryItem[] }>(withUser('/v1/memory/search', { q, limit: 20 }))).data;
}

/** One item, a wall-clock range [from, to), or everything. */
export async function forget(selector: { ids: string[] } | { from_ms?: number; to_ms?: number } | { all: true }): Promise<Forgotten> {
  return (await apiFetch<{ deleted: Forgotten }>(withUser('/v1/memory/forget'), { method: 'POST', body: selector })).deleted;
}

/** What an item says, in one line. */
export function describeItem(item: MemoryItem): string {
  // Search hits come with their text already said as evidence ("User: …").
  if (item.matched_by) return item.text ?? '';
  if (item.kind === 'utterance') return `${item.role === 'assistant' ? 'Assistant' : 'You'}: ${item.text ?? ''}`;
  const parts = [item.ocr_text && `read “${item.ocr_text}”`, item.objects?.length && `saw ${item.objects.map((o) => (o.count > 1 ? `${o.count} ${o.label}` : o.label)).join(', ')}`, item.transcript && `heard “${item.transcript}”`];
  return parts.filter(Boolean).join('; ') || 'A scene';
}

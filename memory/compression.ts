/**
 * Clip compression: up to 16 frame embeddings become ≤ 4 pooled vectors + 1 global vector,
 * and the OCR read on each frame becomes one de-duplicated text. Pure functions.
 */

export interface CompressedClipVectors {
  /** ≤ 4 vectors: mean of contiguous groups of frames (in time order), L2-normalized. */
  frameVectors: Float32Array[];
  /** Mean of all frames, L2-normalized: the clip's one long-term vector. */
  globalVector: Float32Array;
}

export const MAX_POOLED_VECTORS = 4;

export function l2Normalize(v: Float32Array): Float32Array {
  let sum = 0;
  for (let i = 0; i < v.length; i++) sum += v[i]! * v[i]!;
  const norm = Math.sqrt(sum);
  const out = new Float32Array(v.length);
  if (norm === 0 || !Number.isFinite(norm)) return out;
  for (let i = 0; i < v.length; i++) out[i] = v[i]! / norm;
  return out;
}

export function cosineSimilarity(a: Float32Array, b: Float32Array): number {
  let dot = 0;
  let na = 0;
  let nb = 0;
  for (let i = 0; i < a.length; i++) {
    dot += a[i]! * b[i]!;
    na += a[i]! * a[i]!;
    nb += b[i]! * b[i]!;
  }
  return na === 0 || nb === 0 ? 0 : dot / Math.sqrt(na * nb);
}

/** Mean of unit-length copies of `vectors`, normalized again (each vector weighs the same). */
export function meanDirection(vectors: readonly Float32Array[]): Float32Array {
  const dims = vectors[0]!.length;
  const sum = new Float64Array(dims);
  for (const v of vectors) {
    const u = l2Normalize(v);
    for (let i = 0; i < dims; i++) sum[i]! += u[i]!;
  }
  return l2Normalize(Float32Array.from(sum));
}

export function compressClipVectors(frameVectors: readonly Float32Array[], groups = MAX_POOLED_VECTORS): CompressedClipVectors {
  if (frameVectors.length === 0) throw new TypeError('compressClipVectors: need at least one frame vector');
  const dims = frameVectors[0]!.length;
  if (dims === 0 || frameVectors.some((v) => v.length !== dims)) throw new TypeError('compressClipVectors: frame vectors must share one non-zero dimension');
  const n = Math.min(groups, frameVectors.length);
  const pooled: Float32Array[] = [];
  for (let g = 0; g < n; g++) {
    const from = Math.floor((g * frameVectors.length) / n);
    const to = Math.floor(((g + 1) * frameVectors.length) / n);
    pooled.push(meanDirection(frameVectors.slice(from, to)));
  }
  return { frameVectors: pooled, globalVector: meanDirection(frameVectors) };
}

// ---------------------------------------------------------------------------------------

const normalizeLine = (line: string) => line.replace(/\s+/g, ' ').trim();
const lineKey = (line: string) => line.toLowerCase().replace(/[^\p{L}\p{N}]+/gu, ' ').trim();
const tokensOf = (key: string) => new Set(key.split(' ').filter(Boolean));

/**
 * Containment from a word start: "road map" is in "the road map", and a read cut off at the
 * frame edge ("quarterly road") is in "quarterly roadmap"; "cat" is not in "concat".
 */
const contains = (outer: string, inner: string) => ` ${outer}`.includes(` ${inner}`);

function jaccard(a: Set<string>, b: Set<string>): number {
  let inter = 0;
  for (const t of a) if (b.has(t)) inter++;
  return inter / (a.size + b.size - inter || 1);
}

/**
 * De-duplicates the text lines read across a clip's frames: the same line read on several
 * frames appears once; a partial read ("Quarterly road") gives way to the fuller one
 * ("Quarterly roadmap"), and near-identical reads (≥ 80 % shared words) keep the longer.
 * First-seen order is kept. Entries may hold several lines separated by newlines.
 */
export function mergeText(lines: readonly string[]): string {
  const kept: { text: string; key: string; tokens: Set<string> }[] = [];
  for (const raw of lines.flatMap((l) => l.split(/\r?\n/))) {
    const text = normalizeLine(raw);
    const key = lineKey(text);
    if (!key) continue;
    const tokens = tokensOf(key);
    const same = kept.findIndex(
      (k) => k.key === key || contains(k.key, key) || contains(key, k.key) || (tokens.size >= 3 && jaccard(k.tokens, tokens) >= 0.8),
    );
    if (same === -1) kept.push({ text, key, tokens });
    else if (key.length > kept[same]!.key.length) kept[same] = { text, key, tokens };
  }
  return kept.map((k) => k.text).join('\n');
}

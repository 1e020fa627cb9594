/**
 * Long-term memory benchmark (LanceDB MemoryStore).
 *
 *   node --import tsx benchmarks/memory/index.ts [--rows 100000] [--million] [--dims 256]
 *        [--ingest 300] [--queries 200] [--thumb-bytes 5000] [--dir /tmp/x] [--keep]
 *
 * 1. bytes on disk per stream-hour at 1 fps (3600 frames → clips of 10–16 frames + utterances)
 * 2. ingest cost per clip (addClip + awaited flush, one flush per clip) with 1k stored clips
 *    vs `--rows` (and 1M with --million), measured interleaved in the same run; plus the cost
 *    of the optimize() that follows
 * 3. search() p50/p95 at `--rows` (and 1M) clips with an IVF-PQ index: words, vector + words,
 *    a time expression, all three, and the latest-clips fallback; raw LanceDB vector top-10
 *    for reference
 * Prints one JSON document, then a table.
 */
import { randomFillSync } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import * as lancedb from '@lancedb/lancedb';
import { MemoryStore, compressClipVectors } from '../../memory/index.ts';
import type { ClipRecord, MemorySearchQuery, UtteranceRecord } from '../../memory/index.ts';

const { values: args } = parseArgs({
  options: {
    rows: { type: 'string', default: '100000' },
    million: { type: 'boolean', default: false },
    dims: { type: 'string', default: '256' },
    ingest: { type: 'string', default: '300' },
    queries: { type: 'string', default: '200' },
    'thumb-bytes': { type: 'string', default: '5000' },
    dir: { type: 'string' },
    keep: { type: 'boolean', default: false },
  },
});
const ROWS = Number(args.rows);
const DIMS = Number(args.dims);
const INGEST = Number(args.ingest);
const QUERIES = Number(args.queries);
const THUMB = Number(args['thumb-bytes']);
const WALL0 = Date.UTC(2025, 0, 1);
const CLIP_SPACING_MS = 13_000; // 3600 frames / ~277 clips per hour
const BATCH = 10_000;
const base = fs.mkdtempSync(path.join(args.dir ?? os.tmpdir(), 'omnilive-bench-memory-'));

// ---------------------------------------------------------------------------------------
// Synthetic data (seeded)

let seed = 0x9e3779b9;
function rand(): number {
  seed = (seed + 0x6d2b79f5) >>> 0;
  let t = seed;
  t = Math.imul(t ^ (t >>> 15), t | 1);
  t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
}
const randInt = (n: number) => Math.floor(rand() * n);
function randomVector(): Float32Array {
  const v = new Float32Array(DIMS);
  for (let i = 0; i < DIMS; i++) v[i] = rand() - 0.5;
  return v;
}
const VOCAB = 20_000;
const word = (i: number) => `w${i.toString(36)}`;
const LABELS = ['person', 'cup', 'laptop', 'chair', 'book', 'cell phone', 'bottle', 'keyboard', 'tv', 'dog'];

function syntheticClip(memoryId: string, sessionId: string, index: number, frames = 13): ClipRecord {
  const startMs = index * CLIP_SPACING_MS;
  const { frameVectors, globalVector } = compressClipVectors([randomVector(), randomVector(), randomVector(), randomVector()]);
  return {
    id: `${sessionId}-${index}`,
    memoryId,
    sessionId,
    startMs,
    endMs: startMs + frames * 1000,
    wallStartMs: WALL0 + startMs,
    frameCount: frames,
    thumbnail: randomFillSync(new Uint8Array(THUMB)),
    ocrText: `slide ${word(randInt(VOCAB))} ${word(randInt(VOCAB))}\nagenda item ${index % 50}`,
    objects: [{ label: LABELS[randInt(LABELS.length)]!, count: 1 + randInt(3) }, { label: 'person', count: 1 }],
    transcript: rand() < 0.5 ? `we talked about ${word(randInt(VOCAB))} and the plan` : '',
    soundEvents: rand() < 0.1 ? ['Speech'] : [],
    globalVector,
    frameVectors,
  };
}

function syntheticUtterance(memoryId: string, sessionId: string, index: number, startMs: number): UtteranceRecord {
  return {
    id: `${sessionId}-u${index}`,
    memoryId,
    sessionId,
    role: rand() < 0.7 ? 'user' : 'assistant',
    text: `so the ${word(randInt(VOCAB))} goes next to the ${word(randInt(VOCAB))}, right`,
    startMs,
    endMs: startMs + 3000,
    wallStartMs: WALL0 + startMs,
  };
}

// ---------------------------------------------------------------------------------------

const pct = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))]!;
};
const round = (x: number, d = 2) => Math.round(x * 10 ** d) / 10 ** d;
const summary = (xs: number[]) => ({ p50: round(pct(xs, 50)), p95: round(pct(xs, 95)), mean: round(xs.reduce((a, b) => a + b, 0) / xs.length) });
const log = (msg: string) => process.stderr.write(`[memory bench] ${msg}\n`);

async function storageHour() {
  const dir = path.join(base, 'hour');
  const store = await MemoryStore.open({ uri: dir, vectorDims: DIMS, optimizeIntervalMs: 0, keepVersionsMs: 0, flushIntervalMs: 60_000 });
  let frame = 0;
  let clips = 0;
  let utterances = 0;
  let flushes = 0;
  let nextUtterance = 10 + randInt(20);
  let thumbBytes = 0;
  while (frame < 3600) {
    const frames = Math.min(3600 - frame, 10 + randInt(7));
    const c = syntheticClip('hour', 'hour', clips++, frames);
    c.startMs = frame * 1000;
    c.endMs = (frame + frames) * 1000;
    c.wallStartMs = WALL0 + c.startMs;
    frame += frames;
    thumbBytes += c.thumbnail.length;
    // What happens within this clip's seconds: utterances end, the clip ends; one flush per second with data.
    while (nextUtterance * 1000 < c.endMs) {
      store.addUtterance(syntheticUtterance('hour', 'hour', utterances++, nextUtterance * 1000 - 3000));
      await store.flush();
      flushes++;
      nextUtterance += 10 + randInt(20);
    }
    store.addClip(c);
    await store.flush();
    flushes++;
  }
  const raw = (await store.stats()).bytes;
  await store.optimize();
  const compacted = (await store.stats()).bytes;
  await store.close();
  return { frames: 3600, clips, utterances, flushes, thumbnailBytes: thumbBytes, bytesBeforeOptimize: raw, bytesAfterOptimize: compacted, mbPerHour: round(compacted / 1e6) };
}

async function buildStore(name: string, rows: number): Promise<{ store: MemoryStore; dir: string; loadS: number; indexS: number }> {
  const dir = path.join(base, name);
  const store = await MemoryStore.open({ uri: dir, vectorDims: DIMS, optimizeIntervalMs: 0, flushIntervalMs: 3_600_000, maxBatch: 1e9 });
  const t0 = performance.now();
  for (let i = 0; i < rows; i += BATCH) {
    for (let j = i; j < Math.min(rows, i + BATCH); j++) {
      store.addClip(syntheticClip('bench', 'history', j));
      if (j % 5 === 0) store.addUtterance(syntheticUtterance('bench', 'history', j, j * CLIP_SPACING_MS + 2000));
    }
    await store.flush();
    if (rows > BATCH) log(`${name}: ${Math.min(rows, i + BATCH)} / ${rows} clips`);
  }
  const loadS = (performance.now() - t0) / 1000;
  const t1 = performance.now();
  await store.optimize(); // FTS + BTree cover the history
  if (rows >= 10_000) await store.buildVectorIndex(); // IVF-PQ, sqrt(n) partitions, dims/8 sub-vectors
  const indexS = (performance.now() - t1) / 1000;
  log(`${name}: loaded in ${loadS.toFixed(1)} s, indexed in ${indexS.toFixed(1)} s`);
  return { store, dir, loadS, indexS };
}

async function ingest(stores: { name: string; store: MemoryStore; rows: number }[]) {
  const times = new Map(stores.map((s) => [s.name, [] as number[]]));
  for (let i = 0; i < INGEST; i++) {
    for (const s of stores) {
      const index = s.rows + i;
      const t0 = performance.now();
      s.store.addClip(syntheticClip('bench', 'history', index));
      if (i % 3 === 0) s.store.addUtterance(syntheticUtterance('bench', 'history', index, index * CLIP_SPACING_MS + 2000));
      await s.store.flush();
      times.get(s.name)!.push(performance.now() - t0);
    }
  }
  const out: Record<string, unknown> = {};
  for (const s of stores) {
    const t0 = performance.now();
    const opt = await s.store.optimize();
    const optimizeMs = performance.now() - t0;
    const perClip = summary(times.get(s.name)!);
    // With the scheduled policy a big table is compacted about once per 256 flushes; one
    // optimize per INGEST clips is the conservative amortization.
    out[s.name] = { perClipMs: perClip, optimizeAfterMs: round(optimizeMs), optimizedTables: opt.tables, perClipWithOptimizeMs: round(perClip.mean + optimizeMs / INGEST) };
  }
  return { out, times };
}

async function retrieval(name: string, store: MemoryStore, dir: string, rows: number) {
  const last = rows - 1;
  const nowMs = last * CLIP_SPACING_MS + 13_000;
  const q = (text: string, vector?: Float32Array): MemorySearchQuery => ({ memoryId: 'bench', text, nowMs, nowWallMs: WALL0 + nowMs, limit: 8, ...(vector ? { vector } : {}) });
  const kinds: Record<string, () => MemorySearchQuery> = {
    text: () => q(`what did the slide say about ${word(randInt(VOCAB))}?`),
    'vector+text': () => q(`where was the ${word(randInt(VOCAB))}`, randomVector()),
    time: () => q('what did I see two minutes ago?'),
    'vector+text+time': () => q(`what was on the slide about ${word(randInt(VOCAB))} ten minutes ago`, randomVector()),
    fallback: () => q('hmm okay'),
  };
  const out: Record<string, unknown> = {};
  for (const [kind, make] of Object.entries(kinds)) {
    for (let i = 0; i < 5; i++) await store.search(make()); // warm caches
    const times: number[] = [];
    let hits = 0;
    for (let i = 0; i < QUERIES; i++) {
      const query = make();
      const t0 = performance.now();
      const r = await store.search(query);
      times.push(performance.now() - t0);
      hits += r.length;
    }
    out[kind] = { ...summary(times), meanHits: round(hits / QUERIES, 1) };
  }
  // Raw LanceDB vector top-10 (IVF-PQ, nprobes 20) for reference against DESIGN §5.
  const db = await lancedb.connect(dir);
  const table = await db.openTable('clips');
  const raw: number[] = [];
  for (let i = 0; i < QUERIES + 5; i++) {
    const t0 = performance.now();
    await table.vectorSearch(randomVector()).column('globalVector').distanceType('cosine').nprobes(20).select(['id', '_distance']).limit(10).toArray();
    if (i >= 5) raw.push(performance.now() - t0);
  }
  out['raw lancedb vector top-10'] = summary(raw);
  table.close();
  db.close();
  log(`${name}: retrieval measured`);
  return out;
}

async function main() {
  const result: Record<string, unknown> = {
    machine: { cpus: os.cpus().length, cpuModel: os.cpus()[0]?.model, memGB: round(os.totalmem() / 2 ** 30, 1), node: process.version, lancedb: '0.37' },
    params: { rows: ROWS, million: args.million, dims: DIMS, ingestClips: INGEST, queries: QUERIES, thumbnailBytes: THUMB, dir: base },
  };
  log('storage per stream-hour…');
  result.storagePerStreamHour = await storageHour();

  const sizes = [1000, ROWS, ...(args.million ? [1_000_000] : [])];
  const built: { name: string; rows: number; store: MemoryStore; dir: string; loadS: number; indexS: number }[] = [];
  for (const rows of sizes) {
    const name = `${rows}`;
    log(`building ${name}…`);
    built.push({ name, rows, ...(await buildStore(`clips-${name}`, rows)) });
  }
  result.build = Object.fromEntries(built.map((b) => [b.name, { loadS: round(b.loadS, 1), indexS: round(b.indexS, 1), clipsPerS: Math.round(b.rows / b.loadS) }]));

  log('ingest (interleaved)…');
  const { out: ingestOut } = await ingest(built);
  const median = (name: string) => (ingestOut[name] as { perClipMs: { p50: number } }).perClipMs.p50;
  const amortized = (name: string) => (ingestOut[name] as { perClipWithOptimizeMs: number }).perClipWithOptimizeMs;
  result.ingest = {
    ...ingestOut,
    ratios: Object.fromEntries(built.slice(1).map((b) => [`${b.name}/1000`, round(median(b.name) / median('1000'))])),
    ratiosWithOptimize: Object.fromEntries(built.slice(1).map((b) => [`${b.name}/1000`, round(amortized(b.name) / amortized('1000'))])),
    goal: 'ratio ≤ 1.3',
  };

  const retrievalOut: Record<string, unknown> = {};
  for (const b of built.slice(1)) {
    log(`retrieval at ${b.name}…`);
    retrievalOut[b.name] = await retrieval(b.name, b.store, b.dir, b.rows + INGEST);
  }
  result.retrieval = { ...retrievalOut, goal: 'p95 ≤ 20 ms at 1M' };
  for (const b of built) {
    const stats = await b.store.stats();
    (result.build as Record<string, Record<string, unknown>>)[b.name]!.bytesOnDisk = stats.bytes;
    await b.store.close();
  }
  if (!args.keep) fs.rmSync(base, { recursive: true, force: true });

  console.log(JSON.stringify(result, null, 2));
  printTable(result);
}

function printTable(r: Record<string, any>) {
  const lines: string[] = [];
  const h = r.storagePerStreamHour;
  lines.push('', 'memory benchmark', '----------------');
  lines.push(`storage / stream-hour   ${h.clips} clips + ${h.utterances} utterances, ${h.flushes} flushes: ${(h.bytesAfterOptimize / 1e6).toFixed(2)} MB after optimize (${(h.bytesBeforeOptimize / 1e6).toFixed(2)} MB before; thumbnails ${(h.thumbnailBytes / 1e6).toFixed(2)} MB)   goal ≤ 5 MB`);
  for (const [name, b] of Object.entries<any>(r.build)) lines.push(`build ${name.padStart(8)} clips   load ${b.loadS} s (${b.clipsPerS}/s), index ${b.indexS} s, ${(b.bytesOnDisk / 1e6).toFixed(0)} MB on disk`);
  for (const [name, v] of Object.entries<any>(r.ingest)) {
    if (name === 'ratios' || name === 'ratiosWithOptimize' || name === 'goal') continue;
    lines.push(`ingest @ ${name.padStart(8)}   per clip p50 ${v.perClipMs.p50} ms, p95 ${v.perClipMs.p95} ms; optimize after ${r.params.ingestClips} clips ${v.optimizeAfterMs} ms → ${v.perClipWithOptimizeMs} ms/clip amortized`);
  }
  for (const [k, v] of Object.entries(r.ingest.ratios)) lines.push(`ingest ratio ${k}   ${v} (flush path), ${r.ingest.ratiosWithOptimize[k]} (with optimize amortized)   goal ≤ 1.3`);
  for (const [name, kinds] of Object.entries<any>(r.retrieval)) {
    if (name === 'goal') continue;
    for (const [kind, v] of Object.entries<any>(kinds)) lines.push(`search @ ${name.padStart(8)}  ${kind.padEnd(26)} p50 ${String(v.p50).padStart(6)} ms  p95 ${String(v.p95).padStart(6)} ms${v.meanHits !== undefined ? `  hits ${v.meanHits}` : ''}`);
  }
  console.log(lines.join('\n'));
}

await main();

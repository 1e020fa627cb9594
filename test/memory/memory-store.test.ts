import assert from 'node:assert/strict';
import { once } from 'node:events';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import * as lancedb from '@lancedb/lancedb';
import pino from 'pino';
import { MemoryStore, MemoryStoreClosedError, SCHEMA_VERSION } from '../../memory/index.ts';
import type { MemoryHit } from '../../memory/index.ts';
import { arrow } from '../../memory/schema.ts';
import { clip, randomUnitVector, rng, scope, utterance } from './fixtures/records.ts';

const WALL0 = 1_700_000_000_000;
const ids = (hits: MemoryHit[]) => hits.map((h) => h.id);

test('clips and utterances survive close() and reopen intact', async (t) => {
  const { open } = scope(t);
  const rand = rng(1);
  const vec = randomUnitVector(16, rand);
  const store = await open({ vectorDims: 16, flushIntervalMs: 50 });
  const original = clip({
    id: 'clip-1',
    startMs: 5_000,
    thumbnail: new Uint8Array([9, 8, 7, 6, 5]),
    ocrText: 'Quarterly roadmap\nShip it',
    objects: [{ label: 'cup', count: 2 }, { label: 'laptop', count: 1 }],
    transcript: 'let us ship the roadmap',
    soundEvents: ['Keyboard typing'],
    globalVector: vec,
    frameVectors: [vec, randomUnitVector(16, rand)],
  });
  store.addClip(original);
  store.addUtterance(utterance({ id: 'utt-1', text: 'remember the blue folder', startMs: 6_000 }));
  await store.close();
  await store.close(); // idempotent
  assert.throws(() => store.addClip(clip({ id: 'late' })), MemoryStoreClosedError);

  const reopened = await open(); // dims come from the stored schema
  assert.equal(reopened.vectorDims, 16);
  const [back] = await reopened.list({ memoryId: 'mem-a', withVectors: true });
  assert.ok(back);
  assert.deepEqual({ ...back, thumbnail: [...back.thumbnail] }, { ...original, thumbnail: [...original.thumbnail] });
  assert.deepEqual(await reopened.listUtterances({ memoryId: 'mem-a' }), [utterance({ id: 'utt-1', text: 'remember the blue folder', startMs: 6_000 })]);
});

test('one table.add per table per flush, at maxBatch or on the interval, reported by the flush event', async (t) => {
  const { open } = scope(t);
  const store = await open({ flushIntervalMs: 60_000, maxBatch: 5 });
  const flushes: { clips: string[]; utterances: string[] }[] = [];
  store.on('flush', (e) => flushes.push(e));
  for (let i = 0; i < 4; i++) store.addClip(clip({ id: `c${i}`, startMs: i * 1000 }));
  await sleep(100);
  assert.equal(flushes.length, 0, 'below maxBatch and before the interval nothing is written');
  assert.equal(store.pending, 4);
  const flushed = once(store, 'flush');
  store.addUtterance(utterance({ id: 'u0', text: 'hello' }));
  await flushed;
  assert.equal(flushes.length, 1, 'the 5th row (maxBatch) flushes everything in one add per table');
  assert.deepEqual(flushes[0]?.clips, ['c0', 'c1', 'c2', 'c3']);
  assert.deepEqual(flushes[0]?.utterances, ['u0']);
  assert.equal(store.pending, 0);
  store.addClip(clip({ id: 'c4', startMs: 4000 }));
  await store.flush();
  assert.deepEqual(flushes[1]?.clips, ['c4']);
});

test('text search finds a unique OCR word and a spoken sentence', async (t) => {
  const { open } = scope(t);
  const store = await open({ flushIntervalMs: 50 });
  for (let i = 0; i < 30; i++) {
    store.addClip(clip({ id: `c${i}`, startMs: i * 15_000, ocrText: i === 12 ? 'Budget review: XYLOPHONE launch' : `slide ${i} agenda`, objects: [{ label: 'person', count: 1 }] }));
  }
  store.addUtterance(utterance({ id: 'u-keys', text: 'I put my car keys in the kitchen drawer', startMs: 100_000 }));
  store.addUtterance(utterance({ id: 'u-other', text: 'the weather is nice today', startMs: 120_000 }));
  await store.flush();
  const now = { memoryId: 'mem-a', nowMs: 460_000, nowWallMs: WALL0 + 460_000 };

  const ocr = await store.search({ ...now, text: 'what did the slide say about the xylophone?' });
  assert.equal(ocr[0]?.id, 'c12');
  assert.deepEqual(ocr[0]?.matchedBy, ['text']);
  assert.match(ocr[0]!.text, /XYLOPHONE/);
  assert.ok(ocr[0]!.clip!.thumbnail.length > 0, 'evidence carries the thumbnail');

  const spoken = await store.search({ ...now, text: 'where did I put the car keys?' });
  assert.equal(spoken[0]?.kind, 'utterance');
  assert.equal(spoken[0]?.id, 'u-keys');
  assert.equal(spoken[0]?.utterance?.text, 'I put my car keys in the kitchen drawer');
});

test('a clip keeps its scene (people, colours, positions) and is found by the scene\'s words', async (t) => {
  const { open } = scope(t);
  const store = await open({ flushIntervalMs: 50 });
  const scene = {
    colours: [{ name: 'white', share: 0.6 }, { name: 'brown', share: 0.2 }],
    brightness: 'bright' as const,
    objects: [{ label: 'cat', count: 1, supercategory: 'animal', positions: ['right'], colours: ['brown'] }],
    people: [{ position: 'left', distance: 'near', facing: 'camera', gestures: [], emotion: 'happy' }],
  };
  store.addClip(clip({ id: 'with-scene', startMs: 5_000, objects: [{ label: 'cat', count: 1 }, { label: 'person', count: 1 }], scene }));
  for (let i = 0; i < 5; i++) store.addClip(clip({ id: `plain${i}`, startMs: 20_000 + i * 5_000, ocrText: `slide ${i}` }));
  await store.flush();
  const now = { memoryId: 'mem-a', nowMs: 60_000, nowWallMs: WALL0 + 60_000 };
  const hits = await store.search({ ...now, text: 'which animal did you see?' });
  assert.equal(hits[0]?.id, 'with-scene');
  assert.deepEqual(hits[0]?.clip?.scene, scene, 'the scene comes back as it was stored');
  assert.equal((await store.search({ ...now, text: 'was anyone happy?' }))[0]?.id, 'with-scene');
});

test('a freshly added clip is findable by text after the flush interval, even once the FTS index exists', async (t) => {
  const { open } = scope(t);
  const store = await open({ flushIntervalMs: 1000 });
  for (let i = 0; i < 50; i++) store.addClip(clip({ id: `old${i}`, startMs: i * 10_000, ocrText: `old text ${i}` }));
  await store.optimize(); // rows now inside the FTS index
  const t0 = performance.now();
  store.addClip(clip({ id: 'fresh', startMs: 600_000, ocrText: 'PTERODACTYL exhibit' }));
  let found: MemoryHit[] = [];
  while (performance.now() - t0 < 3000) {
    found = await store.search({ memoryId: 'mem-a', text: 'pterodactyl', nowMs: 610_000, nowWallMs: WALL0 + 610_000 });
    if (found[0]?.id === 'fresh') break;
    await sleep(50);
  }
  const elapsed = performance.now() - t0;
  assert.equal(found[0]?.id, 'fresh');
  assert.ok(elapsed < 2000, `found after ${elapsed.toFixed(0)} ms`);
});

test('vector search ranks the clip nearest the question vector first, exact and through IVF-PQ', async (t) => {
  const { open } = scope(t);
  const dims = 128;
  const rand = rng(7);
  const store = await open({ vectorDims: dims, flushIntervalMs: 50 });
  const vectors: Float32Array[] = [];
  for (let i = 0; i < 300; i++) {
    const v = randomUnitVector(dims, rand);
    vectors.push(v);
    store.addClip(clip({ id: `c${i}`, startMs: i * 15_000, globalVector: v, frameVectors: [v] }));
  }
  store.addClip(clip({ id: 'no-vector', startMs: 300 * 15_000, ocrText: 'no embedding here' }));
  await store.flush();
  const target = 137;
  const question = vectors[target]!.map((x) => x + (rand() - 0.5) * 0.05);
  const q = { memoryId: 'mem-a', text: 'what was that thing', vector: question, nowMs: 4_600_000, nowWallMs: WALL0 + 4_600_000 };

  const exact = await store.search(q);
  assert.equal(exact[0]?.id, `c${target}`);
  assert.ok(exact[0]!.matchedBy.includes('vector'));
  assert.ok(exact.length < 5, 'random unrelated vectors stay under the similarity threshold');

  await store.buildVectorIndex();
  assert.equal((await store.stats()).vectorIndex, true);
  const ann = await open({ exactSearchMaxRows: 0, flushIntervalMs: 50 });
  const hits = await ann.search(q);
  assert.equal(hits[0]?.id, `c${target}`);
  await assert.rejects(ann.search({ ...q, vector: new Float32Array(3) }), TypeError);
});

test('"two minutes ago" finds the clip from two minutes back, and filters word matches to that time', async (t) => {
  const { open } = scope(t);
  const store = await open({ flushIntervalMs: 50 });
  // A clip every 15 s for 10 minutes; the whiteboard shows "SPRINT" in two of them.
  for (let i = 0; i < 40; i++) {
    const startMs = i * 15_000;
    const ocrText = i === 2 || i === 32 ? `whiteboard SPRINT ${i === 2 ? 'alpha' : 'omega'}` : `desk view ${i}`;
    store.addClip(clip({ id: `c${i}`, startMs, endMs: startMs + 15_000, ocrText }));
  }
  await store.flush();
  const nowMs = 600_000;
  const base = { memoryId: 'mem-a', nowMs, nowWallMs: WALL0 + nowMs };

  const twoAgo = await store.search({ ...base, text: 'what did I see two minutes ago?' });
  assert.equal(twoAgo[0]?.id, 'c32', 'the clip covering now − 2 min ranks first'); // 480 000 ms
  assert.ok(twoAgo.every((h) => h.startMs <= 510_000 && h.endMs >= 450_000), 'only clips inside the window');
  assert.ok(twoAgo[0]!.matchedBy.includes('time'));

  const wordAndTime = await store.search({ ...base, text: 'what did the whiteboard say two minutes ago?' });
  assert.equal(wordAndTime[0]?.id, 'c32');
  assert.deepEqual(wordAndTime[0]?.matchedBy.sort(), ['text', 'time']);
  assert.ok(!ids(wordAndTime).includes('c2'), 'the same words outside the window are filtered out');

  const atStart = await store.search({ ...base, text: 'what did the whiteboard say at the start?' });
  assert.equal(atStart[0]?.id, 'c2');
});

test('two memory ids stay isolated in search, list and export', async (t) => {
  const { open } = scope(t);
  const store = await open({ vectorDims: 8, flushIntervalMs: 50 });
  const v = randomUnitVector(8, rng(3));
  for (const memoryId of ['mem-a', 'mem-b']) {
    store.addClip(clip({ id: `${memoryId}-clip`, memoryId, sessionId: memoryId, ocrText: 'SECRET passphrase tangerine', globalVector: v }));
    store.addUtterance(utterance({ id: `${memoryId}-utt`, memoryId, sessionId: memoryId, text: 'the tangerine code' }));
  }
  await store.flush();
  const hits = await store.search({ memoryId: 'mem-a', text: 'tangerine', vector: v, nowMs: 60_000, nowWallMs: WALL0 + 60_000 });
  assert.deepEqual(ids(hits).sort(), ['mem-a-clip', 'mem-a-utt']);
  const fallback = await store.search({ memoryId: 'mem-b', text: 'hmm', nowMs: 60_000, nowWallMs: WALL0 + 60_000 });
  assert.deepEqual(ids(fallback), ['mem-b-clip']);
  assert.deepEqual(await store.search({ memoryId: 'mem-c', text: 'tangerine', vector: v, nowMs: 1, nowWallMs: WALL0 }), []);
  assert.deepEqual((await store.list({ memoryId: 'mem-b' })).map((c) => c.id), ['mem-b-clip']);
  const exported: string[] = [];
  for await (const r of store.export('mem-a')) exported.push(`${r.kind}:${r.id}`);
  assert.deepEqual(exported.filter((x) => !x.startsWith('episode')), ['clip:mem-a-clip', 'utterance:mem-a-utt']);
});

test('forget removes rows for good: search (text, vector, time, fallback), list, export, after optimize and reopen', async (t) => {
  const { open } = scope(t);
  const v = randomUnitVector(8, rng(5));
  let store = await open({ vectorDims: 8, flushIntervalMs: 50 });
  store.addClip(clip({ id: 'keep', sessionId: 'sess-keep', startMs: 0, ocrText: 'harmless notes' }));
  store.addClip(clip({ id: 'gone', sessionId: 'sess-gone', startMs: 20_000, ocrText: 'password hunter2 MARMALADE', globalVector: v }));
  store.addUtterance(utterance({ id: 'gone-utt', sessionId: 'sess-gone', text: 'my PIN is marmalade', startMs: 21_000 }));
  await store.flush();
  await store.optimize(); // the rows are inside the FTS index before they are forgotten
  store.addClip(clip({ id: 'gone-pending', sessionId: 'sess-gone', startMs: 40_000, ocrText: 'marmalade again' })); // still queued
  const deleted = await store.forget({ memoryId: 'mem-a', sessionId: 'sess-gone' });
  assert.deepEqual({ clips: deleted.clips, utterances: deleted.utterances }, { clips: 2, utterances: 1 });

  const check = async (s: MemoryStore) => {
    const q = { memoryId: 'mem-a', nowMs: 60_000, nowWallMs: WALL0 + 60_000 };
    const found = [
      ...(await s.search({ ...q, text: 'marmalade hunter2' })),
      ...(await s.search({ ...q, text: 'anything', vector: v })),
      ...(await s.search({ ...q, text: 'what happened 40 seconds ago' })),
      ...(await s.search({ ...q, text: 'hmm' })),
    ];
    assert.ok(!found.some((h) => h.id.startsWith('gone')), `forgotten rows returned: ${ids(found)}`);
    assert.deepEqual((await s.list({ memoryId: 'mem-a' })).map((c) => c.id), ['keep']);
    assert.deepEqual(await s.listUtterances({ memoryId: 'mem-a' }), []);
    for await (const r of s.export()) assert.ok(!JSON.stringify(r).toLowerCase().includes('marmalade'));
  };
  await check(store);
  await store.flush();
  await store.optimize();
  await check(store);
  await store.close();
  store = await open();
  await check(store);
  await assert.rejects(store.forget({}), TypeError);
});

test('retention by age deletes rows whose wall time is older than maxAgeMs', async (t) => {
  const { open } = scope(t);
  const DAY = 86_400_000;
  const now = WALL0 + 10 * DAY;
  const store = await open({ flushIntervalMs: 50, retention: { maxAgeMs: 3 * DAY } });
  for (let day = 0; day < 10; day++) {
    store.addClip(clip({ id: `day${day}`, wallStartMs: WALL0 + day * DAY, ocrText: `day ${day} OBELISK` }));
    store.addUtterance(utterance({ id: `utt${day}`, wallStartMs: WALL0 + day * DAY, text: `obelisk remark ${day}` }));
  }
  const result = await store.enforceRetention(now);
  assert.equal(result.clips, 7, 'days 0–6 are more than 3 days before day 10');
  assert.equal(result.utterances, 7);
  assert.deepEqual((await store.list({ memoryId: 'mem-a', order: 'asc' })).map((c) => c.id), ['day7', 'day8', 'day9']);
  const hits = await store.search({ memoryId: 'mem-a', text: 'obelisk', nowMs: 0, nowWallMs: now });
  assert.deepEqual(ids(hits).sort(), ['day7', 'day8', 'day9', 'utt7', 'utt8', 'utt9']);
});

test('retention by size deletes the oldest clips until the directory is under maxBytes', async (t) => {
  const { open } = scope(t);
  const rand = rng(11);
  const noise = (n: number) => Uint8Array.from({ length: n }, () => Math.floor(rand() * 256));
  const store = await open({ flushIntervalMs: 50, maxBatch: 1000, retention: { maxBytes: 1_000_000 } });
  for (let i = 0; i < 200; i++) store.addClip(clip({ id: `c${i}`, startMs: i * 15_000, thumbnail: noise(10_000) }));
  await store.flush();
  assert.ok((await store.stats()).bytes > 2_000_000);
  const result = await store.enforceRetention();
  assert.ok(result.bytes <= 1_000_000, `${result.bytes} bytes on disk`);
  const left = (await store.list({ memoryId: 'mem-a', order: 'asc', limit: 1000 })).map((c) => c.id);
  assert.ok(left.length > 0 && left.length < 100);
  assert.equal(left.at(-1), 'c199', 'the newest clips are kept');
  assert.equal(left[0], `c${200 - left.length}`, 'the oldest go first');
});

test('falls back to the latest three clips when nothing matches', async (t) => {
  const { open } = scope(t);
  const store = await open({ flushIntervalMs: 50 });
  for (let i = 0; i < 10; i++) store.addClip(clip({ id: `c${i}`, startMs: i * 15_000, ocrText: 'plain wall' }));
  await store.flush();
  const hits = await store.search({ memoryId: 'mem-a', text: 'what is happening with the giraffe?', nowMs: 150_000, nowWallMs: WALL0 + 150_000 });
  assert.deepEqual(ids(hits), ['c9', 'c8', 'c7']);
  assert.ok(hits.every((h) => h.matchedBy.length === 1 && h.matchedBy[0] === 'recent'));
});

test('episodes roll clips up per 5 media minutes with merged facts and a centroid; idempotent', async (t) => {
  const { open } = scope(t);
  const rand = rng(13);
  const store = await open({ vectorDims: 8, flushIntervalMs: 50 });
  for (let i = 0; i < 40; i++) {
    store.addClip(
      clip({
        id: `c${i}`,
        startMs: i * 15_000, // 10 minutes → 2 episodes
        ocrText: i % 2 ? 'Agenda\nBudget' : 'Agenda',
        objects: [{ label: 'cup', count: i % 3 }].filter((o) => o.count > 0),
        transcript: i === 3 ? 'we should order pizza' : '',
        globalVector: randomUnitVector(8, rand),
      }),
    );
  }
  await store.flush();
  // The first bucket closed when clips past 5:00 arrived: rolled up automatically.
  assert.deepEqual((await store.listEpisodes({ memoryId: 'mem-a' })).map((e) => e.id), ['mem-a/sess-1/0']);
  const first = await store.rollUpEpisodes('mem-a');
  const second = await store.rollUpEpisodes('mem-a');
  assert.deepEqual(second, first);
  const episodes = await store.listEpisodes({ memoryId: 'mem-a' });
  assert.equal(episodes.length, 2);
  assert.deepEqual(episodes.map((e) => [e.startMs, e.endMs, e.clipCount]), [[0, 297_000, 20], [300_000, 597_000, 20]]);
  assert.match(episodes[0]!.summary, /Text seen: Agenda \| Budget/);
  assert.match(episodes[0]!.summary, /cup ×2/);
  assert.match(episodes[0]!.summary, /pizza/);
  assert.equal(episodes[0]!.centroid?.length, 8);
});

test('schema version is recorded; an older store runs the migration hook and keeps its data', async (t) => {
  const { dir, open } = scope(t);
  const steps: { from: number; to: number; description: string }[] = [];
  let store = await open({ flushIntervalMs: 50, onMigrate: (s) => steps.push(s) });
  store.addClip(clip({ id: 'c1', ocrText: 'legacy LIGHTHOUSE' }));
  await store.close();
  assert.equal(steps.length, 0, 'a fresh store needs no migration');

  // Make it look like a store written before versions were recorded, whose utterances table
  // lacked a column.
  const db = await lancedb.connect(dir);
  const meta = await db.openTable('meta');
  assert.deepEqual((await meta.query().toArray()).map((r) => [r.key, r.value]), [['schemaVersion', String(SCHEMA_VERSION)]]);
  meta.close();
  await db.dropTable('meta');
  await db.dropTable('utterances');
  const { Schema, Field, Utf8, Float64 } = arrow;
  await db.createTable(
    'utterances',
    [{ id: 'old-utt', memoryId: 'mem-a', role: 'user', text: 'an old LIGHTHOUSE remark', startMs: 1, endMs: 2, wallStartMs: WALL0 }],
    {
      schema: new Schema([
        ...['id', 'memoryId', 'role', 'text'].map((n) => new Field(n, new Utf8(), false)),
        ...['startMs', 'endMs', 'wallStartMs'].map((n) => new Field(n, new Float64(), false)),
      ]),
    },
  );
  db.close();

  store = await open({ flushIntervalMs: 50, onMigrate: (s) => steps.push(s) });
  assert.deepEqual(steps, [
    { from: 0, to: 1, description: 'record schema version; create missing tables; add missing columns' },
    { from: 1, to: 2, description: "add the clips' scene column (people, colours, positions, light)" },
  ]);
  const hits = await store.search({ memoryId: 'mem-a', text: 'lighthouse', nowMs: 10, nowWallMs: WALL0 + 10 });
  assert.deepEqual(ids(hits).sort(), ['c1', 'old-utt']);
  store.addUtterance(utterance({ id: 'new-utt', text: 'new remark', startMs: 10 }));
  await store.close();

  store = await open({ onMigrate: (s) => steps.push(s) });
  assert.equal(steps.length, 2, 'the migrated store opens without migrating again');
  assert.deepEqual((await store.listUtterances({ memoryId: 'mem-a', order: 'asc' })).map((u) => [u.id, u.sessionId]), [['old-utt', ''], ['new-utt', 'sess-1']]);
});

test('a store written by a newer schema version is refused', async (t) => {
  const { dir, open } = scope(t);
  await (await open()).close();
  const db = await lancedb.connect(dir);
  const meta = await db.openTable('meta');
  await meta.update({ values: { value: String(SCHEMA_VERSION + 1) }, where: "key = 'schemaVersion'" });
  meta.close();
  db.close();
  await assert.rejects(open(), /newer than this build/);
});

test('the scheduled optimize folds new rows into the indexes, and skips a big table until it is due', async (t) => {
  const { dir, open } = scope(t);
  const store = await open({ flushIntervalMs: 20, optimizeIntervalMs: 150 });
  for (let i = 0; i < 5; i++) {
    store.addClip(clip({ id: `c${i}`, startMs: i * 10_000, ocrText: `note ${i}` }));
    await store.flush();
  }
  // The store's timers are unref'd (they never keep a process alive): a ref'd timeout does.
  await Promise.race([once(store, 'optimize'), sleep(5000).then(() => assert.fail('no scheduled optimize'))]);
  await store.close(); // one writer at a time: two would race their compactions into commit conflicts
  const db = await lancedb.connect(dir);
  const clips = await db.openTable('clips');
  assert.equal((await clips.indexStats('searchText_idx'))?.numUnindexedRows, 0);
  clips.close();
  db.close();

  // Pretend the table is big: growth and fragment thresholds decide.
  const big = await open({ flushIntervalMs: 20, optimizeIntervalMs: 0, optimizeSmallTableRows: 0, optimizeGrowth: 0.5, optimizeMaxFragments: 4 });
  big.addClip(clip({ id: 'x1', startMs: 60_000 }));
  await big.flush();
  assert.deepEqual((await big.optimize({ ifDue: true })).tables, [], '1 new row of 6, 2 fragments: not due');
  for (let i = 0; i < 3; i++) {
    big.addClip(clip({ id: `y${i}`, startMs: 70_000 + i * 10_000 }));
    await big.flush();
  }
  assert.ok((await big.optimize({ ifDue: true })).tables.includes('clips'), '5 fragments ≥ optimizeMaxFragments: due');
});

test('a flush commits while a compaction runs, without waiting for it or conflicting with it', async (t) => {
  const { open } = scope(t);
  const store = await open({ flushIntervalMs: 60_000, maxBatch: 100_000 });
  const rand = rng(17);
  const thumbnail = () => Uint8Array.from({ length: 20_000 }, () => Math.floor(rand() * 256));
  for (let batch = 0; batch < 6; batch++) {
    for (let i = 0; i < 500; i++) store.addClip(clip({ id: `c${batch}-${i}`, startMs: (batch * 500 + i) * 10_000, thumbnail: thumbnail() }));
    await store.flush(); // 6 fragments, 60 MB: a compaction with something to rewrite
  }
  const order: string[] = [];
  const optimizing = store.optimize().then(() => order.push('optimize'));
  await sleep(20); // the compaction is under way
  store.addClip(clip({ id: 'during', startMs: 99_000_000, ocrText: 'written DURING compaction' }));
  await store.flush().then(() => order.push('flush'));
  await optimizing;
  assert.deepEqual(order, ['flush', 'optimize']);
  const hits = await store.search({ memoryId: 'mem-a', text: 'during', nowMs: 99_100_000, nowWallMs: WALL0 + 99_100_000 });
  assert.equal(hits[0]?.id, 'during');
  assert.equal((await store.stats()).clips, 3001);
});

test('warnings go to the injected logger as structured lines, and to warning listeners', async (t) => {
  const { open } = scope(t);
  const lines: Record<string, unknown>[] = [];
  const logger = pino({ level: 'warn' }, { write: (line: string) => void lines.push(JSON.parse(line)) });
  const store = await open({ flushIntervalMs: 50, logger });
  const warnings: string[] = [];
  store.on('warning', (w) => warnings.push(w));
  store.addClip(clip({ id: 'c1', globalVector: new Float32Array(4) }));
  assert.deepEqual(warnings, ['clip vectors ignored: the memory store was opened without vectorDims']);
  assert.equal(lines.length, 1);
  assert.equal(lines[0]!.msg, 'clip vectors ignored: the memory store was opened without vectorDims');
  assert.equal(lines[0]!.component, 'memory');
});

import assert from 'node:assert/strict';
import { test, type TestContext } from 'node:test';
import * as lancedb from '@lancedb/lancedb';
import type { MemoryHit, MemorySearchQuery, MemoryStore } from '../../memory/index.ts';
import { clip, randomUnitVector, rng, scope, utterance } from './fixtures/records.ts';

const WALL0 = 1_700_000_000_000;
const NOW = { nowMs: 600_000, nowWallMs: WALL0 + 600_000 };
const ids = (hits: MemoryHit[]) => hits.map((h) => h.id);

/** 40 clips (one every 15 s) with vectors and words, a few utterances; all durable and rolled up. */
async function filledStore(t: TestContext): Promise<{ store: MemoryStore; dir: string; vectors: Float32Array[] }> {
  const { dir, open } = scope(t);
  const rand = rng(21);
  const store = await open({ vectorDims: 16, flushIntervalMs: 50 });
  const vectors: Float32Array[] = [];
  for (let i = 0; i < 40; i++) {
    const v = randomUnitVector(16, rand);
    vectors.push(v);
    const ocrText = i % 5 === 0 ? `whiteboard SPRINT plan ${i}` : `desk view ${i}`;
    store.addClip(clip({ id: `c${i}`, startMs: i * 15_000, endMs: (i + 1) * 15_000, ocrText, globalVector: v, frameVectors: [v] }));
  }
  store.addUtterance(utterance({ id: 'u-sprint', text: 'the sprint plan moved to friday', startMs: 300_000 }));
  store.addUtterance(utterance({ id: 'u-keys', text: 'my keys are in the blue bowl', startMs: 420_000 }));
  await store.optimize(); // flushes, folds the rows into the indexes, waits for the roll-ups
  return { store, dir, vectors };
}

/** The methods every LanceDB table of the store shares (LocalTable's prototype), to spy on. */
async function tableMethods(dir: string): Promise<Record<string, (...args: unknown[]) => unknown>> {
  const db = await lancedb.connect(dir);
  const table = await db.openTable('clips');
  const proto = Object.getPrototypeOf(table) as Record<string, (...args: unknown[]) => unknown>;
  table.close();
  db.close();
  return proto;
}

/** Counts the LanceDB reads the store makes from now on. */
async function countReads(t: TestContext, dir: string): Promise<() => number> {
  const proto = await tableMethods(dir);
  const mocks = (['query', 'vectorSearch', 'countRows', 'takeRowIds'] as const).map((name) => t.mock.method(proto, name));
  return () => mocks.reduce((n, m) => n + m.mock.callCount(), 0);
}

test('building a query reads nothing; toArray runs it, and can run it again', async (t) => {
  const { store, dir, vectors } = await filledStore(t);
  const reads = await countReads(t, dir);
  const q = store.query('mem-a').text('what was on the whiteboard?').at(NOW.nowMs, NOW.nowWallMs).vector(vectors[10]!).limit(4);
  const unanchored = store.query('mem-a').text('whiteboard'); // no at(): only toArray complains
  assert.equal(reads(), 0, 'no LanceDB call before toArray()');

  const first = await q.toArray();
  assert.ok(reads() > 0);
  assert.equal(first[0]?.id, 'c10');
  assert.deepEqual(await q.toArray(), first, 'a builder is reusable');
  await assert.rejects(unanchored.toArray(), TypeError);
});

test('the builder finds what search() finds, hit for hit', async (t) => {
  const { store, vectors } = await filledStore(t);
  const questions: MemorySearchQuery[] = [
    { memoryId: 'mem-a', text: 'what did the whiteboard say about the sprint?', ...NOW },
    { memoryId: 'mem-a', text: 'that thing', vector: vectors[7]!, ...NOW },
    { memoryId: 'mem-a', text: 'what did I see two minutes ago?', sessionId: 'sess-1', ...NOW },
    { memoryId: 'mem-a', text: 'where are my keys?', excludeIds: ['u-keys'], ...NOW },
    { memoryId: 'mem-a', text: 'sprint', vector: vectors[20]!, minSimilarity: 0.9, limit: 3, ...NOW },
    { memoryId: 'mem-a', text: 'giraffe', ...NOW }, // nothing matches: the latest clips
  ];
  for (const question of questions) {
    let q = store.query(question.memoryId).text(question.text).at(question.nowMs, question.nowWallMs).exclude(question.excludeIds ?? []);
    if (question.sessionId) q.inSession(question.sessionId);
    if (question.limit) q.limit(question.limit);
    if (question.vector) q = q.vector(question.vector).minSimilarity(question.minSimilarity ?? 0.25);
    const built = await q.toArray();
    assert.ok(built.length > 0, question.text);
    assert.deepEqual(built, await store.search(question), question.text);
  }
});

test('limit caps the hits; 8 by default', async (t) => {
  const { store } = await filledStore(t);
  const words = () => store.query('mem-a').text('desk view').at(NOW.nowMs, NOW.nowWallMs);
  assert.equal((await words().toArray()).length, 8);
  assert.equal((await words().limit(3).toArray()).length, 3);
  assert.equal((await words().limit(20).toArray()).length, 20);
  assert.deepEqual(ids(await words().limit(3).toArray()), ids(await store.search({ memoryId: 'mem-a', text: 'desk view', limit: 3, ...NOW })));
});

test('an already-aborted signal rejects with an AbortError before reading anything', async (t) => {
  const { store, dir } = await filledStore(t);
  const reads = await countReads(t, dir);
  const q = store.query('mem-a').text('sprint').at(NOW.nowMs, NOW.nowWallMs);
  await assert.rejects(q.toArray({ signal: AbortSignal.abort() }), { name: 'AbortError' });
  await assert.rejects(store.search({ memoryId: 'mem-a', text: 'sprint', ...NOW }, { signal: AbortSignal.abort() }), { name: 'AbortError' });
  assert.equal(reads(), 0);
});

test('an abort while the candidates are read rejects with an AbortError and skips the later stages', async (t) => {
  const { store, dir } = await filledStore(t);
  const proto = await tableMethods(dir);
  const controller = new AbortController();
  const query = proto.query!;
  // The first candidate query is under way when the signal fires.
  t.mock.method(proto, 'query', function (this: unknown, ...args: unknown[]) {
    controller.abort();
    return query.apply(this, args);
  });
  const take = t.mock.method(proto, 'takeRowIds');
  const q = store.query('mem-a').text('whiteboard sprint').at(NOW.nowMs, NOW.nowWallMs);
  await assert.rejects(q.toArray({ signal: controller.signal }), { name: 'AbortError' });
  assert.equal(take.mock.callCount(), 0, 'the hits were never read whole');
  t.mock.restoreAll();
  assert.ok((await q.toArray()).length > 0, 'the same query runs to the end without the signal');
});

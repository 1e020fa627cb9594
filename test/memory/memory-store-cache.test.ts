/**
 * LanceDB keeps every new version's manifest and every appended file's metadata in its
 * session caches; with its own defaults (6 GB + 1 GB) a store flushed every second grows the
 * process for hours. The store's `cacheBytes` must reach LanceDB and hold.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import v8 from 'node:v8';
import vm from 'node:vm';
import type { MemoryStore } from '../../memory/index.ts';
import { clip, scope, utterance } from './fixtures/records.ts';

const KIB = 1024;

/** `flushes` appends to both tables, each its own version, with a word search every tenth. */
async function writeVersions(store: MemoryStore, from: number, flushes: number): Promise<void> {
  for (let i = from; i < from + flushes; i++) {
    store.addClip(clip({ id: `c${i}`, startMs: i * 1000, ocrText: `sign number ${i}`, transcript: `we talked about item ${i}` }));
    store.addUtterance(utterance({ id: `u${i}`, startMs: i * 1000, text: i === 57 ? 'the zebra crossing is closed' : `the kettle is on number ${i}` }));
    await store.flush();
    if (i % 10 === 9) await store.query('mem-a').text('kettle').at(i * 1000, Date.now()).limit(5).toArray();
  }
}

test('memory caches stay within cacheBytes however many versions are written, where the defaults keep growing', async (t) => {
  const { open } = scope(t);
  // Two stores side by side, the same writes: one bounded small, one at the default bounds.
  const bounded = await open({ optimizeIntervalMs: 0, cacheBytes: { index: 256 * KIB, metadata: 256 * KIB } });
  const { dir: otherDir, open: openOther } = scope(t);
  assert.ok(otherDir);
  const roomy = await openOther({ optimizeIntervalMs: 0 });
  const peaks = { bounded: 0, roomy: 0 };
  for (let round = 0; round < 6; round++) {
    await writeVersions(bounded, round * 20, 20);
    await writeVersions(roomy, round * 20, 20);
    peaks.bounded = Math.max(peaks.bounded, bounded.cacheBytes);
    peaks.roomy = Math.max(peaks.roomy, roomy.cacheBytes);
  }
  // The session reached LanceDB (a dropped one reads as ~0 bytes cached)...
  assert.ok(peaks.roomy > 0 && peaks.bounded > 0, `caches in use: ${JSON.stringify(peaks)}`);
  // ...the bound holds (LanceDB evicts slightly after inserting: a quarter's slack)...
  assert.ok(peaks.bounded <= 640 * KIB, `bounded cache peaked at ${peaks.bounded} bytes, over its 512 KiB`);
  // ...and it mattered: the same writes filled the roomy cache past it.
  assert.ok(peaks.roomy > 2 * peaks.bounded, `the default-bounded cache grew only to ${peaks.roomy} bytes`);
  // Searching still works with a cache this small.
  const hits = await bounded.query('mem-a').text('zebra crossing').at(200_000, Date.now()).limit(3).toArray();
  assert.match(hits[0]?.text ?? '', /zebra crossing/, `search after eviction: ${JSON.stringify(hits.map((h) => h.text))}`);
});

test('a cacheBytes that is not a whole number of bytes is refused by name', async (t) => {
  const { open } = scope(t);
  await assert.rejects(open({ cacheBytes: { index: -1 } }), /cacheBytes\.index must be a whole number of bytes/);
  await assert.rejects(open({ cacheBytes: { metadata: 1.5 } }), /cacheBytes\.metadata must be a whole number of bytes/);
});

/** This process's open files under `dir`'s index directories, and how many of those are deleted. */
function openIndexFiles(dir: string): { open: number; deleted: number } {
  let open = 0;
  let deleted = 0;
  for (const fd of fs.readdirSync('/proc/self/fd')) {
    let target = '';
    try {
      target = fs.readlinkSync(`/proc/self/fd/${fd}`);
    } catch {
      continue; // closed meanwhile
    }
    if (!target.startsWith(dir) || !target.includes('/_indices/')) continue;
    open++;
    if (target.endsWith('(deleted)')) deleted++;
  }
  return { open, deleted };
}

test('index versions replaced by optimize do not keep their files open: the store reopens its tables through a fresh connection', { skip: process.platform !== 'linux' && 'reads /proc/self/fd' }, async (t) => {
  const { dir, open } = scope(t);
  const store = await open({ optimizeIntervalMs: 0, keepVersionsMs: 1000, retiredGraceMs: 50 });
  for (let round = 0, i = 0; round < 8; round++) {
    for (let k = 0; k < 20; k++, i++) {
      store.addClip(clip({ id: `c${i}`, startMs: i * 1000, ocrText: `sign ${i} kitchen`, transcript: `talk ${i} kettle` }));
      store.addUtterance(utterance({ id: `u${i}`, startMs: i * 1000, text: `kettle ${i} table` }));
    }
    await store.flush();
    await store.optimize(); // new index versions; the old ones are pruned from disk
    await store.query('mem-a').text('kettle kitchen').at(i * 1000, Date.now()).limit(5).toArray(); // reads the new ones
    await store.saveWatch({ id: `w${round}`, memoryId: 'mem-a', body: { condition: `round ${round}` } });
  }
  // LanceDB keeps two files open per FTS version it read (18 here after 8 rounds without the
  // renewal, some of them deleted). The replaced connections close after the grace period and
  // their caches go with the collector.
  await sleep(200);
  v8.setFlagsFromString('--expose-gc');
  const gc = vm.runInNewContext('gc') as () => void;
  for (let i = 0; i < 3; i++) {
    gc(); // native objects are freed by finalizers that run after a collection
    await sleep(300);
  }
  const files = openIndexFiles(dir);
  assert.equal(files.deleted, 0, `deleted index files still open: ${JSON.stringify(files)}`);
  assert.ok(files.open <= 8, `index files open after 8 optimizes: ${files.open}, want at most the current versions'`);
  // The renewed connection reads, searches and keeps watches like the first one.
  const hits = await store.query('mem-a').text('kettle 157').at(200_000, Date.now()).limit(3).toArray();
  assert.ok(hits.some((h) => h.text === 'User: kettle 157 table'), `word search after renewals: ${JSON.stringify(hits.map((h) => h.text))}`);
  assert.deepEqual((await store.listWatches('mem-a')).map((w) => w.id).sort(), ['w0', 'w1', 'w2', 'w3', 'w4', 'w5', 'w6', 'w7']);
  assert.equal((await store.stats()).utterances, 160);
});

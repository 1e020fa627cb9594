import assert from 'node:assert/strict';
import { test } from 'node:test';
import { clip, scope } from './fixtures/records.ts';

test('flush with an aborted signal rejects with an AbortError and leaves the rows queued for the next flush', async (t) => {
  const { open } = scope(t);
  const store = await open({ flushIntervalMs: 60_000 });
  store.addClip(clip({ id: 'c1' }));
  await assert.rejects(store.flush({ signal: AbortSignal.abort() }), { name: 'AbortError' });
  assert.equal(store.pending, 1, 'nothing was written');
  await store.flush();
  assert.deepEqual((await store.list({ memoryId: 'mem-a' })).map((c) => c.id), ['c1']);
});

test('an abort during a flush ends the wait, not the write', async (t) => {
  const { open } = scope(t);
  const store = await open({ flushIntervalMs: 60_000 });
  const flushed = new Promise<string[]>((resolve) => store.once('flush', (e) => resolve(e.clips)));
  store.addClip(clip({ id: 'c1' }));
  const controller = new AbortController();
  const waiting = store.flush({ signal: controller.signal });
  controller.abort();
  await assert.rejects(waiting, { name: 'AbortError' });
  assert.deepEqual(await flushed, ['c1'], 'the flush under way committed all the same');
  assert.equal(store.pending, 0);
});

import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { once } from 'node:events';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { MemoryStore, type MemoryWriteError } from '../../memory/index.ts';
import { EngineHealth, memoryRowsDropped, watchMemoryHealth } from '../../server/ops/engine-health.ts';
import { opsMetrics } from '../../server/ops/metrics.ts';
import type { ServerEventBody } from '../../server/protocol/server-events.ts';
import { utterance } from './fixtures/records.ts';

/** A small tmpfs of its own (root only); undefined, with the reason, where mounting is not allowed. */
function mountTmpfs(dir: string, size: string): string | undefined {
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${size}`, 'tmpfs', dir], { stdio: 'pipe' });
    return undefined;
  } catch (error) {
    const stderr = (error as { stderr?: Buffer }).stderr?.toString().trim();
    return (stderr || (error as Error).message).replace(/\s*\n\s*/g, ' ');
  }
}

/** Writes zeros until the file system is full. */
function fill(file: string): void {
  const fd = fs.openSync(file, 'w');
  const block = Buffer.alloc(64 * 1024);
  try {
    for (;;) fs.writeSync(fd, block);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOSPC') throw error;
    // The last partial block, so not even a small append fits.
    try {
      for (;;) fs.writeSync(fd, block, 0, 512);
    } catch {}
  } finally {
    fs.closeSync(fd);
  }
}

async function metric(counter: { get(): Promise<{ values: { labels: Record<string, unknown>; value: number }[] }> }, labels: Record<string, string> = {}): Promise<number> {
  const { values } = await counter.get();
  return values.filter((v) => Object.entries(labels).every(([k, x]) => v.labels[k] === x)).reduce((n, v) => n + v.value, 0);
}

test('a full disk: memory keeps the rows queued (capped, oldest dropped), reports once, stays readable, and writes them when space returns', async (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'omnilive-enospc-'));
  const why = mountTmpfs(dir, '4m');
  if (why !== undefined) {
    fs.rmSync(dir, { recursive: true, force: true });
    return t.skip(`needs a small tmpfs as the memory dir, and mounting one is not allowed here (${why})`);
  }
  const filler = path.join(dir, 'filler');
  let store: MemoryStore | undefined;
  t.after(async () => {
    fs.rmSync(filler, { force: true }); // so close() can write what is left
    await store?.close();
    execFileSync('umount', ['-l', dir]);
    fs.rmSync(dir, { recursive: true, force: true });
  });

  store = await MemoryStore.open({ uri: path.join(dir, 'memory'), flushIntervalMs: 100, maxRetryDelayMs: 400, maxQueuedRows: 30 });
  const health = new EngineHealth();
  watchMemoryHealth(store, health);
  const sessionEvents: ServerEventBody[] = [];
  health.attach((event) => sessionEvents.push(event));
  const at = (i: number) => ({ startMs: i * 1000, wallStartMs: 1_700_000_000_000 + i * 1000 });
  store.addUtterance(utterance({ id: 'before', text: 'the kettle is in the kitchen', ...at(0) }));
  await store.flush();

  fill(filler);
  const failuresBefore = await metric(opsMetrics.memoryWriteFailures, { code: 'ENOSPC' });
  const droppedBefore = await metric(memoryRowsDropped);
  const errors: MemoryWriteError[] = [];
  store.on('flusherror', (e) => errors.push(e));
  for (let i = 1; i <= 10; i++) store.addUtterance(utterance({ id: `u${i}`, text: `note number ${i} about the kettle`, ...at(i) }));

  // flush() does not throw at whoever waits for it (a search, a drain): the rows stay queued.
  await store.flush();
  assert.equal(store.pending, 10);
  assert.equal(store.writeError?.code, 'ENOSPC');
  assert.equal(errors[0]?.code, 'ENOSPC');
  await sleep(700); // a few retries, at 100, 200, 400 ms
  assert.ok(errors.length >= 3, `retried: ${errors.length} failures`);
  assert.equal(await metric(opsMetrics.memoryWriteFailures, { code: 'ENOSPC' }), failuresBefore + errors.length, 'each failed write is counted');

  // The session's client heard once, naming memory.
  assert.equal(sessionEvents.length, 1);
  const event = sessionEvents[0] as Extract<ServerEventBody, { type: 'error' }>;
  assert.deepEqual([event.error.code, event.error.param], ['memory_write_failed', 'memory']);
  assert.match(event.error.message, /the disk is full \(ENOSPC\)/);

  // Reads go on with what is on disk.
  const hits = await store.search({ memoryId: 'mem-a', text: 'kettle kitchen', nowMs: 100_000, nowWallMs: Date.now() });
  assert.equal(hits[0]?.id, 'before');
  assert.deepEqual((await store.listUtterances({ memoryId: 'mem-a' })).map((u) => u.id), ['before']);

  // At most 30 rows wait in RAM: past that the oldest are dropped, and counted.
  let dropped = 0;
  store.on('drop', (d) => (dropped += d.clips + d.utterances));
  for (let i = 11; i <= 40; i++) store.addUtterance(utterance({ id: `u${i}`, text: `note number ${i} about the kettle`, ...at(i) }));
  assert.equal(store.pending, 30);
  assert.equal(dropped, 10);
  assert.equal(await metric(memoryRowsDropped), droppedBefore + 10);

  // Space returns: the next retry writes the queue, and the outage is over. (The retry timer
  // does not hold the process open, a server does: this test holds it with its own timer.)
  const resumed = once(store, 'writeresume');
  const hold = setInterval(() => {}, 1000);
  fs.rmSync(filler);
  const [resume] = (await resumed.finally(() => clearInterval(hold))) as [{ written: number; dropped: number }];
  assert.deepEqual([resume.written, resume.dropped], [30, 10]);
  assert.equal(store.pending, 0);
  assert.equal(store.writeError, undefined);
  assert.deepEqual(health.problems, []);
  const ids = (await store.listUtterances({ memoryId: 'mem-a', order: 'asc', limit: 100 })).map((u) => u.id);
  assert.deepEqual(ids, ['before', ...Array.from({ length: 30 }, (_, i) => `u${i + 11}`)], 'the newest 30 landed; the oldest 10 were dropped');
  assert.equal(sessionEvents.length, 1, 'nothing more was sent');
});

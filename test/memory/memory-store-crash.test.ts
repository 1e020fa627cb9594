import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import path from 'node:path';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { scope } from './fixtures/records.ts';

const child = path.join(import.meta.dirname, 'fixtures', 'ingest-child.ts');

test('kill -9 during ingest loses at most the batch in flight; every flushed clip is there after reopen', async (t) => {
  const { dir, open } = scope(t);
  const proc = spawn(process.execPath, ['--import', 'tsx', child, dir], { stdio: ['ignore', 'pipe', 'inherit'] });
  const added: string[] = [];
  const flushed = new Set<string>();
  let ready!: () => void;
  const isReady = new Promise<void>((resolve) => (ready = resolve));
  let buffer = '';
  proc.stdout.setEncoding('utf8').on('data', (chunk: string) => {
    buffer += chunk;
    const lines = buffer.split('\n');
    buffer = lines.pop()!;
    for (const line of lines) {
      const [what, id] = line.split(' ');
      if (what === 'ready') ready();
      else if (what === 'added') added.push(id!);
      else if (what === 'flushed') flushed.add(id!);
      else assert.fail(`child: ${line}`);
    }
  });
  const exited = new Promise<NodeJS.Signals | null>((resolve) => proc.on('exit', (_code, signal) => resolve(signal)));
  await isReady;
  await sleep(2000);
  proc.kill('SIGKILL');
  assert.equal(await exited, 'SIGKILL');

  assert.ok(flushed.size >= 40, `only ${flushed.size} clips flushed before the kill`);
  const store = await open();
  const stored = new Set((await store.list({ memoryId: 'crash', limit: 100_000 })).map((c) => c.id));
  const missing = [...flushed].filter((id) => !stored.has(id));
  assert.deepEqual(missing, [], 'every clip reported flushed survived');
  // Whatever was lost is the tail queued after the last completed flush.
  const lastFlushed = Math.max(...[...flushed].map((id) => added.indexOf(id)));
  const lost = added.filter((id) => !stored.has(id));
  assert.ok(lost.every((id) => added.indexOf(id) > lastFlushed), `lost before the last flush: ${lost}`);
  assert.ok(lost.length <= 30, `lost ${lost.length} clips (flush interval 250 ms at one clip per 20 ms)`);
  t.diagnostic(`added ${added.length}, flushed ${flushed.size}, stored ${stored.size}, lost ${lost.length}`);

  // The reopened store is fully usable.
  const probe = [...flushed][3]!;
  const hits = await store.search({ memoryId: 'crash', text: `which frame showed ${probe.replace('-', '')}?`, nowMs: 0, nowWallMs: Date.now() });
  assert.equal(hits[0]?.id, probe);
});

import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { MemoryHit } from '../../../memory/types.ts';
import { serverTools } from '../../../server/reasoning/tools/server-tools.ts';

const hit = (startMs: number, text: string): MemoryHit => ({ kind: 'clip', id: `clip_${startMs}`, memoryId: 'u', sessionId: 's', startMs, endMs: startMs + 1000, wallStartMs: 0, score: 1, matchedBy: ['text'], text }) as unknown as MemoryHit;

test('a tool is offered only when its source exists', () => {
  assert.deepEqual(serverTools({}).map((t) => t.spec.name), []);
  assert.deepEqual(serverTools({ searchMemory: async () => [], currentView: () => [] }).map((t) => t.spec.name), ['memory_search', 'current_view']);
});

test('memory_search: time range, results shown to the client, and errors the model can act on', async () => {
  const reported: string[] = [];
  const [search] = serverTools({ searchMemory: async () => [hit(60_000, 'a kettle on the stove'), hit(600_000, 'a kettle in the sink')], reportMemory: (q, hits) => reported.push(`${q}:${hits.length}`) });
  const signal = new AbortController().signal;
  assert.match(await search!.run('{"query":"kettle","to_ms":120000}', signal), /^\[01:00\] Saw: a kettle on the stove$/);
  assert.deepEqual(reported, ['kettle:1']);
  assert.match(await search!.run('{not json', signal), /^error: the arguments are not valid JSON/);
  assert.equal(await search!.run('{"query":""}', signal), 'error: query must be a non-empty string');
});

test('current_view: the latest scenes with their text and objects', async () => {
  const [view] = serverTools({ currentView: () => [{ startMs: 5000, endMs: 9000, ocrText: 'EXIT 12', objects: [{ label: 'cup', count: 2 }, { label: 'person', count: 1 }] }] });
  assert.equal(await view!.run('{}', new AbortController().signal), '[00:05–00:09] text: EXIT 12; objects: 2 cup, person');
  const [empty] = serverTools({ currentView: () => [] });
  assert.equal(await empty!.run('', new AbortController().signal), 'the camera has shown nothing yet');
});

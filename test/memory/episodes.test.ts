import assert from 'node:assert/strict';
import { test } from 'node:test';
import { summarizeClips } from '../../memory/index.ts';
import { clip } from './fixtures/records.ts';

test('an episode summary merges unique OCR lines, object counts, transcript snippets and sounds', () => {
  const key = { memoryId: 'm', sessionId: 's', bucket: 0 };
  const e = summarizeClips(key, [
    clip({ id: 'b', startMs: 20_000, ocrText: 'Menu\nPizza 12', objects: [{ label: 'cup', count: 1 }], transcript: 'order the pizza', soundEvents: ['Doorbell'] }),
    clip({ id: 'a', startMs: 0, ocrText: 'Menu', objects: [{ label: 'cup', count: 3 }, { label: 'person', count: 1 }] }),
  ]);
  assert.equal(e.id, 'm/s/0');
  assert.deepEqual([e.startMs, e.endMs, e.clipCount], [0, 32_000, 2]);
  assert.equal(e.summary, 'Text seen: Menu | Pizza 12\nObjects: cup ×3 (in 2 clips), person ×1 (in 1 clip)\nHeard: "order the pizza"\nSounds: Doorbell');
  assert.equal(e.centroid, undefined, 'no vectors, no centroid');
});

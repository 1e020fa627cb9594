import assert from 'node:assert/strict';
import { test } from 'node:test';
import { TranscriptLog } from '../../memory/index.ts';

test('search ranks the utterance that shares the rare words first and leaves out excluded ids', () => {
  const log = new TranscriptLog();
  log.add({ id: 'a', role: 'user', text: 'the weather is nice today', startMs: 1000, endMs: 2000 });
  log.add({ id: 'b', role: 'user', text: 'my keys are in the blue bowl', startMs: 5000, endMs: 6000 });
  log.add({ id: 'c', role: 'assistant', text: 'the blue sky is nice', startMs: 7000, endMs: 8000 });
  log.add({ id: 'q', role: 'user', text: 'where are my keys', startMs: 9000, endMs: 9500 });
  const hits = log.search('where are my keys', { exclude: 'q' });
  assert.equal(hits[0]?.utterance.id, 'b');
  assert.ok(!hits.some((h) => h.utterance.id === 'q'));
  assert.deepEqual(log.search('blue', { role: 'assistant' }).map((h) => h.utterance.id), ['c']);
  assert.deepEqual(log.search('what is it'), []); // stopwords only
});

test('keeps at most `limit` utterances, dropping the oldest', () => {
  const log = new TranscriptLog(2);
  for (const id of ['1', '2', '3']) log.add({ id, role: 'user', text: `word${id}`, startMs: 0, endMs: 0 });
  assert.equal(log.size, 2);
  assert.deepEqual(log.recent(5).map((u) => u.id), ['2', '3']);
});

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { SentenceChunker } from '../../../server/speech/index.ts';

test('cuts on . ! ? newline and CJK marks as soon as a sentence is complete', () => {
  const c = new SentenceChunker();
  assert.deepEqual(c.push('Hello there'), []);
  assert.deepEqual(c.push('. How are'), ['Hello there.']);
  assert.deepEqual(c.push(' you? Fine!\nNext'), ['How are you?', 'Fine!']);
  assert.deepEqual(c.push(' line。好？'), ['Next line。', '好？']);
  assert.deepEqual(c.flush(), []);
});

test('does not cut inside numbers or after an initial, and keeps "?!" together', () => {
  const c = new SentenceChunker();
  assert.deepEqual(c.push('It costs 3.'), []);
  assert.deepEqual(c.push('5 dollars. J. Smith said so?! Yes'), ['It costs 3.5 dollars.', 'J. Smith said so?!']);
  assert.deepEqual(c.flush(), ['Yes']);
});

test('the first piece ends at a clause once it has five words; later ones only at sentences; numbers keep their commas', () => {
  const c = new SentenceChunker();
  assert.deepEqual(c.push('Yes, at 03:00 the screen showed, '), ['Yes, at 03:00 the screen showed,']);
  assert.deepEqual(c.push('in large letters, GATE B17. Then, a while later, 1,500 people left. '), ['in large letters, GATE B17.', 'Then, a while later, 1,500 people left.']);
  const plain = new SentenceChunker({ firstClauseWords: 0 });
  assert.deepEqual(plain.push('Yes, at 03:00 the screen showed, in large letters, GATE. '), ['Yes, at 03:00 the screen showed, in large letters, GATE.']);
});

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { compressClipVectors, cosineSimilarity, mergeText } from '../../memory/index.ts';
import { randomUnitVector, rng } from './fixtures/records.ts';

const norm = (v: Float32Array) => Math.sqrt(v.reduce((s, x) => s + x * x, 0));

test('a 16-frame clip becomes 4 pooled vectors (time-ordered groups) and one unit-length global vector', () => {
  const rand = rng(2);
  const scenes = [randomUnitVector(64, rand), randomUnitVector(64, rand)];
  // 8 frames of scene A, then 8 of scene B, each with a little noise.
  const frames = Array.from({ length: 16 }, (_, i) => scenes[i < 8 ? 0 : 1]!.map((x) => x + (rand() - 0.5) * 0.01));
  const { frameVectors, globalVector } = compressClipVectors(frames);
  assert.equal(frameVectors.length, 4);
  assert.ok(Math.abs(norm(globalVector) - 1) < 1e-5);
  for (const v of frameVectors) assert.ok(Math.abs(norm(v) - 1) < 1e-5);
  assert.ok(cosineSimilarity(frameVectors[0]!, scenes[0]!) > 0.99);
  assert.ok(cosineSimilarity(frameVectors[3]!, scenes[1]!) > 0.99);
  assert.ok(cosineSimilarity(globalVector, scenes[0]!) > 0.6 && cosineSimilarity(globalVector, scenes[1]!) > 0.6);
});

test('fewer frames than groups → one pooled vector per frame; bad input is a TypeError', () => {
  const rand = rng(3);
  const frames = [randomUnitVector(8, rand), randomUnitVector(8, rand)];
  const { frameVectors, globalVector } = compressClipVectors(frames);
  assert.equal(frameVectors.length, 2);
  assert.ok(cosineSimilarity(frameVectors[1]!, frames[1]!) > 0.9999);
  assert.equal(globalVector.length, 8);
  assert.throws(() => compressClipVectors([]), TypeError);
  assert.throws(() => compressClipVectors([new Float32Array(8), new Float32Array(4)]), TypeError);
});

test('mergeText keeps each line once, prefers fuller reads, keeps first-seen order', () => {
  const frames = [
    'Quarterly road\nQ3 goals',
    'Quarterly roadmap\nQ3  goals',
    'quarterly roadmap\nShip the beta by June',
    'Ship the beta by Jun',
    'cat',
    'concatenate',
  ];
  assert.equal(mergeText(frames), 'Quarterly roadmap\nQ3 goals\nShip the beta by June\ncat\nconcatenate');
  assert.equal(mergeText(['', '  ', '\n']), '');
});

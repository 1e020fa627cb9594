import assert from 'node:assert/strict';
import { test } from 'node:test';
import { SemanticEndpointing, completeness, createEndpointing, ServerVadEndpointing } from '../../../server/reasoning/turn/endpointing.ts';

test('completeness: a finished question or command, a dangling word, too little to tell', () => {
  assert.equal(completeness('what is the weather like today'), 'complete');
  assert.equal(completeness('tell me about the car'), 'complete');
  assert.equal(completeness('I would like to go to the'), 'unfinished');
  assert.equal(completeness('um'), 'unfinished');
  assert.equal(completeness('hello'), 'unknown');
});

/** Speech from 0 to 1 s, then silence; returns when the turn ends (ms of silence after speech). */
function silenceUntilEnd(policy: SemanticEndpointing | ServerVadEndpointing, words: string): number {
  const frame = 32;
  let t = 0;
  for (; t < 1000; t += frame) policy.push(t, frame, 0.9);
  policy.onTranscript({ words });
  for (; t < 5000; t += frame) {
    const event = policy.push(t, frame, 0.02);
    if (event?.type === 'speech_stopped') return t + frame - 1000;
  }
  return Infinity;
}

test('semantic_vad waits less after a finished question than after a dangling word, and eagerness scales both', () => {
  const medium = (words: string) => silenceUntilEnd(new SemanticEndpointing({ eagerness: 'medium' }), words);
  const finished = medium('what is the weather like today');
  const dangling = medium('I would like to go to the');
  assert.ok(finished < 500, `finished question: ${finished} ms`);
  assert.ok(dangling > 1200, `dangling "the": ${dangling} ms`);
  const high = silenceUntilEnd(new SemanticEndpointing({ eagerness: 'high' }), 'what is the weather like today');
  const low = silenceUntilEnd(new SemanticEndpointing({ eagerness: 'low' }), 'what is the weather like today');
  assert.ok(high < finished && finished < low, `high ${high} < medium ${finished} < low ${low}`);
  // server_vad ignores the words: a fixed 500 ms either way.
  const fixed = (words: string) => silenceUntilEnd(new ServerVadEndpointing(), words);
  assert.equal(fixed('what is the weather like today'), fixed('I would like to go to the'));
});

test('createEndpointing picks the policy for the setting, and keeps it when only options change', () => {
  const semantic = createEndpointing({ type: 'semantic_vad', eagerness: 'high' });
  assert.equal(semantic.mode, 'semantic_vad');
  assert.equal(createEndpointing({ type: 'semantic_vad', eagerness: 'low' }, semantic), semantic);
  assert.equal(createEndpointing({ type: 'server_vad' }, semantic).mode, 'server_vad');
  assert.equal(createEndpointing(null).mode, 'manual');
});

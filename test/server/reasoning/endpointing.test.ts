import assert from 'node:assert/strict';
import { test } from 'node:test';
import { SemanticEndpointing, completeness, createEndpointing, ServerVadEndpointing, turnCompleteness } from '../../../server/reasoning/turn/endpointing.ts';

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

test('turnCompleteness: a confident model decides; a falling pitch settles words that cannot tell', () => {
  assert.equal(turnCompleteness({ words: 'I would like to go to the', modelProbability: 0.9 }), 'complete');
  assert.equal(turnCompleteness({ words: 'what is the weather like today', modelProbability: 0.1 }), 'unfinished');
  assert.equal(turnCompleteness({ words: 'I would like to go to the', modelProbability: 0.5 }), 'unfinished', 'an unsure model leaves it to the words');
  assert.equal(turnCompleteness({ words: 'the car is red', pitch: 'falling' }), 'complete');
  assert.equal(turnCompleteness({ words: 'the car is red', pitch: 'flat' }), 'unknown');
  assert.equal(turnCompleteness({ words: 'I would like to go to the', pitch: 'falling' }), 'unfinished', 'a dangling word outweighs the pitch');
});

test('semantic_vad reports a pause after 64 ms of silence and the speech going on after it; server_vad never does', () => {
  const policy = new SemanticEndpointing({ eagerness: 'medium' });
  const events: string[] = [];
  const frame = 32;
  const feed = (from: number, to: number, p: number) => {
    for (let t = from; t < to; t += frame) {
      const e = policy.push(t, frame, p);
      if (e) events.push(e.type === 'speech_paused' ? `paused@${e.audioEndMs}` : e.type);
    }
  };
  feed(0, 640, 0.9);
  policy.onTranscript({ words: 'I would like to go to the' });
  feed(640, 1280, 0.02); // 640 ms: the pause of an unfinished sentence
  feed(1280, 1920, 0.9);
  policy.onTranscript({ words: 'I would like to go to the train station' });
  feed(1920, 3000, 0.02);
  assert.deepEqual(events, ['speech_started', 'paused@640', 'speech_resumed', 'paused@1920', 'speech_stopped']);
  const fixed = new ServerVadEndpointing();
  for (let t = 0; t < 3000; t += frame) assert.ok(!['speech_paused', 'speech_resumed'].includes(fixed.push(t, frame, t < 640 ? 0.9 : 0.02)?.type ?? ''));
});

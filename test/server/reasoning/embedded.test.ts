import assert from 'node:assert/strict';
import { test } from 'node:test';
import { TranscriptLog } from '../../../memory/index.ts';
import type { MemoryHit } from '../../../memory/types.ts';
import { EmbeddedAnswerer, NO_LANGUAGE_MODEL_NOTE, type ChatMessage, type ReasonerRequest } from '../../../server/reasoning/index.ts';

async function respond(request: Partial<ReasonerRequest> & { question: string }): Promise<string> {
  let text = '';
  const full: ReasonerRequest = { conversation: [], transcript: new TranscriptLog(), nowMs: 900_000, evidence: [], images: [], ...request };
  for await (const d of new EmbeddedAnswerer().respond(full, new AbortController().signal)) if (d.type === 'text') text += d.text;
  return text;
}

async function answer(question: string, log: TranscriptLog, conversation: ChatMessage[] = []): Promise<string> {
  log.add({ id: 'q', role: 'user', text: question, startMs: 200_000, endMs: 201_000 });
  return respond({ question, questionId: 'q', conversation, transcript: log, nowMs: 201_000 });
}

function heard(): TranscriptLog {
  const log = new TranscriptLog();
  log.add({ id: 'a', role: 'user', text: 'my keys are in the blue bowl', startMs: 134_000, endMs: 136_000 });
  log.add({ id: 'b', role: 'assistant', text: 'the keys answer from before', startMs: 137_000, endMs: 138_000 });
  log.add({ id: 'c', role: 'user', text: 'the train leaves at nine', startMs: 150_000, endMs: 151_000 });
  return log;
}

/** A memory hit for a clip whose screen read `ocrText`, found by text search. */
function seenHit(id: string, startMs: number, endMs: number, ocrText: string): MemoryHit {
  const clip = { id, memoryId: 'm', sessionId: 's', startMs, endMs, wallStartMs: startMs, frameCount: 4, thumbnail: new Uint8Array(), ocrText, objects: [], transcript: '', soundEvents: [] };
  return { kind: 'clip', id, startMs, endMs, wallStartMs: startMs, score: 1, matchedBy: ['text'], text: ocrText, clip };
}

/** A memory hit for something the user said, found by text search. */
function saidHit(id: string, startMs: number, text: string): MemoryHit {
  const utterance = { id, memoryId: 'm', sessionId: 's', role: 'user' as const, text, startMs, endMs: startMs + 2000, wallStartMs: startMs };
  return { kind: 'utterance', id, startMs, endMs: startMs + 2000, wallStartMs: startMs, score: 1, matchedBy: ['text'], text, utterance };
}

test('leads with what the user said, with its media time', async () => {
  const text = await answer('where are my keys?', heard());
  assert.match(text, /^At 02:14 you said: my keys are in the blue bowl\./);
  assert.doesNotMatch(text, /keys answer from before/); // its own words are not evidence
});

test('the note on having no language model ends the first answer of a conversation, and only that one', async () => {
  const first = await answer('where are my keys?', heard());
  assert.ok(first.endsWith(` ${NO_LANGUAGE_MODEL_NOTE}`), first);
  const later = await answer('where are my keys?', heard(), [{ role: 'user', content: 'where are my keys?' }, { role: 'assistant', content: first }]);
  assert.equal(later, 'At 02:14 you said: my keys are in the blue bowl.');
  assert.equal(new EmbeddedAnswerer().notice, NO_LANGUAGE_MODEL_NOTE);
});

test('says plainly when it does not know', async () => {
  const text = await answer('what colour is the car?', heard());
  assert.equal(text, `I don't know. I found nothing about that in what I have heard or seen so far. ${NO_LANGUAGE_MODEL_NOTE}`);
  const told = [{ role: 'assistant' as const, content: `Noted. ${NO_LANGUAGE_MODEL_NOTE}` }];
  assert.equal(await answer('what colour is the car?', heard(), told), "I don't know. I found nothing about that in what I have heard or seen so far.");
});

test('"what did I just say?" quotes the latest utterances', async () => {
  const text = await answer('what did I just say?', heard());
  assert.match(text, /^At 02:14 you said: my keys are in the blue bowl\. At 02:30 you said: the train leaves at nine\./);
});

test('a statement is acknowledged, not answered', async () => {
  assert.equal(await answer('the red mug is on the shelf', heard()), `Noted. ${NO_LANGUAGE_MODEL_NOTE}`);
  assert.equal(await answer('the red mug is on the shelf', heard(), [{ role: 'assistant', content: `Something. ${NO_LANGUAGE_MODEL_NOTE}` }]), 'Noted.');
});

test('the same thing seen in adjacent clips is said once, as a stretch of time', async () => {
  const evidence = [seenHit('c1', 180_000, 191_000, 'GATE B17 CLOSES AT 9:40'), seenHit('c2', 192_000, 200_000, 'gate  b17 closes at 9:40')];
  const text = await respond({ question: 'when does the gate close?', evidence });
  assert.equal(text, `From 03:00 to 03:20 the screen showed "GATE B17 CLOSES AT 9:40". ${NO_LANGUAGE_MODEL_NOTE}`);
});

test('the same thing said twice is said once, with both times, and the freed place goes to further evidence', async () => {
  const evidence = [
    saidHit('u1', 65_000, 'the gate is B17'),
    saidHit('u2', 130_000, 'The gate is  B17.'),
    seenHit('c1', 180_000, 185_000, 'GATE B17'),
    seenHit('c2', 300_000, 305_000, 'GATE B17'), // not adjacent to c1: its own time
    saidHit('u3', 400_000, 'boarding for gate B17 starts at nine'),
  ];
  const text = await respond({ question: 'which gate?', evidence });
  assert.equal(
    text,
    `At 01:05 and 02:10 you said: the gate is B17. At 03:00 and 05:00 the screen showed "GATE B17". At 06:40 you said: boarding for gate B17 starts at nine. ${NO_LANGUAGE_MODEL_NOTE}`,
  );
});

test("the user's earlier questions are not quoted as evidence", async () => {
  const evidence = [saidHit('u1', 60_000, 'which gate is it?'), saidHit('u2', 70_000, 'where is the gate'), saidHit('u3', 80_000, 'the gate is B17'), saidHit('q', 90_000, 'which gate?')];
  const text = await respond({ question: 'which gate?', questionId: 'q', evidence });
  assert.equal(text, `At 01:20 you said: the gate is B17. ${NO_LANGUAGE_MODEL_NOTE}`);
  // Without a memory store the transcript is searched, with the same rule.
  const log = new TranscriptLog();
  log.add({ id: 'a', role: 'user', text: 'where did I leave my keys?', startMs: 10_000, endMs: 11_000 });
  log.add({ id: 'b', role: 'user', text: 'my keys are in the blue bowl', startMs: 20_000, endMs: 21_000 });
  assert.doesNotMatch(await answer('where are my keys?', log), /leave/);
});

test('offered tools, it says once that it cannot call them, then answers as ever', async () => {
  const ask = (conversation: ChatMessage[]) => respond({ question: 'what time is it?', conversation, nowMs: 0, tools: [{ name: 'get_time' }] });
  const first = await ask([]);
  assert.match(first, /^I cannot call tools: no language model is configured\. I don't know\./);
  assert.doesNotMatch(await ask([{ role: 'assistant', content: first }]), /cannot call tools/);
});

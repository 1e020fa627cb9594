import assert from 'node:assert/strict';
import { test } from 'node:test';
import { TranscriptLog } from '../../../memory/index.ts';
import { EmbeddedAnswerer } from '../../../server/reasoning/index.ts';

async function answer(question: string, log: TranscriptLog): Promise<string> {
  log.add({ id: 'q', role: 'user', text: question, startMs: 200_000, endMs: 201_000 });
  let text = '';
  for await (const d of new EmbeddedAnswerer().respond({ question, questionId: 'q', conversation: [], transcript: log, nowMs: 201_000, evidence: [], images: [] }, new AbortController().signal)) if (d.type === 'text') text += d.text;
  return text;
}

function heard(): TranscriptLog {
  const log = new TranscriptLog();
  log.add({ id: 'a', role: 'user', text: 'my keys are in the blue bowl', startMs: 134_000, endMs: 136_000 });
  log.add({ id: 'b', role: 'assistant', text: 'the keys answer from before', startMs: 137_000, endMs: 138_000 });
  log.add({ id: 'c', role: 'user', text: 'the train leaves at nine', startMs: 150_000, endMs: 151_000 });
  return log;
}

test('quotes what the user said, with its media time, and says no language model answered', async () => {
  const text = await answer('where are my keys?', heard());
  assert.match(text, /No language model is configured/);
  assert.match(text, /At 02:14 you said: my keys are in the blue bowl\./);
  assert.doesNotMatch(text, /keys answer from before/); // its own words are not evidence
});

test('says plainly when it does not know', async () => {
  assert.match(await answer('what colour is the car?', heard()), /^I don't know\. .*No language model is configured/);
});

test('"what did I just say?" quotes the latest utterances', async () => {
  const text = await answer('what did I just say?', heard());
  assert.match(text, /here is what you said last/);
  assert.match(text, /At 02:30 you said: the train leaves at nine\./);
});

test('a statement is acknowledged, not answered', async () => {
  assert.match(await answer('the red mug is on the shelf', heard()), /^Noted\./);
});

test('offered tools, it says once that it cannot call them, then answers as ever', async () => {
  const log = new TranscriptLog();
  const answer = async (conversation: { role: 'assistant'; content: string }[]) => {
    let text = '';
    const request = { question: 'what time is it?', conversation, transcript: log, nowMs: 0, evidence: [], images: [], tools: [{ name: 'get_time' }] };
    for await (const d of new EmbeddedAnswerer().respond(request, new AbortController().signal)) if (d.type === 'text') text += d.text;
    return text;
  };
  const first = await answer([]);
  assert.match(first, /^I cannot call tools: no language model is configured\. /);
  assert.doesNotMatch(await answer([{ role: 'assistant', content: first }]), /cannot call tools/);
});

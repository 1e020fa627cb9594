import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { TranscriptLog } from '../../../memory/index.ts';
import { OpenAICompatibleReasoner } from '../../../server/reasoning/index.ts';
import { startFakeLlm, type FakeLlm } from '../../helpers/fake-llm.ts';

describe('OpenAICompatibleReasoner', () => {
  let llm: FakeLlm;
  before(async () => {
    llm = await startFakeLlm((q) => (q.includes('story') ? 'Once upon a time. '.repeat(200) : 'The mug is on the kitchen shelf.'), 10);
  });
  after(() => llm.close());

  function request(question: string) {
    const transcript = new TranscriptLog();
    transcript.add({ id: 'u1', role: 'user', text: 'the mug is on the kitchen shelf', startMs: 61_000, endMs: 63_000 });
    transcript.add({ id: 'q', role: 'user', text: question, startMs: 90_000, endMs: 91_000 });
    return { question, questionId: 'q', conversation: [], transcript, nowMs: 91_000, evidence: [], images: [] };
  }

  it('streams the answer and sends the relevant memory with times in the prompt', async () => {
    const reasoner = new OpenAICompatibleReasoner({ baseURL: llm.url, model: 'test-model', apiKey: 'secret-key' });
    let text = '';
    let deltas = 0;
    for await (const d of reasoner.respond(request('where is the mug?'), new AbortController().signal)) {
      if (d.type === 'text') text += d.text;
      deltas++;
    }
    assert.equal(text, 'The mug is on the kitchen shelf.');
    assert.ok(deltas > 1, 'streamed in pieces');
    const sent = llm.requests.at(-1)!;
    assert.equal(sent.model, 'test-model');
    assert.equal(sent.stream, true);
    assert.match(String(sent.messages[0]!.content), /\[01:01\] User said: the mug is on the kitchen shelf/);
    assert.equal(sent.messages.at(-1)!.content, 'where is the mug?');
  });

  it('stops the HTTP stream when the signal aborts (barge-in)', async () => {
    const reasoner = new OpenAICompatibleReasoner({ baseURL: llm.url, model: 'test-model' });
    const abort = new AbortController();
    const before = llm.aborted;
    let received = 0;
    try {
      for await (const _ of reasoner.respond(request('tell me a story'), abort.signal)) {
        if (++received === 5) abort.abort();
      }
    } catch (error) {
      // The SDK may end the iteration quietly or throw its abort error; both stop the stream.
      assert.ok(['APIUserAbortError', 'AbortError'].includes((error as Error).name), String(error));
    }
    await new Promise((r) => setTimeout(r, 100));
    assert.equal(llm.aborted, before + 1);
    assert.ok(received < 20);
  });

  it('asks the model whether an utterance is an instruction', async () => {
    const yes = await startFakeLlm(() => 'yes');
    const reasoner = new OpenAICompatibleReasoner({ baseURL: yes.url, model: 'm' });
    assert.equal(await reasoner.isInstruction('what time is it', new AbortController().signal), true);
    await yes.close();
  });
});

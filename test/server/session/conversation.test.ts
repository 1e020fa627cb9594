import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Session } from '../../../server/session/session.ts';
import { isEvent, type ServerEvent } from '../../../server/protocol/server-events.ts';
import { ScriptedReasoner, standInEngines } from '../../helpers/stand-ins.ts';

async function textSession(reasoner: ScriptedReasoner) {
  const session = new Session({ engines: standInEngines({ reasoner }), settings: { modalities: ['text'], clock: 'media' } });
  const events: ServerEvent[] = [];
  session.on('event', (e) => events.push(e));
  await session.open();
  const answer = async () => {
    const response = session.createResponse();
    await response.start();
    return response;
  };
  return { session, events, answer };
}

describe('Conversation: what a response answers', () => {
  it('a second response.create continues the conversation instead of asking the old question again', async () => {
    const reasoner = new ScriptedReasoner({ answers: ['Paris.', 'It has two million people.'] });
    const { session, answer } = await textSession(reasoner);
    session.addMessage('user', 'what is the capital of France?');
    await answer();
    await answer(); // as a Realtime client does after a tool result
    const [first, second] = reasoner.requests;
    assert.equal(first!.question, 'what is the capital of France?');
    assert.deepEqual(first!.conversation, []);
    assert.equal(second!.question, '', 'the answered question is not asked again');
    assert.deepEqual(
      second!.conversation.map((m) => [m.role, m.content.trim()]),
      [['user', 'what is the capital of France?'], ['assistant', 'Paris.']],
      'the last answer is kept',
    );
    session.close();
  });

  it('a system item added after the question is kept, and the question goes once', async () => {
    const reasoner = new ScriptedReasoner();
    const { session, answer } = await textSession(reasoner);
    session.addMessage('user', 'hello there');
    await answer();
    session.addMessage('user', 'what did I say?');
    session.addMessage('system', 'Answer in French.');
    await answer();
    const request = reasoner.requests[1]!;
    assert.equal(request.question, 'what did I say?');
    assert.deepEqual(request.conversation.map((m) => m.content.trim()), ['hello there', 'Answer 1.']);
    assert.deepEqual(request.followUp, [{ role: 'system', content: 'Answer in French.' }]);
    const all = [...request.conversation, ...(request.followUp ?? [])].map((m) => m.content);
    assert.ok(!all.includes('what did I say?'), 'the question is not also in the history');
    session.close();
  });

  it('items go where previous_item_id says, and the events report it', async () => {
    const { session, events } = await textSession(new ScriptedReasoner());
    const a = session.addMessage('user', 'first', { id: 'item_a' });
    session.addMessage('user', 'third', { id: 'item_c' });
    session.addMessage('user', 'second', { id: 'item_b', previousItemId: a });
    session.addMessage('system', 'zeroth', { id: 'item_0', previousItemId: null });
    assert.deepEqual(session.conversation.items.map((i) => i.id), ['item_0', 'item_a', 'item_b', 'item_c']);
    const added = events.filter(isEvent('conversation.item.added'));
    assert.deepEqual(added.map((e) => e.previous_item_id), [null, 'item_a', 'item_a', null]);
    assert.throws(() => session.addMessage('user', 'x', { previousItemId: 'item_nope' }), /previous_item_id 'item_nope'/);
    assert.throws(() => session.addMessage('user', 'again', { id: 'item_a' }), /already exists/);
    session.close();
  });

  it("a user turn heard while an answer runs is answered next, even though the answer's words land later", async () => {
    const reasoner = new ScriptedReasoner({ deltaDelayMs: 20, answers: ['one two three four five six', 'sure'] });
    const { session } = await textSession(reasoner);
    session.addMessage('user', 'count to six');
    const first = session.createResponse();
    await new Promise((r) => setTimeout(r, 50));
    session.addMessage('user', 'stop counting');
    session.cancelResponse('turn_detected');
    await first.start();
    await session.createResponse().start();
    assert.equal(reasoner.requests[1]!.question, 'stop counting');
    assert.deepEqual(session.conversation.items.map((i) => (i.type === 'message' ? i.role : i.type)), ['user', 'assistant', 'user', 'assistant']);
    session.close();
  });
});

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
    session.addItem({ role: 'user', text: 'what is the capital of France?' });
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
    session.addItem({ role: 'user', text: 'hello there' });
    await answer();
    session.addItem({ role: 'user', text: 'what did I say?' });
    session.addItem({ role: 'system', text: 'Answer in French.' });
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
    const a = session.addItem({ id: 'item_a', role: 'user', text: 'first' });
    session.addItem({ id: 'item_c', role: 'user', text: 'third' });
    session.addItem({ id: 'item_b', role: 'user', text: 'second', previousItemId: a });
    session.addItem({ id: 'item_0', role: 'system', text: 'zeroth', previousItemId: null });
    assert.deepEqual(session.conversation.items.map((i) => i.id), ['item_0', 'item_a', 'item_b', 'item_c']);
    const added = events.filter(isEvent('conversation.item.added'));
    assert.deepEqual(added.map((e) => e.previous_item_id), [null, 'item_a', 'item_a', null]);
    assert.throws(() => session.addItem({ role: 'user', text: 'x', previousItemId: 'item_nope' }), /previous_item_id 'item_nope'/);
    assert.throws(() => session.addItem({ id: 'item_a', role: 'user', text: 'again' }), /already exists/);
    session.close();
  });

  it("a user turn heard while an answer runs is answered next, even though the answer's words land later", async () => {
    const reasoner = new ScriptedReasoner({ deltaDelayMs: 20, answers: ['one two three four five six', 'sure'] });
    const { session } = await textSession(reasoner);
    session.addItem({ role: 'user', text: 'count to six' });
    const first = session.createResponse();
    await new Promise((r) => setTimeout(r, 50));
    session.addItem({ role: 'user', text: 'stop counting' });
    session.cancelResponse('turn_detected');
    await first.start();
    await session.createResponse().start();
    assert.equal(reasoner.requests[1]!.question, 'stop counting');
    assert.deepEqual(session.conversation.items.map((i) => i.role), ['user', 'assistant', 'user', 'assistant']);
    session.close();
  });
});

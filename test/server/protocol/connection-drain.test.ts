import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { WebSocket } from 'ws';
import { RealtimeConnection } from '../../../server/protocol/realtime-connection.ts';
import { Session } from '../../../server/session/session.ts';
import { SocketStandIn } from '../../helpers/socket-stand-in.ts';
import { ScriptedReasoner, ToneTts, standInEngines } from '../../helpers/stand-ins.ts';

/** A connection whose answer (ten sentences, 20 ms of TTS each) is running. */
async function answering() {
  const socket = new SocketStandIn();
  const answer = Array.from({ length: 10 }, (_, i) => `Sentence ${i + 1}.`).join(' ');
  const session = new Session({ engines: standInEngines({ reasoner: new ScriptedReasoner({ answers: [answer], deltaDelayMs: 5 }), tts: new ToneTts({ delayMs: 20 }) }), settings: { clock: 'media' } });
  const connection = new RealtimeConnection(socket as unknown as WebSocket, session);
  await session.open();
  connection.start();
  socket.message({ type: 'conversation.item.create', item: { type: 'message', role: 'user', content: [{ type: 'input_text', text: 'tell me ten things' }] } });
  socket.message({ type: 'response.create' });
  assert.equal(session.activeResponse?.status, 'in_progress');
  return { socket, session, connection };
}

describe('RealtimeConnection.drain: the server is stopping', () => {
  it('refuses new work, lets the answer finish, then says why and closes with 1001', async () => {
    const { socket, session, connection } = await answering();
    const draining = connection.drain(10_000);
    socket.message({ event_id: 'late', type: 'conversation.item.create', item: { type: 'message', role: 'user', content: [{ type: 'input_text', text: 'one more' }] } });
    socket.message({ event_id: 'again', type: 'response.create' });
    assert.equal(await draining, true);
    const refused = socket.sent.filter((e) => e.type === 'error' && e.error.code === 'session_draining').map((e) => e.error.event_id);
    assert.deepEqual(refused, ['late', 'again']);
    const done = socket.sent.filter((e) => e.type === 'response.done');
    assert.deepEqual(done.map((e) => e.response.status), ['completed']);
    assert.equal(socket.sent.at(-1).error.code, 'server_shutting_down');
    assert.deepEqual(socket.closedWith, [1001, 'the server is shutting down; reconnect to continue']);
    assert.equal(session.closed, true);
  });

  it('past its deadline the answer is cancelled with a reason, and the close says so', async () => {
    const { socket, connection } = await answering();
    assert.equal(await connection.drain(30), false);
    const done = socket.sent.find((e) => e.type === 'response.done');
    assert.deepEqual(done.response.status_details, { type: 'cancelled', reason: 'session_closed' });
    assert.equal(socket.sent.at(-1).error.code, 'server_shutting_down');
    assert.deepEqual(socket.closedWith, [1001, 'the server is shutting down; what was in flight was cancelled']);
  });
});

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import type { WebSocket } from 'ws';
import { RealtimeConnection } from '../../../server/protocol/realtime-connection.ts';
import { Session } from '../../../server/session/session.ts';
import { encodeG711 } from '../../../server/audio/g711.ts';
import { Resampler } from '../../../server/audio/resampler.ts';
import { SocketStandIn } from '../../helpers/socket-stand-in.ts';
import { ScriptedAsr, ScriptedReasoner, concat, loud, quiet, standInEngines } from '../../helpers/stand-ins.ts';

async function connect() {
  const socket = new SocketStandIn({ closeAtOnce: true });
  const session = new Session({ engines: standInEngines({ reasoner: new ScriptedReasoner({ answers: ['Hi.', 'Again.'] }) }), settings: { modalities: ['text'], clock: 'media' } });
  const connection = new RealtimeConnection(socket as unknown as WebSocket, session);
  await session.open();
  connection.start();
  const of = (type: string) => socket.sent.filter((e) => e.type === type);
  return { socket, session, connection, of };
}

describe('RealtimeConnection', () => {
  it('bad input becomes an error event naming what was wrong; the connection goes on', async () => {
    const { socket, of } = await connect();
    socket.message('{not json');
    socket.message({ event_id: 'e1', type: 'conversation.item.remix' });
    socket.message({ event_id: 'e2', type: 'conversation.item.create', item: { type: 'message', role: 'user', content: [] } });
    socket.message({ event_id: 'e3', type: 'conversation.item.create', previous_item_id: 'item_missing', item: { type: 'message', role: 'user', content: [{ type: 'input_text', text: 'hi' }] } });
    const errors = of('error').map((e) => [e.error.code, e.error.event_id ?? null]);
    assert.deepEqual(errors, [['invalid_json', null], ['unknown_event_type', 'e1'], ['invalid_value', 'e2'], ['item_not_found', 'e3']]);
    socket.message({ type: 'conversation.item.create', item: { type: 'message', role: 'user', content: [{ type: 'input_text', text: 'hello' }] } });
    socket.message({ type: 'response.create' });
    while (!of('response.done').length) await sleep(5);
    assert.equal(of('response.done')[0].response.status, 'completed');
    assert.equal(of('response.done')[0].response.output[0].content[0].text.trim(), 'Hi.');
  });

  it('messages sent before the session opens wait, so session.created goes first', async () => {
    const socket = new SocketStandIn({ closeAtOnce: true });
    const session = new Session({ engines: standInEngines(), settings: { modalities: ['text'], clock: 'media' } });
    const connection = new RealtimeConnection(socket as unknown as WebSocket, session);
    socket.message({ type: 'session.update', session: { instructions: 'be brief' } });
    await session.open();
    connection.start();
    assert.deepEqual(socket.sent.map((e) => e.type), ['session.created', 'session.updated']);
    assert.equal(socket.sent[1].session.instructions, 'be brief');
  });

  it('response.cancel of nothing is an error; a second response.create while one runs is refused', async () => {
    const { socket, of } = await connect();
    socket.message({ type: 'response.cancel' });
    assert.equal(of('error').at(-1).error.code, 'response_cancel_not_active');
    socket.message({ type: 'conversation.item.create', item: { type: 'message', role: 'user', content: [{ type: 'input_text', text: 'hello' }] } });
    socket.message({ type: 'response.create' });
    socket.message({ type: 'response.create' });
    assert.equal(of('error').at(-1).error.code, 'conversation_already_has_active_response');
  });

  it('close() closes the session and ignores anything that arrives after', async () => {
    const { socket, session, connection } = await connect();
    connection.close();
    assert.equal(session.closed, true);
    const before = socket.sent.length;
    socket.message({ type: 'response.create' });
    assert.equal(socket.sent.length, before);
    connection.close(); // idempotent
  });

  it('a socket that closes closes its session', async () => {
    const { socket, session } = await connect();
    socket.close(1000, 'bye');
    assert.equal(session.closed, true);
  });

  it('telephony: G.711 μ-law in at 8 kHz is heard; the answer comes back as A-law at 8 kHz', async () => {
    const socket = new SocketStandIn({ closeAtOnce: true });
    const engines = standInEngines({ asr: new ScriptedAsr(['what time is it']), reasoner: new ScriptedReasoner({ answers: ['It is noon.'] }) });
    const session = new Session({ engines, settings: { clock: 'media' } });
    const connection = new RealtimeConnection(socket as unknown as WebSocket, session);
    await session.open();
    connection.start();
    socket.message({ type: 'session.update', session: { audio: { input: { format: { type: 'audio/pcmu' } }, output: { format: { type: 'audio/pcma' } } } } });
    const updated = socket.sent.find((e) => e.type === 'session.updated');
    assert.deepEqual(updated.session.audio.input.format, { type: 'audio/pcmu' });
    const speech8k = Resampler.convert(concat(quiet(300), loud(600), quiet(900)), 16000, 8000);
    socket.message({ type: 'input_audio_buffer.append', audio: Buffer.from(encodeG711(speech8k, 'pcmu')).toString('base64') });
    while (!socket.sent.some((e) => e.type === 'response.done')) await sleep(5);
    const started = socket.sent.find((e) => e.type === 'input_audio_buffer.speech_started');
    assert.ok(started && Math.abs(started.audio_start_ms - 300) <= 64, `speech found at 300 ms of 8 kHz μ-law: ${started?.audio_start_ms}`);
    const deltas = socket.sent.filter((e) => e.type === 'response.output_audio.delta').map((e) => Buffer.from(e.delta, 'base64').length);
    const done = socket.sent.find((e) => e.type === 'response.done');
    assert.deepEqual(done.response.audio.output.format, { type: 'audio/pcma' });
    // One byte a sample at 8 kHz: the bytes sent are the audio's milliseconds × 8.
    const bytes = deltas.reduce((a, b) => a + b, 0);
    assert.ok(bytes > 0 && Math.abs(bytes - done.response.metadata.audio_sent_ms * 8) <= 8, `${bytes} bytes for ${done.response.metadata.audio_sent_ms} ms`);
    assert.equal(socket.sent.filter((e) => e.type === 'error').length, 0);
    connection.close();
  });

  it('truncate cuts an answer to what was heard; retrieve shows it; past the end and non-answers are refused', async () => {
    const socket = new SocketStandIn({ closeAtOnce: true });
    const engines = standInEngines({ reasoner: new ScriptedReasoner({ answers: ['First part here. Second part here. Third part here.'] }) });
    const session = new Session({ engines, settings: { clock: 'media' } });
    const connection = new RealtimeConnection(socket as unknown as WebSocket, session);
    await session.open();
    connection.start();
    socket.message({ type: 'conversation.item.create', item: { id: 'item_q', type: 'message', role: 'user', content: [{ type: 'input_text', text: 'talk' }] } });
    socket.message({ type: 'response.create' });
    while (!socket.sent.some((e) => e.type === 'response.done')) await sleep(5);
    const done = socket.sent.find((e) => e.type === 'response.done');
    const answerId = done.response.output[0].id;
    // Three sentences of three words at 100 ms a word: the second starts at 300 ms.
    assert.equal(done.response.metadata.audio_sent_ms, 900);
    socket.message({ type: 'conversation.item.truncate', event_id: 'past', item_id: answerId, content_index: 0, audio_end_ms: 5000 });
    socket.message({ type: 'conversation.item.truncate', event_id: 'user', item_id: 'item_q', content_index: 0, audio_end_ms: 10 });
    socket.message({ type: 'conversation.item.truncate', event_id: 'ok', item_id: answerId, content_index: 0, audio_end_ms: 450 });
    socket.message({ type: 'conversation.item.retrieve', item_id: answerId });
    const errors = Object.fromEntries(socket.sent.filter((e) => e.type === 'error').map((e) => [e.error.event_id, e.error.message]));
    assert.match(errors.past, /audio_end_ms 5000 is past the end of the item's audio \(900 ms\)/);
    assert.match(errors.user, /not an assistant message/);
    assert.equal(errors.ok, undefined);
    const truncated = socket.sent.find((e) => e.type === 'conversation.item.truncated');
    assert.deepEqual({ item_id: truncated.item_id, content_index: truncated.content_index, audio_end_ms: truncated.audio_end_ms }, { item_id: answerId, content_index: 0, audio_end_ms: 450 });
    const retrieved = socket.sent.find((e) => e.type === 'conversation.item.retrieved');
    assert.equal(retrieved.item.content[0].transcript, 'First part here. Second part here.');
    const kept = session.conversation.get(answerId);
    assert.ok(kept?.type === 'message' && kept.content[0]?.type === 'output_audio' && kept.content[0].transcript === 'First part here. Second part here.');
    connection.close();
  });
});

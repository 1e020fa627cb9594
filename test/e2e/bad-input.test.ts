import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { pcm16ToBase64 } from '../../server/audio/pcm.ts';
import { startServer, type TestServer } from '../helpers/server.ts';
import { silence } from '../helpers/speech.ts';
import { RawClient } from '../helpers/ws-client.ts';

/** Sends one bad message; expects an error event with `code`, then proves the session still works. */
async function expectError(server: TestServer, message: object | string, code: string, param?: string): Promise<void> {
  const client = new RawClient(server);
  await client.opened;
  client.send(message);
  const error = await client.log.waitFor('error');
  assert.equal(error.error.code, code, JSON.stringify(error));
  assert.equal(typeof error.error.message, 'string');
  if (param) assert.equal(error.error.param, param);
  client.send({ type: 'session.update', session: { instructions: 'still alive' } });
  // A refused session field leaves the rest of its update applied (and announced): wait for ours.
  const updated = await client.log.waitFor('session.updated', (e) => e.session.instructions === 'still alive');
  assert.equal(updated.session.instructions, 'still alive');
  client.close();
}

describe('bad input gets an error event and the session keeps running', () => {
  let server: TestServer;
  before(async () => {
    server = await startServer({ 'tls.mode': 'off', 'limits.maxMessageBytes': '65536' });
  });
  after(() => server.close());

  it('malformed JSON', () => expectError(server, '{"type": "session.update", ', 'invalid_json'));
  it('unknown event type', () => expectError(server, { type: 'session.explode' }, 'unknown_event_type', 'type'));
  it('missing type', () => expectError(server, { audio: 'AAAA' }, 'missing_type'));
  it('wrong field type', () =>
    expectError(server, { type: 'session.update', session: { audio: { input: { turn_detection: { type: 'server_vad', threshold: 'high' } } } } }, 'invalid_value', 'session.audio.input.turn_detection.threshold'));
  it('unsupported input rate', () => expectError(server, { type: 'session.update', session: { audio: { input: { format: { type: 'audio/pcm', rate: 44100 } } } } }, 'invalid_value'));
  it('unknown voice', () => expectError(server, { type: 'session.update', session: { audio: { output: { voice: 'alloy' } } } }, 'invalid_value', 'session.audio.output.voice'));
  it('invalid base64 audio', () => expectError(server, { type: 'input_audio_buffer.append', audio: 'not base64!!' }, 'invalid_base64', 'audio'));
  it('odd number of audio bytes', () => expectError(server, { type: 'input_audio_buffer.append', audio: 'AAAA' }, 'invalid_audio', 'audio'));
  it('oversized message', () => expectError(server, { type: 'input_audio_buffer.append', audio: 'A'.repeat(100_000) }, 'message_too_large'));
  it('commit with nothing to commit', () => expectError(server, { type: 'input_audio_buffer.commit' }, 'input_audio_buffer_commit_empty'));
  it('a second response while one is active', async () => {
    const client = new RawClient(server);
    await client.opened;
    client.send({ type: 'conversation.item.create', item: { type: 'message', role: 'user', content: [{ type: 'input_text', text: 'what is this?' }] } });
    client.send({ type: 'response.create' });
    client.send({ type: 'response.create' });
    const error = await client.log.waitFor('error');
    assert.equal(error.error.code, 'conversation_already_has_active_response');
    const done = await client.log.waitFor('response.done', () => true, 30_000);
    assert.equal(done.response.status, 'completed');
    client.close();
  });

  it('live audio much faster than real time is refused, not queued', async () => {
    const client = new RawClient(server);
    await client.opened;
    const second = pcm16ToBase64(silence(1000, 24000));
    for (let i = 0; i < 8; i++) client.send({ type: 'input_audio_buffer.append', audio: second });
    const error = await client.log.waitFor('error');
    assert.equal(error.error.code, 'input_audio_rate_exceeded');
    // The same client on the media clock (files, evaluation) may stream as fast as it likes.
    client.send({ type: 'session.update', session: { omnilive: { clock: 'media' } } });
    await client.log.waitFor('session.updated');
    const errorsBefore = client.log.of('error').length;
    for (let i = 0; i < 8; i++) client.send({ type: 'input_audio_buffer.append', audio: second });
    client.send({ type: 'session.update', session: { instructions: 'done' } });
    await client.log.waitFor('session.updated', (e) => e.session.instructions === 'done');
    assert.equal(client.log.of('error').length, errorsBefore);
    client.close();
  });

  it('a flood of messages is rate limited', async () => {
    const client = new RawClient(server);
    await client.opened;
    for (let i = 0; i < 400; i++) client.send({ type: 'session.update', session: {} });
    const error = await client.log.waitFor('error');
    assert.equal(error.error.code, 'rate_limited');
    client.close();
  });

  it('the server stays healthy afterwards', async () => {
    const res = await fetch(`http://127.0.0.1:${server.port}/healthz`);
    assert.equal(res.status, 200);
    assert.equal(((await res.json()) as { status: string }).status, 'ok');
  });
});

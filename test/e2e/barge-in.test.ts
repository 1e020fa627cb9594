import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startServer, type TestServer } from '../helpers/server.ts';
import { closeSpeech, sequence, silence, speak } from '../helpers/speech.ts';
import { RawClient } from '../helpers/ws-client.ts';

describe('barge-in: the user talks over the answer', () => {
  let server: TestServer;
  before(async () => {
    server = await startServer({ 'tls.mode': 'off' });
  });
  after(async () => {
    await server.close();
    await closeSpeech();
  });

  it('cancels the response at speech onset and sends no further audio of it', async () => {
    const client = new RawClient(server);
    await client.opened;
    // A typed question starts a long spoken answer (several seconds, paced to playback).
    client.send({ type: 'conversation.item.create', item: { type: 'message', role: 'user', content: [{ type: 'input_text', text: 'what did I say about the blue boat?' }] } });
    client.send({ type: 'response.create' });
    const firstAudio = await client.log.waitFor('response.output_audio.delta');
    const responseId = firstAudio.response_id;
    // The microphone keeps streaming: silence, then the user speaks over the answer.
    const speech = sequence(silence(500, 24000), await speak('tell me a long story about the sea', { rate: 24000 }), silence(1500, 24000));
    await client.stream(speech, 24000, true);
    const started = await client.log.waitFor('input_audio_buffer.speech_started');
    const done = await client.log.waitFor('response.done', (e) => e.response.id === responseId);
    assert.equal(done.response.status, 'cancelled');
    assert.deepEqual(done.response.status_details, { type: 'cancelled', reason: 'turn_detected' });
    assert.ok(done.response.metadata.audio_heard_ms > 0, 'records how much of the answer was heard');
    const doneAt = client.log.events.indexOf(done as never);
    assert.ok(client.log.events.indexOf(started as never) < doneAt);
    // Give any straggler time to show up, then check none did.
    await new Promise((r) => setTimeout(r, 500));
    const late = client.log.events.slice(doneAt + 1).filter((e) => e.response_id === responseId);
    assert.deepEqual(late.map((e) => e.type), []);
    // The interrupting turn is transcribed and answered as usual.
    const transcript = await client.log.waitFor('conversation.item.input_audio_transcription.completed');
    assert.match(transcript.transcript, /story/);
    const next = await client.log.waitFor('response.done', (e) => e.response.id !== responseId);
    assert.notEqual(next.response.id, responseId);
    client.close();
  });

  it('response.cancel from the client stops the answer, and a second cancel is an error', async () => {
    const client = new RawClient(server);
    await client.opened;
    client.send({ type: 'conversation.item.create', item: { type: 'message', role: 'user', content: [{ type: 'input_text', text: 'what is on the table?' }] } });
    client.send({ type: 'response.create' });
    await client.log.waitFor('response.output_audio.delta');
    client.send({ type: 'response.cancel' });
    const done = await client.log.waitFor('response.done');
    assert.equal(done.response.status, 'cancelled');
    assert.equal(done.response.status_details.reason, 'client_cancelled');
    client.send({ type: 'response.cancel' });
    const error = await client.log.waitFor('error');
    assert.equal(error.error.code, 'response_cancel_not_active');
    client.close();
  });
});

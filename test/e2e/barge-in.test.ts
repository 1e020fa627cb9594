import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startServer, type TestServer } from '../helpers/server.ts';
import { closeSpeech, sequence, silence, speak } from '../helpers/speech.ts';
import { RawClient } from '../helpers/ws-client.ts';
import { noiseBurst } from '../helpers/paused-speech.ts';
import { Resampler } from '../../server/audio/resampler.ts';

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
    // The first sign of speech paused the answer's audio before the VAD confirmed it.
    const paused = client.log.events.findIndex((e) => e.type === 'omnilive.output_audio.paused' && e.response_id === responseId);
    assert.ok(paused >= 0 && paused < client.log.events.indexOf(started as never), 'paused before speech_started');
    const afterPause = client.log.events.slice(paused).filter((e) => e.type === 'response.output_audio.delta' && e.response_id === responseId);
    assert.deepEqual(afterPause, [], 'no answer audio once paused');
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

  it('a cough is not an interruption: the answer pauses, then resumes where it paused, one answer with all its audio', async () => {
    const ask = async (burst?: Int16Array) => {
      const client = new RawClient(server);
      await client.opened;
      client.send({ type: 'conversation.item.create', item: { type: 'message', role: 'user', content: [{ type: 'input_text', text: 'what did I say about the blue boat?' }] } });
      client.send({ type: 'response.create' });
      const first = await client.log.waitFor('response.output_audio.delta');
      if (burst) await client.stream(sequence(silence(300, 24000), burst, silence(1000, 24000)), 24000, true);
      const done = await client.log.waitFor('response.done', (e) => e.response.id === first.response_id, 30_000);
      const audio = client.log.events.filter((e) => e.type === 'response.output_audio.delta' && e.response_id === first.response_id).map((e) => e.delta as string);
      client.close();
      return { client, done, audio: Buffer.concat(audio.map((a) => Buffer.from(a, 'base64'))) };
    };
    const plain = await ask();
    const coughed = await ask(Resampler.convert(noiseBurst(120, -12, 'cough'), 16000, 24000));
    const events = coughed.client.log.events;
    const paused = events.findIndex((e) => e.type === 'omnilive.output_audio.paused');
    const resumed = events.findIndex((e) => e.type === 'omnilive.output_audio.resumed');
    assert.ok(paused >= 0 && resumed > paused, 'paused, then resumed');
    assert.equal(events.filter((e) => e.type === 'input_audio_buffer.speech_started').length, 0, 'no speech was confirmed');
    assert.equal(coughed.done.response.status, 'completed');
    assert.equal(coughed.audio.length, plain.audio.length, 'no audio lost or repeated');
    assert.ok(coughed.audio.equals(plain.audio), 'the same audio, in the same order');
    assert.equal(events.filter((e) => e.type === 'response.created').length, 1, 'one answer');
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

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { pcm16ToBase64 } from '../../server/audio/pcm.ts';
import { EventLog, realtimeClient, startServer, type TestServer } from '../helpers/server.ts';
import { closeSpeech, sequence, silence, speak } from '../helpers/speech.ts';

/** Appends audio in 100 ms events; `paceMs` waits between them (0: as one burst). */
async function stream(send: (e: object) => void, pcm: Int16Array, rate: number, paceMs = 0): Promise<void> {
  const step = rate / 10;
  for (let i = 0; i < pcm.length; i += step) {
    send({ type: 'input_audio_buffer.append', audio: pcm16ToBase64(pcm.subarray(i, i + step)) });
    if (paceMs) await new Promise((r) => setTimeout(r, paceMs));
  }
}

describe('the openai SDK realtime client, unchanged, against OmniLive over wss', () => {
  let server: TestServer;
  before(async () => {
    server = await startServer();
  });
  after(async () => {
    await server.close();
    await closeSpeech();
  });

  it('hears a spoken question, transcribes it and answers in text and audio', async () => {
    const rt = realtimeClient(server);
    const log = new EventLog();
    rt.on('event', (e) => log.push(e as never));
    const errors: unknown[] = [];
    rt.on('error', (e) => errors.push(e));
    await log.waitFor('session.created');
    // The Realtime default input format: pcm16 at 24 kHz.
    const question = sequence(silence(300, 24000), await speak('what is the weather like today', { rate: 24000 }), silence(1200, 24000));
    await stream((e) => rt.send(e as never), question, 24000);
    await log.waitFor('input_audio_buffer.speech_started');
    await log.waitFor('input_audio_buffer.speech_stopped');
    const done = await log.waitFor('conversation.item.input_audio_transcription.completed');
    assert.match(done.transcript, /weather/);
    const response = await log.waitFor('response.done', () => true, 30_000);
    assert.equal(response.response.status, 'completed');
    assert.ok(log.of('response.output_text.delta').length > 0, 'text deltas');
    assert.ok(log.of('response.output_audio_transcript.delta').length > 0, 'audio transcript deltas');
    const audio = log.of('response.output_audio.delta');
    assert.ok(audio.length > 0, 'audio deltas');
    const bytes = audio.reduce((n, e) => n + Buffer.from(e.delta, 'base64').length, 0);
    assert.ok(bytes > 24000 * 2 * 0.5, `at least half a second of 24 kHz audio, got ${bytes} bytes`);
    // The embedded answerer must say that no language model answered.
    const text = log.of('response.output_text.delta').map((e) => e.delta).join('');
    assert.match(text, /no language model is configured/i);
    assert.equal(response.response.metadata.language_model, false);
    const metrics = await log.waitFor('omnilive.metrics');
    assert.ok(metrics.latency_ms.first_audio_delta >= metrics.latency_ms.asr_final);
    assert.deepEqual(errors, []);
    rt.close();
  });

  it('accepts 16 kHz input after session.update', async () => {
    const rt = realtimeClient(server);
    const log = new EventLog();
    rt.on('event', (e) => log.push(e as never));
    await log.waitFor('session.created');
    // The SDK's types know only 24 kHz; OmniLive also takes 16 kHz.
    rt.send({ type: 'session.update', session: { type: 'realtime', audio: { input: { format: { type: 'audio/pcm', rate: 16000 as 24000 } } } } });
    const updated = await log.waitFor('session.updated');
    assert.equal(updated.session.audio.input.format.rate, 16000);
    await stream((e) => rt.send(e as never), sequence(await speak('what is the weather like today'), silence(1200)), 16000);
    const done = await log.waitFor('conversation.item.input_audio_transcription.completed');
    assert.match(done.transcript, /weather/);
    rt.close();
  });
});

import assert from 'node:assert/strict';
import fs from 'node:fs';
import https from 'node:https';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { startServer, type TestServer } from '../helpers/server.ts';
import { startFakeLlm, type FakeLlm } from '../helpers/fake-llm.ts';
import { closeSpeech, sequence, silence, speak } from '../helpers/speech.ts';
import { RawClient } from '../helpers/ws-client.ts';
import { buildWebApp } from '../helpers/web-app.ts';

function httpsGet(url: string, ca: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    https
      .get(url, { ca }, (res) => {
        let body = '';
        res.on('data', (d) => (body += d));
        res.on('end', () => resolve({ status: res.statusCode!, body }));
      })
      .on('error', reject);
  });
}

describe('omnilive serve', () => {
  let server: TestServer;
  before(async () => {
    await buildWebApp(); // `/` serves the web app's static export
    server = await startServer();
  });
  after(async () => {
    await server.close();
    await closeSpeech();
  });

  it('serves http and https on one port with a self-signed certificate kept in the data dir', async () => {
    const plain = await fetch(`http://127.0.0.1:${server.port}/healthz`);
    assert.equal(plain.status, 200);
    const secure = await httpsGet(`https://127.0.0.1:${server.port}/healthz`, server.ca);
    assert.equal(secure.status, 200);
    assert.equal(JSON.parse(secure.body).engines.asr, 'pocketsphinx');
    assert.ok(fs.existsSync(path.join(server.dataDir, 'tls', 'self-signed.key')));
    const page = await fetch(`http://127.0.0.1:${server.port}/`);
    assert.match(await page.text(), /<html|<!doctype/i);
    assert.equal((await fetch(`http://127.0.0.1:${server.port}/../package.json`)).status, 404);
    assert.equal((await fetch(`http://127.0.0.1:${server.port}/%E0%A4%A`)).status, 400, 'malformed percent-encoding is a 400, not a crash');
    assert.equal((await fetch(`http://127.0.0.1:${server.port}/healthz`)).status, 200);
  });

  it('reuses the certificate on restart, and takes --tls-cert/--tls-key', async () => {
    const again = await startServer({ 'tls.cert': path.join(server.dataDir, 'tls', 'self-signed.crt'), 'tls.key': path.join(server.dataDir, 'tls', 'self-signed.key') });
    try {
      const res = await httpsGet(`https://127.0.0.1:${again.port}/healthz`, server.ca);
      assert.equal(res.status, 200);
    } finally {
      await again.close();
    }
  });

  it('keeps concurrent sessions isolated', async () => {
    const a = new RawClient(server);
    const b = new RawClient(server);
    await Promise.all([a.opened, b.opened]);
    const idA = a.log.of('session.created')[0]!.session.id;
    const idB = b.log.of('session.created')[0]!.session.id;
    assert.notEqual(idA, idB);
    const [speechA, speechB] = await Promise.all([
      speak('what is the weather like today', { rate: 24000 }),
      speak('tell me a long story about the sea', { rate: 24000 }),
    ]);
    await Promise.all([a.stream(sequence(speechA, silence(1200, 24000)), 24000), b.stream(sequence(speechB, silence(1200, 24000)), 24000)]);
    const [ta, tb] = await Promise.all([
      a.log.waitFor('conversation.item.input_audio_transcription.completed'),
      b.log.waitFor('conversation.item.input_audio_transcription.completed'),
    ]);
    assert.match(ta.transcript, /weather/);
    assert.match(tb.transcript, /long story/);
    assert.equal(a.log.of('conversation.item.input_audio_transcription.completed').length, 1);
    assert.equal(b.log.of('conversation.item.input_audio_transcription.completed').length, 1);
    // B's memory holds nothing of A's words.
    await b.log.waitFor('response.done', () => true, 30_000);
    b.send({ type: 'conversation.item.create', item: { type: 'message', role: 'user', content: [{ type: 'input_text', text: 'what did I say about the weather?' }] } });
    b.send({ type: 'response.create', response: { output_modalities: ['text'] } });
    const answer = await b.log.waitFor('response.done', (e) => e.response.output_modalities[0] === 'text', 30_000);
    assert.match(answer.response.output[0].content[0].text, /I don't know/);
    a.close();
    b.close();
  });

  it('closing a connection ends its session', async () => {
    const c = new RawClient(server);
    await c.opened;
    const before = server.server.sessions.size;
    c.close();
    await new Promise((r) => setTimeout(r, 200));
    assert.equal(server.server.sessions.size, before - 1);
  });
});

describe('omnilive serve with an OpenAI-compatible LLM', () => {
  let llm: FakeLlm;
  let server: TestServer;
  before(async () => {
    llm = await startFakeLlm(() => 'The answer comes from the language model. It has two sentences.');
    server = await startServer({ 'tls.mode': 'off', 'llm.url': llm.url, 'llm.model': 'fake-model' });
  });
  after(async () => {
    await server.close();
    await llm.close();
  });

  it('streams the model answer as text and speech and says a language model answered', async () => {
    const c = new RawClient(server);
    await c.opened;
    assert.equal(c.log.of('session.created')[0]!.session.omnilive.engines.language_model, true);
    c.send({ type: 'session.update', session: { instructions: 'Be brief.' } });
    c.send({ type: 'conversation.item.create', item: { type: 'message', role: 'user', content: [{ type: 'input_text', text: 'what is this?' }] } });
    c.send({ type: 'response.create' });
    const done = await c.log.waitFor('response.done', () => true, 30_000);
    assert.equal(done.response.status, 'completed');
    assert.equal(done.response.metadata.language_model, true);
    assert.equal(done.response.metadata.reasoner, 'openai-compatible:fake-model');
    const transcript = c.log.of('response.output_audio_transcript.delta').map((e) => e.delta);
    assert.deepEqual(transcript, ['The answer comes from the language model. ', 'It has two sentences. ']);
    assert.match(String(llm.requests.at(-1)!.messages[0]!.content), /Be brief\./);
    c.close();
  });
});

describe('connection start-up', () => {
  let server: TestServer;
  before(async () => {
    server = await startServer({ 'tls.mode': 'off' });
  });
  after(() => server.close());

  it('session.created comes first even when the client talks at once', async () => {
    const c = new RawClient(server);
    await new Promise<void>((resolve) => c.ws.once('open', () => resolve()));
    c.send({ type: 'conversation.item.create', item: { type: 'message', role: 'user', content: [{ type: 'input_text', text: 'what is this?' }] } });
    c.send({ type: 'response.create', response: { output_modalities: ['text'] } });
    await c.log.waitFor('response.done', () => true, 30_000);
    assert.equal(c.log.events[0]!.type, 'session.created');
    c.close();
  });
});

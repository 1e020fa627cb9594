import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { test } from 'node:test';
import { parseWav } from '../../../../server/audio/pcm.ts';
import { RemoteAsrEngine } from '../../../../server/perception/asr/remote.ts';

/** A stand-in for an OpenAI-compatible transcription server: checks the upload, answers JSON. */
async function fakeTranscriber() {
  const uploads: { model: string; wav: ReturnType<typeof parseWav>; auth?: string }[] = [];
  const server = http.createServer(async (req, res) => {
    const body = await new Response(req as unknown as ReadableStream, { headers: { 'content-type': req.headers['content-type']! } }).formData();
    const file = body.get('file') as File;
    uploads.push({ model: String(body.get('model')), wav: parseWav(new Uint8Array(await file.arrayBuffer())), auth: req.headers.authorization });
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ text: ' hello from the server ' }));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`, uploads, close: () => server.close() };
}

test('RemoteAsrEngine uploads the whole utterance as a 16 kHz WAV and returns the text', async () => {
  const fake = await fakeTranscriber();
  try {
    const engine = new RemoteAsrEngine({ baseURL: fake.url, model: 'whisper-large-v3', apiKey: 'sk-remote' });
    const rec = await engine.createRecognizer();
    rec.start();
    assert.equal(await rec.accept(new Int16Array(8000).fill(100)), '');
    await rec.accept(new Int16Array(8000).fill(-100));
    const result = await rec.finish();
    assert.equal(result.text, 'hello from the server');
    assert.equal(fake.uploads.length, 1);
    const { model, wav, auth } = fake.uploads[0]!;
    assert.equal(model, 'whisper-large-v3');
    assert.equal(auth, 'Bearer sk-remote');
    assert.equal(wav.sampleRate, 16000);
    assert.equal(wav.samples.length, 16000);
    assert.equal(wav.samples[8000], -100);
  } finally {
    fake.close();
  }
});

import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { test } from 'node:test';
import { encodeWav } from '../../../server/audio/pcm.ts';
import { RemoteTts } from '../../../server/speech/index.ts';

test('RemoteTts asks an OpenAI-compatible /audio/speech server for WAV and decodes it', async () => {
  const requests: Record<string, unknown>[] = [];
  const server = http.createServer(async (req, res) => {
    let body = '';
    for await (const chunk of req) body += chunk;
    requests.push(JSON.parse(body));
    res.writeHead(200, { 'content-type': 'audio/wav' });
    res.end(encodeWav(new Int16Array(2205).fill(7), 22050));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  try {
    const tts = new RemoteTts({ baseURL: `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`, model: 'kokoro', voice: 'af_heart' });
    const audio = await tts.synthesize('Hello there.', { voice: 'am_adam' });
    assert.equal(audio.sampleRate, 22050);
    assert.equal(audio.pcm.length, 2205);
    assert.deepEqual(requests[0], { model: 'kokoro', voice: 'am_adam', input: 'Hello there.', response_format: 'wav' });
  } finally {
    server.close();
  }
});

// The web app (web/, a Next.js static export) in Debian's Chromium against a real server.
// None of this needs WebRTC: with a server that has it, Start uses it; without, the page falls back.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { generateRouterRtpCapabilities, generateTransportRemoteParameters } from 'mediasoup-client/fakeParameters';
import type { Page } from 'playwright-core';
import { WebSocketServer } from 'ws';
import { launchBrowser, makeSpeechWav, makeY4m, screenshot, type TestBrowser } from '../helpers/browser.ts';
import { startServer, type TestServer } from '../helpers/server.ts';
import { closeSpeech } from '../helpers/speech.ts';
import { attr, buildWebApp, byId, until } from '../helpers/web-app.ts';

const root = path.resolve(import.meta.dirname, '../..');
const media = path.join(os.tmpdir(), `omnilive-web-media-${process.pid}`);

const number = (page: Page, id: string) => async () => Number(await byId(page, id).textContent());

describe('web app', () => {
  let server: TestServer;
  let browser: TestBrowser;
  let page: Page;
  let base: string;

  before(async () => {
    await buildWebApp();
    const [video, audio] = await Promise.all([
      makeY4m(path.join(media, 'camera.y4m'), { text: 'OmniLive camera test' }),
      // A long pause in the loop: the answer must begin (on a loaded machine too) before the repeat talks over it.
      makeSpeechWav(path.join(media, 'question.wav'), 'what is the weather like today', { padMs: 3500 }),
    ]);
    server = await startServer({ 'tls.mode': 'off' });
    base = `http://127.0.0.1:${server.port}`;
    browser = await launchBrowser({ fakeDevices: { video, audio } });
    page = browser.page;
  });

  after(async () => {
    await browser?.close();
    await server?.close();
    await closeSpeech();
  });

  it('is served by the API server on its port: title, Start button, nothing connected yet', async () => {
    const html = await fetch(`${base}/`);
    assert.equal(html.status, 200);
    assert.match(html.headers.get('content-type') ?? '', /text\/html/);
    const chunk = /src="(\/_next\/static\/[^"]+\.js)"/.exec(await html.text())?.[1];
    assert.ok(chunk, 'the page loads its scripts from /_next/static');
    assert.match((await fetch(`${base}${chunk}`)).headers.get('content-type') ?? '', /javascript/);
    assert.match((await fetch(`${base}/capture-worklet.js`)).headers.get('content-type') ?? '', /javascript/);
    assert.equal((await fetch(`${base}/404`)).status, 200, '/404 is served from 404.html');

    await page.goto(base);
    assert.equal(await page.title(), 'OmniLive');
    await byId(page, 'start').waitFor();
    assert.equal(await byId(page, 'start').textContent(), 'Start');
    assert.equal(await byId(page, 'ws-state').getAttribute('data-state'), 'idle');
    assert.equal(await byId(page, 'rtc-state').getAttribute('data-mode'), 'none');
    assert.equal(await byId(page, 'answer-audio-ms').textContent(), '0');
    await screenshot(page, 'web-app-idle');
  });

  it('answers a typed question in text, and plays the spoken answer', async () => {
    await page.goto(base);
    await byId(page, 'question-input').fill('what did I say about the blue boat?');
    await byId(page, 'ask').click();
    const user = byId(page, 'user-turn').first();
    await user.waitFor();
    assert.match((await user.textContent()) ?? '', /blue boat/);
    const answer = page.locator('[data-testid="assistant-turn"][data-state="final"]').first();
    await answer.waitFor({ timeout: 30_000 });
    assert.match((await answer.locator('.text').textContent()) ?? '', /\w+/);
    assert.equal(await byId(page, 'ws-state').getAttribute('data-state'), 'open');
    await until(number(page, 'answer-audio-ms'), (ms) => ms > 500, 'answer audio to play');
    assert.equal(await byId(page, 'question-input').inputValue(), '', 'the box is cleared once sent');
    await screenshot(page, 'web-app-typed-answer');
  });

  it('streams camera and microphone after Start (WebRTC, or the WebSocket fallback), and Stop ends it', async () => {
    await page.goto(base);
    await byId(page, 'start').click();
    await byId(page, 'stop').waitFor();
    const mode = await until(attr(page, 'rtc-state', 'data-mode'), (m) => m === 'webrtc' || m === 'websocket', 'the media uplink', 20_000);
    assert.equal(await byId(page, 'ws-state').getAttribute('data-state'), 'open');
    if (mode === 'websocket') assert.match((await byId(page, 'rtc-state').textContent()) ?? '', /WebRTC unavailable — using WebSocket/);
    // The preview shows the fake camera; the meter moves with the fake microphone's speech.
    await until(() => byId(page, 'camera').evaluate((v) => (v as unknown as { videoWidth: number }).videoWidth), (w) => w > 0, 'the camera preview');
    await until(attr(page, 'mic-level', 'aria-valuenow'), (v) => Number(v) > 10, 'the mic level meter');
    if (mode === 'websocket') await until(async () => (await byId(page, 'media-stats').textContent()) ?? '', (t) => /sent [1-9]/.test(t), 'audio sent over the WebSocket');
    await screenshot(page, 'web-app-started');
    await byId(page, 'stop').click();
    await byId(page, 'start').waitFor();
    assert.equal(await byId(page, 'ws-state').getAttribute('data-state'), 'closed');
    assert.equal(await byId(page, 'rtc-state').getAttribute('data-mode'), 'none');
    assert.equal(await byId(page, 'camera').evaluate((v) => (v as unknown as { srcObject: unknown }).srcObject), null);
  });

  it('transcribes a spoken question (partial, then final), answers it, and stops the answer when the user talks over it', async () => {
    // The WebSocket media path, whatever the server supports: the fake microphone loops the question.
    await page.goto(`${base}/?media=websocket`);
    await byId(page, 'start').click();
    await until(attr(page, 'rtc-state', 'data-mode'), (m) => m === 'websocket', 'the WebSocket uplink');
    // The turn shows from speech onset, partial until the recognizer's final transcript.
    await page.locator('[data-testid="user-turn"][data-state="partial"]').first().waitFor({ timeout: 30_000 });
    const final = page.locator('[data-testid="user-turn"][data-state="final"]').first();
    await final.waitFor({ timeout: 30_000 });
    assert.match((await final.textContent()) ?? '', /weather/);
    // The answer speaks for longer than the loop's pause: the repeated question interrupts it.
    const cancelled = page.locator('[data-testid="assistant-turn"][data-state="cancelled"]').first();
    await cancelled.waitFor({ timeout: 30_000 });
    assert.match((await cancelled.textContent()) ?? '', /you interrupted/);
    assert.ok(Number(await byId(page, 'answer-audio-ms').textContent()) > 0, 'some of the answer was heard before the interruption');
    await until(attr(page, 'answer-audio-ms', 'data-playing'), (p) => p === 'false', 'playback to stop at the interruption', 2000);
    await screenshot(page, 'web-app-spoken');
    await byId(page, 'stop').click();
  });

  it('continues with audio only, and says so, when there is no camera', async () => {
    const noCamera = await browser.context.newPage();
    try {
      // As if no camera were plugged in: any request for video finds no device.
      await noCamera.addInitScript(() => {
        const md = (globalThis as any).navigator.mediaDevices;
        const original = md.getUserMedia.bind(md);
        md.getUserMedia = (c: { video?: unknown }) => (c?.video ? Promise.reject(new (globalThis as any).DOMException('Requested device not found', 'NotFoundError')) : original(c));
      });
      await noCamera.goto(base);
      await byId(noCamera, 'start').click();
      await byId(noCamera, 'notice').waitFor();
      assert.match((await byId(noCamera, 'notice').textContent()) ?? '', /No camera.*audio only/);
      await until(attr(noCamera, 'rtc-state', 'data-mode'), (m) => m === 'webrtc' || m === 'websocket', 'the media uplink');
      assert.equal(await byId(noCamera, 'error').count(), 0);
      assert.equal(await byId(noCamera, 'stop').count(), 1);
      await screenshot(noCamera, 'web-app-audio-only');
      await byId(noCamera, 'stop').click();
    } finally {
      await noCamera.close();
    }
  });
});

describe('web app: memory clips from the camera', () => {
  let server: TestServer;
  let browser: TestBrowser;

  before(async () => {
    await buildWebApp();
    // Two signs, four seconds each: every change of sign is a scene cut, so clips come quickly.
    const video = await makeY4m(path.join(media, 'signs.y4m'), {
      seconds: 4,
      scenes: [
        { text: 'EXIT 12', background: 'white', color: 'black' },
        { text: 'GATE B7', background: 'navy', color: 'white' },
      ],
    });
    server = await startServer({ 'tls.mode': 'off', 'vision.enabled': 'on', 'vision.facts': 'ocr', 'vision.modelsDir': '/nonexistent' });
    browser = await launchBrowser({ fakeDevices: { video } });
  });

  after(async () => {
    await browser?.close();
    await server?.close();
  });

  it('shows each committed clip: keyframe thumbnail, start time, and the text read in it', async () => {
    const { page } = browser;
    // Frames as JPEG over the WebSocket, once a second (WebRTC would carry them as VP8 instead).
    await page.goto(`http://127.0.0.1:${server.port}/?media=websocket`);
    await byId(page, 'start').click();
    const clip = byId(page, 'clip').first();
    await clip.waitFor({ timeout: 40_000 });
    assert.match((await clip.locator('img').getAttribute('src')) ?? '', /^data:image\/jpeg;base64,\/9j\//);
    assert.match((await clip.textContent()) ?? '', /^\d+:\d\d$/);
    await until(async () => (await byId(page, 'clip-strip').locator('[data-testid="clip"][title]').count()) > 0, (n) => n, 'a clip with text', 30_000);
    const titles = await byId(page, 'clip-strip').locator('[data-testid="clip"][title]').evaluateAll((els) => els.map((e) => (e as unknown as { title: string }).title));
    assert.ok(titles.some((t) => /EXIT 12|GATE B7/.test(t)), `clip titles: ${JSON.stringify(titles)}`);
    assert.match((await byId(page, 'media-stats').textContent()) ?? '', /[1-9]\d* frames over WebSocket/);
    await screenshot(page, 'web-app-clips');
    await byId(page, 'stop').click();
  });
});

/**
 * Serves web/out and answers the page's omnilive.webrtc.* requests itself, with a transport
 * whose only ICE candidate never answers: the signalling runs for real, the media never flows.
 */
async function startBlackholeSignalling() {
  const out = path.join(root, 'web/out');
  const received: Record<string, any>[] = [];
  const server = http.createServer((req, res) => {
    const rel = new URL(req.url ?? '/', 'http://x').pathname;
    const file = path.join(out, rel === '/' ? 'index.html' : rel);
    if (!file.startsWith(out) || !fs.existsSync(file) || !fs.statSync(file).isFile()) return void res.writeHead(404).end();
    const type = { '.html': 'text/html', '.js': 'text/javascript', '.css': 'text/css' }[path.extname(file)] ?? 'application/octet-stream';
    res.writeHead(200, { 'content-type': type });
    fs.createReadStream(file).pipe(res);
  });
  const wss = new WebSocketServer({ server, path: '/v1/realtime' });
  wss.on('connection', (ws) => {
    const send = (event: object) => ws.send(JSON.stringify(event));
    send({ type: 'session.created', session: { output_modalities: ['audio'], audio: { output: { format: { type: 'audio/pcm', rate: 24000 } } }, omnilive: { engines: { scene: null } } } });
    ws.on('message', (data) => {
      const e = JSON.parse(String(data));
      received.push(e);
      const reply = (type: string, body: object = {}) => send({ type, request_id: e.event_id, ...body });
      if (e.type === 'omnilive.webrtc.join') reply('omnilive.webrtc.joined', { router_rtp_capabilities: generateRouterRtpCapabilities() });
      if (e.type === 'omnilive.webrtc.transport.create') {
        const { id, iceParameters, dtlsParameters, iceCandidates } = generateTransportRemoteParameters();
        // The discard port on loopback: nothing there answers ICE.
        reply('omnilive.webrtc.transport.created', { transport: { id, iceParameters, dtlsParameters, iceCandidates: [{ ...iceCandidates[0]!, address: '127.0.0.1', ip: '127.0.0.1', port: 9, tcpType: undefined }] } });
      }
      if (e.type === 'omnilive.webrtc.transport.connect') reply('omnilive.webrtc.transport.connected');
      if (e.type === 'omnilive.webrtc.produce') reply('omnilive.webrtc.produced', { producer_id: `producer-${e.kind}`, kind: e.kind });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as AddressInfo).port,
    received,
    close: () => {
      for (const client of wss.clients) client.terminate();
      wss.close();
      return new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

describe('web app: WebRTC signalling, and the WebSocket fallback when the transport never connects', () => {
  let signalling: Awaited<ReturnType<typeof startBlackholeSignalling>>;
  let browser: TestBrowser;

  before(async () => {
    await buildWebApp();
    signalling = await startBlackholeSignalling();
    browser = await launchBrowser({ fakeDevices: true });
  });

  after(async () => {
    await browser?.close();
    await signalling?.close();
  });

  it('joins, creates and connects a send transport, produces Opus and VP8, then after 10 s leaves and streams over the WebSocket', async () => {
    const { page } = browser;
    await page.goto(`http://127.0.0.1:${signalling.port}/`);
    const started = Date.now();
    await byId(page, 'start').click();
    await until(attr(page, 'rtc-state', 'data-mode'), (m) => m === 'connecting', 'the WebRTC attempt', 5000);
    await until(attr(page, 'rtc-state', 'data-mode'), (m) => m === 'websocket', 'the fallback', 20_000);
    const waited = Date.now() - started;
    assert.ok(waited >= 9500 && waited < 15_000, `fell back after ${waited} ms: ${await byId(page, 'rtc-state').getAttribute('title')}`);
    assert.match((await byId(page, 'rtc-state').textContent()) ?? '', /WebRTC unavailable — using WebSocket/);
    assert.match((await byId(page, 'rtc-state').getAttribute('title')) ?? '', /did not connect within 10 s/);
    await until(() => Promise.resolve(signalling.received.filter((e) => e.type === 'input_audio_buffer.append').length), (n) => n >= 3, 'audio over the WebSocket');

    const webrtc = signalling.received.filter((e) => e.type.startsWith('omnilive.webrtc.'));
    assert.deepEqual(
      webrtc.map((e) => (e.kind ? `${e.type}:${e.kind}` : e.type)),
      ['omnilive.webrtc.join', 'omnilive.webrtc.transport.create', 'omnilive.webrtc.transport.connect', 'omnilive.webrtc.produce:audio', 'omnilive.webrtc.produce:video', 'omnilive.webrtc.leave'],
    );
    assert.equal(new Set(webrtc.map((e) => e.event_id)).size, webrtc.length, 'every request has its own event_id');
    const [, create, connect, audio, video] = webrtc as [any, any, any, any, any];
    assert.ok(create.event_id);
    assert.equal(connect.transport_id, audio.transport_id);
    assert.ok(connect.dtls_parameters.fingerprints.length > 0);
    assert.equal(audio.rtp_parameters.codecs[0].mimeType.toLowerCase(), 'audio/opus');
    assert.equal(video.rtp_parameters.codecs[0].mimeType.toLowerCase(), 'video/vp8');
    assert.equal(video.rtp_parameters.encodings.length, 1);
    assert.equal(video.rtp_parameters.encodings[0].maxBitrate, 500_000);
    // No WebSocket audio while WebRTC was being tried: the server must not get the microphone twice.
    const leaveAt = signalling.received.indexOf(webrtc.at(-1)!);
    assert.equal(signalling.received.slice(0, leaveAt).filter((e) => e.type === 'input_audio_buffer.append').length, 0);
    await screenshot(page, 'web-app-webrtc-fallback');
    await byId(page, 'stop').click();
  });
});

describe('web app: camera and microphone permission denied', () => {
  let server: TestServer;
  let browser: TestBrowser;

  before(async () => {
    await buildWebApp();
    server = await startServer({ 'tls.mode': 'off' });
    browser = await launchBrowser({ allowMedia: false, fakeDevices: true });
  });

  after(async () => {
    await browser?.close();
    await server?.close();
  });

  it('says permission was denied, and typed questions still work', async () => {
    const { page } = browser;
    await page.goto(`http://127.0.0.1:${server.port}/`);
    await byId(page, 'start').click();
    const error = byId(page, 'error');
    await error.waitFor();
    assert.equal(await error.getAttribute('data-kind'), 'permission');
    assert.match((await error.textContent()) ?? '', /permission was denied/);
    await byId(page, 'start').waitFor(); // back to idle, nothing capturing
    await screenshot(page, 'web-app-permission-denied');
    await byId(page, 'question-input').fill('hello?');
    await byId(page, 'ask').click();
    await page.locator('[data-testid="assistant-turn"][data-state="final"]').first().waitFor({ timeout: 30_000 });
  });
});

describe('web app: server unreachable', () => {
  let server: TestServer | undefined;
  let browser: TestBrowser;

  before(async () => {
    await buildWebApp();
    browser = await launchBrowser({ fakeDevices: true });
  });

  after(async () => {
    await browser?.close();
    await server?.close();
  });

  it('says the server is unreachable, offers Retry, and reconnects once the server is back; a dropped connection says so too', async () => {
    const { page } = browser;
    server = await startServer({ 'tls.mode': 'off' });
    const port = server.port;
    await page.goto(`http://127.0.0.1:${port}/`);
    await byId(page, 'start').waitFor();
    await server.close();
    server = undefined;

    await byId(page, 'start').click();
    const error = byId(page, 'error');
    await error.waitFor();
    assert.equal(await error.getAttribute('data-kind'), 'unreachable');
    assert.match((await error.textContent()) ?? '', /unreachable/);
    assert.equal(await byId(page, 'ws-state').getAttribute('data-state'), 'unreachable');
    assert.equal(await byId(page, 'start').count(), 1, 'Start is offered again');
    await screenshot(page, 'web-app-unreachable');

    // The server comes back on the same port: Retry starts again.
    server = await startServer({ 'tls.mode': 'off', port: String(port) });
    await byId(page, 'retry').click();
    await until(attr(page, 'ws-state', 'data-state'), (s) => s === 'open', 'the reconnection');
    await byId(page, 'stop').waitFor();
    assert.equal(await byId(page, 'error').count(), 0);

    // The server goes away mid-session: the page says so and reconnects by itself (web-reconnect.test.ts: the return).
    await server.close();
    server = undefined;
    await until(attr(page, 'error', 'data-kind'), (k) => k === 'disconnected', 'the lost-connection message');
    assert.equal(await byId(page, 'ws-state').getAttribute('data-state'), 'lost');
    assert.match((await byId(page, 'reconnecting').textContent()) ?? '', /^Connection lost: the server shut down — reconnecting (in \d+ s|now) \(attempt \d+\)…$/);
    assert.equal(await byId(page, 'retry').textContent(), 'Retry now');
    await screenshot(page, 'web-app-connection-lost');
    // Stop ends the reconnecting, and releases camera and microphone.
    await byId(page, 'stop').click();
    await byId(page, 'start').waitFor();
    assert.equal(await byId(page, 'error').count(), 0);
    assert.equal(await byId(page, 'ws-state').getAttribute('data-state'), 'closed');
  });
});

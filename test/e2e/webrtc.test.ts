// The web app over WebRTC, end to end: Debian's Chromium with a fake camera (a generated y4m)
// and a fake microphone (a WAV of a spoken question) opens the app; its camera and mic go
// through mediasoup to the server's ffmpeg decoders and into the session, and the answer
// comes back as text and as a WebRTC voice track the page plays.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { Page } from 'playwright-core';
import { childProcesses } from '../helpers/proc.ts';
import { launchBrowser, makeSpeechWav, makeY4m, screenshot, type TestBrowser } from '../helpers/browser.ts';
import { startServer, type TestServer } from '../helpers/server.ts';
import { RawClient } from '../helpers/ws-client.ts';
import { buildWebApp } from '../helpers/web-app.ts';

const WEBRTC = { 'webrtc.enabled': 'on', 'webrtc.workers': '1' } as const;

/** ffmpeg processes started by this test process (the decoders are its direct children). */
const ffmpegChildren = () => childProcesses('ffmpeg');

async function healthz(server: TestServer): Promise<{ sessions: number; webrtc: Record<string, number> }> {
  return (await fetch(`http://127.0.0.1:${server.port}/healthz`)).json() as never;
}

async function waitFor<T>(what: string, probe: () => Promise<T | undefined | false> | T | undefined | false, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

async function startSession(page: Page, port: number): Promise<void> {
  await page.goto(`http://127.0.0.1:${port}/`);
  await page.getByTestId('start').click();
  await page.locator('[data-testid="rtc-state"][data-mode="webrtc"][data-state="connected"]').waitFor({ timeout: 20_000 });
}

const mediaCounts = async (page: Page) => {
  const stats = page.getByTestId('media-stats');
  return { audioMs: Number(await stats.getAttribute('data-audio-ms')), frames: Number(await stats.getAttribute('data-video-frames')) };
};

describe('web app over WebRTC', { timeout: 240_000 }, () => {
  let server: TestServer;
  let media: string;

  before(async () => {
    await buildWebApp();
    media = fs.mkdtempSync(path.join(os.tmpdir(), 'omnilive-webrtc-'));
    server = await startServer({ ...WEBRTC, 'vision.enabled': 'on', 'vision.facts': 'ocr' });
    assert.ok(server.server.media, `WebRTC must be available: ${server.server.webrtcUnavailable}`);
  });

  after(async () => {
    await server?.close();
    fs.rmSync(media, { recursive: true, force: true });
  });

  test('camera and mic reach the session; the spoken question is answered in text and audio', async () => {
    const browser = await launchBrowser({
      fakeDevices: {
        video: await makeY4m(path.join(media, 'camera.y4m'), { text: 'GATE 42' }),
        audio: await makeSpeechWav(path.join(media, 'question.wav'), 'what is the weather like today', { padMs: 2500 }),
      },
    });
    try {
      const { page } = browser;
      await startSession(page, server.port);
      // The server decoded both tracks (counts come from the server's decoders, not the page).
      const counts = await waitFor('decoded audio and frames', async () => {
        const c = await mediaCounts(page);
        return c.audioMs > 0 && c.frames > 0 && c;
      });
      assert.ok(counts.audioMs > 0 && counts.frames > 0);
      const heard = await page.locator('[data-testid="user-turn"][data-state="final"]').first().textContent({ timeout: 60_000 });
      assert.match(heard ?? '', /weather/i, `the page shows the transcript of the spoken question: ${heard}`);
      await page.getByTestId('assistant-turn').first().waitFor({ timeout: 30_000 });
      // The answer is heard from the server's voice track (energy measured by the receiver), not from WebAudio.
      const answered = await waitFor('answer audio to play', async () => Number(await page.getByTestId('answer-audio-ms').textContent()) > 0, 30_000);
      assert.ok(answered);
      assert.equal(await page.getByTestId('answer-audio-ms').getAttribute('data-via'), 'webrtc');
      // The answer speaks longer than the fake microphone's pause: the looped question talks over it,
      // the server stops the voice, and the track goes quiet.
      const cancelled = page.locator('[data-testid="assistant-turn"][data-state="cancelled"]').first();
      await cancelled.waitFor({ timeout: 30_000 });
      assert.match((await cancelled.textContent()) ?? '', /you interrupted/);
      await waitFor('the voice track to fall silent', async () => (await page.getByTestId('answer-audio-ms').getAttribute('data-playing')) === 'false', 2000);
      // The camera's frames became clips the page shows as thumbnails.
      await page.getByTestId('clip').first().waitFor({ timeout: 30_000 });
      await screenshot(page, 'webrtc-session');
      const health = await healthz(server);
      assert.equal(health.webrtc.producers, 3, 'audio and video from the browser, the answer voice from the server');
      assert.equal(health.webrtc.consumers, 3, 'one per decoder, and the browser receiving the voice');
      assert.equal(ffmpegChildren().length, 2, 'one decoder per track');
    } finally {
      await browser.close();
    }
    await waitFor('the session to end', async () => (await healthz(server)).sessions === 0);
  });

  test('the voice track refuses what cannot receive it, naming the request and field', async () => {
    const c = new RawClient(server);
    await c.opened;
    const opus = { mimeType: 'audio/opus', kind: 'audio', clockRate: 48000, channels: 2, preferredPayloadType: 100 };
    const error = async (event_id: string) => (await c.log.waitFor('error', (e) => e.error.event_id === event_id)).error;
    c.send({ type: 'omnilive.webrtc.consume', event_id: 'c1', transport_id: 'x', rtp_capabilities: { codecs: [opus] } });
    assert.equal((await error('c1')).code, 'webrtc_not_joined');
    c.send({ type: 'omnilive.webrtc.join', event_id: 'j' });
    await c.log.waitFor('omnilive.webrtc.joined');
    c.send({ type: 'omnilive.webrtc.consume', event_id: 'c2', transport_id: 'nope', rtp_capabilities: { codecs: [opus] } });
    assert.deepEqual(await error('c2').then((e) => [e.code, e.param]), ['webrtc_unknown_transport', 'transport_id']);
    c.send({ type: 'omnilive.webrtc.consume', event_id: 'c3', transport_id: 'nope', rtp_capabilities: { codecs: 'opus' } });
    assert.equal((await error('c3')).param, 'rtp_capabilities.codecs');
    c.send({ type: 'omnilive.webrtc.transport.create', event_id: 't' });
    const created = await c.log.waitFor('omnilive.webrtc.transport.created');
    const vp8Only = { codecs: [{ mimeType: 'video/VP8', kind: 'video', clockRate: 90000, preferredPayloadType: 101 }] };
    c.send({ type: 'omnilive.webrtc.consume', event_id: 'c4', transport_id: created.transport.id, rtp_capabilities: vp8Only });
    assert.deepEqual(await error('c4').then((e) => [e.code, e.param]), ['invalid_value', 'rtp_capabilities']);
    c.close();
    await waitFor('the session to end', async () => (await healthz(server)).sessions === 0);
    assert.equal((await healthz(server)).webrtc.routers, 0);
  });

  test('two browsers at once stay isolated: each hears only its own speaker', async () => {
    const make = async (name: string, text: string): Promise<TestBrowser> =>
      launchBrowser({
        fakeDevices: {
          video: await makeY4m(path.join(media, `${name}.y4m`), { text: name.toUpperCase() }),
          audio: await makeSpeechWav(path.join(media, `${name}.wav`), text, { padMs: 2500 }),
        },
      });
    const one = await make('one', 'what is the weather like today');
    const two = await make('two', 'tell me a long story about the sea');
    try {
      await Promise.all([startSession(one.page, server.port), startSession(two.page, server.port)]);
      // The fake mic loops its file from when the device opened: the first turn may be cut short
      // if media took long to connect, so wait for a turn that has the words, then check them all.
      const heard = (b: TestBrowser, words: RegExp) => b.page.locator('[data-testid="user-turn"][data-state="final"]', { hasText: words }).first().waitFor({ timeout: 60_000 });
      await Promise.all([heard(one, /weather/i), heard(two, /story|sea/i)]);
      const turns = (b: TestBrowser) => b.page.locator('[data-testid="user-turn"][data-state="final"]').allTextContents();
      for (const a of await turns(one)) assert.doesNotMatch(a, /story|sea/i);
      for (const b of await turns(two)) assert.doesNotMatch(b, /weather/i);
      const health = await healthz(server);
      assert.equal(health.sessions, 2);
      assert.equal(health.webrtc.routers, 2, 'a router per session');
    } finally {
      await Promise.all([one.close(), two.close()]);
    }
  });

  test('20 start/stop cycles leave no router, transport, port or ffmpeg behind', async () => {
    const browser = await launchBrowser({ fakeDevices: true });
    try {
      const { page } = browser;
      await page.goto(`http://127.0.0.1:${server.port}/`);
      for (let cycle = 0; cycle < 20; cycle++) {
        await page.getByTestId('start').click();
        await page.locator('[data-testid="rtc-state"][data-mode="webrtc"][data-state="connected"]').waitFor({ timeout: 20_000 });
        await page.getByTestId('stop').click();
        await page.getByTestId('start').waitFor({ timeout: 10_000 });
      }
    } finally {
      await browser.close();
    }
    const health = await waitFor('everything to be released', async () => {
      const h = await healthz(server);
      const w = h.webrtc;
      return h.sessions === 0 && w.routers === 0 && w.transports === 0 && w.producers === 0 && w.consumers === 0 && w.rtpPortPairs === 0 && ffmpegChildren().length === 0 && h;
    });
    assert.equal(health.webrtc.workers, 1, 'the worker itself stays up');
  });

  test('a decoder that dies is replaced and media keeps flowing', async () => {
    const browser = await launchBrowser({ fakeDevices: true });
    try {
      const { page } = browser;
      await startSession(page, server.port);
      const before = await waitFor('frames', async () => {
        const c = await mediaCounts(page);
        return c.frames > 0 && c;
      });
      for (const { pid } of ffmpegChildren()) process.kill(pid, 'SIGKILL');
      await page.locator('[data-testid="error"]', { hasText: /restarting/ }).first().waitFor({ timeout: 10_000 }).catch(() => {});
      await waitFor('frames and audio after the restart', async () => {
        const c = await mediaCounts(page);
        return c.frames > before.frames + 1 && c.audioMs > before.audioMs + 1000;
      }, 20_000);
      assert.equal(ffmpegChildren().length, 2);
    } finally {
      await browser.close();
    }
  });
});

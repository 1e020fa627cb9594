// Clients come back by themselves (issue #15): the web app's server is SIGKILLed mid-session and
// started again on the same port and data dir; the page reconnects with backoff, in a new session
// of the same user, puts its camera and microphone back on air (WebRTC, or the WebSocket when
// WebRTC does not connect), and answers from what was said before the crash. One server process
// at a time, typed questions, a silent microphone: cheap.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Page } from 'playwright-core';
import { encodeWav } from '../../server/audio/pcm.ts';
import { Reconnector, backoffDelay, defaultReconnectOptions, reconnectsAfter, type ReconnectStatus } from '../../web/lib/reconnect.ts';
import { launchBrowser, screenshot, type TestBrowser } from '../helpers/browser.ts';
import { serveCli, type ServedCli } from '../helpers/cli-server.ts';
import { silence } from '../helpers/speech.ts';
import { attr, buildWebApp, byId, until } from '../helpers/web-app.ts';


type WireEvent = { type: string } & Record<string, any>;

/** Each realtime WebSocket the page opens, with the events it sent and received. */
function recordSockets(page: Page): { sent: WireEvent[]; received: WireEvent[] }[] {
  const sockets: { sent: WireEvent[]; received: WireEvent[] }[] = [];
  const parse = (payload: string | Buffer): WireEvent | null => {
    try {
      return JSON.parse(String(payload));
    } catch {
      return null;
    }
  };
  page.on('websocket', (ws) => {
    if (!ws.url().includes('/v1/realtime')) return;
    const socket = { sent: [] as WireEvent[], received: [] as WireEvent[] };
    sockets.push(socket);
    ws.on('framesent', ({ payload }) => void (parse(payload) && socket.sent.push(parse(payload)!)));
    ws.on('framereceived', ({ payload }) => void (parse(payload) && socket.received.push(parse(payload)!)));
  });
  return sockets;
}

/** Rows the server still holds in memory only (what a SIGKILL would lose), from /metrics on loopback. */
async function pendingMemoryRows(port: number): Promise<{ pending: number; written: number }> {
  const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
  const pending = Number(/^omnilive_memory_pending_rows (\S+)$/m.exec(text)?.[1] ?? NaN);
  const written = [...text.matchAll(/^omnilive_memory_rows_written_total\{[^}]*\} (\S+)$/gm)].reduce((n, m) => n + Number(m[1]), 0);
  return { pending, written };
}

/** The answers shown so far (as far as they arrived), oldest first. */
const answers = (page: Page) => page.locator('[data-testid="assistant-turn"] .text').allTextContents();

describe('reconnect policy: exponential backoff with full jitter', () => {
  it('waits at most 0.5 s, 1 s, 2 s, 4 s, then 8 s for good; never less than nothing', () => {
    const top = () => 0.999_999;
    assert.deepEqual([1, 2, 3, 4, 5, 6, 50].map((n) => Math.round(backoffDelay(n, defaultReconnectOptions, top) / 100) * 100), [500, 1000, 2000, 4000, 8000, 8000, 8000]);
    assert.equal(backoffDelay(3, defaultReconnectOptions, () => 0), 0);
    assert.ok(reconnectsAfter(1001) && reconnectsAfter(1006) && reconnectsAfter(1012));
    assert.ok(!reconnectsAfter(1008), "the server's policy (a session length limit, a slow client) is not undone");
  });

  it('retries until an attempt connects, gives up on what retrying cannot mend, and stops when cancelled', async () => {
    const statuses: (ReconnectStatus | null)[] = [];
    let failures = 2;
    let gaveUp: unknown;
    const reconnector: Reconnector = new Reconnector(
      {
        attempt: async () => {
          if (failures-- > 0) throw new Error('refused');
          reconnector.connected();
        },
        retryable: (error) => (error as Error).message !== 'bad key',
        onStatus: (status) => statuses.push(status),
        onGiveUp: (error) => (gaveUp = error),
      },
      { initialDelayMs: 5, maxDelayMs: 20, stableAfterMs: 200 },
    );
    reconnector.lost('Connection lost');
    await until(async () => reconnector.active, (active) => !active, 'the third attempt to connect', 2000);
    const scheduled = statuses.filter((s) => s && s.at !== null).map((s) => s!.attempt);
    assert.deepEqual(scheduled, [1, 2, 3]);
    assert.equal(statuses.at(-1), null);

    // Lost again at once: the connection was not stable, so the count goes on.
    failures = 1_000;
    reconnector.lost('Connection lost');
    assert.equal(statuses.at(-1)!.attempt, 4);
    reconnector.cancel();
    const seen = statuses.length;
    await new Promise((r) => setTimeout(r, 60));
    assert.equal(statuses.length, seen, 'no attempt after cancel');

    // A refusal retrying cannot mend (a bad key) ends it, and says why.
    const refusing = new Reconnector({ attempt: async () => Promise.reject(new Error('bad key')), retryable: () => false, onStatus: () => {}, onGiveUp: (e) => (gaveUp = e) }, { initialDelayMs: 1 });
    refusing.lost('Connection lost');
    await until(async () => refusing.active, (active) => !active, 'giving up', 2000);
    assert.equal((gaveUp as Error).message, 'bad key');
  });
});

describe('web app: reconnects by itself after the server is killed and restarted', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'omnilive-web-reconnect-'));
  const args = ['--data', path.join(dir, 'data'), '--memory', 'on', '--webrtc', 'on', '--rtc-workers', '1'];
  const servers: ServedCli[] = [];
  let browser: TestBrowser;
  let first: ServedCli;

  before(async () => {
    // A silent microphone: it streams, but nothing in it is a turn to answer.
    const quiet = path.join(dir, 'quiet.wav');
    fs.writeFileSync(quiet, encodeWav(silence(2000, 48000), 48000));
    // The server's start (engines, memory) is most of the wait: the browser gets ready meanwhile.
    const served = serveCli(args).then((s) => (servers.push(s), s));
    [first, browser] = await Promise.all([served, buildWebApp().then(() => launchBrowser({ fakeDevices: { audio: quiet } }))]);
  });

  after(async () => {
    await browser?.close();
    for (const s of servers) if (s.child.exitCode === null && s.child.signalCode === null) s.child.kill('SIGKILL');
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('says it is reconnecting, comes back in a new session of the same user, streams again, and remembers what was said before the crash', async (t) => {
    const { page } = browser;
    const sockets = recordSockets(page);
    await page.goto(`http://127.0.0.1:${first.port}/`);
    await byId(page, 'start').click();
    const mode = await until(attr(page, 'rtc-state', 'data-mode'), (m) => m === 'webrtc' || m === 'websocket', 'the camera and microphone streaming');
    await byId(page, 'question-input').fill('remember that my locker number is 4 2 7');
    await byId(page, 'ask').click();
    await page.locator('[data-testid="user-turn"][data-state="final"]').first().waitFor();
    // Durable before the kill (the statement at least; its spoken answer may still be on its way).
    await until(() => pendingMemoryRows(first.port), (m) => m.pending === 0 && m.written >= 1, 'memory flushed to disk', 20_000);
    first.child.kill('SIGKILL');
    assert.equal((await first.exited).signal, 'SIGKILL');
    const lostAt = Date.now();
    const reconnecting = byId(page, 'reconnecting');
    await reconnecting.waitFor({ timeout: 10_000 });
    assert.match((await reconnecting.textContent()) ?? '', /^Connection lost — reconnecting (in \d+ s|now) \(attempt \d+\)…$/);
    assert.equal(await byId(page, 'ws-state').getAttribute('data-state'), 'lost');
    assert.match((await byId(page, 'ws-state').textContent()) ?? '', /reconnecting/);
    assert.equal(await byId(page, 'retry').textContent(), 'Retry now');
    assert.equal(await byId(page, 'stop').count(), 1, 'the microphone stays open, and Stop would end the reconnecting');
    // Attempts go on while the server is down (backoff: the count rises).
    await until(attr(page, 'reconnecting', 'data-attempt'), (n) => Number(n) >= 2, 'a second attempt', 10_000);
    await screenshot(page, 'web-reconnect-lost');

    const second = await serveCli([...args, '--port', String(first.port)]);
    servers.push(second);
    const restartedAt = Date.now();
    // No click: the page comes back by itself (at most one capped wait of 8 s after the server listens).
    await until(attr(page, 'ws-state', 'data-state'), (s) => s === 'open', 'the page to reconnect by itself', 30_000);
    const backAt = Date.now();
    assert.match((await byId(page, 'reconnected').textContent()) ?? '', /Reconnected: a new session; memory carries over/);
    assert.equal(await byId(page, 'error').count(), 0);
    assert.match((await byId(page, 'transcript').textContent()) ?? '', /Reconnected: a new session/);

    // What ran before runs again: the media streams into the new session, which got the settings and listed the watches.
    const again = await until(attr(page, 'rtc-state', 'data-mode'), (m) => m === 'webrtc' || m === 'websocket', 'the camera and microphone back on air');
    const latest = sockets.at(-1)!;
    if (again === 'webrtc') await until(attr(page, 'media-stats', 'data-audio-ms'), (ms) => Number(ms) > 0, 'the server decoding audio of the new session');
    else await until(async () => latest.sent.filter((e) => e.type === 'input_audio_buffer.append').length, (n) => n >= 3, 'audio sent to the new session');
    t.diagnostic(`media ${mode} before, ${again} after; server down ${restartedAt - lostAt} ms; page back ${backAt - restartedAt} ms after the restart, streaming ${Date.now() - restartedAt} ms after`);
    const update = latest.sent.find((e) => e.type === 'session.update');
    assert.equal(update?.session?.audio?.input?.format?.rate, 24000, 'the session settings are sent again');
    assert.ok(latest.sent.some((e) => e.type === 'omnilive.watch.list'), 'the watches are listed again');
    const users = sockets.map((s) => s.received.find((e) => e.type === 'session.created')?.session?.omnilive?.user).filter(Boolean);
    assert.deepEqual([users[0], users.at(-1)], ['local', 'local'], 'the same user before and after');

    assert.equal(await page.locator('[data-testid="assistant-turn"][data-state="partial"]').count(), 0, 'an answer the crash cut short is marked so, not left arriving');
    const before = (await answers(page)).length;
    await byId(page, 'question-input').fill('what is my locker number');
    await byId(page, 'ask').click();
    // The answer's words arrive as it is spoken: wait for the whole answer, or for enough of it to hold the number.
    const answer = byId(page, 'assistant-turn').nth(before);
    await answer.waitFor({ timeout: 30_000 });
    const said = await until(
      async () => ({ text: (await answer.locator('.text').textContent()) ?? '', state: await answer.getAttribute('data-state') }),
      (a) => a.state !== 'partial' || /4 2 7/.test(a.text),
      'the answer after the restart',
      30_000,
    );
    assert.match(said.text, /4 2 7/, 'answered from what was said before the crash');
    await screenshot(page, 'web-reconnect');
    await byId(page, 'stop').click();
    await byId(page, 'start').waitFor();
  });
});

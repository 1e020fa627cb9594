// Proactive watches in the web app (issue #14), in Chromium against a real server that reads the
// camera: a typed "let me know when …" makes a watch, the camera showing it makes the assistant
// speak up unasked, and the panel adds and cancels watches. One server, one page: this is cheap.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Locator, Page } from 'playwright-core';
import { encodeWav } from '../../server/audio/pcm.ts';
import { launchBrowser, makeY4m, screenshot, type TestBrowser } from '../helpers/browser.ts';
import { startServer, type TestServer } from '../helpers/server.ts';
import { silence } from '../helpers/speech.ts';
import { buildWebApp } from '../helpers/web-app.ts';

const media = path.join(os.tmpdir(), `omnilive-web-watches-${process.pid}`);

const byId = (page: Page, id: string) => page.getByTestId(id);

type WireEvent = { type: string } & Record<string, any>;

/** Every server event the page received, so a failure can say what the server did and did not send. */
function recordServerEvents(page: Page): WireEvent[] {
  const events: WireEvent[] = [];
  page.on('websocket', (ws) => {
    if (!ws.url().includes('/v1/realtime')) return;
    ws.on('framereceived', ({ payload }) => {
      try {
        events.push(JSON.parse(String(payload)));
      } catch {
        // not an event
      }
    });
  });
  return events;
}

/** The watch and response events seen, in one line each (the noisy media events left out). */
function story(events: WireEvent[]): string {
  const lines = events
    .filter((e) => e.type.startsWith('omnilive.watch.') || e.type === 'omnilive.sound_event' || e.type === 'error' || e.type === 'response.created' || e.type === 'response.done' || e.type === 'omnilive.clip.committed')
    .map((e) => {
      if (e.type === 'omnilive.watch.created') return `${e.type} ${e.watch?.id} "${e.watch?.condition}" rule=${JSON.stringify(e.watch?.rule)} request_id=${e.request_id} confirmation="${e.confirmation}"`;
      if (e.type === 'omnilive.watch.listed') return `${e.type} [${(e.watches ?? []).map((w: any) => `${w.id} "${w.condition}"`).join(', ')}]`;
      if (e.type === 'omnilive.watch.fired') return `${e.type} ${e.watch_id} mode=${e.watch?.mode} evidence=${JSON.stringify(e.evidence)}`;
      if (e.type === 'omnilive.clip.committed') return `${e.type} ${e.clip?.start_ms}ms ocr="${e.clip?.ocr_text}"`;
      if (e.type === 'error') return `error ${e.error?.code}: ${e.error?.message} (event_id ${e.error?.event_id})`;
      if (e.type.startsWith('response.')) return `${e.type} ${e.response?.id} ${e.response?.status} metadata=${JSON.stringify(e.response?.metadata)}`;
      return `${e.type} ${JSON.stringify(e)}`;
    });
  return lines.length ? lines.join('\n  ') : '(no watch or response events)';
}

describe('web app: proactive watches', () => {
  let server: TestServer;
  let browser: TestBrowser;
  let page: Page;
  let base: string;
  let events: WireEvent[];

  /** Waits for `locator`; on a timeout, the error tells what the server sent. */
  async function appears(locator: Locator, what: string, timeout: number, state: 'visible' | 'detached' = 'visible'): Promise<void> {
    try {
      await locator.waitFor({ state, timeout });
    } catch {
      assert.fail(`${what} did not ${state === 'detached' ? 'go away' : 'appear'} within ${timeout / 1000} s; the page received:\n  ${story(events)}`);
    }
  }

  before(async () => {
    await buildWebApp();
    // Nothing on screen for the first seconds, then EXIT (the camera loops it): the watch is
    // set before the sign shows, and the change of background makes a scene cut, so a clip.
    const video = await makeY4m(path.join(media, 'exit-sign.y4m'), {
      seconds: 3,
      scenes: [
        { text: ' ', background: 'navy', color: 'white' },
        { text: 'EXIT', background: 'white', color: 'black' },
      ],
    });
    // A silent microphone: nothing talks, so the gap the proactive answer waits for is there.
    const audio = path.join(media, 'silence.wav');
    fs.writeFileSync(audio, encodeWav(silence(2000, 48000), 48000));
    server = await startServer({ 'tls.mode': 'off', 'vision.enabled': 'on', 'vision.facts': 'ocr', 'vision.modelsDir': '/nonexistent' });
    base = `http://127.0.0.1:${server.port}`;
    browser = await launchBrowser({ fakeDevices: { video, audio } });
    page = browser.page;
    events = recordServerEvents(page);
  });

  after(async () => {
    await browser?.close();
    await server?.close();
    fs.rmSync(media, { recursive: true, force: true });
  });

  it('makes a watch from a typed "let me know when …": a spoken confirmation, and the watch in the panel', async () => {
    // Frames as JPEG over the WebSocket: the server reads them without WebRTC.
    await page.goto(`${base}/?media=websocket`);
    await byId(page, 'watch-unlisted').waitFor(); // no session yet, so nothing listed
    await byId(page, 'question-input').fill('let me know when the screen shows EXIT');
    await byId(page, 'ask').click();
    await appears(page.locator('[data-testid="assistant-turn"][data-state="final"]').first(), 'the confirmation answer', 30_000);
    const confirmation = (await byId(page, 'assistant-turn').first().locator('.text').textContent()) ?? '';
    assert.match(confirmation, /exit/i, 'the confirmation says what is watched for');
    const row = byId(page, 'watch-item').filter({ hasText: /exit/i });
    await appears(row, 'the new watch in the panel', 10_000);
    assert.equal(await row.getAttribute('data-mode'), 'once');
    assert.equal(await row.getByTestId('watch-mode').textContent(), 'once');
    assert.equal(await byId(page, 'proactive-label').count(), 0, 'the confirmation was asked for');
  });

  it('speaks up unasked when the camera shows EXIT, marks that answer, and the once-watch ends', async () => {
    const row = byId(page, 'watch-item').filter({ hasText: /exit/i });
    const watchId = await row.getAttribute('data-watch-id');
    await byId(page, 'start').click();
    const proactive = page.locator('[data-testid="assistant-turn"][data-proactive="true"]').first();
    await appears(proactive, 'a proactive answer', 30_000);
    const label = proactive.getByTestId('proactive-label');
    assert.equal(await label.getAttribute('data-watch-id'), watchId);
    assert.match((await label.textContent()) ?? '', /unasked/);
    // Its words show as they are spoken (not waiting for the end of the speech).
    await appears(proactive.locator('.text').filter({ hasText: /exit/i }), 'the words of the proactive answer', 10_000);
    await appears(byId(page, 'watch-item').filter({ hasText: /exit/i }), 'the fired once-watch', 5000, 'detached');
    const fired = events.find((e) => e.type === 'omnilive.watch.fired' && e.watch_id === watchId);
    assert.ok(fired, `a watch.fired for ${watchId}; saw:\n  ${story(events)}`);
    assert.equal(fired.watch.mode, 'once');
  });

  it('adds a watch from the panel, cancels it, and a fresh page load of the same user no longer lists it', async () => {
    await byId(page, 'watch-input').fill('someone says banana');
    await byId(page, 'watch-add').click();
    const row = byId(page, 'watch-item').filter({ hasText: /banana/ });
    await appears(row, 'the watch added from the panel', 10_000);
    assert.equal(await byId(page, 'watch-input').inputValue(), '', 'the box is cleared once the server made it');
    assert.match((await byId(page, 'watch-status').textContent()) ?? '', /\w+/, "the server's confirmation is shown");
    await screenshot(page, 'web-watches');

    const created = events.find((e) => e.type === 'omnilive.watch.created' && /banana/.test(e.watch?.condition));
    assert.ok(created && created.request_id, 'created in answer to the panel, by its event_id');
    await row.getByTestId('watch-cancel').click();
    await appears(row, 'the cancelled watch', 10_000, 'detached');
    assert.ok(events.some((e) => e.type === 'omnilive.watch.deleted' && e.watch_id === created.watch.id), 'the row went on the server\'s watch.deleted');
    assert.equal(await byId(page, 'watch-problem').count(), 0);
    await byId(page, 'stop').click();

    // A fresh page, the same user: Refresh opens a session, and its list has neither watch.
    await page.reload();
    await byId(page, 'watch-unlisted').waitFor();
    const before = events.length;
    await byId(page, 'watch-refresh').click();
    await appears(byId(page, 'watch-empty'), 'the empty watch list', 10_000);
    const listed = events.slice(before).find((e) => e.type === 'omnilive.watch.listed');
    assert.ok(listed, 'the fresh session listed the watches');
    assert.deepEqual(listed.watches, []);
    assert.match((await byId(page, 'watch-empty').textContent()) ?? '', /No watches\. Say or type “tell me when …”\./);
  });
});

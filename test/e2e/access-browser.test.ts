// The access model in Chromium: a page of another origin (a second port) against the server,
// the subprotocol a browser sends its client secret in, and the web app with an access key.
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import type { Page } from 'playwright-core';
import { launchBrowser, screenshot, type TestBrowser } from '../helpers/browser.ts';
import { startServer, type TestServer } from '../helpers/server.ts';
import { buildWebApp } from '../helpers/web-app.ts';

const KEY = 'olk_browser_test_key_0123456789abcdefghij';

/**
 * A site on another origin: its page, and its backend's token endpoint that mints a client
 * secret with the site's API key (as the README's example does).
 */
async function startSite(omnilive: () => TestServer, mintBody: () => unknown): Promise<{ origin: string; close(): Promise<void> }> {
  const site = http.createServer(async (req, res) => {
    if (req.url === '/api/omnilive-token') {
      const minted = await fetch(`http://127.0.0.1:${omnilive().port}/v1/realtime/client_secrets`, {
        method: 'POST',
        headers: { authorization: `Bearer ${KEY}`, 'content-type': 'application/json' },
        body: JSON.stringify(mintBody()),
      });
      res.writeHead(minted.status, { 'content-type': 'application/json' }).end(await minted.text());
      return;
    }
    res.writeHead(200, { 'content-type': 'text/html' }).end('<!doctype html><title>Example Shop</title><h1>Example Shop</h1>');
  });
  await new Promise<void>((resolve) => site.listen(0, '127.0.0.1', resolve));
  const { port } = site.address() as AddressInfo;
  return {
    origin: `http://localhost:${port}`,
    close: () =>
      new Promise((resolve) => {
        site.close(() => resolve());
        site.closeAllConnections(); // the browser's keep-alive connections would hold close() for a minute
      }),
  };
}

/** In the page: open the Realtime WebSocket (optionally with a secret) and report what happened. */
function openFromPage(page: Page, url: string, secret?: string) {
  return page.evaluate(
    ([url, secret]) =>
      new Promise<{ opened: boolean; protocol?: string; first?: string; answer?: string; code?: number }>((resolve) => {
        const ws = secret ? new WebSocket(url, ['realtime', `openai-insecure-api-key.${secret}`]) : new WebSocket(url);
        let first: string | undefined;
        ws.onmessage = (m) => {
          const event = JSON.parse(m.data);
          first ??= event.type;
          if (event.type === 'session.created') {
            ws.send(JSON.stringify({ type: 'conversation.item.create', item: { type: 'message', role: 'user', content: [{ type: 'input_text', text: 'hello from the shop' }] } }));
            ws.send(JSON.stringify({ type: 'response.create' }));
          }
          if (event.type === 'response.done') {
            resolve({ opened: true, protocol: ws.protocol, first, answer: event.response.status });
            ws.close();
          }
        };
        ws.onclose = (e) => resolve({ opened: first !== undefined, code: e.code, first });
      }),
    [url, secret] as const,
  );
}

describe('access in the browser', () => {
  let browser: TestBrowser;
  before(async () => {
    await buildWebApp();
    browser = await launchBrowser();
  });
  after(() => browser?.close());

  describe('a page of another origin', () => {
    let server: TestServer;
    let site: { origin: string; close(): Promise<void> };
    let mintBody: unknown = {};
    before(async () => {
      site = await startSite(() => server, () => mintBody);
      server = await startServer({ 'tls.mode': 'off', 'access.apiKeys': KEY, 'access.allowedOrigins': site.origin });
    });
    after(async () => {
      await server?.close();
      await site?.close();
    });

    it('connects with a client secret from its backend, sent as the realtime subprotocol', async () => {
      const page = browser.page;
      await page.goto(site.origin);
      mintBody = { session: { type: 'realtime', instructions: 'You help shoppers.', output_modalities: ['text'] }, omnilive: { user: 'shopper-7', origins: [site.origin] } };
      const { value } = await page.evaluate(() => fetch('/api/omnilive-token').then((r) => r.json() as Promise<{ value: string }>));
      const result = await openFromPage(page, `ws://127.0.0.1:${server.port}/v1/realtime`, value);
      assert.equal(result.first, 'session.created');
      assert.equal(result.protocol, 'realtime');
      assert.equal(result.answer, 'completed');
      const again = await openFromPage(page, `ws://127.0.0.1:${server.port}/v1/realtime`, value);
      assert.equal(again.opened, false, 'a used secret does not open a second session');
      await screenshot(page, 'access-foreign-site');
    });

    it('cannot connect without a credential, nor with a secret minted for other origins', async () => {
      const page = browser.page;
      await page.goto(site.origin);
      const bare = await openFromPage(page, `ws://127.0.0.1:${server.port}/v1/realtime`);
      assert.equal(bare.opened, false);
      mintBody = { omnilive: { origins: ['https://elsewhere.example'] } };
      const { value } = await page.evaluate(() => fetch('/api/omnilive-token').then((r) => r.json() as Promise<{ value: string }>));
      const wrong = await openFromPage(page, `ws://127.0.0.1:${server.port}/v1/realtime`, value);
      assert.equal(wrong.opened, false);
      const read = await page.evaluate((port) => fetch(`http://127.0.0.1:${port}/v1/memory?user=shopper-7`).then((r) => r.status, (e) => String(e)), server.port);
      assert.notEqual(read, 200, "the page cannot read a user's memory without a key");
    });
  });

  describe('a keyless local server', () => {
    let server: TestServer;
    let site: { origin: string; close(): Promise<void> };
    before(async () => {
      server = await startServer({ 'tls.mode': 'off', 'memory.enabled': 'on' });
      site = await startSite(() => server, () => ({}));
    });
    after(async () => {
      await server?.close();
      await site?.close();
    });

    it('refuses any other site that tries to drive it (cross-site WebSocket hijacking)', async () => {
      const page = browser.page;
      await page.goto(site.origin);
      const hijack = await openFromPage(page, `ws://127.0.0.1:${server.port}/v1/realtime`);
      assert.equal(hijack.opened, false);
      assert.equal(server.server.sessions.size, 0);
      const read = await page.evaluate((port) => fetch(`http://127.0.0.1:${port}/v1/memory`).then((r) => r.status, (e) => String(e)), server.port);
      assert.notEqual(read, 200);
    });

    it("its own page needs no key, and the person's memory is there after a reload, with search and forget", async () => {
      const page = browser.page;
      const base = `http://127.0.0.1:${server.port}`;
      await page.goto(base);
      await page.getByTestId('question-input').fill('remember that the spare key is under the red flowerpot');
      await page.getByTestId('ask').click();
      await page.locator('[data-testid="assistant-turn"][data-state="final"]').first().waitFor({ timeout: 30_000 });
      await page.reload();
      await page.getByTestId('memory-refresh').click();
      const note = page.locator('[data-testid="memory-item"]', { hasText: 'red flowerpot' }).first();
      await note.waitFor({ timeout: 10_000 });
      await page.getByTestId('memory-query').fill('flowerpot');
      await page.getByTestId('memory-search').click();
      await page.locator('[data-testid="memory-list"][data-search="flowerpot"]').waitFor();
      assert.ok((await page.getByTestId('memory-item').count()) >= 1);
      await screenshot(page, 'access-memory-panel');
      const forgetButtons = page.locator('[data-testid="memory-item"]', { hasText: 'red flowerpot' }).getByTestId('memory-forget');
      while ((await forgetButtons.count()) > 0) {
        const before = await forgetButtons.count();
        await forgetButtons.first().click();
        const count = await page.getByTestId('memory-item').count();
        await page.waitForFunction(`document.querySelectorAll('[data-testid="memory-item"]').length < ${count}`, undefined, { timeout: 10_000 });
        assert.ok((await forgetButtons.count()) < before);
      }
      const left = (await (await fetch(`${base}/v1/memory/search?q=flowerpot`)).json()) as { data: { text: string }[] };
      assert.ok(!left.data.some((h: { text: string }) => /red flowerpot/.test(h.text)), 'forgotten in the store, not only on the page');
    });
  });

  describe('the web app on a server with keys', () => {
    let server: TestServer;
    before(async () => {
      server = await startServer({ 'tls.mode': 'off', 'memory.enabled': 'on', 'access.apiKeys': KEY });
    });
    after(() => server?.close());

    it('asks for a key, takes one from a #key= link, and answers as the local user', async () => {
      const page = browser.page;
      const base = `http://127.0.0.1:${server.port}`;
      await page.goto(base);
      await page.evaluate('localStorage.clear()');
      await page.reload();
      await page.getByTestId('question-input').fill('hello');
      await page.getByTestId('ask').click();
      const banner = page.locator('[data-testid="error"][data-kind="access"]');
      await banner.waitFor();
      assert.match((await banner.textContent()) ?? '', /needs an access key/);
      await page.getByTestId('access-key').fill('olk_wrong');
      await page.getByTestId('access-key-save').click();
      await page.locator('[data-testid="error"][data-kind="access"]', { hasText: 'refused the access key' }).waitFor();

      await page.goto(`${base}/#key=${KEY}`);
      await page.waitForFunction("location.hash === ''");
      await page.getByTestId('question-input').fill('my umbrella is in the hallway closet');
      await page.getByTestId('ask').click();
      await page.locator('[data-testid="assistant-turn"][data-state="final"]').first().waitFor({ timeout: 30_000 });
      const items = (await (await fetch(`${base}/v1/memory?user=local`, { headers: { authorization: `Bearer ${KEY}` } })).json()) as { data: { text?: string }[] };
      assert.ok(items.data.some((i: { text?: string }) => /hallway closet/.test(i.text ?? '')), 'typed words are remembered under the local user');
      await page.getByTestId('memory-refresh').click();
      await page.locator('[data-testid="memory-item"]', { hasText: 'hallway closet' }).first().waitFor({ timeout: 10_000 });
    });
  });
});

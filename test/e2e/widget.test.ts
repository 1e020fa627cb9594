// The embeddable widget in Chromium, on a host page of another origin that sets a strict CSP and
// hostile CSS: token-url and agent sessions, typed and spoken questions, keyboard, refusals.
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Locator, Page } from 'playwright-core';
import { launchBrowser, makeSpeechWav, makeY4m, screenshot, type TestBrowser } from '../helpers/browser.ts';
import { startFakeLlm, type FakeLlm } from '../helpers/fake-llm.ts';
import { startServer, type TestServer } from '../helpers/server.ts';
import { closeSpeech } from '../helpers/speech.ts';
import { buildWebApp } from '../helpers/web-app.ts';

const KEY = 'olk_widget_test_key_0123456789abcdefghij';
const media = path.join(os.tmpdir(), `omnilive-widget-media-${process.pid}`);

const HOSTILE_CSS = `* { font-family: monospace !important; letter-spacing: 3px !important; }
button { background: rgb(255, 0, 0) !important; padding: 40px !important; border: 5px dashed lime !important; }
li, p, section, div { display: inline !important; }`;

/**
 * A site on another origin: a page embedding the widget under a strict CSP (only OmniLive's
 * origin beside its own for scripts and connections), and its backend's token endpoint.
 */
async function startHost(omnilive: () => TestServer, mode: { token: 'ok' | 'refuse' | 'stale' }) {
  const site = http.createServer(async (req, res) => {
    const o = `http://127.0.0.1:${omnilive().port}`;
    const url = new URL(req.url ?? '/', 'http://x');
    if (url.pathname === '/api/omnilive-token') {
      if (mode.token === 'refuse') return void res.writeHead(403, { 'content-type': 'application/json' }).end('{"error":"you are not signed in"}');
      // A secret the server no longer takes (expired, used, from before a restart).
      if (mode.token === 'stale') return void res.writeHead(200, { 'content-type': 'application/json' }).end('{"value":"ek_stale_0123456789abcdefghijklmnopqrstuvwxyz"}');
      const minted = await fetch(`${o}/v1/realtime/client_secrets`, {
        method: 'POST',
        headers: { authorization: `Bearer ${KEY}`, 'content-type': 'application/json' },
        body: JSON.stringify({ session: { type: 'realtime', instructions: 'You are the Example Shop assistant.' }, omnilive: { user: 'shopper-1', origins: [`http://localhost:${port}`] } }),
      });
      return void res.writeHead(minted.status, { 'content-type': 'application/json' }).end(await minted.text());
    }
    if (url.pathname === '/host.css') return void res.writeHead(200, { 'content-type': 'text/css' }).end(HOSTILE_CSS);
    if (url.searchParams.has('iframe')) {
      const allow = url.searchParams.get('iframe') === 'bare' ? '' : ' allow="microphone; camera; autoplay"';
      return void res.writeHead(200, { 'content-type': 'text/html', 'content-security-policy': `default-src 'self'; frame-src ${o}` }).end(`<!doctype html>
<html><head><title>Example CMS page</title></head><body><h1>Example CMS page</h1>
<iframe id="assistant" src="${o}/embed?agent=shop" width="420" height="520"${allow}></iframe></body></html>`);
    }
    const attrs = url.searchParams.get('agent') ? `agent="${url.searchParams.get('agent')}"` : 'token-url="/api/omnilive-token"';
    const csp = `default-src 'self'; script-src 'self' ${o}; connect-src 'self' ${o} ws://127.0.0.1:${omnilive().port}; style-src 'self'; img-src 'self' data:; media-src 'self' blob:`;
    res.writeHead(200, { 'content-type': 'text/html', 'content-security-policy': csp }).end(`<!doctype html>
<html><head><title>Example Shop</title><link rel="stylesheet" href="/host.css">
<script type="module" src="${o}/widget/omnilive.js"></script></head>
<body><h1>Example Shop</h1><button id="host-button">Add to cart</button>
<omnilive-assistant server="${o}" ${attrs} mode="${url.searchParams.get('mode') ?? 'inline'}"${url.searchParams.has('vision') ? ' vision' : ''}></omnilive-assistant>
</body></html>`);
  });
  await new Promise<void>((resolve) => site.listen(0, '127.0.0.1', resolve));
  const port = (site.address() as AddressInfo).port;
  return {
    origin: `http://localhost:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        site.close(() => resolve());
        site.closeAllConnections();
      }),
  };
}

/** Records every CSP violation the page reports, from before its first script. */
async function watchCsp(page: Page): Promise<() => Promise<string[]>> {
  await page.addInitScript(`
    globalThis.__csp = [];
    globalThis.addEventListener('securitypolicyviolation', (e) => globalThis.__csp.push(e.violatedDirective + ' ' + e.blockedURI));
  `);
  return () => page.evaluate('globalThis.__csp ?? []') as Promise<string[]>;
}

const widget = (page: Page) => page.locator('omnilive-assistant');
const inWidget = (page: Page, selector: string): Locator => widget(page).locator(selector);

describe('the embeddable widget on another site', () => {
  let server: TestServer;
  let host: Awaited<ReturnType<typeof startHost>>;
  let stranger: Awaited<ReturnType<typeof startHost>>;
  let browser: TestBrowser;
  const mode = { token: 'ok' as 'ok' | 'refuse' | 'stale' };
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'omnilive-widget-'));

  before(async () => {
    await buildWebApp();
    host = await startHost(() => server, mode);
    stranger = await startHost(() => server, mode);
    const agents = path.join(dir, 'agents.json');
    fs.writeFileSync(agents, JSON.stringify({ agents: { shop: { session: { instructions: 'You help shoppers.' }, origins: [host.origin] } } }));
    server = await startServer({ 'tls.mode': 'off', 'access.apiKeys': KEY, 'access.allowedOrigins': host.origin, 'access.agentsFile': agents });
    const audio = await makeSpeechWav(path.join(media, 'question.wav'), 'what is the weather like today', { padMs: 2500 });
    browser = await launchBrowser({ fakeDevices: { audio } });
  });

  after(async () => {
    await browser?.close();
    await server?.close();
    await host?.close();
    await stranger?.close();
    await closeSpeech();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('loads under a strict CSP, keeps its styles in and the host page’s out', async () => {
    const { page } = browser;
    const violations = await watchCsp(page);
    await page.goto(host.origin);
    const launcher = inWidget(page, '.launcher');
    await launcher.waitFor();
    // getComputedStyle is the page's (the tests' tsconfig has no DOM types).
    const style = await launcher.evaluate((b) => {
      const s = (globalThis as any).getComputedStyle(b);
      return { font: s.fontFamily as string, background: s.backgroundColor as string, padding: s.paddingTop as string };
    });
    assert.doesNotMatch(style.font, /monospace/, 'the host’s * rule does not reach into the widget');
    assert.notEqual(style.background, 'rgb(255, 0, 0)');
    assert.notEqual(style.padding, '40px');
    const hostButton = await page.locator('#host-button').evaluate((b) => (globalThis as any).getComputedStyle(b).backgroundColor as string);
    assert.equal(hostButton, 'rgb(255, 0, 0)', 'the widget’s styles do not leak out');
    assert.deepEqual(await violations(), []);
  });

  it('is served versioned, with Subresource Integrity hashes that match, and loads with them', async () => {
    const o = `http://127.0.0.1:${server.port}`;
    const integrity = (await (await fetch(`${o}/widget/v1/integrity.json`)).json()) as Record<string, string>;
    assert.ok(integrity['omnilive.js']);
    for (const [file, hash] of Object.entries(integrity)) {
      const res = await fetch(`${o}/widget/v1/${file}`);
      assert.equal(res.headers.get('access-control-allow-origin'), '*', 'module scripts from another origin need CORS');
      const body = Buffer.from(await res.arrayBuffer());
      assert.equal(`sha384-${crypto.createHash('sha384').update(body).digest('base64')}`, hash, file);
    }
    const { page } = browser;
    await page.goto(host.origin);
    const loaded = await page.evaluate(
      ([src, hash]) =>
        new Promise<string>((resolve) => {
          const d = (globalThis as any).document;
          const s = d.createElement('script');
          s.type = 'module';
          s.src = src;
          s.integrity = hash;
          s.crossOrigin = 'anonymous';
          s.onload = () => resolve('loaded');
          s.onerror = () => resolve('refused');
          d.head.append(s);
        }),
      [`${o}/widget/v1/omnilive.js`, integrity['omnilive.js']!] as const,
    );
    assert.equal(loaded, 'loaded');
  });

  it('answers a typed question with the keyboard alone, then Escape ends it', async () => {
    const { page } = browser;
    const violations = await watchCsp(page);
    await page.goto(host.origin);
    const events: string[] = [];
    await page.exposeFunction('__widgetEvent', (type: string) => events.push(type));
    await page.evaluate(`for (const t of ['omnilive:state', 'omnilive:response', 'omnilive:transcript', 'omnilive:error']) document.addEventListener(t, (e) => globalThis.__widgetEvent(t))`);
    await inWidget(page, '.launcher').focus();
    await page.keyboard.press('Enter');
    await inWidget(page, '.consent').waitFor();
    await page.keyboard.press('Tab'); // "Use my microphone" has focus; the next is "Type instead"
    await page.keyboard.press('Enter');
    await page.keyboard.type('hello from the shop');
    await page.keyboard.press('Enter');
    const answer = inWidget(page, 'li.assistant[data-state="final"]').first();
    await answer.waitFor({ timeout: 30_000 });
    assert.match((await inWidget(page, 'li.user').first().textContent()) ?? '', /hello from the shop/);
    assert.match((await answer.textContent()) ?? '', /\w/);
    assert.ok(events.includes('omnilive:response') && events.includes('omnilive:state'), events.join());
    await screenshot(page, 'widget-typed');
    await page.keyboard.press('Escape');
    await inWidget(page, '.panel').waitFor({ state: 'detached' });
    await inWidget(page, '.launcher').waitFor();
    assert.deepEqual(await violations(), []);
  });

  it('hears a spoken question through the microphone and answers it aloud', async () => {
    const { page } = browser;
    const violations = await watchCsp(page);
    await page.goto(host.origin);
    await inWidget(page, '.launcher').click();
    await inWidget(page, '.consent button.primary').click();
    await inWidget(page, '.panel[data-state="listening"], .panel[data-state="thinking"], .panel[data-state="speaking"]').first().waitFor({ timeout: 20_000 });
    const heard = inWidget(page, 'li.user').filter({ hasText: /weather/ }).first();
    await heard.waitFor({ timeout: 60_000 });
    await inWidget(page, 'li.assistant').first().waitFor({ timeout: 30_000 });
    const played = async () => Number(await inWidget(page, '.panel').getAttribute('data-played-ms'));
    const deadline = Date.now() + 20_000;
    while ((await played()) <= 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 200));
    assert.ok((await played()) > 0, 'the answer was heard');
    await screenshot(page, 'widget-spoken');
    await inWidget(page, 'button:text-is("End")').click();
    assert.deepEqual(await violations(), []);
  });

  it('says so when the site refuses the token, and works once it gives one', async () => {
    const { page } = browser;
    mode.token = 'refuse';
    await page.goto(host.origin);
    await inWidget(page, '.launcher').click();
    await inWidget(page, 'button:has-text("Type instead")').click();
    await inWidget(page, 'input').fill('anyone there?');
    await inWidget(page, 'input').press('Enter');
    const problem = inWidget(page, '.problem');
    await problem.waitFor();
    assert.match((await problem.textContent()) ?? '', /not available here: you are not signed in/);
    mode.token = 'stale';
    await inWidget(page, 'input').fill('anyone there now?');
    await inWidget(page, 'input').press('Enter');
    await inWidget(page, '.problem').filter({ hasText: 'token may have expired' }).waitFor();
    mode.token = 'ok';
    await inWidget(page, 'button:text-is("Retry")').click();
    await page.waitForTimeout(500);
    await inWidget(page, 'input').fill('and now?');
    await inWidget(page, 'input').press('Enter');
    await inWidget(page, 'li.assistant[data-state="final"]').first().waitFor({ timeout: 30_000 });
    assert.equal(await problem.isHidden(), true);
  });

  it('works as an iframe (/embed) on a site that cannot add scripts, bridged by postMessage to that site only', async () => {
    const { page } = browser;
    const o = `http://127.0.0.1:${server.port}`;
    await page.goto(`${host.origin}/?iframe`);
    await page.evaluate(() => {
      const g = globalThis as any;
      g.__messages = [];
      g.addEventListener('message', (e: any) => g.__messages.push({ origin: e.origin, type: e.data?.type }));
    });
    const frame = page.frameLocator('#assistant');
    await frame.locator('omnilive-assistant .launcher').click();
    await frame.locator('omnilive-assistant button:text-is("Type instead")').click();
    await frame.locator('omnilive-assistant input').fill('hello from the frame');
    await frame.locator('omnilive-assistant input').press('Enter');
    await frame.locator('omnilive-assistant li.assistant[data-state="final"]').first().waitFor({ timeout: 30_000 });
    const messages = (await page.evaluate('globalThis.__messages')) as { origin: string; type: string }[];
    assert.ok(messages.some((m) => m.type === 'omnilive:response' && m.origin === o), JSON.stringify(messages));
    await page.evaluate(([target]) => (globalThis as any).document.getElementById('assistant').contentWindow.postMessage({ omnilive: 'sendText', text: 'and a question from the page' }, target), [o] as const);
    await frame.locator('omnilive-assistant li.user', { hasText: 'a question from the page' }).waitFor({ timeout: 10_000 });
    assert.equal(await frame.locator('#popout').isHidden(), true, 'the microphone is allowed here');
    await screenshot(page, 'widget-iframe');

    await page.goto(`${host.origin}/?iframe=bare`);
    await page.frameLocator('#assistant').locator('#popout').waitFor({ timeout: 10_000 });

    await page.goto(`${stranger.origin}/?iframe`);
    await page.waitForTimeout(1000);
    const framed = page.frames().find((f) => f !== page.mainFrame());
    assert.ok(framed);
    assert.equal(await framed.locator('omnilive-assistant').count(), 0, "another site cannot frame the agent's page");
  });

  it('starts a named agent from its own site, and not from another', async () => {
    const { page } = browser;
    await page.goto(`${host.origin}/?agent=shop`);
    await inWidget(page, '.launcher').click();
    await inWidget(page, 'button:has-text("Type instead")').click();
    await inWidget(page, 'input').fill('hello agent');
    await inWidget(page, 'input').press('Enter');
    await inWidget(page, 'li.assistant[data-state="final"]').first().waitFor({ timeout: 30_000 });

    await page.goto(`${stranger.origin}/?agent=shop`);
    await inWidget(page, '.launcher').click();
    await inWidget(page, 'button:has-text("Type instead")').click();
    await inWidget(page, 'input').fill('hello agent');
    await inWidget(page, 'input').press('Enter');
    const problem = inWidget(page, '.problem');
    await problem.waitFor();
    assert.match((await problem.textContent()) ?? '', /not available here/);
    await screenshot(page, 'widget-agent-refused');
  });
});

describe('the widget: talking over an answer, and a denied microphone', () => {
  let server: TestServer;
  let llm: FakeLlm;
  let host: Awaited<ReturnType<typeof startHost>>;
  const mode = { token: 'ok' as 'ok' | 'refuse' | 'stale' };

  before(async () => {
    await buildWebApp();
    // A scripted OpenAI-compatible LLM: an answer long enough to talk over.
    llm = await startFakeLlm(() => 'The weather today is mild. There will be a light breeze in the morning, some clouds around noon, and a clear evening. Take a light jacket if you go out late.');
    host = await startHost(() => server, mode);
    server = await startServer({ 'tls.mode': 'off', 'access.apiKeys': KEY, 'access.allowedOrigins': host.origin, 'llm.url': llm.url, 'llm.model': 'fake-model' });
  });

  after(async () => {
    await server?.close();
    await host?.close();
    await llm?.close();
    await closeSpeech();
  });

  it('stops the spoken answer when the visitor talks over it', async () => {
    const audio = await makeSpeechWav(path.join(media, 'again.wav'), 'what is the weather like today', { padMs: 1500 });
    const browser = await launchBrowser({ fakeDevices: { audio } });
    try {
      const { page } = browser;
      await page.goto(host.origin);
      await inWidget(page, '.launcher').click();
      await inWidget(page, '.consent button.primary').click();
      // The looped question comes round again while the answer is being spoken.
      const interrupted = inWidget(page, 'li.assistant[data-state="cancelled"]').first();
      await interrupted.waitFor({ timeout: 60_000 });
      assert.match((await interrupted.textContent()) ?? '', /\(interrupted\)/);
      assert.ok(Number(await inWidget(page, '.panel').getAttribute('data-played-ms')) > 0, 'some of it was heard first');
      await screenshot(page, 'widget-barge-in');
    } finally {
      await browser.close();
    }
  });

  it('falls back to typing when the microphone is denied', async () => {
    const browser = await launchBrowser({ allowMedia: false, fakeDevices: true });
    try {
      const { page } = browser;
      await page.goto(host.origin);
      await inWidget(page, '.launcher').click();
      await inWidget(page, '.consent button.primary').click();
      const problem = inWidget(page, '.problem');
      await problem.waitFor();
      assert.match((await problem.textContent()) ?? '', /permission was denied/i);
      assert.equal(await inWidget(page, 'input').evaluate((i: any) => i === i.getRootNode().activeElement), true, 'the text box has the focus');
      await page.keyboard.type('what is the weather like today');
      await page.keyboard.press('Enter');
      await inWidget(page, 'li.assistant[data-state="final"]').first().waitFor({ timeout: 30_000 });
      assert.match((await inWidget(page, 'li.assistant').first().textContent()) ?? '', /weather today is mild/);
    } finally {
      await browser.close();
    }
  });
});

describe('the widget with vision: the visitor shows the assistant something', () => {
  let server: TestServer;
  let host: Awaited<ReturnType<typeof startHost>>;
  let browser: TestBrowser;
  const mode = { token: 'ok' as 'ok' | 'refuse' | 'stale' };

  before(async () => {
    await buildWebApp();
    host = await startHost(() => server, mode);
    server = await startServer({ 'tls.mode': 'off', 'access.apiKeys': KEY, 'access.allowedOrigins': host.origin, 'memory.enabled': 'on', 'vision.enabled': 'on', 'vision.facts': 'ocr', 'vision.modelsDir': '/nonexistent' });
    const [video, audio] = await Promise.all([
      makeY4m(path.join(media, 'error-screen.y4m'), { scenes: [{ text: 'ERROR 42', background: 'navy', color: 'white' }], seconds: 4 }),
      makeSpeechWav(path.join(media, 'quiet.wav'), 'hello', { padMs: 6000 }),
    ]);
    browser = await launchBrowser({ fakeDevices: { video, audio } });
  });

  after(async () => {
    await browser?.close();
    await server?.close();
    await host?.close();
  });

  it("puts the visitor's camera frame into the visitor's memory when they choose to show it", async () => {
    const { page } = browser;
    await page.goto(`${host.origin}/?vision`);
    await inWidget(page, '.launcher').click();
    await inWidget(page, 'button.camera').click();
    await inWidget(page, '.panel[data-state="listening"], .panel[data-state="thinking"], .panel[data-state="speaking"]').first().waitFor({ timeout: 20_000 });
    await page.waitForTimeout(4000); // a few frames at 1 fps
    await inWidget(page, 'input').fill('what does my screen say?');
    await inWidget(page, 'input').press('Enter');
    // A question cuts the open clip: what is on camera becomes memory (the answer itself may be talked over by the looped mic).
    await inWidget(page, 'li.assistant').first().waitFor({ timeout: 30_000 });
    const deadline = Date.now() + 20_000;
    let clips: { kind: string; ocr_text?: string }[] = [];
    while (Date.now() < deadline) {
      const res = await fetch(`http://127.0.0.1:${server.port}/v1/memory?user=shopper-1`, { headers: { authorization: `Bearer ${KEY}` } });
      clips = ((await res.json()) as { data: { kind: string; ocr_text?: string }[] }).data.filter((i) => i.kind === 'clip');
      if (clips.some((c) => /ERROR/.test(c.ocr_text ?? ''))) break;
      await new Promise((r) => setTimeout(r, 500));
    }
    assert.ok(clips.some((c) => /ERROR\s*42/.test(c.ocr_text ?? '')), JSON.stringify(clips));
    await screenshot(page, 'widget-vision');
  });
});

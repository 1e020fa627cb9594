// The widget against the bundled web app, side by side in one run: time from the click to a
// connected media uplink (ready), and to the first answer audio heard, for a spoken question.
// Both talk to one server with an API key: the web app with its key (#key= link), the widget
// on another origin through a site backend's token-url; both mint a client secret per session.
//   node --import tsx benchmarks/widget/index.ts [--runs 5]
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import type { Page } from 'playwright-core';
import { launchBrowser, makeSpeechWav } from '../../test/helpers/browser.ts';
import { startServer } from '../../test/helpers/server.ts';
import { buildWebApp } from '../../test/helpers/web-app.ts';
import { describeMachine, loadNow } from '../../server/eval/machine.ts';
import { quantile } from '../../server/eval/stats.ts';

const { values } = parseArgs({ options: { runs: { type: 'string', default: '5' } } });
const RUNS = Number(values.runs);
const KEY = 'olk_widget_bench_key_0123456789abcdefghij';
const progress = (msg: string) => process.stderr.write(`[widget bench] ${msg}\n`);
const loadAtStart = loadNow();

await buildWebApp();
let o = '';
// The site on another origin, with its backend's token endpoint; the server allows its origin.
const site = http.createServer(async (req, res) => {
  if (req.url === '/api/omnilive-token') {
    const minted = await fetch(`${o}/v1/realtime/client_secrets`, { method: 'POST', headers: { authorization: `Bearer ${KEY}`, 'content-type': 'application/json' }, body: '{"omnilive":{"user":"bench-visitor"}}' });
    return void res.writeHead(minted.status, { 'content-type': 'application/json' }).end(await minted.text());
  }
  res.writeHead(200, { 'content-type': 'text/html' }).end(`<!doctype html><title>Host</title><script type="module" src="${o}/widget/omnilive.js"></script>
<omnilive-assistant server="${o}" token-url="/api/omnilive-token" mode="inline"></omnilive-assistant>`);
});
await new Promise<void>((resolve) => site.listen(0, '127.0.0.1', resolve));
const host = `http://localhost:${(site.address() as AddressInfo).port}`;
const server = await startServer({ 'tls.mode': 'off', 'access.apiKeys': KEY, 'access.allowedOrigins': host, 'webrtc.enabled': 'on', 'access.sessionsPerUser': '1000' });
o = `http://127.0.0.1:${server.port}`;
const audio = await makeSpeechWav(path.join(os.tmpdir(), `omnilive-widget-bench-${process.pid}.wav`), 'what is the weather like today', { padMs: 4000 });
const browser = await launchBrowser({ fakeDevices: { audio } });

/** Polls `read` every 10 ms until it holds; ms since `t0`. */
async function until(t0: number, read: () => Promise<boolean>, what: string, timeoutMs = 60_000): Promise<number> {
  while (!(await read())) {
    if (performance.now() - t0 > timeoutMs) throw new Error(`no ${what} within ${timeoutMs / 1000} s`);
    await new Promise((r) => setTimeout(r, 10));
  }
  return performance.now() - t0;
}

async function webApp(page: Page): Promise<{ ready: number; answer: number }> {
  await page.goto('about:blank');
  await page.goto(`${o}/#key=${KEY}`);
  await page.getByTestId('start').waitFor();
  const t0 = performance.now();
  await page.getByTestId('start').click();
  const ready = await until(t0, async () => /webrtc|websocket/.test((await page.getByTestId('rtc-state').getAttribute('data-mode')) ?? ''), 'uplink');
  const answer = await until(t0, async () => Number(await page.getByTestId('answer-audio-ms').textContent()) > 0, 'answer audio');
  await page.getByTestId('stop').click();
  return { ready, answer };
}

async function widget(page: Page): Promise<{ ready: number; answer: number }> {
  await page.goto('about:blank');
  await page.goto(host);
  const launcher = page.locator('omnilive-assistant .launcher');
  await launcher.waitFor();
  const t0 = performance.now();
  await launcher.click();
  await page.locator('omnilive-assistant .consent button.primary').click(); // the consent is part of the widget's click path
  const panel = page.locator('omnilive-assistant .panel');
  const ready = await until(t0, async () => /webrtc|websocket/.test((await panel.getAttribute('data-uplink')) ?? ''), 'uplink');
  const answer = await until(t0, async () => Number(await panel.getAttribute('data-played-ms')) > 0, 'answer audio');
  await page.locator('omnilive-assistant button:text-is("End")').click();
  return { ready, answer };
}

const samples = { web_app: { ready: [] as number[], answer: [] as number[] }, widget: { ready: [] as number[], answer: [] as number[] } };
for (let i = 1; i <= RUNS; i++) {
  progress(`run ${i}/${RUNS}`);
  const a = await webApp(browser.page);
  const b = await widget(browser.page);
  samples.web_app.ready.push(a.ready);
  samples.web_app.answer.push(a.answer);
  samples.widget.ready.push(b.ready);
  samples.widget.answer.push(b.answer);
}
await browser.close();
await server.close();
site.closeAllConnections();
site.close();

const r = (x: number) => Math.round(x);
const stat = (xs: number[]) => ({ p50: r(quantile(xs, 0.5)), p95: r(quantile(xs, 0.95)) });
const summary = Object.fromEntries(Object.entries(samples).map(([k, v]) => [k, { ready_ms: stat(v.ready), first_answer_audio_ms: stat(v.answer) }])) as Record<'web_app' | 'widget', { ready_ms: { p50: number; p95: number }; first_answer_audio_ms: { p50: number; p95: number } }>;
const ratio = {
  ready_p50: Math.round((summary.widget.ready_ms.p50 / summary.web_app.ready_ms.p50) * 100) / 100,
  answer_p50: Math.round((summary.widget.first_answer_audio_ms.p50 / summary.web_app.first_answer_audio_ms.p50) * 100) / 100,
};
console.log(JSON.stringify({ benchmark: 'widget', runs: RUNS, machine: describeMachine(loadAtStart), summary, ratio_widget_to_web_app: ratio, samples }, null, 2));
console.log(`
| from the click (ms)           | web app p50 / p95 | widget p50 / p95 | widget ÷ app (p50) |
|-------------------------------|-------------------|------------------|--------------------|
| media uplink connected        | ${summary.web_app.ready_ms.p50} / ${summary.web_app.ready_ms.p95} | ${summary.widget.ready_ms.p50} / ${summary.widget.ready_ms.p95} | ${ratio.ready_p50} |
| first answer audio heard      | ${summary.web_app.first_answer_audio_ms.p50} / ${summary.web_app.first_answer_audio_ms.p95} | ${summary.widget.first_answer_audio_ms.p50} / ${summary.widget.first_answer_audio_ms.p95} | ${ratio.answer_p50} |`);

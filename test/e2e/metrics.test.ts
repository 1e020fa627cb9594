import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import http from 'node:http';
import { loadConfig } from '../../server/config.ts';
import { createEngines } from '../../server/engines.ts';
import { OmniLiveServer } from '../../server/http/server.ts';
import { createLogger } from '../../server/logger.ts';
import { AccessControl, isLocalRequest } from '../../server/access/index.ts';
import { RawClient } from '../helpers/ws-client.ts';
import type { TestServer } from '../helpers/server.ts';

const KEY = 'olk_metrics-test-key-not-a-real-one';

/** One line of the Prometheus text format (0.0.4), strictly: comments, or `name{labels} value`. */
const HELP = /^# HELP [a-zA-Z_:][a-zA-Z0-9_:]* .*$/;
const TYPE = /^# TYPE [a-zA-Z_:][a-zA-Z0-9_:]* (counter|gauge|histogram|summary|untyped)$/;
const SAMPLE = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(?:[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\\n]|\\.)*",?)*\})? (-?(?:[0-9.e+-]+|NaN|\+Inf|-Inf))( -?[0-9]+)?$/;

/** Parses the exposition text, failing on any line that is not in the format; returns value by `name{labels}`. */
function parseMetrics(text: string): Map<string, number> {
  const samples = new Map<string, number>();
  const typed = new Set<string>();
  for (const line of text.split('\n')) {
    if (line === '') continue;
    if (line.startsWith('# HELP ')) {
      assert.match(line, HELP);
      continue;
    }
    if (line.startsWith('# TYPE ')) {
      assert.match(line, TYPE);
      typed.add(line.split(' ')[2]!);
      continue;
    }
    const m = SAMPLE.exec(line);
    assert.ok(m, `not a Prometheus sample line: ${JSON.stringify(line)}`);
    const family = m[1]!.replace(/_(bucket|sum|count)$/, '');
    assert.ok(typed.has(m[1]!) || typed.has(family), `sample before its # TYPE: ${line}`);
    samples.set(`${m[1]}${m[2] ?? ''}`, Number(m[3]));
  }
  return samples;
}

/** A GET on a connection of its own (no keep-alive: an idle socket would hold server.close() up). */
function get(port: number, pathname: string, headers: Record<string, string> = {}): Promise<{ status: number; headers: http.IncomingHttpHeaders; text: string }> {
  return new Promise((resolve, reject) => {
    http
      .get({ host: '127.0.0.1', port, path: pathname, headers, agent: false }, (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (text += chunk));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, text }));
      })
      .on('error', reject);
  });
}

async function until(check: () => boolean, what: string, timeoutMs = 5000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** What isLocalRequest and authorizeMetrics read of a request. */
function fakeRequest(remoteAddress: string, headers: Record<string, string> = {}): http.IncomingMessage {
  return { socket: { remoteAddress }, headers } as unknown as http.IncomingMessage;
}

describe('metrics, readiness and logs of a running server', () => {
  const lines: string[] = [];
  let t: TestServer;
  let engines: Awaited<ReturnType<typeof createEngines>>;
  let config: ReturnType<typeof loadConfig>;

  before(async () => {
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'omnilive-metrics-'));
    config = loadConfig({ host: '127.0.0.1', port: '0', dataDir, 'tls.mode': 'off', 'vision.enabled': 'off', 'webrtc.enabled': 'off', 'access.apiKeys': KEY }, {});
    const logger = createLogger({ level: 'info', destination: { write: (line: string) => void lines.push(line) } });
    engines = await createEngines(config, { logger });
    const server = new OmniLiveServer(config, engines, { logger });
    const { port } = await server.listen();
    t = {
      server,
      port,
      dataDir,
      ca: '',
      async close() {
        await server.close();
        await engines.close();
        fs.rmSync(dataDir, { recursive: true, force: true });
      },
    };
  });
  after(() => t?.close());

  it('counts a typed question and answer, a bad event by its code, the open session and connection; then the close', async () => {
    const client = new RawClient(t, { headers: { authorization: `Bearer ${KEY}` } });
    await client.opened;
    client.send({ type: 'session.update', session: { type: 'realtime', omnilive: { user: 'metrics-user' } } });
    await client.log.waitFor('session.updated');
    client.send({ type: 'conversation.item.create', item: { type: 'message', role: 'user', content: [{ type: 'input_text', text: 'what is two plus two?' }] } });
    client.send({ type: 'response.create', response: { output_modalities: ['text'] } });
    await client.log.waitFor('response.done');
    client.send({ type: 'input_audio_buffer.commit' }); // nothing was appended: an error event
    await client.log.waitFor('error', (e) => e.error.code === 'input_audio_buffer_commit_empty');
    await engines.memory!.flush(); // the question and the answer become durable rows

    // From loopback, with no key, although the server has keys.
    const res = await get(t.port, '/metrics');
    assert.equal(res.status, 200);
    assert.match(res.headers['content-type'] ?? '', /^text\/plain; version=0\.0\.4/);
    const m = parseMetrics(res.text);
    assert.equal(m.get('omnilive_sessions'), 1);
    assert.equal(m.get('omnilive_connections'), 1);
    assert.equal(m.get('omnilive_sessions_opened_total'), 1);
    assert.equal(m.get('omnilive_user_turns_total{input="text"}'), 1);
    assert.equal(m.get('omnilive_responses_total{status="completed"}'), 1);
    assert.equal(m.get('omnilive_errors_total{code="input_audio_buffer_commit_empty"}'), 1);
    assert.ok((m.get('omnilive_memory_rows_written_total{table="utterances"}') ?? 0) >= 2, 'question and answer written to memory');
    assert.ok((m.get('omnilive_memory_write_seconds_count') ?? 0) >= 1);
    assert.ok((m.get('omnilive_memory_rows{table="utterances"}') ?? 0) >= 2);
    assert.ok((m.get('omnilive_memory_bytes') ?? 0) > 0);
    const cache = m.get('omnilive_memory_cache_bytes') ?? 0;
    assert.ok(cache > 0 && cache <= config.memory.cacheBytes, `LanceDB's caches in use and reported: ${cache} bytes`);
    assert.ok(m.has('omnilive_nodejs_eventloop_lag_seconds'), 'event-loop lag');
    assert.ok(m.has('omnilive_nodejs_eventloop_lag_p99_seconds'));
    assert.ok(m.has('omnilive_process_resident_memory_bytes'));
    for (const declared of ['omnilive_turn_latency_seconds histogram', 'omnilive_barge_in_seconds histogram', 'omnilive_webrtc_transports gauge', 'omnilive_engine_child_restarts_total counter']) {
      assert.ok(res.text.includes(`# TYPE ${declared}\n`), `declares ${declared}`);
    }
    for (const name of new Set([...m.keys()].map((k) => k.replace(/\{.*$/, '')))) assert.match(name, /^omnilive_/, `unprefixed metric ${name}`);

    client.close();
    await until(() => t.server.sessions.size === 0, 'the session to close');
    const closed = parseMetrics((await get(t.port, '/metrics')).text);
    assert.equal(closed.get('omnilive_sessions'), 0);
    assert.equal(closed.get('omnilive_connections'), 0);
    assert.equal(closed.get('omnilive_session_duration_seconds_count'), 1);
  });

  it('asks for a key for /metrics from beyond this machine, never from a scraper on it', async () => {
    // Through a proxy on this machine (forwarding headers), the request is not local.
    const proxied = await get(t.port, '/metrics', { 'x-forwarded-for': '203.0.113.7' });
    assert.equal(proxied.status, 401);
    assert.equal(proxied.headers['www-authenticate'], 'Bearer');
    assert.equal(JSON.parse(proxied.text).error.code, 'missing_api_key');
    assert.equal((await get(t.port, '/metrics', { 'x-forwarded-for': '203.0.113.7', authorization: 'Bearer olk_wrong' })).status, 401);
    assert.equal((await get(t.port, '/metrics', { 'x-forwarded-for': '203.0.113.7', authorization: `Bearer ${KEY}` })).status, 200);
    // A page of another site (DNS rebinding, a browser) is not a local program either.
    assert.equal((await get(t.port, '/metrics', { origin: 'https://evil.example' })).status, 401);

    assert.equal(isLocalRequest(fakeRequest('127.0.0.1', { host: 'localhost:8787' })), true);
    assert.equal(isLocalRequest(fakeRequest('::ffff:127.0.0.1')), true);
    assert.equal(isLocalRequest(fakeRequest('::1', { host: '[::1]:8787' })), true);
    assert.equal(isLocalRequest(fakeRequest('10.1.2.3', { host: 'localhost' })), false);
    assert.equal(isLocalRequest(fakeRequest('127.0.0.1', { host: 'rebound.example:8787' })), false);
    assert.equal(isLocalRequest(fakeRequest('127.0.0.1', { forwarded: 'for=203.0.113.7' })), false);

    const keyed = t.server.access;
    assert.throws(() => keyed.authorizeMetrics(fakeRequest('10.1.2.3')), { status: 401, code: 'missing_api_key' });
    assert.throws(() => keyed.authorizeMetrics(fakeRequest('10.1.2.3', { authorization: 'Bearer olk_wrong' })), { status: 401, code: 'invalid_api_key' });
    keyed.authorizeMetrics(fakeRequest('10.1.2.3', { authorization: `Bearer ${KEY}` }));
    const keyless = new AccessControl({ dataDir: t.dataDir, host: '127.0.0.1' });
    keyless.authorizeMetrics(fakeRequest('127.0.0.1'));
    assert.throws(() => keyless.authorizeMetrics(fakeRequest('10.1.2.3')), { status: 401, code: 'missing_api_key' });
  });

  it('is ready with engines and writable memory, and not while readiness is off for a drain', async () => {
    const ready = await get(t.port, '/readyz');
    assert.equal(ready.status, 200);
    assert.deepEqual(JSON.parse(ready.text), { status: 'ready', checks: { engines: 'ok', memory: 'ok' } });
    t.server.readiness.off('draining');
    const draining = await get(t.port, '/readyz');
    assert.equal(draining.status, 503);
    assert.equal(JSON.parse(draining.text).reason, 'draining');
    assert.equal((await get(t.port, '/healthz')).status, 200, 'alive while not ready');
    t.server.readiness.on();
    assert.equal((await get(t.port, '/readyz')).status, 200);
  });

  it("logs a session's lines as JSON with its session and user, and never the key", () => {
    const parsed = lines.map((line) => JSON.parse(line) as Record<string, unknown>);
    const opened = parsed.find((l) => l.msg === 'session opened');
    const closed = parsed.find((l) => l.msg === 'session closed');
    assert.ok(opened && closed, `session lines: ${lines.join('')}`);
    assert.match(String(opened.session), /^sess_/);
    assert.equal(opened.user, 'local'); // an operator key's sessions are the local user's…
    assert.equal(opened.level, 30);
    assert.equal(closed.session, opened.session);
    assert.equal(closed.user, 'metrics-user'); // …until the session names its user
    for (const line of lines) assert.ok(!line.includes(KEY) && !line.includes(KEY.slice(4)), `a log line holds the key: ${line}`);
  });
});

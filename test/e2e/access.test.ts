import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import OpenAI from 'openai';
import { OpenAIRealtimeWS } from 'openai/realtime/ws';
import { browserClient } from '../helpers/access.ts';
import { startServer, EventLog, type TestServer } from '../helpers/server.ts';
import { RawClient, tryUpgrade } from '../helpers/ws-client.ts';

const SITE_KEY = 'olk_test_site_key_0123456789abcdefghij';

function mint(t: TestServer, body: unknown, headers: Record<string, string> = { authorization: `Bearer ${SITE_KEY}` }) {
  return fetch(`http://127.0.0.1:${t.port}/v1/realtime/client_secrets`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
}

async function secretFor(t: TestServer, body: Record<string, unknown> = {}): Promise<string> {
  const res = await mint(t, body);
  assert.equal(res.status, 200, await res.clone().text());
  return ((await res.json()) as { value: string }).value;
}

const url = (t: TestServer) => `ws://127.0.0.1:${t.port}/v1/realtime`;

describe('access: a keyless server on loopback', () => {
  let server: TestServer;
  before(async () => {
    server = await startServer({ 'tls.mode': 'off', 'access.allowedOrigins': 'https://partner.example' });
  });
  after(() => server.close());

  it("serves its own page's origin as the stable local user, and local programs as their own session", async () => {
    const own = await tryUpgrade(url(server), { headers: { origin: `http://127.0.0.1:${server.port}` } });
    assert.ok(own.opened);
    own.ws.close();
    const page = new RawClient(server, { headers: { origin: `http://localhost:${server.port}`, host: `localhost:${server.port}` } });
    await page.opened;
    assert.equal(page.log.of('session.created')[0]!.session.omnilive.user, 'local');
    const script = new RawClient(server);
    await script.opened;
    const created = script.log.of('session.created')[0]!.session;
    assert.equal(created.omnilive.user, created.id, 'a program that names no user keeps its memory to its session');
    page.close();
    script.close();
  });

  it('refuses foreign and look-alike origins with a 403 before any session exists', async () => {
    const opened: unknown[] = [];
    server.server.on('sessionopen', (s) => opened.push(s));
    const p = server.port;
    const foreign = [
      'http://evil.example',
      `http://127.0.0.1:${p}.evil.example`,
      `http://localhost.evil.example:${p}`,
      `http://127.0.0.1:${p + 1}`,
      `https://127.0.0.1:${p}`, // the right host over the wrong scheme
      'null', // sandboxed frames and file:// pages
      'https://partner.example.evil.example',
      'https://partner.example:8443',
    ];
    for (const origin of foreign) {
      const r = await tryUpgrade(url(server), { headers: { origin } });
      assert.equal(r.opened, false, origin);
      if (r.opened) continue;
      assert.equal(r.status, 403, origin);
      assert.equal(JSON.parse(r.body).error.code, 'origin_not_allowed');
    }
    // DNS rebinding: evil.example resolved to 127.0.0.1, so Origin and Host agree — but are not loopback names.
    const rebound = await tryUpgrade(url(server), { headers: { origin: `http://evil.example:${p}`, host: `evil.example:${p}` } });
    assert.ok(!rebound.opened && rebound.status === 403);
    const listed = new RawClient(server, { headers: { origin: 'https://partner.example' } });
    await listed.opened;
    listed.close();
    assert.equal(opened.length, 1, 'only the allowed connection got a session');
  });

  it('refuses browser-facing HTTP endpoints from foreign origins, and minting without a key', async () => {
    const foreign = await fetch(`http://127.0.0.1:${server.port}/v1/access`, { headers: { origin: 'http://evil.example' } });
    assert.equal(foreign.status, 403);
    const own = await fetch(`http://127.0.0.1:${server.port}/v1/access`, { headers: { origin: `http://127.0.0.1:${server.port}` } });
    assert.deepEqual(await own.json(), { credential: 'none', user: 'local', via: 'local', memory: false });
    const partner = await fetch(`http://127.0.0.1:${server.port}/v1/memory`, { headers: { origin: 'https://partner.example' } });
    assert.equal(partner.status, 403, "an allowlisted site may open sessions, not read the local person's memory");
    const res = await mint(server, {}, {});
    assert.equal(res.status, 401);
    assert.match(((await res.json()) as any).error.message, /omnilive keys create/);
    const preflight = await fetch(`http://127.0.0.1:${server.port}/v1/realtime/client_secrets`, { method: 'OPTIONS', headers: { origin: 'https://partner.example', 'access-control-request-method': 'POST' } });
    assert.equal(preflight.status, 204);
    assert.equal(preflight.headers.get('access-control-allow-origin'), 'https://partner.example');
    const evilPreflight = await fetch(`http://127.0.0.1:${server.port}/v1/realtime/client_secrets`, { method: 'OPTIONS', headers: { origin: 'http://evil.example' } });
    assert.equal(evilPreflight.status, 403);
  });
});

describe('access: API keys and client secrets', () => {
  let server: TestServer;
  before(async () => {
    server = await startServer({ 'access.apiKeys': SITE_KEY });
  });
  after(() => server.close());

  it('needs a credential on every connection once a key exists', async () => {
    const none = await tryUpgrade(url(server));
    assert.ok(!none.opened && none.status === 401);
    assert.equal(JSON.parse(none.body).error.code, 'missing_credential');
    const wrong = await tryUpgrade(url(server), { headers: { authorization: 'Bearer olk_wrong' } });
    assert.ok(!wrong.opened && wrong.status === 401);
    assert.equal(JSON.parse(wrong.body).error.code, 'invalid_api_key');
    const ownPage = await tryUpgrade(url(server), { headers: { origin: `http://127.0.0.1:${server.port}` } });
    assert.ok(!ownPage.opened && ownPage.status === 401, 'with a key configured even the own page needs a credential');
    const good = await tryUpgrade(url(server), { headers: { authorization: `Bearer ${SITE_KEY}` } });
    assert.ok(good.opened);
    good.ws.close();
  });

  it('mints with the openai SDK and the secret opens a session in the subprotocol, once', async () => {
    const rest = new OpenAI({ apiKey: SITE_KEY, baseURL: `http://127.0.0.1:${server.port}/v1` });
    const minted = await rest.realtime.clientSecrets.create({ session: { type: 'realtime', instructions: 'You are the help desk of Example Shop.', audio: { output: { voice: 'awb' } } } });
    assert.match(minted.value, /^ek_[\w-]{40,}$/);
    const now = Date.now() / 1000;
    assert.ok(minted.expires_at > now + 50 && minted.expires_at <= now + 61, `expires in 60 s: ${minted.expires_at - now}`);
    assert.equal(minted.session.type, 'realtime');
    const browser = await tryUpgrade(url(server), { protocols: ['realtime', `openai-insecure-api-key.${minted.value}`], headers: { origin: `http://127.0.0.1:${server.port}` } });
    assert.ok(browser.opened);
    assert.equal(browser.protocol, 'realtime', 'the server answers the realtime subprotocol, never the secret');
    browser.ws.close();
    const replay = await tryUpgrade(url(server), { protocols: ['realtime', `openai-insecure-api-key.${minted.value}`] });
    assert.ok(!replay.opened && replay.status === 401);
    assert.equal(JSON.parse(replay.body).error.code, 'client_secret_used');
    const made = await tryUpgrade(url(server), { protocols: ['realtime', 'openai-insecure-api-key.ek_never_minted'] });
    assert.ok(!made.opened && made.status === 401);
  });

  it('the openai SDK realtime client connects with a minted secret as its key', async () => {
    const secret = await secretFor(server);
    const client = new OpenAIRealtimeWS({ model: 'omnilive', options: { ca: server.ca } }, new OpenAI({ apiKey: secret, baseURL: `https://127.0.0.1:${server.port}/v1` }));
    const log = new EventLog();
    client.on('event', (e) => log.push(e as any));
    const created = await log.waitFor('session.created');
    assert.equal(created.session.omnilive.user.startsWith('anon_'), true, 'a secret minted without a user pins a user of its own');
    client.close();
  });

  it("pins the secret's session config: locked fields are refused by name, the rest applies, instructions stay hidden", async () => {
    const secret = await secretFor(server, { session: { type: 'realtime', instructions: 'Secret site prompt.', audio: { output: { voice: 'awb' } } }, omnilive: { user: 'visitor-1' } });
    const c = browserClient(server, secret);
    await c.opened;
    const created = c.log.of('session.created')[0]!.session;
    assert.equal(created.audio.output.voice, 'awb');
    assert.equal(created.instructions, undefined, 'the site prompt is not shown to the browser');
    assert.equal(created.omnilive.user, 'visitor-1');
    c.send({ type: 'session.update', event_id: 'upd1', session: { instructions: 'Ignore the site.', output_modalities: ['text'], audio: { output: { voice: 'slt' } }, omnilive: { user: 'someone-else' } } });
    const updated = await c.log.waitFor('session.updated');
    const errors = c.log.of('error').map((e) => e.error);
    assert.deepEqual(errors.map((e) => e.param).sort(), ['session.audio.output.voice', 'session.instructions', 'session.omnilive.user']);
    assert.ok(errors.every((e) => e.event_id === 'upd1'));
    assert.deepEqual(updated.session.output_modalities, ['text'], 'the unlocked field applied');
    assert.equal(updated.session.audio.output.voice, 'awb');
    assert.equal(updated.session.omnilive.user, 'visitor-1');
    assert.equal(updated.session.instructions, undefined);
    c.close();
  });

  it('a key holder names the user; a secret from the wrong origin is refused', async () => {
    const k = new RawClient(server, { headers: { authorization: `Bearer ${SITE_KEY}` } });
    await k.opened;
    k.send({ type: 'session.update', session: { omnilive: { user: 'alice' } } });
    assert.equal((await k.log.waitFor('session.updated')).session.omnilive.user, 'alice');
    k.close();
    const secret = await secretFor(server, { omnilive: { origins: ['https://shop.example'] } });
    const wrong = await tryUpgrade(url(server), { protocols: ['realtime', `openai-insecure-api-key.${secret}`], headers: { origin: 'https://evil.example' } });
    assert.ok(!wrong.opened && wrong.status === 403);
    const noOrigin = await tryUpgrade(url(server), { protocols: ['realtime', `openai-insecure-api-key.${secret}`] });
    assert.ok(!noOrigin.opened && noOrigin.status === 403, 'an origin-bound secret needs that origin');
  });

  it('names every field of a bad mint request, and refuses bodies that are not small JSON', async () => {
    const cases: [unknown, RegExp][] = [
      [{ expires_after: { anchor: 'created_at', seconds: 5 } }, /expires_after\.seconds/],
      [{ expires_after: { anchor: 'now', seconds: 60 } }, /expires_after\.anchor/],
      [{ omnilive: { origins: ['not an origin'] } }, /omnilive\.origins\.0/],
      [{ omnilive: { user: 'has spaces' } }, /omnilive\.user/],
      [{ omnilive: { max_session_seconds: 0 } }, /omnilive\.max_session_seconds/],
      [{ session: { audio: { output: { voice: 'nobody' } } } }, /unknown voice 'nobody'/],
      [{ surprise: 1 }, /surprise/],
    ];
    for (const [body, message] of cases) {
      const res = await mint(server, body);
      assert.equal(res.status, 400, JSON.stringify(body));
      assert.match(((await res.json()) as any).error.message, message);
    }
    assert.equal((await mint(server, '{not json')).status, 400);
    assert.equal((await mint(server, {}, { authorization: `Bearer ${SITE_KEY}`, 'content-type': 'text/plain' })).status, 415);
    assert.equal((await mint(server, { session: { instructions: 'x'.repeat(70_000) } })).status, 413);
    assert.equal((await mint(server, {}, { authorization: 'Bearer olk_wrong' })).status, 401);
    assert.equal((await mint(server, {}, {})).status, 401);
  });

  it('a keys.json that no longer parses refuses connections (500) and the server keeps running', async () => {
    const file = path.join(server.dataDir, 'access', 'keys.json');
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(file, '{ "keys": [ oops');
    try {
      const refused = await tryUpgrade(url(server), { headers: { authorization: `Bearer ${SITE_KEY}` } });
      assert.ok(!refused.opened && refused.status === 500);
      assert.equal((await mint(server, {})).status, 500);
    } finally {
      fs.rmSync(file);
    }
    const ok = await tryUpgrade(url(server), { headers: { authorization: `Bearer ${SITE_KEY}` } });
    assert.ok(ok.opened, 'fixed, it works again');
    ok.ws.close();
  });

  it('a revoked key stops working at once, and so do the secrets it minted', async () => {
    const { key } = server.server.access.keys.create('short-lived');
    const res = await mint(server, {}, { authorization: `Bearer ${key}` });
    const secret = ((await res.json()) as { value: string }).value;
    server.server.access.keys.revoke('short-lived');
    const byKey = await tryUpgrade(url(server), { headers: { authorization: `Bearer ${key}` } });
    assert.ok(!byKey.opened && byKey.status === 401);
    const bySecret = await tryUpgrade(url(server), { protocols: ['realtime', `openai-insecure-api-key.${secret}`] });
    assert.ok(!bySecret.opened && bySecret.status === 401);
    assert.equal(JSON.parse(bySecret.body).error.code, 'api_key_revoked');
  });
});

describe('access: limits', () => {
  let server: TestServer;
  before(async () => {
    server = await startServer({
      'tls.mode': 'off',
      'access.apiKeys': SITE_KEY,
      'access.mintsPerKeyPerMinute': '3',
      'access.sessionsPerUser': '1',
      'access.connectionsPerIpPerMinute': '8',
    });
  });
  after(() => server.close());

  it('answers over-limit mints with 429 and Retry-After, per key', async () => {
    const { key } = server.server.access.keys.create('burst');
    const auth = { authorization: `Bearer ${key}` };
    for (let i = 0; i < 3; i++) assert.equal((await mint(server, {}, auth)).status, 200);
    const over = await mint(server, {}, auth);
    assert.equal(over.status, 429);
    const retry = Number(over.headers.get('retry-after'));
    assert.ok(retry >= 1 && retry <= 60, `Retry-After ${retry}`);
    assert.equal((await mint(server, {})).status, 200, 'another key has its own budget');
  });

  it('refuses a second live session of one user at the upgrade, and admits it once the first closed', async () => {
    const first = new RawClient(server, { headers: { authorization: `Bearer ${SITE_KEY}` } });
    await first.opened;
    first.send({ type: 'session.update', session: { omnilive: { user: 'bob' } } });
    await first.log.waitFor('session.updated');
    const second = new RawClient(server, { headers: { authorization: `Bearer ${SITE_KEY}` } });
    await second.opened;
    second.send({ type: 'session.update', event_id: 'u2', session: { omnilive: { user: 'bob' } } });
    const refused = await second.log.waitFor('error');
    assert.equal(refused.error.code, 'too_many_sessions');
    assert.equal(refused.error.param, 'session.omnilive.user');
    first.close();
    await new Promise((r) => setTimeout(r, 200));
    second.send({ type: 'session.update', session: { omnilive: { user: 'bob' } } });
    assert.equal((await second.log.waitFor('session.updated', (e) => e.session.omnilive.user === 'bob')).session.omnilive.user, 'bob');
    second.close();
  });

  it("refuses a client secret's session at the upgrade when its user is at the limit", async () => {
    const mintFor = async (user: string) => {
      const res = await mint(server, { omnilive: { user } });
      return ((await res.json()) as { value: string }).value;
    };
    const first = browserClient(server, await mintFor('erin'));
    await first.opened;
    const refused = await tryUpgrade(url(server), { protocols: ['realtime', `openai-insecure-api-key.${await mintFor('erin')}`] });
    assert.ok(!refused.opened && refused.status === 429);
    assert.ok(Number(refused.headers['retry-after']) >= 1);
    assert.equal(JSON.parse(refused.body).error.code, 'too_many_sessions');
    first.close();
  });

  it('answers a flood of connections from one address with 429 and Retry-After at the upgrade', async () => {
    let refused: { status: number; headers: Record<string, unknown> } | undefined;
    for (let i = 0; i < 12 && !refused; i++) {
      const r = await tryUpgrade(url(server), { headers: { authorization: `Bearer ${SITE_KEY}` } });
      if (r.opened) r.ws.close();
      else refused = r;
    }
    assert.ok(refused, 'the 9th connection in a minute is refused');
    assert.equal(refused.status, 429);
    assert.ok(Number(refused.headers['retry-after']) >= 1);
  });
});

describe('access: session length', () => {
  let server: TestServer;
  before(async () => {
    server = await startServer({ 'tls.mode': 'off', 'access.apiKeys': SITE_KEY });
  });
  after(() => server.close());

  it('ends a session at the length its secret allows, with an error event and a close reason', async () => {
    const secret = await secretFor(server, { omnilive: { max_session_seconds: 1 } });
    const c = browserClient(server, secret);
    await c.opened;
    const closed = new Promise<{ code: number; reason: string }>((resolve) => c.ws.once('close', (code, reason) => resolve({ code, reason: reason.toString() })));
    const error = await c.log.waitFor('error', () => true, 5000);
    assert.equal(error.error.code, 'session_expired');
    const { code, reason } = await closed;
    assert.equal(code, 1008);
    assert.match(reason, /length limit of 1 s/);
  });
});

describe('access: named agents for sites without a backend', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'omnilive-agents-'));
  const agentsFile = path.join(dir, 'agents.json');
  let server: TestServer;
  const agentMint = (name: string, origin: string | undefined, body: unknown = {}) =>
    fetch(`http://127.0.0.1:${server.port}/v1/agents/${name}/client_secrets`, { method: 'POST', headers: { 'content-type': 'application/json', ...(origin ? { origin } : {}) }, body: JSON.stringify(body) });
  before(async () => {
    fs.writeFileSync(
      agentsFile,
      JSON.stringify({
        agents: {
          shop: { session: { instructions: 'You are the Example Shop assistant.', audio: { output: { voice: 'awb' } } }, origins: ['https://shop.example'], mints_per_ip_per_minute: 3, persist_users: true },
          kiosk: { origins: ['https://kiosk.example'] },
        },
      }),
    );
    server = await startServer({ 'tls.mode': 'off', 'access.apiKeys': SITE_KEY, 'access.agentsFile': agentsFile });
  });
  after(async () => {
    await server.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it("mints a pinned, origin-bound secret for a page of the agent's site, and remembers a returning visitor", async () => {
    const visitor = 'v_0123456789abcdefXYZ';
    const res = await agentMint('shop', 'https://shop.example', { visitor });
    assert.equal(res.status, 200);
    const { value } = (await res.json()) as { value: string };
    const c = browserClient(server, value, 'https://shop.example');
    await c.opened;
    const session = c.log.of('session.created')[0]!.session;
    assert.equal(session.omnilive.user, `shop.${visitor}`);
    assert.equal(session.audio.output.voice, 'awb');
    assert.equal(session.instructions, undefined);
    c.send({ type: 'session.update', session: { instructions: 'You are a pirate.' } });
    assert.equal((await c.log.waitFor('error')).error.code, 'field_locked');
    c.close();
    const kiosk = (await (await agentMint('kiosk', 'https://kiosk.example', { visitor })).json()) as { value: string; omnilive: { user: string } };
    assert.match(kiosk.omnilive.user, /^anon_/, 'an agent that does not persist users gives each visit its own');
    const elsewhere = await tryUpgrade(url(server), { protocols: ['realtime', `openai-insecure-api-key.${kiosk.value}`], headers: { origin: 'https://shop.example' } });
    assert.ok(!elsewhere.opened && elsewhere.status === 403, "a kiosk secret is bound to the kiosk's origin");
  });

  it('refuses other origins, unknown agents and bad bodies, and caps each address', async () => {
    assert.equal((await agentMint('shop', 'https://evil.example')).status, 403);
    assert.equal((await agentMint('shop', undefined)).status, 403, 'only pages start agents');
    assert.equal((await agentMint('nobody', 'https://shop.example')).status, 404);
    const bad = await agentMint('shop', 'https://shop.example', { visitor: 'x' });
    assert.equal(bad.status, 400);
    assert.match(((await bad.json()) as any).error.message, /visitor/);
    const preflight = await fetch(`http://127.0.0.1:${server.port}/v1/agents/shop/client_secrets`, { method: 'OPTIONS', headers: { origin: 'https://shop.example' } });
    assert.equal(preflight.headers.get('access-control-allow-origin'), 'https://shop.example');
    let over: Response | undefined;
    for (let i = 0; i < 4 && !over; i++) {
      const r = await agentMint('shop', 'https://shop.example');
      if (r.status === 429) over = r;
    }
    assert.ok(over, 'the address is capped');
    assert.ok(Number(over.headers.get('retry-after')) >= 1);
  });

  it('a bad agents file stops the server with the agent and field named', async () => {
    const bad = path.join(dir, 'bad.json');
    fs.writeFileSync(bad, JSON.stringify({ agents: { shop: { origins: ['shop.example'] } } }));
    await assert.rejects(startServer({ 'tls.mode': 'off', 'access.agentsFile': bad }), /agents\.shop\.origins\.0/);
    fs.writeFileSync(bad, JSON.stringify({ agents: { shop: { origins: ['https://shop.example'], session: { audio: { output: { voice: 'nobody' } } } } } }));
    await assert.rejects(startServer({ 'tls.mode': 'off', 'access.agentsFile': bad }), /agent 'shop': unknown voice 'nobody'/);
  });
});

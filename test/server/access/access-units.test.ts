import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import { ApiKeyRing, ClientSecrets, OriginPolicy, SessionLock, isLoopbackHostname, normalizeOrigin } from '../../../server/access/index.ts';
import { MinuteWindow } from '../../../server/access/limits.ts';

describe('origins', () => {
  it('normalizes only real origins', () => {
    assert.equal(normalizeOrigin('HTTPS://Example.COM:443'), 'https://example.com');
    assert.equal(normalizeOrigin('http://localhost:3000'), 'http://localhost:3000');
    for (const bad of ['null', 'example.com', 'https://example.com/path', 'https://user:pw@example.com', 'file:///etc', 'javascript:alert(1)', '']) {
      assert.equal(normalizeOrigin(bad), undefined, bad);
    }
  });

  it('knows loopback names, and nothing that merely contains them', () => {
    for (const h of ['localhost', '127.0.0.1', '127.8.9.10', '[::1]', 'app.localhost']) assert.ok(isLoopbackHostname(h), h);
    for (const h of ['localhost.evil.example', '127.0.0.1.nip.io', '10.0.0.1', '0.0.0.0', 'example.com']) assert.ok(!isLoopbackHostname(h), h);
  });

  it('allows the own origin only where the Host agrees, and on loopback names while keyless', () => {
    const policy = new OriginPolicy(['https://shop.example']);
    assert.deepEqual(policy.check(undefined, '127.0.0.1:8787', false, true), { allowed: true, kind: 'none' });
    assert.deepEqual(policy.check('http://127.0.0.1:8787', '127.0.0.1:8787', false, true), { allowed: true, kind: 'own' });
    assert.equal(policy.check('http://127.0.0.1:8787', '127.0.0.1:8787', true, true).allowed, false, 'scheme must match');
    assert.equal(policy.check('http://evil.example:8787', 'evil.example:8787', false, true).allowed, false, 'DNS rebinding');
    assert.equal(policy.check('http://assistant.lan:8787', 'assistant.lan:8787', false, false).allowed, true, 'with keys, any own host');
    assert.equal(policy.check('https://shop.example', 'x', true, false).allowed, true);
    assert.equal(policy.check('https://shop.example.evil', 'x', true, false).allowed, false);
    assert.throws(() => new OriginPolicy(['shop.example']), /not an origin/);
  });
});

describe('SessionLock', () => {
  const lock = new SessionLock({ type: 'realtime', instructions: 'site prompt', audio: { output: { voice: 'awb' }, input: { turn_detection: { type: 'server_vad', silence_duration_ms: 700 } } } });

  it('locks the fields the secret set, whole objects where they are one setting', () => {
    assert.deepEqual([...lock.locked].sort(), ['audio.input.turn_detection', 'audio.output.voice', 'instructions']);
  });

  it('splits an update into what applies and what is refused', () => {
    const { allowed, refused } = lock.filter({
      instructions: 'x',
      output_modalities: ['text'],
      audio: { input: { turn_detection: { type: 'server_vad', silence_duration_ms: 200 }, format: { type: 'audio/pcm', rate: 16000 } }, output: { voice: 'slt' } },
    });
    assert.deepEqual(refused.sort(), ['audio.input.turn_detection', 'audio.output.voice', 'instructions']);
    assert.deepEqual(allowed, { output_modalities: ['text'], audio: { input: { format: { type: 'audio/pcm', rate: 16000 } } } });
    assert.deepEqual(lock.filter({ audio: { input: { turn_detection: null } } }).refused, ['audio.input.turn_detection'], 'turning it off is changing it');
  });

  it('hides pinned instructions from session descriptions, and nothing else', () => {
    assert.deepEqual(lock.redact({ id: 's', instructions: 'site prompt', voice: 'awb' }), { id: 's', voice: 'awb' });
    assert.deepEqual(new SessionLock({ audio: { output: { voice: 'awb' } } }).redact({ instructions: 'mine' }), { instructions: 'mine' });
  });
});

describe('ClientSecrets', () => {
  const grant = { keyId: 'k1', user: 'u1', maxSessionSeconds: 3600 };
  const live = () => true;

  it('expires at the minted time, 60 s by default', () => {
    const secrets = new ClientSecrets();
    const t0 = 1_000_000;
    const { value, expires_at } = secrets.mint({}, grant, t0);
    assert.equal(expires_at, Math.floor((t0 + 60_000) / 1000));
    assert.throws(() => secrets.redeem(value, undefined, live, t0 + 60_000), { code: 'client_secret_expired' });
    const long = secrets.mint({ expires_after: { anchor: 'created_at', seconds: 600 } }, grant, t0);
    assert.equal(secrets.redeem(long.value, undefined, live, t0 + 599_000).user, 'u1');
  });

  it('is single-use unless minted otherwise, and dies with its key', () => {
    const secrets = new ClientSecrets();
    const once = secrets.mint({}, grant).value;
    secrets.redeem(once, undefined, live);
    assert.throws(() => secrets.redeem(once, undefined, live), { code: 'client_secret_used' });
    const many = secrets.mint({ omnilive: { single_use: false } }, grant).value;
    secrets.redeem(many, undefined, live);
    secrets.redeem(many, undefined, live);
    assert.throws(() => secrets.redeem(many, undefined, () => false), { code: 'api_key_revoked' });
    assert.throws(() => secrets.redeem('ek_nope', undefined, live), { code: 'invalid_client_secret' });
  });
});

describe('MinuteWindow', () => {
  it('counts a minute back and says how long to wait', () => {
    const w = new MinuteWindow();
    const t = 5_000_000;
    assert.equal(w.take('ip', 2, t), 0);
    assert.equal(w.take('ip', 2, t + 10_000), 0);
    assert.equal(w.take('ip', 2, t + 20_000), 40);
    assert.equal(w.take('other', 2, t + 20_000), 0, 'per key');
    assert.equal(w.take('ip', 2, t + 60_001), 0, 'the first fell out of the window');
  });
});

describe('ApiKeyRing', () => {
  it('stores hashes, compares every key, and reloads keys.json when another process revokes', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'omnilive-keys-'));
    try {
      const server = new ApiKeyRing(dir, ['olk_from_env']);
      const cli = new ApiKeyRing(dir);
      const { key, record } = cli.create('site', 'site-user');
      assert.ok(!fs.readFileSync(path.join(dir, 'access', 'keys.json'), 'utf8').includes(key));
      assert.equal(server.verify(key)?.id, record.id);
      assert.equal(server.verify('olk_from_env')?.source, 'env');
      assert.equal(server.verify(`${key}x`), undefined);
      assert.throws(() => cli.create('site'), /exists already/);
      cli.revoke('site');
      assert.equal(server.verify(key), undefined, 'revoked from another process');
      assert.throws(() => cli.revoke('OMNILIVE_API_KEY #1'), /no live key/);
      assert.throws(() => cli.create('bad name!'), /key name/);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});

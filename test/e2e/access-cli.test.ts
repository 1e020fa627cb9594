import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { tryUpgrade } from '../helpers/ws-client.ts';

const CLI = path.resolve(import.meta.dirname, '../../server/bin/omnilive.mjs');
const QUIET = ['--port', '0', '--tls', 'off', '--webrtc', 'off', '--vision', 'off', '--memory', 'off'];

interface Served {
  child: ChildProcess;
  port: number;
  /** Everything it printed, stdout and stderr. */
  output(): string;
  stop(): Promise<void>;
}

/** `omnilive serve` as a user runs it, its output kept whole. */
async function serve(args: string[], env: Record<string, string> = {}): Promise<Served> {
  const child = spawn(process.execPath, [CLI, 'serve', ...QUIET, ...args], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (out += d));
  const port = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no listening line in 60 s:\n${out}`)), 60_000);
    const check = () => {
      const m = /listening on http:\/\/[^\s]+?:(\d+)/.exec(out);
      if (m && /omnilive: no language model|omnilive: WebRTC/.test(out)) {
        clearTimeout(timer);
        resolve(Number(m[1]));
      }
    };
    child.stdout!.on('data', check);
    child.once('exit', (code) => reject(new Error(`serve exited with ${code}:\n${out}`)));
  });
  return {
    child,
    port,
    output: () => out,
    stop: () =>
      new Promise((resolve) => {
        if (child.exitCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
      }),
  };
}

function cli(args: string[], env: Record<string, string> = {}) {
  return spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', env: { ...process.env, ...env } });
}

describe('access from the command line', () => {
  const dirs: string[] = [];
  const dataDir = () => {
    const d = fs.mkdtempSync(path.join(os.tmpdir(), 'omnilive-cli-access-'));
    dirs.push(d);
    return d;
  };
  after(() => dirs.forEach((d) => fs.rmSync(d, { recursive: true, force: true })));

  it('never writes a key or a client secret to its output, while logging what it refused', async () => {
    const data = dataDir();
    const envKey = 'olk_env_key_never_logged_0123456789';
    const made = cli(['keys', 'create', '--name', 'shop', '--user', 'shop-visitors', '--data', data]);
    assert.equal(made.status, 0, made.stderr);
    const fileKey = made.stdout.trim();
    assert.match(fileKey, /^olk_[\w-]{40,}$/);
    assert.doesNotMatch(made.stderr, new RegExp(fileKey));
    const keysJson = fs.readFileSync(path.join(data, 'access', 'keys.json'), 'utf8');
    assert.ok(!keysJson.includes(fileKey), 'keys are stored hashed');
    assert.equal(fs.statSync(path.join(data, 'access', 'keys.json')).mode & 0o777, 0o600);

    const server = await serve(['--data', data], { OMNILIVE_API_KEY: envKey });
    const url = `ws://127.0.0.1:${server.port}/v1/realtime`;
    const secrets: string[] = [];
    for (const key of [envKey, fileKey]) {
      const res = await fetch(`http://127.0.0.1:${server.port}/v1/realtime/client_secrets`, { method: 'POST', headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' }, body: '{}' });
      const secret = ((await res.json()) as { value: string }).value;
      secrets.push(secret);
      const ok = await tryUpgrade(url, { protocols: ['realtime', `openai-insecure-api-key.${secret}`] });
      assert.ok(ok.opened);
      ok.ws.close();
      const replay = await tryUpgrade(url, { protocols: ['realtime', `openai-insecure-api-key.${secret}`] });
      assert.ok(!replay.opened);
    }
    const wrongKey = 'olk_wrong_key_that_is_also_secret_123';
    assert.ok(!(await tryUpgrade(url, { headers: { authorization: `Bearer ${wrongKey}` } })).opened);
    assert.ok(!(await tryUpgrade(url, { headers: { origin: 'http://evil.example', authorization: `Bearer ${envKey}` } })).opened);
    const revoked = cli(['keys', 'revoke', 'shop', '--data', data]);
    assert.equal(revoked.status, 0, revoked.stderr);
    assert.ok(!(await tryUpgrade(url, { headers: { authorization: `Bearer ${fileKey}` } })).opened, 'revoked from the CLI, refused by the running server');
    const listed = cli(['keys', 'list', '--data', data]);
    assert.match(listed.stdout, /"name":"shop".*"revoked":"20/);
    await server.stop();

    const output = server.output() + made.stderr + listed.stdout + listed.stderr + revoked.stderr;
    for (const secret of [envKey, fileKey, wrongKey, ...secrets]) assert.ok(!output.includes(secret), `a credential appeared in the output:\n${output}`);
    assert.match(server.output(), /refused a connection from 127\.0\.0\.1: 401 client_secret_used/);
    assert.match(server.output(), /refused a connection from 127\.0\.0\.1: 403 origin_not_allowed/);
  });

  it('beyond loopback with no key, makes an admin key once (0600), shows it once, and serves nobody without it', async () => {
    const data = dataDir();
    const first = await serve(['--host', '0.0.0.0', '--data', data]);
    const keyFile = path.join(data, 'access', 'admin.key');
    const key = fs.readFileSync(keyFile, 'utf8').trim();
    assert.equal(fs.statSync(keyFile).mode & 0o777, 0o600);
    assert.ok(first.output().includes(`#key=${key}`), first.output());
    const url = `ws://127.0.0.1:${first.port}/v1/realtime`;
    const open = await tryUpgrade(url);
    assert.ok(!open.opened && open.status === 401, 'no credential, no session');
    const withKey = await tryUpgrade(url, { headers: { authorization: `Bearer ${key}` } });
    assert.ok(withKey.opened);
    withKey.ws.close();
    await first.stop();
    const second = await serve(['--host', '0.0.0.0', '--data', data]);
    await second.stop();
    assert.ok(!second.output().includes(key), 'the admin key is shown only when it is made');
    assert.match(second.output(), /every connection needs an API key or a client secret/);
  });
});

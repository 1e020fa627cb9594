import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { sessionOf } from '../helpers/access.ts';
import { startServer, type TestServer } from '../helpers/server.ts';
import type { RawClient } from '../helpers/ws-client.ts';

const KEY = 'olk_memory_test_key_abcdefghijklmnopqrstuvwxyz';
const CLI = path.resolve(import.meta.dirname, '../../server/bin/omnilive.mjs');

function say(c: RawClient, text: string): void {
  c.send({ type: 'conversation.item.create', item: { type: 'message', role: 'user', content: [{ type: 'input_text', text }] } });
}

async function ask(c: RawClient, text: string): Promise<string> {
  const before = c.log.of('response.done').length;
  say(c, text);
  c.send({ type: 'response.create' });
  const done = await c.log.waitFor('response.done', () => c.log.of('response.done').length > before, 30_000);
  return done.response.output.map((o: any) => o.content.map((p: any) => p.text ?? p.transcript ?? '').join(' ')).join(' ');
}

async function search(c: RawClient, query: string): Promise<{ text: string; id: string }[]> {
  const before = c.log.of('omnilive.memory.results').length;
  c.send({ type: 'omnilive.memory.search', query });
  const found = await c.log.waitFor('omnilive.memory.results', () => c.log.of('omnilive.memory.results').length > before);
  return found.results;
}

function api(t: TestServer, route: string, init: RequestInit = {}) {
  return fetch(`http://127.0.0.1:${t.port}${route}`, { ...init, headers: { authorization: `Bearer ${KEY}`, 'content-type': 'application/json', ...(init.headers as Record<string, string>) } });
}

describe('access: long-term memory belongs to a user', () => {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'omnilive-users-'));
  const settings = { 'tls.mode': 'off', 'memory.enabled': 'on', 'access.apiKeys': KEY, dataDir } as const;
  let server: TestServer;
  before(async () => {
    server = await startServer(settings);
  });
  after(async () => {
    await server.close();
    fs.rmSync(dataDir, { recursive: true, force: true });
  });

  it('is recalled in a later session of the same user, and in no session of another', async () => {
    const first = await sessionOf(server, KEY, 'alice');
    say(first, 'remember that my keys are in the blue drawer');
    await first.log.waitFor('conversation.item.done');
    first.close();

    const later = await sessionOf(server, KEY, 'alice');
    const hits = await search(later, 'keys drawer');
    assert.ok(hits.some((h) => /blue drawer/.test(h.text)), JSON.stringify(hits));
    assert.match(await ask(later, 'where are my keys'), /blue drawer/, 'the answer retrieves across sessions');
    later.close();

    const bob = await sessionOf(server, KEY, 'bob');
    assert.ok(!(await search(bob, 'keys drawer')).some((h) => /blue drawer/.test(h.text)));
    assert.doesNotMatch(await ask(bob, 'where are my keys'), /blue drawer/, "an answer never retrieves another user's memory");
    bob.close();
  });

  it("the memory API shows the caller's own user only, and forgets one item", async () => {
    const bobs = (await (await api(server, '/v1/memory?user=bob')).json()) as { data: { text?: string }[] };
    assert.ok(bobs.data.length > 0);
    assert.ok(!bobs.data.some((i) => /blue drawer/.test(i.text ?? '')), 'bob sees nothing of alice');
    const alices = (await (await api(server, '/v1/memory?user=alice')).json()) as { data: { id: string; kind: string; role?: string; text?: string; wall_start_ms: number }[] };
    const note = alices.data.find((i) => i.role === 'user' && /blue drawer/.test(i.text ?? ''));
    // The answer that quoted it mentions it too: forgetting "that" takes both.
    const mentions = alices.data.filter((i) => /blue drawer/.test(i.text ?? '')).map((i) => i.id);
    assert.equal(mentions.length, 2);
    assert.ok(note, JSON.stringify(alices.data));
    assert.ok(alices.data.every((i, n) => n === 0 || alices.data[n - 1]!.wall_start_ms >= i.wall_start_ms), 'newest first');
    const found = (await (await api(server, '/v1/memory/search?user=alice&q=blue%20drawer')).json()) as { data: { id: string }[] };
    assert.ok(found.data.some((h) => h.id === note.id));

    const bad = await api(server, '/v1/memory/forget?user=alice', { method: 'POST', body: JSON.stringify({ everything: true }) });
    assert.equal(bad.status, 400);
    assert.match(((await bad.json()) as any).error.message, /everything/);
    const forgot = await api(server, '/v1/memory/forget?user=bob', { method: 'POST', body: JSON.stringify({ ids: mentions }) });
    assert.deepEqual(((await forgot.json()) as any).deleted, { clips: 0, utterances: 0, episodes: 0 }, "bob cannot forget alice's items");
    const gone = await api(server, '/v1/memory/forget?user=alice', { method: 'POST', body: JSON.stringify({ ids: mentions }) });
    assert.equal(((await gone.json()) as any).deleted.utterances, 2);
    const after = (await (await api(server, '/v1/memory/search?user=alice&q=blue%20drawer')).json()) as { data: { text: string }[] };
    assert.ok(!after.data.some((h) => /blue drawer/.test(h.text)));
    const secret = await api(server, '/v1/memory?user=alice', { headers: { authorization: 'Bearer ek_not_for_this' } });
    assert.equal(secret.status, 401);
  });

  it('survives a restart, and the CLI keeps users apart too', async () => {
    const first = await sessionOf(server, KEY, 'carol');
    say(first, 'my bicycle is locked at the north gate');
    await first.log.waitFor('conversation.item.done');
    first.close();
    await server.close();
    server = await startServer(settings);
    const again = await sessionOf(server, KEY, 'carol');
    assert.ok((await search(again, 'bicycle gate')).some((h) => /north gate/.test(h.text)), 'memory outlives the server');
    again.close();
    await server.close();

    const cli = (user: string) => spawnSync(process.execPath, [CLI, 'memory', 'search', '--data', dataDir, '--memory-id', user, 'bicycle gate'], { encoding: 'utf8' });
    assert.match(cli('carol').stdout, /north gate/);
    const dave = cli('dave');
    assert.equal(dave.status, 0, dave.stderr);
    assert.doesNotMatch(dave.stdout, /north gate/);
    server = await startServer(settings);
  });
});

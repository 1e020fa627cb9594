import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { sessionOf } from '../helpers/access.ts';
import { startServer } from '../helpers/server.ts';
import type { RawClient } from '../helpers/ws-client.ts';

const KEY = 'olk_watch_test_key_abcdefghijklmnopqrstuvwxyz0123';

async function request(c: RawClient, event: Record<string, unknown>, reply: string): Promise<any> {
  const id = `evt_${Math.random().toString(36).slice(2)}`;
  c.send({ ...event, event_id: id });
  return Promise.race([c.log.waitFor(reply, (e) => e.request_id === id), c.log.waitFor('error', (e) => e.error.event_id === id)]);
}

describe('watches over the WebSocket protocol: kept with the user across a restart', () => {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'omnilive-watch-store-'));
  const settings = { 'tls.mode': 'off', 'memory.enabled': 'on', 'access.apiKeys': KEY, dataDir } as const;
  after(() => fs.rmSync(dataDir, { recursive: true, force: true }));

  it('create, list and delete by event; refusals name the field; the watches survive a restart and belong to their user only', async () => {
    let server = await startServer(settings);
    let alice = await sessionOf(server, KEY, 'alice');
    const made = await request(alice, { type: 'omnilive.watch.create', condition: 'the screen says GATE B17', mode: 'every', cooldown_ms: 30_000 }, 'omnilive.watch.created');
    assert.equal(made.type, 'omnilive.watch.created');
    assert.deepEqual(made.watch.rule.kind, 'text');
    assert.equal(made.watch.mode, 'every');
    assert.equal(made.watch.cooldown_ms, 30_000);
    assert.match(made.confirmation, /GATE|gate/);
    // Typed "tell me when …" makes one too, answered in words.
    alice.send({ type: 'conversation.item.create', item: { type: 'message', role: 'user', content: [{ type: 'input_text', text: 'warn me when the smoke alarm goes off' }] } });
    alice.send({ type: 'response.create' });
    const spoken = await alice.log.waitFor('omnilive.watch.created', (e) => e.request_id === null);
    assert.equal(spoken.watch.rule.kind, 'sound');
    const refused = await request(alice, { type: 'omnilive.watch.create', condition: 'my mood improves' }, 'omnilive.watch.created');
    assert.equal(refused.type, 'error');
    assert.equal(refused.error.code, 'watch_condition_unsupported');
    assert.equal(refused.error.param, 'condition');
    const bad = await request(alice, { type: 'omnilive.watch.create', condition: '', mode: 'sometimes' }, 'omnilive.watch.created');
    assert.equal(bad.type, 'error');
    alice.close();
    await server.close();

    server = await startServer(settings);
    try {
      alice = await sessionOf(server, KEY, 'alice');
      const listed = await request(alice, { type: 'omnilive.watch.list' }, 'omnilive.watch.listed');
      assert.deepEqual(listed.watches.map((w: any) => w.condition).sort(), ['the screen says GATE B17', 'the smoke alarm goes off'].sort());
      const bob = await sessionOf(server, KEY, 'bob');
      assert.deepEqual((await request(bob, { type: 'omnilive.watch.list' }, 'omnilive.watch.listed')).watches, [], "another user's watches are not his");
      const notHis = await request(bob, { type: 'omnilive.watch.delete', watch_id: made.watch.id }, 'omnilive.watch.deleted');
      assert.equal(notHis.error?.code, 'watch_not_found');
      bob.close();
      const deleted = await request(alice, { type: 'omnilive.watch.delete', watch_id: made.watch.id }, 'omnilive.watch.deleted');
      assert.equal(deleted.watch_id, made.watch.id);
      const after = await request(alice, { type: 'omnilive.watch.list' }, 'omnilive.watch.listed');
      assert.deepEqual(after.watches.map((w: any) => w.id), [spoken.watch.id]);
      // Forgetting the whole user through the API forgets what she asked to be told, in this
      // process too: no watch of hers is left to fire.
      const forgot = await fetch(`http://127.0.0.1:${server.port}/v1/memory/forget?user=alice`, { method: 'POST', headers: { authorization: `Bearer ${KEY}`, 'content-type': 'application/json' }, body: JSON.stringify({ all: true }) });
      assert.equal(forgot.status, 200, await forgot.clone().text());
      assert.deepEqual((await request(alice, { type: 'omnilive.watch.list' }, 'omnilive.watch.listed')).watches, [], 'watches of a forgotten user');
      alice.close();
    } finally {
      await server.close();
    }
  });
});

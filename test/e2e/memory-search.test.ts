import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startServer, type TestServer } from '../helpers/server.ts';
import { RawClient } from '../helpers/ws-client.ts';

describe('omnilive.memory.search over WebSocket', () => {
  let server: TestServer;
  before(async () => {
    server = await startServer({ 'tls.mode': 'off', 'memory.enabled': 'on' });
  });
  after(() => server.close());

  it("finds what this session said, and nothing of another session's", async () => {
    const a = new RawClient(server);
    const b = new RawClient(server);
    await Promise.all([a.opened, b.opened]);
    a.send({ type: 'conversation.item.create', item: { type: 'message', role: 'user', content: [{ type: 'input_text', text: 'my passport is in the top drawer' }] } });
    a.send({ type: 'omnilive.memory.search', query: 'where is the passport' });
    const found = await a.log.waitFor('omnilive.memory.results');
    assert.equal(found.query, 'where is the passport');
    assert.equal(found.results[0].kind, 'utterance');
    assert.match(found.results[0].text, /passport is in the top drawer/);
    assert.ok(found.results[0].matched_by.includes('text'));
    b.send({ type: 'omnilive.memory.search', query: 'passport drawer' });
    const other = await b.log.waitFor('omnilive.memory.results');
    assert.ok(!other.results.some((r: { text: string }) => /passport/.test(r.text)), JSON.stringify(other.results));
    a.close();
    b.close();
  });

  it('a bad search is an error event', async () => {
    const c = new RawClient(server);
    await c.opened;
    c.send({ type: 'omnilive.memory.search', query: '' });
    assert.equal((await c.log.waitFor('error')).error.code, 'invalid_value');
    c.close();
  });
});

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Socket } from 'node:net';
import { opsMetrics } from '../../server/ops/metrics.ts';
import { withScriptedModel } from '../helpers/server.ts';
import { RawClient } from '../helpers/ws-client.ts';

const LONG = Array.from({ length: 60 }, (_, i) => `Sentence number ${i + 1} goes on.`).join(' ');
const SOFT = 256 * 1024;
const MAX = 1024 * 1024;

async function slowCloses(): Promise<number> {
  return (await opsMetrics.slowClientCloses.get()).values.reduce((n, v) => n + v.value, 0);
}

/** A typed question and its answer: ms from response.create to response.done. */
async function turn(client: RawClient, text: string): Promise<number> {
  const before = client.log.of('response.done').length;
  client.send({ type: 'conversation.item.create', item: { type: 'message', role: 'user', content: [{ type: 'input_text', text }] } });
  const asked = performance.now();
  client.send({ type: 'response.create' });
  const done = await client.log.waitFor('response.done', () => client.log.of('response.done').length > before);
  assert.equal(done.response.status, 'completed');
  return performance.now() - asked;
}

describe('a client that stops reading', () => {
  const t = withScriptedModel((q) => (/long story/.test(q) ? LONG : 'Fine, thanks.'), { 'limits.sendBufferSoftBytes': String(SOFT), 'limits.sendBufferMaxBytes': String(MAX) }, 2);

  it('is closed with 1008 and a reason past the limit, its session freed; another client keeps its latency', async (ctx) => {
    const other = new RawClient(t.server);
    await other.opened;
    other.send({ type: 'session.update', session: { output_modalities: ['text'] } });
    await turn(other, 'warm up');
    const baseline = await turn(other, 'how are you?');

    const stalled = new RawClient(t.server);
    await stalled.opened;
    stalled.send({ type: 'conversation.item.create', item: { type: 'message', role: 'user', content: [{ type: 'input_text', text: 'tell me a long story' }] } });
    stalled.send({ type: 'response.create' });
    await stalled.log.waitFor('response.output_audio.delta'); // its answer is speaking
    // A big item (16 parts of 30 000 characters) whose copies the stalled client will ask for:
    // together more than the kernel's socket buffers hold (a few MB on loopback).
    const part = { type: 'input_text', text: 'x'.repeat(30_000) };
    stalled.send({ type: 'conversation.item.create', item: { id: 'item_big', type: 'message', role: 'user', content: Array(16).fill(part) } });
    await stalled.log.waitFor('conversation.item.done', (e) => e.item.id === 'item_big');
    const closes = await slowCloses();
    const socket = (stalled.ws as unknown as { _socket: Socket })._socket;
    socket.pause(); // stops reading; keeps sending
    const closed = new Promise<{ code: number; reason: string }>((resolve) => stalled.ws.once('close', (code, reason) => resolve({ code, reason: reason.toString() })));
    for (let i = 0; i < 20; i++) stalled.send({ type: 'conversation.item.retrieve', item_id: 'item_big' });

    const during = await turn(other, 'and now?');
    for (let waited = 0; (await slowCloses()) === closes; waited += 20) {
      assert.ok(waited < 30_000, 'the stalled client was closed');
      await sleep(20);
    }
    assert.equal(t.server.server.sessions.size, 1, 'the stalled client\'s session is closed and gone');

    socket.resume(); // it catches up and reads why it was closed
    const { code, reason } = await closed;
    assert.equal(code, 1008);
    assert.match(reason, /too slow/);
    const last = stalled.log.events.at(-1)!;
    assert.equal(last.type === 'error' && last.error.code, 'client_too_slow', 'the last event says why');
    assert.ok(stalled.log.of('response.output_audio.delta').length > 0);
    const after = await turn(other, 'still there?');
    ctx.diagnostic(`other client's turn: ${Math.round(baseline)} ms before, ${Math.round(during)} ms while the other stalled, ${Math.round(after)} ms after`);
    // Generous: a blocked event loop or a session stuck behind the stalled one would take seconds.
    assert.ok(during < baseline * 5 + 1500, `turn took ${Math.round(during)} ms while another client stalled (baseline ${Math.round(baseline)} ms)`);
    other.close();
  });
});

import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { MemoryStore } from '../../../memory/index.ts';
import type { ServerEvent } from '../../../server/protocol/server-events.ts';
import { Session } from '../../../server/session/session.ts';
import { ScriptedReasoner, ToneTts, loud, standInEngines } from '../../helpers/stand-ins.ts';

/** A session with a spoken answer of ~10 sentences that takes a while, and real memory (LanceDB in a temp dir). */
describe('Session shutdown: drain() lets the answer finish, close() cancels at once', () => {
  let dir: string;
  let memory: MemoryStore;
  before(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'omnilive-shutdown-'));
    // Flushes only when asked: what drain() writes is what reaches the table.
    memory = await MemoryStore.open({ uri: dir, flushIntervalMs: 600_000 });
  });
  after(async () => {
    await memory.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  async function asking(memoryId: string) {
    const answer = Array.from({ length: 10 }, (_, i) => `Sentence ${i + 1}.`).join(' ');
    const session = new Session({
      engines: standInEngines({ memory, reasoner: new ScriptedReasoner({ answers: [answer], deltaDelayMs: 5 }), tts: new ToneTts({ delayMs: 20 }) }),
      settings: { modalities: ['audio'], clock: 'media' },
      memoryId,
    });
    const events: ServerEvent[] = [];
    session.on('event', (e) => events.push(e));
    await session.open();
    session.addMessage('user', 'tell me ten things');
    const response = session.createResponse();
    await new Promise((r) => setTimeout(r, 30));
    assert.equal(response.status, 'in_progress', 'the answer is still running when shutdown starts');
    return { session, response, events };
  }

  it('drain: no new input, the answer completes, memory is flushed, then the session closes', async () => {
    const before = (await memory.stats()).utterances;
    const { session, response, events } = await asking('drain-user');
    const draining = session.drain(10_000);
    assert.throws(() => session.appendAudio(loud(100)), /shutting down/);
    assert.equal(await draining, true, 'finished within the deadline');
    assert.equal(response.status, 'completed');
    assert.match(response.spokenText, /Sentence 10\./);
    assert.ok(events.some((e) => e.type === 'response.done' && e.response.status === 'completed'));
    assert.equal(session.closed, true);
    const stats = await memory.stats();
    assert.equal(stats.pending, 0);
    assert.equal(stats.utterances - before, 2, 'the question and the whole answer are durable');
  });

  it('drain with a deadline too short: cut at the deadline, the answer cancelled', async () => {
    const { session, response } = await asking('deadline-user');
    assert.equal(await session.drain(20), false);
    assert.equal(session.closed, true);
    assert.equal(response.status, 'cancelled');
  });

  it('close: the answer is cancelled at once and nothing more is sent', async () => {
    const { session, response, events } = await asking('close-user');
    session.close();
    assert.equal(response.status, 'cancelled');
    const count = events.length;
    assert.ok(events.some((e) => e.type === 'response.done' && e.response.status === 'cancelled'));
    await new Promise((r) => setTimeout(r, 200));
    assert.equal(events.length, count);
    assert.throws(() => session.appendAudio(loud(100)), /closed/);
  });
});

import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { MemoryStore, defaultMemoryStoreOptions } from '../../memory/index.ts';
import { serveCli, type ServedCli } from '../helpers/cli-server.ts';
import { closeSpeech, sequence, silence, speak } from '../helpers/speech.ts';
import { RawClient } from '../helpers/ws-client.ts';

const USER = 'crash-user';
const RATE = 24000;

async function connect(served: ServedCli): Promise<RawClient> {
  const client = new RawClient(served.address);
  await client.opened;
  client.send({ type: 'session.update', session: { output_modalities: ['text'], omnilive: { user: USER, clock: 'media' } } });
  await client.log.waitFor('session.updated');
  return client;
}

/** Types a message; resolves with its item id once the server confirmed it. */
async function type(client: RawClient, text: string): Promise<string> {
  client.send({ type: 'conversation.item.create', item: { type: 'message', role: 'user', content: [{ type: 'input_text', text }] } });
  const done = await client.log.waitFor('conversation.item.done', (e) => e.item.content?.[0]?.text === text);
  return done.item.id;
}

/** Every file under `dir`, relative. */
function files(dir: string): string[] {
  return fs.readdirSync(dir, { recursive: true, withFileTypes: true }).filter((d) => d.isFile()).map((d) => path.relative(dir, path.join(d.parentPath, d.name)));
}

describe('crash safety: SIGKILL mid-conversation, restart on the same data dir', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'omnilive-crash-'));
  const servers: ServedCli[] = [];
  after(async () => {
    for (const s of servers) if (s.child.exitCode === null && s.child.signalCode === null) s.child.kill('SIGKILL');
    await closeSpeech();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('keeps everything older than one flush interval; the tables open, nothing is locked, a new conversation works', async (t) => {
    const speech = await speak('my umbrella is in the red car', { rate: RATE });
    const first = await serveCli(['--data', dir, '--memory', 'on', '--webrtc', 'off']);
    servers.push(first);
    const client = await connect(first);
    const kept: string[] = [];
    kept.push(await type(client, 'the spare key is under the blue flowerpot'));
    kept.push(await type(client, 'my dentist appointment is on thursday at nine'));
    // Said: remembered once its transcript is sent; the turn is answered, and the answer remembered too.
    await client.stream(sequence(silence(300, RATE), speech, silence(1500, RATE)), RATE);
    const heard = await client.log.waitFor('conversation.item.input_audio_transcription.completed');
    assert.ok(heard.transcript, 'the speech was transcribed');
    kept.push(heard.item_id);
    const spokenAnswer = await client.log.waitFor('response.done');
    kept.push(spokenAnswer.response.output[0].id);
    kept.push(await type(client, 'the wifi password is on the fridge'));
    client.send({ type: 'response.create' });
    const typedAnswer = await client.log.waitFor('response.done', (e) => e.response.id !== spokenAnswer.response.id);
    kept.push(typedAnswer.response.output[0].id);

    // Past one flush interval (with room for the append itself), then one more, then the kill.
    await sleep(defaultMemoryStoreOptions.flushIntervalMs + 500);
    const late = await type(client, 'the parcel went to the neighbour at number twelve');
    first.child.kill('SIGKILL');
    assert.equal((await first.exited).signal, 'SIGKILL');
    const left = files(dir);
    const suspicious = left.filter((f) => /lock|\.tmp$|\.pid$/i.test(f));
    t.diagnostic(`after SIGKILL: ${left.length} files in the data dir; lock/tmp/pid files: ${suspicious.join(', ') || 'none'}`);

    // The restart is not blocked by anything the killed process left.
    const second = await serveCli(['--data', dir, '--memory', 'on', '--webrtc', 'off']);
    servers.push(second);
    const again = await connect(second);
    again.send({ type: 'omnilive.memory.search', query: 'spare key flowerpot' });
    const found = await again.log.waitFor('omnilive.memory.results');
    assert.ok(found.results.some((h: { text: string }) => /blue flowerpot/.test(h.text)), JSON.stringify(found.results));
    const question = await type(again, 'where is the spare key?');
    again.send({ type: 'response.create' });
    const answer = await again.log.waitFor('response.done');
    assert.equal(answer.response.status, 'completed');
    assert.match(answer.response.output[0].content[0].text, /flowerpot/, 'the new conversation answers from what survived');
    second.child.kill('SIGTERM');
    assert.equal((await second.exited).code, 0, second.output());

    const store = await MemoryStore.open({ uri: path.join(dir, 'memory') });
    const ids = new Set((await store.listUtterances({ memoryId: USER, limit: 1000 })).map((u) => u.id));
    const stats = await store.stats(); // reads every table
    await store.close();
    assert.equal(stats.pending, 0);
    assert.deepEqual(kept.filter((id) => !ids.has(id)), [], 'everything older than the flush interval survived the kill');
    assert.ok(ids.has(question) && ids.has(answer.response.output[0].id), 'the new conversation is remembered');
    t.diagnostic(`the item typed just before the kill ${ids.has(late) ? 'survived' : 'was lost (within the flush interval)'}`);
  });
});

import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { MemoryStore } from '../../memory/index.ts';
import { serveCli, type ServedCli } from '../helpers/cli-server.ts';
import { startFakeLlm, type FakeLlm } from '../helpers/fake-llm.ts';
import { listProcesses, procStat } from '../helpers/proc.ts';
import { RawClient, tryUpgrade } from '../helpers/ws-client.ts';

const SHORT = 'Your umbrella is in the red car, on the back seat, where you left it this morning.';
const LONG = Array.from({ length: 300 }, (_, i) => `word${i}`).join(' ');
/** Each token of the scripted model takes this long: the short answer is in flight for about 2 s. */
const TOKEN_MS = 120;

function say(c: RawClient, text: string): void {
  c.send({ type: 'conversation.item.create', item: { type: 'message', role: 'user', content: [{ type: 'input_text', text }] } });
}

async function connect(served: ServedCli, modalities: string[]): Promise<RawClient> {
  const client = new RawClient(served.address);
  await client.opened;
  // The media clock sends the answer's audio as fast as it is made: the answer ends when the model does.
  client.send({ type: 'session.update', session: { output_modalities: modalities, omnilive: { clock: 'media' } } });
  await client.log.waitFor('session.updated');
  return client;
}

function closeFrame(client: RawClient): Promise<{ code: number; reason: string }> {
  return new Promise((resolve) => client.ws.once('close', (code, reason) => resolve({ code, reason: reason.toString() })));
}

describe('graceful stop: SIGTERM drains within a bound, a second signal exits at once', () => {
  let llm: FakeLlm;
  const dirs: string[] = [];
  const servers: ServedCli[] = [];
  before(async () => {
    llm = await startFakeLlm((question) => (/long story/.test(question) ? LONG : SHORT), TOKEN_MS);
  });
  after(async () => {
    for (const s of servers) if (s.child.exitCode === null && s.child.signalCode === null) s.child.kill('SIGKILL');
    await llm.close();
    for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
  });
  const start = async (args: string[]) => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'omnilive-stop-'));
    dirs.push(dir);
    const served = await serveCli(['--data', dir, '--llm-url', llm.url, '--llm-model', 'fake-model', ...args]);
    servers.push(served);
    return { dir, served };
  };

  it('SIGTERM: the answer in flight ends, the client gets a reason and 1001, memory has it, children stop, exit 0 in time', async (t) => {
    const TIMEOUT_MS = 10_000;
    const { dir, served } = await start(['--memory', 'on', '--webrtc', 'on', '--shutdown-timeout-ms', String(TIMEOUT_MS)]);
    const client = await connect(served, ['audio']);
    say(client, 'remember this: where is my umbrella?');
    client.send({ type: 'response.create' });
    await client.log.waitFor('response.output_audio.delta'); // speaking, the model still streaming
    // Its engine children (Flite) and mediasoup's workers, which must not outlive it.
    const children = listProcesses().filter((p) => p.ppid === served.pid);
    assert.ok(children.length >= 2, `Flite and mediasoup workers run: ${children.map((c) => c.comm).join(', ')}`);
    const closed = closeFrame(client);

    const signalled = performance.now();
    served.child.kill('SIGTERM');
    await served.waitForOutput(/SIGTERM: draining 1 sessions/);
    const refused = await tryUpgrade(`ws://127.0.0.1:${served.port}/v1/realtime`);
    assert.equal(refused.opened, false);
    assert.equal(!refused.opened && refused.status, 503, 'a draining server takes no new session');
    assert.match(!refused.opened ? refused.body : '', /server_shutting_down/);
    const page = await fetch(`http://127.0.0.1:${served.port}/`);
    assert.equal(page.status, 503);
    assert.equal((await fetch(`http://127.0.0.1:${served.port}/healthz`)).status, 200, 'probes still answer while it drains');
    const ready = await fetch(`http://127.0.0.1:${served.port}/readyz`);
    assert.equal(ready.status, 503, 'readiness is off first');
    assert.match(await ready.text(), /draining/);

    const done = await client.log.waitFor('response.done');
    const { code, reason } = await closed;
    const exit = await served.exited;
    t.diagnostic(`answer ${done.response.status}; close ${code} '${reason}'; exit ${exit.code} after ${Math.round(exit.at - signalled)} ms`);
    // Given time, the answer completes; on a very slow machine it is cancelled, with the reason.
    if (done.response.status === 'completed') assert.equal(done.response.output[0].content[0].transcript, SHORT);
    else assert.deepEqual(done.response.status_details, { type: 'cancelled', reason: 'session_closed' });
    const told = client.log.of('error').find((e) => e.error.code === 'server_shutting_down');
    assert.ok(told, 'an error event says why before the close frame');
    assert.equal(code, 1001);
    assert.match(reason, /shutting down/);
    assert.equal(exit.code, 0, served.output());
    assert.ok(exit.at - signalled < TIMEOUT_MS + 3000, `exited ${Math.round(exit.at - signalled)} ms after SIGTERM`);
    for (let i = 0; i < 50 && children.some((c) => procStat(c.pid)?.state.match(/[^Z]/)); i++) await sleep(100);
    assert.deepEqual(children.filter((c) => procStat(c.pid) && procStat(c.pid)!.state !== 'Z').map((c) => c.comm), [], 'no child outlives the server');

    const store = await MemoryStore.open({ uri: path.join(dir, 'memory') });
    const rows = await store.listUtterances({ limit: 50 });
    await store.close();
    const shown = JSON.stringify(rows.map((r) => [r.role, r.text]));
    assert.ok(rows.some((r) => r.role === 'user' && /where is my umbrella/.test(r.text)), shown);
    if (done.response.status === 'completed') assert.ok(rows.some((r) => r.role === 'assistant' && r.text === SHORT), shown);
  });

  it('a second SIGTERM during a slow drain exits at once, with 143', async (t) => {
    const { served } = await start(['--memory', 'off', '--webrtc', 'off', '--shutdown-timeout-ms', '120000']);
    const client = await connect(served, ['text']);
    say(client, 'tell me a long story');
    client.send({ type: 'response.create' });
    await client.log.waitFor('response.output_text.delta');
    served.child.kill('SIGTERM');
    await served.waitForOutput(/SIGTERM: draining/);
    await sleep(200);
    assert.equal(served.child.exitCode, null, 'still draining: the answer has about 35 s to go');
    const again = performance.now();
    served.child.kill('SIGTERM');
    const exit = await served.exited;
    t.diagnostic(`exit ${exit.code} ${Math.round(exit.at - again)} ms after the second SIGTERM`);
    assert.equal(exit.code, 143, '128 + SIGTERM, as a shell reports a process the signal killed');
    assert.ok(exit.at - again < 5000, `exited ${Math.round(exit.at - again)} ms after the second signal`);
    assert.match(served.output(), /SIGTERM again: exiting at once/);
  });
});

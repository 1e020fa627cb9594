import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { loadConfig } from '../../server/config.ts';
import { createEngines } from '../../server/engines.ts';
import { OmniLiveServer } from '../../server/http/server.ts';
import { opsMetrics } from '../../server/ops/metrics.ts';
import type { FliteTts } from '../../server/speech/index.ts';
import { startFakeLlm } from '../helpers/fake-llm.ts';
import type { TestServer } from '../helpers/server.ts';
import { RawClient } from '../helpers/ws-client.ts';

async function restarts(engine: string): Promise<number> {
  return (await opsMetrics.childRestarts.get()).values.find((v) => v.labels.engine === engine)?.value ?? 0;
}

it('the speech engine crashing in a loop: the session is told, typed questions are still answered, and speech comes back', async (t) => {
  const llm = await startFakeLlm((q) => `You asked: ${q}`, 1);
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'omnilive-crash-'));
  const config = loadConfig({ host: '127.0.0.1', port: '0', dataDir, 'tls.mode': 'off', 'vision.enabled': 'off', 'memory.enabled': 'off', 'webrtc.enabled': 'off', 'llm.url': llm.url, 'llm.model': 'fake' }, {});
  // Short restart waits keep the test quick: 0, then 250 ms, 500 ms …
  const engines = await createEngines(config, { restart: { initialDelayMs: 250, maxDelayMs: 1000 } });
  const server = new OmniLiveServer(config, engines);
  const { port } = await server.listen();
  t.after(async () => {
    await server.close();
    await engines.close();
    await llm.close();
    fs.rmSync(dataDir, { recursive: true, force: true });
  });
  const tts = engines.tts as FliteTts;
  const client = new RawClient({ port } as TestServer);
  await client.opened;
  t.after(() => client.close());

  /** Waits for a Flite process other than `old` to be up. */
  const nextFlite = async (old: number | undefined) => {
    for (;;) {
      const pid = await tts.pid;
      if (pid !== undefined && pid !== old) return pid;
      await sleep(20);
    }
  };
  const ask = async (text: string, modalities: ('text' | 'audio')[]) => {
    const known = new Set(client.log.of('response.done').map((e) => e.response.id));
    client.send({ type: 'conversation.item.create', item: { type: 'message', role: 'user', content: [{ type: 'input_text', text }] } });
    client.send({ type: 'response.create', response: { output_modalities: modalities } });
    return client.log.waitFor('response.done', (e) => !known.has(e.response.id), 30_000);
  };

  const before = await restarts('tts');
  // Three crashes in a row, each as soon as the process is back (kill -9, as a segfault would).
  let pid = await nextFlite(undefined);
  const started: number[] = [];
  for (let crash = 1; crash <= 3; crash++) {
    const killed = performance.now();
    process.kill(pid, 'SIGKILL');
    pid = await nextFlite(pid);
    started.push(performance.now() - killed);
  }
  t.diagnostic(`Flite back after each crash in ${started.map(Math.round).join(', ')} ms`);
  assert.ok(started[2]! >= 500 && started[1]! >= 250, 'the waits grew (0, 250, 500 ms)');

  // The session heard once what is off.
  await client.log.waitFor('error', (e) => e.error.code === 'engine_unavailable');
  const errors = client.log.of('error').filter((e) => e.error.code === 'engine_unavailable');
  assert.equal(errors.length, 1, JSON.stringify(errors));
  assert.equal(errors[0]!.error.param, 'tts');
  assert.match(errors[0]!.error.message, /^speech \(Flite\) is unavailable: its process crashed 2 times in a row; retrying in 250 ms$/);
  assert.equal(await restarts('tts'), before + 3);

  // Everything else works: a typed question gets its (written) answer.
  const typed = await ask('what is on the table?', ['text']);
  assert.equal(typed.response.status, 'completed');
  assert.equal(typed.response.output[0].content[0].text, 'You asked: what is on the table?');

  // Flite stopped crashing: a spoken answer works, and the outage is over.
  const spoken = await ask('hi', ['audio']);
  assert.equal(spoken.response.status, 'completed');
  assert.equal(spoken.response.output[0].content[0].transcript, 'You asked: hi');
  assert.ok(client.log.events.some((e) => e.type === 'response.output_audio.delta' && e.response_id === spoken.response.id));
  assert.deepEqual(engines.health.problems, []);
});

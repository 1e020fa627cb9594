import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, it, type TestContext } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { EngineUnavailableError, SupervisedChild, defaultRestartPolicy, restartDelay, type ChildReply } from '../../server/child-rpc.ts';
import { InvalidStateError } from '../../server/errors.ts';
import { EngineHealth, type EngineStatusSink } from '../../server/ops/engine-health.ts';
import { opsMetrics } from '../../server/ops/metrics.ts';
import type { ServerEventBody } from '../../server/protocol/server-events.ts';

const CRASHY = new URL('./fixtures/crashy-child.mjs', import.meta.url);

interface Echo extends ChildReply {
  echo?: string;
}

async function restartsOf(engine: string): Promise<number> {
  return (await opsMetrics.childRestarts.get()).values.find((v) => v.labels.engine === engine)?.value ?? 0;
}

/** An EngineHealth, and the times restarts were reported to it. */
function recordingHealth(): { health: EngineHealth; sink: EngineStatusSink; restarts: number[] } {
  const health = new EngineHealth();
  const restarts: number[] = [];
  const sink: EngineStatusSink = {
    restarted: (engine, why) => (restarts.push(performance.now()), health.restarted(engine, why)),
    unavailable: (engine, message, code) => health.unavailable(engine, message, code),
    available: (engine) => health.available(engine),
  };
  return { health, sink, restarts };
}

function crashSwitch(t: TestContext): { file: string; on(): void; off(): void } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'omnilive-crashy-'));
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  const file = path.join(dir, 'crash');
  return { file, on: () => fs.writeFileSync(file, ''), off: () => fs.rmSync(file, { force: true }) };
}

it('restart waits: none after a first crash, then doubling from the initial wait up to the cap', () => {
  const policy = { ...defaultRestartPolicy, initialDelayMs: 1000, maxDelayMs: 8000 };
  assert.deepEqual([1, 2, 3, 4, 5, 6, 7].map((n) => restartDelay(n, policy)), [0, 1000, 2000, 4000, 8000, 8000, 8000]);
});

describe('an engine child that crashes on every call', () => {
  it('is restarted after growing waits, fails calls at once while down, tells the sessions once, and recovers when it works again', async (t) => {
    const crash = crashSwitch(t);
    const { health, sink, restarts } = recordingHealth();
    const engine = `crashy-${process.pid}`;
    const restartsBefore = await restartsOf(engine);
    const { child } = await SupervisedChild.start<Echo>(CRASHY, [crash.file], {
      label: 'crashy',
      engine,
      what: 'the crashy engine',
      restart: { initialDelayMs: 100, factor: 2, maxDelayMs: 400 },
      health: sink,
    });
    t.after(() => child.close());
    assert.equal((await child.call({ text: 'hello' })).echo, 'hello');

    const sessionEvents: ServerEventBody[] = [];
    const detach = health.attach((event) => sessionEvents.push(event));
    crash.on();
    const crashes: number[] = [];
    let failedFast = 0;
    while (crashes.length < 5) {
      try {
        await child.call({ text: 'boom' });
        assert.fail('the call should have crashed the child');
      } catch (error) {
        if (error instanceof EngineUnavailableError) {
          failedFast++;
          await sleep(10);
          continue;
        }
        assert.match(String(error), /crashy process exited/);
        crashes.push(performance.now());
      }
    }
    crash.off();
    // The fifth restart comes after the capped wait; then a call works again.
    let reply: Echo | undefined;
    while (!reply) reply = await child.call({ text: 'again' }).catch(async (error) => (assert.ok(error instanceof EngineUnavailableError, String(error)), await sleep(10), undefined));
    assert.equal(reply.echo, 'again');

    const waits = crashes.map((c, i) => restarts[i]! - c);
    t.diagnostic(`restart waits after each crash: ${waits.map((w) => Math.round(w)).join(', ')} ms`);
    assert.ok(waits[0]! < 50, 'the first crash restarts at once');
    for (const [i, nominal] of [100, 200, 400, 400].entries()) assert.ok(waits[i + 1]! >= nominal - 10, `wait ${i + 2}: ${waits[i + 1]} < ${nominal}`);
    assert.ok(waits[4]! < 780, `the wait is capped at 400 ms, got ${Math.round(waits[4]!)}`);
    assert.ok(failedFast > 0, 'calls during a wait failed at once');
    assert.equal(await restartsOf(engine), restartsBefore + 5);

    // One error for the whole outage, naming the engine; none when it came back.
    assert.deepEqual(
      sessionEvents.map((e) => e.type === 'error' && [e.error.code, e.error.param]),
      [['engine_unavailable', engine]],
    );
    assert.match((sessionEvents[0] as { error: { message: string } }).error.message, /^the crashy engine is unavailable: its process crashed 2 times in a row; retrying in 100 ms$/);
    assert.deepEqual(health.problems, [], 'working again');
    detach();
  });

  it('stops restarting when closed during a wait', async (t) => {
    const crash = crashSwitch(t);
    const { sink, restarts } = recordingHealth();
    const { child } = await SupervisedChild.start<Echo>(CRASHY, [crash.file], { label: 'crashy', engine: 'crashy-close', what: 'the crashy engine', restart: { initialDelayMs: 20_000 }, health: sink });
    crash.on();
    await assert.rejects(child.call({}), /process exited/); // restarted at once
    await assert.rejects(child.call({}), /process exited/); // now waiting 20 s
    await assert.rejects(child.call({}), EngineUnavailableError);
    assert.equal(child.down, 'the crashy engine is unavailable: its process crashed 2 times in a row; retrying in 20 s');
    await child.close();
    await assert.rejects(child.call({}), InvalidStateError);
    assert.equal(restarts.length, 1);
  });
});

it("a child's report about engines of its own reaches the parent's health, and a new child starts them afresh", async (t) => {
  const crash = crashSwitch(t);
  const { health, sink } = recordingHealth();
  const { child } = await SupervisedChild.start<Echo>(CRASHY, [crash.file], { label: 'host', engine: 'host', what: 'the host', health: sink, relaysHealth: true });
  t.after(() => child.close());
  const before = await restartsOf('inner');
  await child.call({ notice: { op: 'restarted', engine: 'inner', why: 'exit code null, signal SIGKILL' } });
  await child.call({ notice: { op: 'unavailable', engine: 'inner', message: 'inner is unavailable' } });
  assert.equal(await restartsOf('inner'), before + 1);
  assert.deepEqual(health.problems.map((p) => p.engine), ['inner']);
  // The host process dies and comes back: its inner engine is loaded afresh.
  const first = child.pid!;
  process.kill(first, 'SIGKILL');
  while (child.pid === first || !child.alive) await sleep(10);
  assert.equal((await child.call({ text: 'back' })).echo, 'back');
  assert.deepEqual(health.problems, []);
});

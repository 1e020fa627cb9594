import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import { it } from 'node:test';
import { EngineHealth, relayEngineHealth } from '../../../server/ops/engine-health.ts';
import type { ServerEventBody } from '../../../server/protocol/server-events.ts';

const errorsOf = (events: ServerEventBody[]) => events.flatMap((e) => (e.type === 'error' ? [[e.error.code, e.error.param, e.error.message]] : []));

it('an engine that goes off is told once per outage; a session attaching during it hears the latest word', () => {
  const health = new EngineHealth();
  const early: ServerEventBody[] = [];
  const detach = health.attach((e) => early.push(e));
  health.unavailable('objects', 'object detection is unavailable: crashed 2 times; retrying in 1 s');
  health.unavailable('objects', 'object detection is unavailable: crashed 3 times; retrying in 2 s');
  assert.deepEqual(errorsOf(early), [['engine_unavailable', 'objects', 'object detection is unavailable: crashed 2 times; retrying in 1 s']]);

  const late: ServerEventBody[] = [];
  health.attach((e) => late.push(e));
  assert.deepEqual(errorsOf(late), [['engine_unavailable', 'objects', 'object detection is unavailable: crashed 3 times; retrying in 2 s']]);

  const back: string[] = [];
  health.on('available', (engine) => back.push(engine));
  health.available('objects');
  health.available('objects');
  assert.deepEqual(back, ['objects'], 'once');
  assert.deepEqual(health.problems, []);

  detach();
  health.unavailable('tts', 'speech is unavailable');
  assert.equal(errorsOf(early).length, 1, 'a detached session hears nothing more');
  assert.equal(errorsOf(late).length, 2, 'a new outage is a new error');
});

it("relays to each session the server opens, until that session closes", () => {
  const health = new EngineHealth();
  const server = new EventEmitter();
  const open = (id: string) => {
    const session = Object.assign(new EventEmitter(), { id, closed: false, events: [] as (ServerEventBody & { event_id: string })[], safeEmit: (_: 'event', body: ServerEventBody & { event_id: string }) => (session.events.push(body), true) });
    server.emit('sessionopen', session);
    return session;
  };
  health.unavailable('memory', 'long-term memory cannot save right now', 'memory_write_failed');
  const stop = relayEngineHealth(server, health);
  const a = open('sess_aaaaaaaaaaaa');
  assert.deepEqual(errorsOf(a.events), [['memory_write_failed', 'memory', 'long-term memory cannot save right now']]);
  assert.match(a.events[0]!.event_id, /^event_health_/);
  a.emit('close');
  health.unavailable('tts', 'speech is unavailable');
  assert.equal(a.events.length, 1, 'closed: no more events');
  stop();
  assert.equal(open('sess_bbbbbbbbbbbb').events.length, 0, 'the relay stopped');
});

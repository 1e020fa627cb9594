import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import { TypedEmitter } from '../../../server/events/typed-emitter.ts';
import { OpsMetrics } from '../../../server/ops/metrics.ts';
import { ServerMetrics } from '../../../server/ops/server-metrics.ts';
import { Readiness, memoryWritable } from '../../../server/ops/readiness.ts';

/** What the metrics read of a session: its events, its observer, its media clock. */
class FakeSession extends TypedEmitter<{ event: [Record<string, unknown>]; close: [] }> {
  readonly observer = new TypedEmitter<{ turnmetrics: [unknown]; responseended: [unknown] }>();
  mediaMs = 0;
  send(body: Record<string, unknown>): void {
    this.safeEmit('event', { event_id: 'e', ...body });
  }
}

function watched(): { metrics: ServerMetrics; open(): FakeSession; sessions: Set<FakeSession> } {
  const metrics = new ServerMetrics(new OpsMetrics());
  const sessions = new Set<FakeSession>();
  const server = Object.assign(new EventEmitter(), { sessions, closed: false });
  metrics.watch(server as never, { connections: () => sessions.size });
  return {
    metrics,
    sessions,
    open() {
      const session = new FakeSession();
      sessions.add(session);
      server.emit('sessionopen', session);
      return session;
    },
  };
}

/** A counter's or gauge's value with these labels. */
async function value(metrics: ServerMetrics, name: string, labels: Record<string, string> = {}): Promise<number | undefined> {
  const data = await metrics.registry.getSingleMetric(name)!.get();
  return data.values.find((v) => Object.entries(labels).every(([k, l]) => v.labels[k] === l))?.value;
}

const cancelled = (reason: string) => ({ type: 'response.done', response: { status: 'cancelled', status_details: { type: 'cancelled', reason }, usage: null } });

describe('server metrics from session events', () => {
  it('measures a barge-in from the start of the user speech to the answer audio pausing', async () => {
    const { metrics, open } = watched();
    const session = open();
    session.send({ type: 'response.created' });
    session.mediaMs = 10_180;
    session.send({ type: 'omnilive.output_audio.paused' }); // the onset stops the audio
    session.send({ type: 'input_audio_buffer.speech_started', audio_start_ms: 10_000 });
    session.mediaMs = 10_600;
    session.send(cancelled('turn_detected'));
    const { values } = await metrics.bargeIn.get();
    assert.equal(values.find((v) => v.metricName === 'omnilive_barge_in_seconds_count')?.value, 1);
    assert.ok(Math.abs(values.find((v) => v.metricName === 'omnilive_barge_in_seconds_sum')!.value - 0.18) < 1e-9);
    assert.equal(await value(metrics, 'omnilive_responses_cancelled_total', { reason: 'turn_detected' }), 1);
  });

  it('measures an unpaused barge-in to the cancel, and counts no barge-in for a cough or a client cancel', async () => {
    const { metrics, open } = watched();
    const session = open();
    session.send({ type: 'response.created' });
    session.mediaMs = 5_000;
    session.send({ type: 'omnilive.output_audio.paused' });
    session.send({ type: 'omnilive.output_audio.resumed' }); // a cough
    session.send({ type: 'input_audio_buffer.speech_started', audio_start_ms: 6_000 });
    session.mediaMs = 6_400;
    session.send(cancelled('turn_detected'));
    session.send({ type: 'response.created' });
    session.send({ type: 'input_audio_buffer.speech_started', audio_start_ms: 7_000 });
    session.send(cancelled('client_cancelled'));
    const { values } = await metrics.bargeIn.get();
    assert.equal(values.find((v) => v.metricName === 'omnilive_barge_in_seconds_count')?.value, 1);
    assert.ok(Math.abs(values.find((v) => v.metricName === 'omnilive_barge_in_seconds_sum')!.value - 0.4) < 1e-9);
  });

  it("records a spoken turn's stage latencies, speculation, turns, clips with skipped facts, errors and tokens", async () => {
    const { metrics, open, sessions } = watched();
    const session = open();
    session.send({ type: 'input_audio_buffer.committed', item_id: 'i' });
    session.send({ type: 'conversation.item.added', item: { type: 'message', role: 'user', content: [{ type: 'input_audio', transcript: null }] } });
    session.observer.safeEmit('turnmetrics', {
      latency_ms: { end_of_turn: 300, asr_final: 350, retrieval: null, first_llm_token: 500, first_tts_audio: 620, first_audio_delta: 640 },
      pipeline_overhead_ms: 12,
      speculative: true,
      speculation_discarded: 2,
    });
    session.send({ type: 'omnilive.clip.committed', clip: { skipped: ['ocr', 'people'] } });
    session.send({ type: 'error', error: { type: 'server_error', code: 'audio_processing_failed', message: 'x' } });
    session.send({ type: 'response.done', response: { status: 'completed', status_details: null, usage: { input_tokens: 40, output_tokens: 9 } } });

    const latency = (await metrics.turnLatency.get()).values;
    const count = (stage: string) => latency.find((v) => v.metricName === 'omnilive_turn_latency_seconds_count' && v.labels.stage === stage)?.value;
    assert.equal(count('end_of_turn'), 1);
    assert.equal(count('first_audio_delta'), 1);
    assert.equal(count('retrieval'), undefined, 'no retrieval ran: nothing observed');
    assert.equal(latency.find((v) => v.metricName === 'omnilive_turn_latency_seconds_sum' && v.labels.stage === 'first_audio_delta')?.value, 0.64);
    assert.equal(await value(metrics, 'omnilive_responses_discarded_total'), 2);
    assert.equal(await value(metrics, 'omnilive_responses_speculative_total'), 1);
    assert.equal(await value(metrics, 'omnilive_user_turns_total', { input: 'audio' }), 1);
    assert.equal(await value(metrics, 'omnilive_user_turns_total', { input: 'text' }), undefined, 'a spoken item is not a typed turn');
    assert.equal(await value(metrics, 'omnilive_clips_total'), 1);
    assert.equal(await value(metrics, 'omnilive_keyframes_skipped_total', { fact: 'people' }), 1);
    assert.equal(await value(metrics, 'omnilive_errors_total', { code: 'audio_processing_failed' }), 1);
    assert.equal(await value(metrics, 'omnilive_llm_tokens_total', { direction: 'output' }), 9);
    assert.equal(await value(metrics, 'omnilive_sessions'), 1);
    sessions.clear();
    session.safeEmit('close');
    assert.equal(await value(metrics, 'omnilive_sessions'), 0);
  });
});

describe('readiness', () => {
  it('is ready when every probe holds, names the first that does not, and is off while draining', async () => {
    const readiness = new Readiness().add('engines', () => undefined);
    assert.deepEqual(await readiness.check(), { ready: true, checks: { engines: 'ok' } });
    readiness.add('memory', async () => 'the memory store is closed');
    assert.deepEqual(await readiness.check(), { ready: false, reason: 'memory: the memory store is closed', checks: { engines: 'ok', memory: 'the memory store is closed' } });
    readiness.add('memory', () => undefined).off('draining');
    assert.equal((await readiness.check()).reason, 'draining');
    readiness.on();
    assert.equal((await readiness.check()).ready, true);
    readiness.add('broken', () => {
      throw new Error('boom');
    });
    assert.equal((await readiness.check()).checks.broken, 'check failed: boom');
  });

  it('says memory is not writable after a failed flush, and writable again after a good one', async () => {
    const store = Object.assign(new EventEmitter(), { closed: false, pending: 3, uri: 's3://bucket/memory' });
    const probe = memoryWritable(store as never);
    assert.equal(await probe(), undefined);
    store.emit('flusherror', Object.assign(new Error('no space left'), { code: 'ENOSPC' }));
    assert.equal(await probe(), 'memory writes are failing (ENOSPC); 3 rows wait');
    store.emit('flush', { clips: [], utterances: [], ms: 1 });
    assert.equal(await probe(), undefined);
    store.closed = true;
    assert.equal(await probe(), 'the memory store is closed');
  });
});

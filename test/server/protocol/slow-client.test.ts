import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import type { WebSocket } from 'ws';
import { loadConfig } from '../../../server/config.ts';
import { RealtimeConnection, defaultConnectionLimits } from '../../../server/protocol/realtime-connection.ts';
import { opsMetrics } from '../../../server/ops/metrics.ts';
import { Session } from '../../../server/session/session.ts';
import { pcm16ToBase64 } from '../../../server/audio/pcm.ts';
import { SocketStandIn } from '../../helpers/socket-stand-in.ts';
import { ScriptedAsr, ScriptedReasoner, concat, loud, quiet, standInEngines } from '../../helpers/stand-ins.ts';

async function counted(counter: typeof opsMetrics.droppedEvents | typeof opsMetrics.slowClientCloses, labels: Record<string, string> = {}): Promise<number> {
  const { values } = await counter.get();
  return values.filter((v) => Object.entries(labels).every(([k, l]) => v.labels[k as never] === l)).reduce((n, v) => n + v.value, 0);
}

const LIMITS = { sendBufferSoftBytes: 10_000, sendBufferMaxBytes: 100_000 };

async function spokenTurn() {
  const socket = new SocketStandIn();
  const engines = standInEngines({ asr: new ScriptedAsr(['what time is it']), reasoner: new ScriptedReasoner({ answers: ['It is noon. Time for lunch.'] }) });
  const session = new Session({ engines, settings: { clock: 'media' } });
  const connection = new RealtimeConnection(socket as unknown as WebSocket, session, { limits: LIMITS });
  await session.open();
  connection.start();
  return { socket, session, connection };
}

describe('a client that reads too slowly', () => {
  it('past the soft limit loses only its metrics; the answer, its audio and transcripts all go out', async () => {
    const { socket, session, connection } = await spokenTurn();
    const dropped = await counted(opsMetrics.droppedEvents, { type: 'omnilive.metrics' });
    socket.bufferedAmount = 50_000;
    const speech = concat(quiet(300), loud(600), quiet(900));
    socket.message({ type: 'input_audio_buffer.append', audio: pcm16ToBase64(speech) });
    while (!socket.sent.some((e) => e.type === 'response.done')) await sleep(5);
    await sleep(20);
    const types = socket.sent.map((e) => e.type);
    for (const kept of ['conversation.item.input_audio_transcription.completed', 'response.output_audio.delta', 'response.output_audio_transcript.delta', 'response.output_audio_transcript.done', 'response.done']) {
      assert.ok(types.includes(kept), `${kept} is never dropped: ${types.join(', ')}`);
    }
    assert.ok(!types.includes('omnilive.metrics'), 'the turn metrics were dropped');
    assert.equal(await counted(opsMetrics.droppedEvents, { type: 'omnilive.metrics' }), dropped + 1);
    assert.equal(socket.closedWith, undefined);
    assert.equal(session.closed, false);
    connection.close();
  });

  it('below the soft limit nothing is dropped', async () => {
    const { socket, connection } = await spokenTurn();
    const speech = concat(quiet(300), loud(600), quiet(900));
    socket.message({ type: 'input_audio_buffer.append', audio: pcm16ToBase64(speech) });
    while (!socket.sent.some((e) => e.type === 'omnilive.metrics')) await sleep(5);
    connection.close();
  });

  it('past the hard limit: told why, closed with 1008, its session closed (nothing more is sent)', async () => {
    const { socket, session } = await spokenTurn();
    const closes = await counted(opsMetrics.slowClientCloses);
    socket.message({ type: 'conversation.item.create', item: { type: 'message', role: 'user', content: [{ type: 'input_text', text: 'talk to me' }] } });
    socket.bufferedAmount = 99_990; // the next event does not fit
    socket.message({ type: 'response.create' });
    assert.ok(socket.closedWith, 'closed');
    assert.equal(socket.closedWith[0], 1008);
    assert.match(socket.closedWith[1], /too slow/);
    const last = socket.sent.at(-1);
    assert.equal(last.type, 'error');
    assert.equal(last.error.code, 'client_too_slow');
    assert.match(last.error.message, /99990 bytes were waiting/);
    assert.equal(session.closed, true, 'the session stops: no work is done for a client that is gone');
    assert.equal(await counted(opsMetrics.slowClientCloses), closes + 1);
    const count = socket.sent.length;
    await sleep(50);
    assert.equal(socket.sent.length, count);
  });

  it('the limits are settings (environment), checked: soft below max', () => {
    assert.equal(loadConfig({}, {}).limits.sendBufferMaxBytes, defaultConnectionLimits.sendBufferMaxBytes);
    const c = loadConfig({}, { OMNILIVE_SEND_BUFFER_SOFT_BYTES: '65536', OMNILIVE_SEND_BUFFER_MAX_BYTES: '262144' });
    assert.deepEqual([c.limits.sendBufferSoftBytes, c.limits.sendBufferMaxBytes], [65536, 262144]);
    assert.throws(() => loadConfig({}, { OMNILIVE_SEND_BUFFER_SOFT_BYTES: '262144', OMNILIVE_SEND_BUFFER_MAX_BYTES: '262144' }), /soft limit must be below its max/);
    assert.equal(loadConfig({ shutdownTimeoutMs: '3000' }, {}).shutdownTimeoutMs, 3000);
    assert.throws(() => loadConfig({ shutdownTimeoutMs: '10' }, {}), /shutdown timeout ms must be an integer from 500/);
  });
});

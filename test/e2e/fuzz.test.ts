// Fuzzing the Realtime WebSocket over real sockets, bounded and repeatable: fixed-seed storms of
// malformed, truncated, oversized, deeply nested, type-confused and out-of-order client events,
// WebRTC signalling with bogus DTLS and RTP parameters, and binary frames (test/helpers/fuzz-events.ts).
// Every message must get its documented answer (fuzz-storm.ts says how that is checked), the
// process must not crash, and afterwards a typed turn must still be answered. The long run is
// benchmarks/fuzz/index.ts.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import v8 from 'node:v8';
import vm from 'node:vm';
import WebSocket from 'ws';
import { CLIENT_EVENT_TYPES } from '../../server/protocol/client-events.ts';
import { FuzzGenerator, type FuzzCase } from '../helpers/fuzz-events.ts';
import { FuzzSocket, runStorm, typedTurn, type StormResult } from '../helpers/fuzz-storm.ts';
import { startServer, type TestServer } from '../helpers/server.ts';

// The server runs in this process: heap figures after a full collection are the server's plus a few MB of ours.
v8.setFlagsFromString('--expose-gc');
const gc = vm.runInNewContext('gc') as () => void;

const MAX_MESSAGE_BYTES = 65_536;
// Above the storms' pace, so every message is judged on its content; the limiter itself is tested in bad-input.test.ts.
const SETTINGS = {
  'tls.mode': 'off',
  'webrtc.enabled': 'on',
  'webrtc.workers': '1',
  'limits.maxMessageBytes': String(MAX_MESSAGE_BYTES),
  'limits.maxMessagesPerSecond': '20000',
} as const;

// Text answers: speech synthesis is not what is tested here, and the slowest part of a turn.
const TEXT = { response: { output_modalities: ['text'] } };

type Health = { status: string; sessions: number; webrtc: Record<string, number> };
const MB = 1024 * 1024;

function memoryAfterGc(): { heap: number; rss: number } {
  gc();
  const m = process.memoryUsage();
  return { heap: m.heapUsed, rss: m.rss };
}

async function waitFor<T>(what: () => string, probe: () => Promise<T | false | undefined>, timeoutMs = 15_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what()}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

function assertClean(result: StormResult): void {
  const shown = result.failures.slice(0, 15).join('\n  ');
  assert.equal(result.failures.length, 0, `${result.failures.length} problems in ${result.sent} messages:\n  ${shown}`);
}

describe('fuzzed client traffic gets its documented answers and breaks nothing', { timeout: 180_000 }, () => {
  let server: TestServer;
  let webrtc: boolean;
  let socket: FuzzSocket;
  let baseline: { heap: number; rss: number };
  let peakHeap = 0;
  const crashes: unknown[] = [];
  const onCrash = (error: unknown) => crashes.push(error);
  const health = async (): Promise<Health> => (await fetch(`http://127.0.0.1:${server.port}/healthz`)).json() as Promise<Health>;
  const sample = () => (peakHeap = Math.max(peakHeap, process.memoryUsage().heapUsed));

  before(async () => {
    // A rejection nobody handles would end the process (and the server with it): count them instead.
    process.on('unhandledRejection', onCrash);
    process.on('uncaughtException', onCrash);
    server = await startServer(SETTINGS);
    webrtc = server.server.media !== undefined;
    // Every session costs most of a second of CPU to open: the storms share one connection.
    socket = new FuzzSocket(server.port);
    await socket.opened;
    // A first turn loads what answers lazily: memory is measured from after it.
    await typedTurn(socket, 'what did I just say?', TEXT);
    baseline = memoryAfterGc();
  });

  after(async () => {
    socket?.close();
    await server?.close();
    process.off('unhandledRejection', onCrash);
    process.off('uncaughtException', onCrash);
  });

  it('the generator covers every client event type and repeats with its seed', () => {
    const options = { maxMessageBytes: MAX_MESSAGE_BYTES, webrtc: true };
    const cases = new FuzzGenerator({ seed: 'coverage', ...options }).take(2500);
    for (const type of CLIENT_EVENT_TYPES) {
      const of = cases.filter((c) => c.eventType === type);
      assert.ok(of.some((c) => c.family === 'valid'), `${type}: no valid case`);
      assert.ok(of.filter((c) => c.family !== 'valid' && !c.family.startsWith('sequence')).length >= 5, `${type}: too few mutations`);
    }
    const families = new Set(cases.map((c) => c.family.split(':')[0]));
    for (const f of ['wrong_type', 'missing_field', 'unknown_field', 'oversized_field', 'deep_nesting', 'odd_numbers', 'bad_event_id', 'type_confusion', 'truncated_json', 'not_an_object', 'junk_text', 'binary', 'oversized_message', 'base64_garbage', 'unicode', 'sequence']) {
      assert.ok(families.has(f), `no ${f} case`);
    }
    const frames = (seed: string) => new FuzzGenerator({ seed, ...options }).take(200).map((c: FuzzCase) => c.data.toString('base64'));
    assert.deepEqual(frames('repeat'), frames('repeat'), 'the same seed gives the same messages');
    assert.notDeepEqual(frames('repeat'), frames('other'));
  });

  it('lock-step: each message gets its documented answer before the next is sent', async () => {
    const cases = new FuzzGenerator({ seed: 'omnilive-fuzz-1', maxMessageBytes: MAX_MESSAGE_BYTES, webrtc }).take(500);
    const result = await runStorm(socket, cases, { window: 1, onWindow: sample });
    assertClean(result);
    assert.ok((result.errorsByCode.invalid_value ?? 0) > 100 && (result.errorsByCode.invalid_json ?? 0) > 30, JSON.stringify(result.errorsByCode));
  });

  it('pipelined: thousands of messages in flight at once get the same answers', async () => {
    const cases = new FuzzGenerator({ seed: 'omnilive-fuzz-2', maxMessageBytes: MAX_MESSAGE_BYTES, webrtc, prefix: 'fp' }).take(2000);
    const result = await runStorm(socket, cases, { window: 50, onWindow: sample });
    assertClean(result);
  });

  it('frames the WebSocket itself refuses close only their own connection', async () => {
    const refused = async (send: (ws: WebSocket) => void) => {
      const ws = new WebSocket(`ws://127.0.0.1:${server.port}/v1/realtime`);
      await new Promise((resolve) => ws.once('message', resolve)); // session.created
      ws.on('error', () => {}); // the server fails the connection: that is the point
      const closed = new Promise<number>((resolve) => ws.once('close', resolve));
      send(ws);
      return closed;
    };
    // RFC 6455: a text frame must be UTF-8.
    assert.equal(await refused((ws) => ws.send(Buffer.from([0x7b, 0x22, 0x74, 0xff, 0xfe, 0x22, 0x7d]), { binary: false })), 1007);
    // A frame announcing more than ws's maxPayload (16 MiB here) is refused from its header, before any of it is buffered.
    const header = Buffer.from([0x81, 0xff, 0, 0, 0, 0, 0x01, 0, 0, 0x01, 1, 2, 3, 4]); // masked text frame, 16 MiB + 1 bytes
    assert.equal(await refused((ws) => (ws as unknown as { _socket: import('node:net').Socket })._socket.write(header)), 1009);
    await socket.barrier();
  });

  it('connections that vanish mid-storm leave no session, router or transport behind', async () => {
    const before = await health();
    const leavers = Array.from({ length: 2 }, (_, k) => {
      const cases = new FuzzGenerator({ seed: `leaver-${k}`, maxMessageBytes: MAX_MESSAGE_BYTES, webrtc, prefix: `fl${k}` }).take(120);
      const ws = new WebSocket(`ws://127.0.0.1:${server.port}/v1/realtime`);
      ws.on('error', () => {});
      const send = (event: object) => ws.send(JSON.stringify(event));
      const burst = () => {
        // A transport still being made when the session ends, and a storm still being read.
        send({ type: 'omnilive.webrtc.transport.create', event_id: `create-${k}` });
        for (const c of cases) ws.send(c.data, { binary: c.binary });
        k === 0 ? ws.terminate() : ws.close();
      };
      return new Promise<void>((resolve) => {
        ws.once('close', () => resolve());
        ws.on('message', (data) => {
          const type = (JSON.parse(data.toString()) as { type: string }).type;
          if (type === 'session.created' && webrtc) send({ type: 'omnilive.webrtc.join', event_id: `join-${k}` });
          if (type === (webrtc ? 'omnilive.webrtc.joined' : 'session.created')) burst();
        });
        // The other one before its session even exists.
        if (k === 0) ws.once('open', () => (send({ type: 'omnilive.webrtc.join', event_id: 'early' }), burst()));
      });
    });
    await Promise.all(leavers);
    let last: Health | undefined;
    const counts = (h: Health | undefined) => JSON.stringify(h && { sessions: h.sessions, ...h.webrtc });
    const settled = await waitFor(() => `the leavers to be gone (before ${counts(before)}, now ${counts(last)})`, async () => {
      const h = (last = await health());
      const same = ['routers', 'transports', 'producers', 'consumers'].every((k) => h.webrtc[k] === before.webrtc[k]);
      return h.sessions === before.sessions && same && h;
    });
    assert.equal(settled.status, 'ok');
    await socket.barrier();
  });

  it('afterwards a typed turn is answered on the same connection and a new one; memory stayed bounded; /healthz is ok', async (t) => {
    const same = await typedTurn(socket, 'what is on the screen right now?', TEXT);
    assert.equal(same.status, 'completed');
    assert.ok(same.text.length > 0, 'the answer has words');
    const fresh = new FuzzSocket(server.port);
    await fresh.opened;
    const other = await typedTurn(fresh, 'what is on the screen right now?', TEXT);
    fresh.close();
    assert.equal(other.status, 'completed');
    assert.ok(other.text.length > 0);
    // Thousands of messages, a few hundred conversation items kept: tens of MB would mean something leaks.
    const heapMb = (memoryAfterGc().heap - baseline.heap) / MB;
    assert.ok(heapMb < 48, `heap grew by ${heapMb.toFixed(1)} MB`);
    assert.ok((peakHeap - baseline.heap) / MB < 256, `heap peaked ${((peakHeap - baseline.heap) / MB).toFixed(1)} MB above its start`);
    // Each open session holds tens of MB of native recognizer memory, given back (to the allocator, not
    // always to the system) when it closes: only a runaway shows in this process's RSS.
    const rssMb = (memoryAfterGc().rss - baseline.rss) / MB;
    assert.ok(rssMb < 512, `rss grew by ${rssMb.toFixed(1)} MB`);
    t.diagnostic(`memory over the storms: heap +${heapMb.toFixed(1)} MB after GC (peak +${((peakHeap - baseline.heap) / MB).toFixed(1)} MB), rss +${rssMb.toFixed(1)} MB`);
    const h = await health();
    assert.equal(h.status, 'ok');
    if (webrtc) assert.equal(h.webrtc.workers, 1, 'the mediasoup worker survived the bogus parameters');
    assert.deepEqual(crashes, [], 'no unhandled rejection or exception');
  });
});

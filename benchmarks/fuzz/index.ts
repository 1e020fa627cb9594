/**
 * Fuzz benchmark: a long seeded storm of hostile client traffic (test/helpers/fuzz-events.ts:
 * mutations of every client event type, truncated JSON, oversized and deeply nested messages,
 * binary frames, base64 garbage, out-of-order sequences, WebRTC signalling with bogus DTLS and
 * RTP parameters) over one real WebSocket, to a server in its own process.
 *
 * Every message is checked against its documented answer (test/helpers/fuzz-storm.ts); the
 * server's memory is sampled throughout; afterwards a typed turn must be answered on the same
 * connection and on a new one. The client keeps under the server's message rate limit, which
 * it sets (`--rate`, default the setting's maximum).
 *
 *   node --import tsx benchmarks/fuzz/index.ts [--messages 100000] [--seed omnilive-fuzz]
 *        [--window 100] [--rate 100000] [--max-message-bytes 1048576] [--webrtc on|off]
 *
 * Prints one JSON document, then a table, to stdout; progress to stderr. Exits 1 when the server
 * crashed or any message was answered otherwise than documented.
 */
import { fork, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { describeMachine, loadNow } from '../../server/eval/machine.ts';
import { positiveInteger } from '../args.ts';
import { FuzzGenerator } from '../../test/helpers/fuzz-events.ts';
import { FuzzSocket, runStorm, typedTurn, type StormResult, type TurnResult } from '../../test/helpers/fuzz-storm.ts';

const { values: args } = parseArgs({
  options: {
    messages: { type: 'string', default: '100000' },
    seed: { type: 'string', default: 'omnilive-fuzz' },
    window: { type: 'string', default: '100' },
    rate: { type: 'string', default: '100000' },
    'max-message-bytes': { type: 'string', default: String(1024 * 1024) },
    webrtc: { type: 'string', default: 'on' },
  },
});
const MESSAGES = positiveInteger('messages', args.messages);
const WINDOW = positiveInteger('window', args.window);
const RATE = positiveInteger('rate', args.rate);
const MAX_MESSAGE_BYTES = positiveInteger('max-message-bytes', args['max-message-bytes']);
if (args.webrtc !== 'on' && args.webrtc !== 'off') throw new TypeError(`--webrtc must be on or off, got '${args.webrtc}'`);

const T0 = performance.now();
const log = (message: string) => process.stderr.write(`[fuzz ${((performance.now() - T0) / 1000).toFixed(1).padStart(6)} s] ${message}\n`);
const MB = 1024 * 1024;
const r1 = (x: number) => Math.round(x * 10) / 10;
const mb = (bytes: number) => r1(bytes / MB);

// ---- the server, in its own process ----

type Memory = { rss: number; heapUsed: number; external: number };

class ServerProcess {
  readonly child: ChildProcess;
  readonly ready: Promise<{ port: number; webrtc: boolean }>;
  readonly rejections: string[] = [];
  /** stderr lines: a listener that threw, a failure the server logged. */
  readonly stderr: string[] = [];
  exit: { code: number | null; signal: string | null } | undefined;
  #closing = false;
  #memory: ((m: Memory) => void)[] = [];
  #asking: Promise<unknown> = Promise.resolve();

  constructor(settings: Record<string, string>) {
    this.child = fork(path.join(import.meta.dirname, 'server.ts'), [JSON.stringify(settings)], { execArgv: ['--import', 'tsx'], stdio: ['ignore', 'pipe', 'pipe', 'ipc'] });
    let partial = '';
    const lines = (chunk: Buffer) => {
      const text = partial + chunk.toString();
      const all = text.split('\n');
      partial = all.pop()!;
      for (const line of all) if (line.trim()) this.stderr.push(line.slice(0, 500));
    };
    this.child.stdout!.on('data', lines);
    this.child.stderr!.on('data', lines);
    this.ready = new Promise((resolve, reject) => {
      this.child.on('message', (m: { type: string } & Record<string, any>) => {
        if (m.type === 'ready') resolve({ port: m.port, webrtc: m.webrtc });
        else if (m.type === 'memory') this.#memory.shift()?.({ rss: m.rss, heapUsed: m.heapUsed, external: m.external });
        else if (m.type === 'rejection') this.rejections.push(m.message);
      });
      this.child.once('exit', (code, signal) => {
        this.exit = { code, signal };
        reject(new Error(`the server process exited (code ${code}, signal ${signal}) before it was ready:\n${this.stderr.slice(-20).join('\n')}`));
      });
    });
  }

  /** Crashed: exited without being asked to. */
  get crashed(): boolean {
    return this.exit !== undefined && !this.#closing;
  }

  /** Its memory; after a full collection with `gc`. One question at a time. */
  memory(gc = false): Promise<Memory> {
    const answer = this.#asking.then(
      () =>
        new Promise<Memory>((resolve, reject) => {
          if (this.exit) return reject(new Error('the server process has exited'));
          this.#memory.push(resolve);
          this.child.send({ type: 'memory', gc });
        }),
    );
    this.#asking = answer.catch(() => {});
    return answer;
  }

  async close(): Promise<void> {
    if (this.exit) return;
    this.#closing = true;
    const exited = new Promise((resolve) => this.child.once('exit', resolve));
    this.child.send({ type: 'close' });
    await exited;
  }
}

// ---- the run ----

const loadAtStart = loadNow();
const settings = {
  'tls.mode': 'off',
  'webrtc.enabled': args.webrtc,
  'webrtc.workers': '1',
  'limits.maxMessageBytes': String(MAX_MESSAGE_BYTES),
  'limits.maxMessagesPerSecond': String(RATE),
};
log(`starting the server (${JSON.stringify(settings)})`);
const server = new ServerProcess(settings);
const { port, webrtc } = await server.ready;
const health = async () => (await fetch(`http://127.0.0.1:${port}/healthz`)).json() as Promise<{ status: string; sessions: number; webrtc: Record<string, number> }>;

const socket = new FuzzSocket(port);
await socket.opened;
log('a first typed turn (loads what answers lazily)');
const warm = await typedTurn(socket, 'what did I just say?');
const before = await server.memory(true);
const peak = { rss: before.rss, heapUsed: before.heapUsed };
let lastSample = performance.now();
const sample = () => {
  if (performance.now() - lastSample < 2000) return;
  lastSample = performance.now();
  server.memory().then((m) => {
    peak.rss = Math.max(peak.rss, m.rss);
    peak.heapUsed = Math.max(peak.heapUsed, m.heapUsed);
  }, () => {});
};

log(`storm: ${MESSAGES} messages, seed '${args.seed}', windows of ${WINDOW}, at most ${RATE} messages/s (barriers included)`);
const generator = new FuzzGenerator({ seed: args.seed, maxMessageBytes: MAX_MESSAGE_BYTES, webrtc });
const stormStart = performance.now();
let nextProgress = 0;
let storm: StormResult | undefined;
let stormError: string | undefined;
try {
  storm = await runStorm(socket, generator.cases(MESSAGES), {
    window: WINDOW,
    settleMs: 30_000,
    // The token bucket holds two seconds' worth: keeping under the rate never meets the limiter.
    pace: async (sent) => {
      const frames = sent + Math.ceil(sent / WINDOW);
      const due = stormStart + (frames / (RATE * 0.9)) * 1000;
      if (due > performance.now()) await new Promise((r) => setTimeout(r, due - performance.now()));
    },
    onWindow: (sent) => {
      sample();
      if (sent >= nextProgress) {
        log(`${sent} sent, ${Math.round(sent / ((performance.now() - stormStart) / 1000))} messages/s`);
        nextProgress += Math.max(WINDOW, Math.round(MESSAGES / 20));
      }
    },
  });
} catch (error) {
  stormError = (error as Error).message;
  log(`storm stopped: ${stormError}`);
}

let same: TurnResult | { error: string } = { error: 'not run' };
let fresh: TurnResult | { error: string } = { error: 'not run' };
let after: Memory | undefined;
let healthAfter: unknown;
if (!server.exit) {
  log('a typed turn on the same connection, then on a new one');
  same = await typedTurn(socket, 'what is on the screen right now?').catch((e: Error) => ({ error: e.message }));
  const other = new FuzzSocket(port);
  await other.opened;
  fresh = await typedTurn(other, 'what is on the screen right now?').catch((e: Error) => ({ error: e.message }));
  other.close();
  socket.close();
  after = await server.memory(true);
  healthAfter = await health().catch((e: Error) => ({ error: e.message }));
}
const crashed = server.crashed;
await server.close();

// ---- report ----

const turn = (t: TurnResult | { error: string }) => ('error' in t ? t : { status: t.status, ms: Math.round(t.ms), chars: t.text.length, retries: t.retries, answer: t.text.slice(0, 120) });
const stormSeconds = storm ? storm.ms / 1000 : (performance.now() - stormStart) / 1000;
const failures = storm?.failures ?? [];
const report = {
  benchmark: 'fuzz',
  seed: args.seed,
  messages: storm?.sent ?? 0,
  window: WINDOW,
  rate_limit: RATE,
  max_message_bytes: MAX_MESSAGE_BYTES,
  webrtc,
  machine: describeMachine(loadAtStart),
  definitions: {
    messages: 'fuzz cases sent; each window of them is followed by a barrier (a retrieve of an item that never exists, answered at once)',
    messages_per_second: 'fuzz cases / storm seconds (sending, barriers and the server answering all of them; the client waits for each barrier)',
    failures: 'messages not answered as documented, answers naming the wrong code or field, and errors nobody asked for (fuzz-storm.ts judge())',
    crashes: 'the server process exiting without being asked to',
    unhandled_rejections: 'promise rejections nobody handled in the server process (omnilive serve logs them and goes on)',
    memory: 'the server process; before and after: after a full GC; peak: sampled every 2 s without GC',
  },
  storm_seconds: r1(stormSeconds),
  messages_per_second: Math.round((storm?.sent ?? 0) / stormSeconds),
  failures: failures.length,
  failures_first: failures.slice(0, 20),
  storm_error: stormError,
  crashes: crashed ? 1 : 0,
  server_exit: crashed ? server.exit : undefined,
  unhandled_rejections: server.rejections.length,
  rejections_first: server.rejections.slice(0, 5),
  server_log_lines: server.stderr.length,
  server_log_first: server.stderr.slice(0, 10),
  errors_by_code: Object.fromEntries(Object.entries(storm?.errorsByCode ?? {}).sort((a, b) => b[1] - a[1])),
  cases_by_family: storm?.casesByFamily,
  cases_by_event_type: storm?.casesByType,
  memory_mb: {
    rss_before: mb(before.rss),
    rss_peak: mb(peak.rss),
    rss_after: after && mb(after.rss),
    heap_before: mb(before.heapUsed),
    heap_peak: mb(peak.heapUsed),
    heap_after: after && mb(after.heapUsed),
  },
  turn_before_storm: turn(warm),
  turn_after_same_connection: turn(same),
  turn_after_new_connection: turn(fresh),
  health_after: healthAfter,
};

console.log(JSON.stringify(report, null, 2));
console.log(table());
const turnsOk = [same, fresh].every((t) => !('error' in t) && t.status === 'completed' && t.text.length > 0);
process.exit(crashed || failures.length || stormError || !turnsOk ? 1 : 0);

function table(): string {
  const m = report.machine as { cpus: number; model: string; loadavg_start: number[]; loadavg_end: number[] };
  const mem = report.memory_mb;
  const codes = Object.entries(report.errors_by_code);
  const t = (x: TurnResult | { error: string }) => ('error' in x ? `failed: ${x.error}` : `${x.status} in ${Math.round(x.ms)} ms (${x.text.length} chars)`);
  const rows: [string, string][] = [
    ['messages', `${report.messages} (seed '${report.seed}', windows of ${WINDOW}, rate limit ${RATE}/s, max message ${MAX_MESSAGE_BYTES} B, WebRTC ${webrtc ? 'on' : 'off'})`],
    ['storm', `${report.storm_seconds} s, ${report.messages_per_second} messages/s`],
    ['not as documented', `${report.failures}${report.storm_error ? ` (stopped: ${report.storm_error})` : ''}`],
    ['crashes', `${report.crashes}; unhandled rejections ${report.unhandled_rejections}; server log lines ${report.server_log_lines}`],
    ['rss MB', `${mem.rss_before} before, ${mem.rss_peak} peak, ${mem.rss_after ?? '-'} after`],
    ['heap MB', `${mem.heap_before} before, ${mem.heap_peak} peak, ${mem.heap_after ?? '-'} after (GC)`],
    ['turn after, same', t(same)],
    ['turn after, new', t(fresh)],
  ];
  const width = Math.max(...rows.map(([k]) => k.length));
  return [
    '',
    `fuzz storm; ${m.cpus} × ${m.model}, load ${m.loadavg_start.join(' ')} → ${m.loadavg_end.join(' ')}`,
    ...rows.map(([k, v]) => `${k.padEnd(width)}  ${v}`),
    `errors by code  ${codes.map(([c, n]) => `${c} ${n}`).join(', ')}`,
  ].join('\n');
}

// Access: client-secret mint latency over HTTP, and what the auth check adds to a WebSocket
// upgrade — the same handshake unauthenticated (keyless server), with an API key, and with a
// client secret, interleaved in one run so machine noise hits all three alike.
//   node --import tsx benchmarks/access/index.ts [--connections 100] [--mints 200] [--runs 3]
import http from 'node:http';
import net from 'node:net';
import { parseArgs } from 'node:util';
import WebSocket from 'ws';
import { describeMachine, loadNow } from '../../server/eval/machine.ts';
import { quantile } from '../../server/eval/stats.ts';
import { startServer, type TestServer } from '../../test/helpers/server.ts';

const { values } = parseArgs({ options: { connections: { type: 'string', default: '100' }, mints: { type: 'string', default: '200' }, runs: { type: 'string', default: '3' } } });
const CONNECTIONS = Number(values.connections);
const MINTS = Number(values.mints);
const RUNS = Number(values.runs);
const KEY = 'olk_benchmark_key_0123456789abcdefghijklmnop';
const round = (x: number) => Math.round(x * 1000) / 1000;
const progress = (msg: string) => process.stderr.write(`[access bench] ${msg}\n`);

const loadAtStart = loadNow();
const generous = { 'tls.mode': 'off', 'access.connectionsPerIpPerMinute': '1000000', 'access.sessionsPerUser': '100000', 'access.sessionsPerKey': '100000', 'access.mintsPerKeyPerMinute': '1000000' } as const;
const open = await startServer(generous);
const keyed = await startServer({ ...generous, 'access.apiKeys': KEY });

async function mint(t: TestServer): Promise<string> {
  const res = await fetch(`http://127.0.0.1:${t.port}/v1/realtime/client_secrets`, { method: 'POST', headers: { authorization: `Bearer ${KEY}`, 'content-type': 'application/json' }, body: '{"omnilive":{"user":"bench"}}' });
  if (res.status !== 200) throw new Error(`mint answered ${res.status}`);
  return ((await res.json()) as { value: string }).value;
}

/** ms from dialling to the upgrade's 101 (the session is made after it); waits for the session to be gone. */
async function handshake(t: TestServer, options: { headers?: Record<string, string>; protocols?: string[] }): Promise<number> {
  const started = performance.now();
  const ws = new WebSocket(`ws://127.0.0.1:${t.port}/v1/realtime`, options.protocols ?? [], { headers: options.headers });
  ws.once('open', () => ws.close()); // 'open' follows 'upgrade' in the same tick
  const ms = await new Promise<number>((resolve, reject) => {
    ws.once('upgrade', () => resolve(performance.now() - started));
    ws.once('error', reject);
    ws.once('unexpected-response', (_req, res) => reject(new Error(`upgrade answered ${res.statusCode}`)));
  });
  await new Promise((r) => ws.once('close', r));
  while (t.server.sessions.size > 0) await new Promise((r) => setTimeout(r, 2));
  return ms;
}

/** The auth check alone, in process: AccessControl.authorizeUpgrade on a request as the server gets it. */
function checkCost(t: TestServer, headers: Record<string, string>, n: number): number {
  const req = new http.IncomingMessage(new net.Socket());
  req.headers = { host: `127.0.0.1:${t.port}`, ...headers };
  const access = t.server.access;
  const started = performance.now();
  for (let i = 0; i < n; i++) access.admitSession(access.authorizeUpgrade(req), undefined)();
  return ((performance.now() - started) / n) * 1000;
}

type Run = { mint_ms: { p50: number; p95: number }; upgrade_ms: Record<string, { p50: number; p95: number }>; check_us: Record<string, number> };
const runs: Run[] = [];
for (let r = 1; r <= RUNS; r++) {
  progress(`run ${r}/${RUNS}: ${MINTS} mints…`);
  const mints: number[] = [];
  for (let i = 0; i < MINTS; i++) {
    const t0 = performance.now();
    await mint(keyed);
    mints.push(performance.now() - t0);
  }
  progress(`run ${r}/${RUNS}: ${CONNECTIONS} × 3 handshakes, interleaved…`);
  const times: Record<string, number[]> = { none: [], api_key: [], client_secret: [] };
  for (let i = 0; i < CONNECTIONS; i++) {
    times.none!.push(await handshake(open, {}));
    times.api_key!.push(await handshake(keyed, { headers: { authorization: `Bearer ${KEY}` } }));
    const secret = await mint(keyed);
    times.client_secret!.push(await handshake(keyed, { protocols: ['realtime', `openai-insecure-api-key.${secret}`] }));
  }
  const stats = (xs: number[]) => ({ p50: round(quantile(xs, 0.5)), p95: round(quantile(xs, 0.95)) });
  const CHECKS = 20_000;
  runs.push({
    mint_ms: stats(mints),
    upgrade_ms: Object.fromEntries(Object.entries(times).map(([k, v]) => [k, stats(v)])),
    check_us: {
      none: round(checkCost(open, {}, CHECKS)),
      api_key: round(checkCost(keyed, { authorization: `Bearer ${KEY}` }, CHECKS)),
    },
  });
}

await open.close();
await keyed.close();

const median = (xs: number[]) => quantile(xs, 0.5);
const pick = (f: (run: Run) => number) => round(median(runs.map(f)));
const summary = {
  mint_ms: { p50: pick((r) => r.mint_ms.p50), p95: pick((r) => r.mint_ms.p95) },
  upgrade_ms: Object.fromEntries(['none', 'api_key', 'client_secret'].map((k) => [k, { p50: pick((r) => r.upgrade_ms[k]!.p50), p95: pick((r) => r.upgrade_ms[k]!.p95) }])),
  upgrade_ratio_p50: {
    api_key: pick((r) => r.upgrade_ms.api_key!.p50 / r.upgrade_ms.none!.p50),
    client_secret: pick((r) => r.upgrade_ms.client_secret!.p50 / r.upgrade_ms.none!.p50),
  },
  check_us: { none: pick((r) => r.check_us.none!), api_key: pick((r) => r.check_us.api_key!) },
};
console.log(JSON.stringify({ benchmark: 'access', connections: CONNECTIONS, mints: MINTS, runs: RUNS, machine: describeMachine(loadAtStart), summary, per_run: runs }, null, 2));
const s = summary;
console.log(`
| what (median of ${RUNS} runs)           | p50        | p95        |
|----------------------------------------|------------|------------|
| mint a client secret (HTTP, loopback)  | ${s.mint_ms.p50} ms | ${s.mint_ms.p95} ms |
| upgrade, no credential (keyless)       | ${s.upgrade_ms.none!.p50} ms | ${s.upgrade_ms.none!.p95} ms |
| upgrade, API key                       | ${s.upgrade_ms.api_key!.p50} ms | ${s.upgrade_ms.api_key!.p95} ms |
| upgrade, client secret                 | ${s.upgrade_ms.client_secret!.p50} ms | ${s.upgrade_ms.client_secret!.p95} ms |
| ratio to keyless, p50: key / secret    | ${s.upgrade_ratio_p50.api_key} | ${s.upgrade_ratio_p50.client_secret} |
| auth check alone: keyless / API key    | ${s.check_us.none} µs | ${s.check_us.api_key} µs |`);
// fetch's pooled keep-alive sockets would hold the process open for a while: the report is out, so end.
process.exit(0);

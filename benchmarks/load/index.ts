/**
 * Load benchmark: ramps concurrent live sessions (speech with pauses and spoken answers,
 * 1 fps JPEG video of changing scenes, memory on, the default engines) against one
 * `omnilive serve` process until a latency goal breaks — first over the WebSocket, then over
 * WebRTC (headless Chromium pages running the web app's own uplink). Reports the largest N
 * that keeps
 *   - pipeline overhead p95 ≤ 60 ms (the server's omnilive.metrics pipeline_overhead_ms), and
 *   - audio lag p99 ≤ 100 ms (how far behind real time the server processed input audio: over
 *     the WebSocket, the VAD's speech_started / speech_stopped arrival minus the send time of
 *     the chunk that completed the deciding frame; over WebRTC, where the client cannot see the
 *     server's media clock, the server's own end_of_turn latency minus the silence it waits),
 * and where the time goes at that N: stage latencies, engine compute, CPU by process.
 * Sessions are added step by step (N = 1, 2, 4, 6, 8, …), each step measured for a fixed
 * window after a settling time; the ramp stops at the first N that breaks a goal.
 *
 *   node --import tsx benchmarks/load/index.ts [--levels 1,2,4,6,8,10,12,16] [--step-s 60]
 *     [--settle-s 15] [--transports ws,webrtc] [--min-turns 5] [--seed 1] [--out DIR]
 *     [--chromium /usr/bin/chromium] [-- <more omnilive serve flags>]
 *
 * Progress on stderr; one JSON document and a table on stdout (also <out>/report.json; the
 * measured turns in <out>/turns.jsonl, the servers' logs in <out>/server-<transport>.log).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { describeMachine, loadNow } from '../../server/eval/machine.ts';
import { closeSpeech } from '../../test/helpers/speech.ts';
import { LiveSession, type TurnRecord } from '../live-sessions/live-session.ts';
import { renderLines, renderScenes } from '../live-sessions/media.ts';
import { cpuByName, sampleTree } from '../live-sessions/proc-tree.ts';
import { ServerProcess } from '../live-sessions/server-process.ts';
import { outputDir, progressLog } from '../live-sessions/run-log.ts';
import { type TurnStats, dist, turnStats } from '../live-sessions/turn-stats.ts';
import { seededRandom } from '../seeded-random.ts';
import { BrowserFleet } from './browser-session.ts';

// ---- arguments ----

const { values: args, positionals: serveArgs } = parseArgs({
  allowPositionals: true,
  options: {
    levels: { type: 'string', default: '1,2,4,6,8,10,12,16' },
    'step-s': { type: 'string', default: '60' },
    'settle-s': { type: 'string', default: '15' },
    transports: { type: 'string', default: 'ws,webrtc' },
    'min-turns': { type: 'string', default: '5' },
    seed: { type: 'string', default: '1' },
    out: { type: 'string' },
    chromium: { type: 'string', default: '/usr/bin/chromium' },
  },
});

const LEVELS = args.levels!.split(',').map((x) => Number(x.trim()));
if (LEVELS.length === 0 || LEVELS.some((n, i) => !Number.isInteger(n) || n < 1 || (i > 0 && n <= LEVELS[i - 1]!))) throw new TypeError(`--levels must be increasing positive integers, got '${args.levels}'`);
const STEP_S = Number(args['step-s']);
const SETTLE_S = Number(args['settle-s']);
const MIN_TURNS = Number(args['min-turns']);
if (!(STEP_S >= 10) || !(SETTLE_S >= 0) || !(MIN_TURNS >= 1)) throw new TypeError('--step-s must be at least 10, --settle-s at least 0, --min-turns at least 1');
const TRANSPORTS = args.transports!.split(',').map((t) => t.trim());
for (const t of TRANSPORTS) if (t !== 'ws' && t !== 'webrtc') throw new TypeError(`--transports: 'ws' or 'webrtc', got '${t}'`);
const SEED = args.seed!;
/** The goals of issue #15. */
const GOALS = { overheadP95Ms: 60, audioLagP99Ms: 100 };
/** More than this share of a step's turns failing (no answer, not heard) breaks the step too. */
const MAX_FAILED_SHARE = 0.2;
/** After a window, turns begun in it may still be answering: wait at most this long for them. */
const GRACE_MS = 60_000;

const OUT = outputDir('load', args.out);

/** Every turn of every step (with the answer's words), for reading a run's failures afterwards. */
const turnsFile = fs.createWriteStream(path.join(OUT, 'turns.jsonl'));

const progress = progressLog('load');
const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
const round1 = (x: number) => Math.round(x * 10) / 10;

// ---- a step ----

interface Step {
  transport: string;
  sessions: number;
  window_s: number;
  stats: TurnStats;
  /** The audio lag the goal is checked on (see the header). */
  audio_lag_p99_ms: number | null;
  overhead_p95_ms: number | null;
  failed_share: number | null;
  cpu_percent: Record<string, number>;
  cpu_total_percent: number;
  server_event_loop_ms: { p99_median: number | null; max: number | null };
  server_rss_mb: number | null;
  client_event_loop_p99_ms: number;
  /** This benchmark process and its browsers (not the server), % of one core: they share the machine. */
  client_cpu_percent: number | null;
  client_mic_lateness_p99_ms: number | null;
  loadavg: number[];
  pass: boolean;
  broke: string[];
}

/** What a transport needs to run a ramp: open one more session, and close them all. */
interface Fleet {
  readonly turns: TurnRecord[];
  readonly size: number;
  openOne(index: number): Promise<void>;
  /** Mic send lateness of the sessions over about the last step (WebSocket only). */
  micLateness(): number[];
  /** performance.now() at which each session's turn in progress began. */
  turnsInFlight(): number[];
  close(): Promise<void>;
}

class WsFleet implements Fleet {
  readonly turns: TurnRecord[] = [];
  readonly #sessions: LiveSession[] = [];
  readonly #opts: Omit<Parameters<typeof LiveSession.open>[0], 'index' | 'random' | 'url'>;
  readonly #url: string;

  constructor(url: string, opts: Omit<Parameters<typeof LiveSession.open>[0], 'index' | 'random' | 'url'>) {
    this.#url = url;
    this.#opts = opts;
  }

  get size(): number {
    return this.#sessions.filter((s) => s.open).length;
  }

  async openOne(index: number): Promise<void> {
    this.#sessions.push(await LiveSession.open({ ...this.#opts, url: this.#url, index, random: seededRandom(`${SEED}:ws:${index}`), onTurn: (t) => this.turns.push(t) }));
  }

  micLateness(): number[] {
    return this.#sessions.flatMap((s) => s.micLateness.slice(-Math.round((STEP_S * 1000) / 20)));
  }

  turnsInFlight(): number[] {
    return this.#sessions.flatMap((s) => (s.open && s.turnStartedAt !== undefined ? [s.turnStartedAt] : []));
  }

  async close(): Promise<void> {
    await Promise.all(this.#sessions.map((s) => s.close(20_000)));
  }
}

/** Sessions opened so far in the current ramp (their indices), failures included. */
let opened = 0;

/** CPU ms so far of this process and its descendants outside the server's tree (Chromium). */
function clientCpuMs(serverPid: number): number {
  const own = process.cpuUsage();
  const tree = sampleTree(process.pid);
  const server = new Set([serverPid, ...(sampleTree(serverPid)?.descendants.map((d) => d.pid) ?? [])]);
  const others = (tree?.descendants ?? []).filter((d) => !server.has(d.pid)).reduce((n, d) => n + d.cpuMs, 0);
  return (own.user + own.system) / 1000 + others;
}

async function runStep(transport: string, server: ServerProcess, fleet: Fleet, n: number, problem: (t: string) => void): Promise<Step> {
  let failures = 0;
  while (fleet.size < n) {
    const index = opened++;
    await fleet.openOne(index).catch((error) => {
      failures++;
      problem(`could not open ${transport} session ${index}: ${(error as Error).message}`);
    });
    if (failures > 3) throw new Error(`${transport}: sessions keep failing to open`);
    await sleep(500);
  }
  progress(`${transport} N=${n}: settling ${SETTLE_S} s, then measuring ${STEP_S} s`);
  await sleep(SETTLE_S * 1000);
  const loop = monitorEventLoopDelay({ resolution: 10 });
  loop.enable();
  const before = sampleTree(server.pid);
  const clientBefore = clientCpuMs(server.pid);
  const from = performance.now();
  const probes: number[] = [];
  let loopMax = 0;
  const rss: number[] = [];
  // A fixed window, stretched (up to 3×) until it holds enough answered turns to judge.
  const enough = () => fleet.turns.filter((t) => t.at >= from && t.overheadMs !== null).length >= MIN_TURNS;
  while (performance.now() - from < STEP_S * 1000 || (!enough() && performance.now() - from < 3 * STEP_S * 1000)) {
    await sleep(1000);
    const p = server.probe;
    if (p) {
      probes.push(p.loopP99Ms);
      loopMax = Math.max(loopMax, p.loopMaxMs);
      rss.push(p.rss);
    }
  }
  const to = performance.now();
  const after = sampleTree(server.pid);
  const clientAfter = clientCpuMs(server.pid);
  loop.disable();
  const loadavg = loadNow();
  // Turns begun in the window finish after it (their answer plays out): wait for them.
  const grace = performance.now() + GRACE_MS;
  while (performance.now() < grace && fleet.turnsInFlight().some((at) => at <= to)) await sleep(500);
  const turns = fleet.turns.filter((t) => t.at >= from && t.at <= to);
  for (const t of turns) turnsFile.write(`${JSON.stringify({ transport, step: n, ...t, wall: new Date(performance.timeOrigin + t.at).toISOString() })}\n`);
  const stats = turnStats(turns);
  const cpu = before && after ? cpuByName(before, after) : {};
  const overhead = stats.pipeline_overhead_ms.p95;
  const lag = transport === 'ws' ? stats.audio_lag_ms.p99 : stats.server_stop_lag_ms.p99;
  const failed = turns.filter((t) => !(t.status === 'answered' || t.status === 'cancelled' || t.status.startsWith('ignored'))).length;
  const failedShare = turns.length ? round1((100 * failed) / turns.length) / 100 : null;
  const answered = turns.filter((t) => t.overheadMs !== null).length;
  const broke: string[] = [];
  if (overhead !== null && overhead > GOALS.overheadP95Ms) broke.push(`pipeline overhead p95 ${overhead} ms > ${GOALS.overheadP95Ms} ms`);
  if (lag !== null && lag > GOALS.audioLagP99Ms) broke.push(`audio lag p99 ${lag} ms > ${GOALS.audioLagP99Ms} ms`);
  if (failedShare !== null && failedShare > MAX_FAILED_SHARE) broke.push(`${Math.round(failedShare * 100)} % of turns failed (${JSON.stringify(stats.statuses)})`);
  if (answered < MIN_TURNS) broke.push(`only ${answered} answered turns with metrics in the window (need ${MIN_TURNS})`);
  const loopMs = (ns: number) => round1(Math.max(0, ns / 1e6 - 10));
  return {
    transport,
    sessions: fleet.size,
    window_s: round1((to - from) / 1000),
    stats,
    audio_lag_p99_ms: lag,
    overhead_p95_ms: overhead,
    failed_share: failedShare,
    cpu_percent: cpu,
    cpu_total_percent: round1(Object.values(cpu).reduce((a, b) => a + b, 0)),
    server_event_loop_ms: { p99_median: dist(probes).p50, max: probes.length ? loopMax : null },
    server_rss_mb: rss.length ? Math.round(rss.at(-1)! / 1048576) : null,
    client_event_loop_p99_ms: loopMs(loop.percentile(99)),
    client_cpu_percent: round1((100 * (clientAfter - clientBefore)) / (to - from)),
    client_mic_lateness_p99_ms: transport === 'ws' ? dist(fleet.micLateness()).p99 : null,
    loadavg,
    pass: broke.length === 0,
    broke,
  };
}

function stepLine(s: Step): string {
  const st = s.stats;
  const cpu = Object.entries(s.cpu_percent).sort((a, b) => b[1] - a[1]).map(([k, v]) => `${k} ${v}`).join(', ');
  return (
    `${s.transport} N=${s.sessions}: ${st.turns} turns (${st.statuses.answered ?? 0} answered), overhead p95 ${s.overhead_p95_ms ?? '—'} ms, audio lag p99 ${s.audio_lag_p99_ms ?? '—'} ms, ` +
    `first audio p50 ${st.client_first_audio_ms.p50 ?? '—'} ms; CPU ${s.cpu_total_percent} % (${cpu}); load ${s.loadavg.join(' ')} → ${s.pass ? 'PASS' : `BREAK: ${s.broke.join('; ')}`}`
  );
}

// ---- a ramp ----

interface Ramp {
  transport: string;
  steps: Step[];
  largest_passing: number | null;
  /** True when the ramp ran out of levels before anything broke (the largest N is a lower bound). */
  unbroken: boolean;
  at_largest: ReturnType<typeof whereTimeGoes> | null;
  skipped?: string;
  problems: string[];
}

/** At one step: the answer's path after the end of speech, stage by stage, and who used the CPU. */
function whereTimeGoes(s: Step) {
  const st = s.stats;
  const stages = st.stages_ms;
  const compute = st.compute_ms;
  return {
    sessions: s.sessions,
    after_speech_end_ms: stages,
    engine_compute_ms: compute,
    pipeline_overhead_ms: st.pipeline_overhead_ms,
    audio_lag_ms: s.transport === 'ws' ? st.audio_lag_ms : st.server_stop_lag_ms,
    client_first_audio_ms: st.client_first_audio_ms,
    cpu_percent_of_one_core: s.cpu_percent,
    server_event_loop_ms: s.server_event_loop_ms,
  };
}

async function runRamp(transport: string, lines: Awaited<ReturnType<typeof renderLines>>, scenes: ReturnType<typeof renderScenes>): Promise<Ramp> {
  opened = 0;
  const problems: string[] = [];
  const problem = (text: string) => {
    if (problems.length < 200) problems.push(text);
    progress(`  ! ${text}`);
  };
  const ramp: Ramp = { transport, steps: [], largest_passing: null, unbroken: false, at_largest: null, problems };
  if (transport === 'webrtc' && !fs.existsSync(args.chromium!)) {
    ramp.skipped = `Chromium not found at ${args.chromium} (apt-get install -y chromium)`;
    progress(`webrtc: skipped: ${ramp.skipped}`);
    return ramp;
  }
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), `omnilive-load-${transport}-`));
  const extra = transport === 'ws' && !serveArgs.includes('--webrtc') ? ['--webrtc', 'off'] : [];
  progress(`${transport}: starting omnilive serve (data ${dataDir})…`);
  const server = await ServerProcess.start({ dataDir, logFile: path.join(OUT, `server-${transport}.log`), args: [...extra, ...serveArgs] });
  let fleet: Fleet | undefined;
  try {
    if (transport === 'webrtc') {
      const health = await server.health();
      if (health.webrtc?.unavailable) {
        ramp.skipped = `the server has no WebRTC: ${health.webrtc.unavailable}`;
        progress(`webrtc: skipped: ${ramp.skipped}`);
        return ramp;
      }
      fleet = await BrowserFleet.start({ url: server.url, chromium: args.chromium!, lines, scenes, seed: SEED, onProblem: problem });
    } else {
      fleet = new WsFleet(server.url, { lines, scenes, onProblem: problem });
    }
    for (const n of LEVELS) {
      let step: Step;
      try {
        step = await runStep(transport, server, fleet, n, problem);
      } catch (error) {
        problem(`N=${n}: ${(error as Error).message}`);
        break;
      }
      ramp.steps.push(step);
      progress(stepLine(step));
      if (!server.alive) {
        problem(`the server exited: ${JSON.stringify(server.exitInfo)}`);
        break;
      }
      if (!step.pass) break;
      ramp.largest_passing = step.sessions;
    }
    ramp.unbroken = ramp.steps.length > 0 && ramp.steps.every((s) => s.pass);
    const best = [...ramp.steps].reverse().find((s) => s.pass);
    ramp.at_largest = best ? whereTimeGoes(best) : null;
  } finally {
    progress(`${transport}: closing sessions and the server…`);
    await fleet?.close();
    await server.close();
    fs.rmSync(dataDir, { recursive: true, force: true });
  }
  return ramp;
}

// ---- main ----

function table(report: { ramps: Ramp[]; machine: Record<string, unknown> }): string {
  const cell = (x: unknown, w = 9) => (x === null || x === undefined ? '—' : String(x)).padStart(w);
  const head = ['N', 'turns', 'answered', 'ovh p50', 'ovh p95', 'lag p50', 'lag p99', '1st p50', '1st p95', 'srv CPU%', 'cli CPU%', 'srv loop', 'cli loop', 'load1', 'result'];
  const out: string[] = ['', `load: goals pipeline overhead p95 ≤ ${GOALS.overheadP95Ms} ms, audio lag p99 ≤ ${GOALS.audioLagP99Ms} ms; machine load ${JSON.stringify(report.machine.loadavg_start)} → ${JSON.stringify(report.machine.loadavg_end)}`];
  for (const r of report.ramps) {
    out.push('', `${r.transport}${r.skipped ? `: skipped (${r.skipped})` : `: largest N within the goals: ${r.largest_passing ?? 'none'}${r.unbroken ? ' (nothing broke: a lower bound)' : ''}`}`);
    if (!r.steps.length) continue;
    out.push(head.map((h) => cell(h)).join(''));
    for (const s of r.steps) {
      const st = s.stats;
      const lag = s.transport === 'ws' ? st.audio_lag_ms : st.server_stop_lag_ms;
      out.push(
        [s.sessions, st.turns, st.statuses.answered ?? 0, st.pipeline_overhead_ms.p50, st.pipeline_overhead_ms.p95, lag.p50, lag.p99, st.client_first_audio_ms.p50, st.client_first_audio_ms.p95, s.cpu_total_percent, s.client_cpu_percent, s.server_event_loop_ms.p99_median, s.client_event_loop_p99_ms, s.loadavg[0], s.pass ? 'PASS' : 'BREAK']
          .map((x) => cell(x))
          .join(''),
      );
    }
    const broken = r.steps.find((s) => !s.pass);
    if (broken) out.push(`  broke at N=${broken.sessions}: ${broken.broke.join('; ')}`);
    if (r.at_largest) {
      const w = r.at_largest;
      out.push(`  at N=${w.sessions}, after the end of speech (median ms): ${Object.entries(w.after_speech_end_ms).map(([k, v]) => `${k} ${v ?? '—'}`).join(', ')}`);
      out.push(`  engine compute (median ms): ${Object.entries(w.engine_compute_ms).map(([k, v]) => `${k} ${v ?? '—'}`).join(', ')}`);
      out.push(`  CPU % of one core: ${Object.entries(w.cpu_percent_of_one_core).sort((a, b) => b[1] - a[1]).map(([k, v]) => `${k} ${v}`).join(', ')}`);
    }
  }
  out.push(
    '',
    'ovh: pipeline overhead; lag: audio lag (ws: VAD decision events vs the chunk sent; webrtc: server end_of_turn − silence); 1st: first answer audio after the last speech sample;',
    'srv CPU%: server and its children, % of one core (2 cores = 200); cli CPU%: this benchmark and its browsers; loops: event-loop p99 ms (server probe median, this client)',
  );
  return out.join('\n');
}

async function main() {
  const loadAtStart = loadNow();
  progress(`levels ${LEVELS.join(', ')}; ${STEP_S} s per step after ${SETTLE_S} s settling; transports ${TRANSPORTS.join(', ')}; output in ${OUT}`);
  progress('rendering speech and scenes…');
  const lines = await renderLines();
  const scenes = renderScenes();
  await closeSpeech();
  const ramps: Ramp[] = [];
  for (const transport of TRANSPORTS) ramps.push(await runRamp(transport, lines, scenes));
  const report = {
    benchmark: 'load',
    date: new Date().toISOString(),
    options: { levels: LEVELS, step_s: STEP_S, settle_s: SETTLE_S, transports: TRANSPORTS, min_turns: MIN_TURNS, seed: SEED, serve_args: serveArgs },
    goals: { pipeline_overhead_p95_ms: GOALS.overheadP95Ms, audio_lag_p99_ms: GOALS.audioLagP99Ms, max_failed_turn_share: MAX_FAILED_SHARE },
    machine: describeMachine(loadAtStart),
    definitions: {
      pipeline_overhead: "omnilive.metrics pipeline_overhead_ms: end of turn → first audio delta, minus the engines' compute in that span",
      audio_lag_ws: 'speech_started / speech_stopped arrival minus the send time of the mic chunk that completed the deciding VAD frame (minimum speech run; silence_duration_ms rounded up to 32 ms frames)',
      audio_lag_webrtc: "omnilive.metrics latency_ms.end_of_turn minus the silence server_vad waits (silence_duration_ms rounded up to 32 ms frames): the server's own lag at speech_stopped",
      client_first_audio: 'first answer audio delta minus the send (ws) or play (webrtc) time of the last speech sample',
      cpu: "% of one core over the step's window, server process and its descendants by name (Chromium, on webrtc, is not counted)",
      step: 'sessions are added to reach N, settle, then turns whose speech ended in the window are counted',
    },
    ramps,
  };
  fs.writeFileSync(path.join(OUT, 'report.json'), `${JSON.stringify(report, null, 2)}\n`);
  console.log(JSON.stringify(report, null, 2));
  console.log(table(report));
}

main().then(
  () => setTimeout(() => process.exit(0), 2000).unref(),
  (error) => {
    console.error(error);
    process.exit(1);
  },
);

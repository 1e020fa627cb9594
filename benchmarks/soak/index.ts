/**
 * Soak benchmark: N live sessions (speech with pauses and spoken answers, 1 fps JPEG video of
 * changing scenes, memory on, the default engines) against one `omnilive serve` process for a
 * set time, sampling the server from outside and in; reports growth after a warm-up.
 *
 * Sampled every --sample-s seconds:
 *   - /proc/PID: VmRSS, open fds, threads, CPU, and every descendant (engine children,
 *     mediasoup workers): count, RSS, CPU;
 *   - the probe preloaded into the server (probe.mjs, over IPC): V8 heap, event-loop delay
 *     (p99 and max of each second), active handles;
 *   - GET /healthz (sessions), and GET /metrics where the server has it (omnilive_* counters);
 *   - LanceDB under <data>/memory: data and manifest files on disk per table, and through a
 *     read-only connection the live fragment count, rows and version.
 * Growth compares the median of the first minute after the warm-up with the median of the
 * last minute. Goals: RSS growth ≤ 10 %, no fd growth, no child-process growth, fragments
 * and versions bounded by maintenance (brought down by the scheduled optimize, and peaks in the
 * last 5-minute optimize interval no higher than in the first; judged from 10 min measured).
 *
 *   node --import tsx benchmarks/soak/index.ts [--sessions 8] [--minutes 30] [--warmup 3]
 *     [--sample-s 10] [--seed 1] [--out DIR] [--keep-data] [-- <more omnilive serve flags>]
 *
 * Progress on stderr; at the end one JSON document and a table on stdout. Every sample is
 * also written to <out>/samples.jsonl, every turn to <out>/turns.jsonl, the server's log to
 * <out>/server.log.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { describeMachine, loadNow } from '../../server/eval/machine.ts';
import { closeSpeech } from '../../test/helpers/speech.ts';
import { LanceWatcher, type LanceSample } from '../live-sessions/lance-stats.ts';
import { LiveSession, type TurnRecord } from '../live-sessions/live-session.ts';
import { renderLines, renderScenes } from '../live-sessions/media.ts';
import { type TreeSample, cpuByName, sampleTree } from '../live-sessions/proc-tree.ts';
import { type ProbeSample, ServerProcess, parsePrometheus } from '../live-sessions/server-process.ts';
import { outputDir, progressLog } from '../live-sessions/run-log.ts';
import { dist, median, turnStats } from '../live-sessions/turn-stats.ts';
import { positiveInteger, positiveNumber } from '../args.ts';
import { seededRandom } from '../seeded-random.ts';

// ---- arguments ----

const { values: args, positionals: serveArgs } = parseArgs({
  allowPositionals: true,
  options: {
    sessions: { type: 'string', default: '8' },
    minutes: { type: 'string', default: '30' },
    warmup: { type: 'string', default: '3' },
    'sample-s': { type: 'string', default: '10' },
    seed: { type: 'string', default: '1' },
    out: { type: 'string' },
    'keep-data': { type: 'boolean', default: false },
  },
});

const SESSIONS = positiveInteger('sessions', args.sessions!);
const MINUTES = positiveNumber('minutes', args.minutes!);
const WARMUP_MIN = Number(args.warmup);
if (!(WARMUP_MIN >= 0 && WARMUP_MIN < MINUTES)) throw new TypeError(`--warmup must be at least 0 and less than --minutes, got '${args.warmup}'`);
const SAMPLE_S = positiveNumber('sample-s', args['sample-s']!);
const SEED = args.seed!;
/** The scheduled LanceDB optimize of the server (memory-store.ts defaults). */
const OPTIMIZE_INTERVAL_MIN = 5;
const GOAL_RSS_GROWTH = 0.1;

const OUT = outputDir('soak', args.out);

const progress = progressLog('soak');
const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
const mb = (bytes: number | null | undefined) => (typeof bytes === 'number' ? Math.round(bytes / 1048576) : null);

// ---- one sample ----

interface Sample {
  /** Minutes since the sessions started (negative: before). */
  min: number;
  phase: 'idle-before' | 'warmup' | 'measure' | 'idle-after';
  tree: TreeSample;
  probe: ProbeSample | null;
  sessions: number | null;
  metrics: Record<string, number> | null;
  lance: LanceSample;
  turns: number;
  /** CPU % of one core since the previous sample, by process. */
  cpu: Record<string, number>;
}

const samples: Sample[] = [];
const samplesFile = fs.createWriteStream(path.join(OUT, 'samples.jsonl'));
/** Every turn as it ends (with the answer's words): for reading a run's failures afterwards. */
const turnsFile = fs.createWriteStream(path.join(OUT, 'turns.jsonl'));

async function takeSample(server: ServerProcess, lance: LanceWatcher, phase: Sample['phase'], sessionsStart: number, turns: number): Promise<Sample | undefined> {
  const tree = sampleTree(server.pid);
  if (!tree) return undefined;
  const health = await server.health().catch(() => undefined);
  const metricsText = await server.metrics();
  // Counters and gauges of the server's own metrics; histogram buckets stay on the server.
  const metrics = metricsText ? Object.fromEntries(Object.entries(parsePrometheus(metricsText)).filter(([k]) => !/_bucket\{/.test(k))) : null;
  const prev = samples.at(-1);
  const s: Sample = {
    min: Math.round(((performance.now() - sessionsStart) / 60_000) * 100) / 100,
    phase,
    tree,
    probe: server.probe ?? null,
    sessions: typeof health?.sessions === 'number' ? health.sessions : null,
    metrics,
    lance: await lance.sample(),
    turns,
    cpu: prev ? cpuByName(prev.tree, tree) : {},
  };
  samples.push(s);
  samplesFile.write(`${JSON.stringify(s)}\n`);
  return s;
}

/** Figures of a sample that the report follows over time. */
function measures(s: Sample): Record<string, number | null> {
  const out: Record<string, number | null> = {
    rss_mb: mb(s.tree.root.rss),
    tree_rss_mb: mb(s.tree.root.rss + s.tree.descendants.reduce((n, d) => n + d.rss, 0)),
    heap_used_mb: mb(s.probe?.heapUsed),
    external_mb: mb(s.probe ? s.probe.external : null),
    fds: s.tree.root.fds,
    threads: s.tree.root.threads,
    children: s.tree.descendants.filter((d) => d.depth === 1).length,
    descendants: s.tree.descendants.length,
    active_handles: s.probe ? Object.values(s.probe.handles).reduce((a, b) => a + b, 0) : null,
    event_loop_p99_ms: s.probe?.loopP99Ms ?? null,
    event_loop_max_ms: s.probe?.loopMaxMs ?? null,
  };
  for (const [table, f] of Object.entries(s.lance.files)) {
    out[`${table}.data_files`] = f.dataFiles;
    out[`${table}.version_files`] = f.versionFiles;
  }
  for (const [table, l] of Object.entries(s.lance.live)) {
    out[`${table}.fragments`] = l.fragments;
    out[`${table}.rows`] = l.rows;
  }
  return out;
}

// ---- the run ----

async function main() {
  const loadAtStart = loadNow();
  progress(`${SESSIONS} sessions × ${MINUTES} min (warm-up ${WARMUP_MIN} min), a sample every ${SAMPLE_S} s; output in ${OUT}`);
  progress('rendering speech and scenes…');
  const lines = await renderLines();
  const scenes = renderScenes();
  await closeSpeech();

  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'omnilive-soak-data-'));
  progress(`starting omnilive serve (data ${dataDir}${serveArgs.length ? `, ${serveArgs.join(' ')}` : ''})…`);
  const server = await ServerProcess.start({ dataDir, logFile: path.join(OUT, 'server.log'), args: serveArgs });
  const health = await server.health();
  progress(`server pid ${server.pid} on port ${server.port}; engines ${JSON.stringify(health.engines)}`);
  const lance = new LanceWatcher(path.join(dataDir, 'memory'));
  const problems: string[] = [];
  const problem = (text: string) => {
    problems.push(text);
    progress(`  ! ${text}`);
  };

  // Idle baseline: the engines are loaded, nobody is connected.
  await sleep(3000);
  let sessionsStart = performance.now();
  const idleBefore = await takeSample(server, lance, 'idle-before', sessionsStart, 0);

  const turns: TurnRecord[] = [];
  const sessions = new Set<LiveSession>();
  let opened = 0;
  let reopened = 0;
  const openOne = async () => {
    const index = opened++;
    const s = await LiveSession.open({
      url: server.url,
      index,
      lines,
      scenes,
      random: seededRandom(`${SEED}:session:${index}`),
      onTurn: (t) => {
        turns.push(t);
        turnsFile.write(`${JSON.stringify({ ...t, wall: new Date(performance.timeOrigin + t.at).toISOString() })}\n`);
      },
      onProblem: problem,
    });
    sessions.add(s);
    return s;
  };
  progress(`opening ${SESSIONS} sessions…`);
  for (let i = 0; i < SESSIONS; i++) {
    await openOne();
    await sleep(1000); // as people join, not all in one millisecond
  }
  sessionsStart = performance.now();
  let endAt = sessionsStart + MINUTES * 60_000;
  // Ctrl-C ends the run early with a report; a second one stops at once.
  process.once('SIGINT', () => {
    progress('interrupted: ending the run now (Ctrl-C again to abort)');
    endAt = performance.now();
    process.once('SIGINT', () => process.exit(130));
  });
  const warmupEnd = sessionsStart + WARMUP_MIN * 60_000;
  let lastProgress = 0;

  while (performance.now() < endAt && server.alive) {
    const wake = performance.now() + Math.min(SAMPLE_S * 1000, Math.max(0, endAt - performance.now()));
    while (performance.now() < Math.min(wake, endAt)) await sleep(Math.min(1000, wake - performance.now()));
    // A session the server dropped is a finding; a new one keeps the load at N.
    for (const s of [...sessions]) {
      if (s.open) continue;
      sessions.delete(s);
      problem(`session ${s.index} closed by the server; opening another`);
      await s.close(0);
      reopened++;
      await openOne().catch((error) => problem(`could not open a session: ${(error as Error).message}`));
    }
    const phase = performance.now() < warmupEnd ? 'warmup' : 'measure';
    const sample = await takeSample(server, lance, phase, sessionsStart, turns.length);
    if (!sample) break;
    if (performance.now() - lastProgress >= Math.max(30_000, SAMPLE_S * 1000) || performance.now() >= endAt) {
      lastProgress = performance.now();
      const m = measures(sample);
      const base = samples.find((x) => x.phase === 'measure');
      const growth = base && phase === 'measure' ? ` (${signed(pct(sample.tree.root.rss, base.tree.root.rss))} since warm-up)` : '';
      const frags = Object.entries(sample.lance.live).map(([t, l]) => `${t} ${l.fragments}`).join(', ') || '—';
      const recent = turns.filter((t) => t.at > performance.now() - 60_000);
      const rs = turnStats(recent);
      progress(
        `${phase}: rss ${m.rss_mb} MB${growth}, tree ${m.tree_rss_mb} MB, heap ${m.heap_used_mb ?? '?'} MB, fds ${m.fds}, children ${m.children} (${m.descendants} in all), ` +
          `loop p99 ${m.event_loop_p99_ms ?? '?'} ms; fragments ${frags}; last minute: ${rs.turns} turns (${rs.statuses.answered ?? 0} answered), ` +
          `overhead p95 ${rs.pipeline_overhead_ms.p95 ?? '—'} ms, audio lag p99 ${rs.audio_lag_ms.p99 ?? '—'} ms; server CPU ${sample.cpu.server ?? '?'} %`,
      );
    }
  }
  const measureEnd = performance.now();
  if (!server.alive) problem(`the server exited during the run: ${JSON.stringify(server.exitInfo)}`);

  progress('closing the sessions (each finishes its turn)…');
  await Promise.all([...sessions].map((s) => s.close(30_000)));
  // Whatever the sessions held should be let go: look again once things settle.
  await sleep(15_000);
  const idleAfter = server.alive ? await takeSample(server, lance, 'idle-after', sessionsStart, turns.length) : undefined;
  const clientLateness = [...sessions].flatMap((s) => s.micLateness);
  const errorCodes: Record<string, number> = {};
  for (const s of sessions) for (const [code, n] of Object.entries(s.errors)) errorCodes[code] = (errorCodes[code] ?? 0) + n;
  const framesSent = [...sessions].reduce((n, s) => n + s.framesSent, 0);
  lance.close();
  const exit = await server.close();
  samplesFile.end();
  turnsFile.end();
  if (!args['keep-data']) fs.rmSync(dataDir, { recursive: true, force: true });

  // ---- report ----

  const measured = samples.filter((s) => s.phase === 'measure');
  const report = buildReport({ measured, idleBefore, idleAfter, turns, measureStart: warmupEnd, measureEnd, loadAtStart, problems, reopened, clientLateness, errorCodes, framesSent, exit, dataDir });
  fs.writeFileSync(path.join(OUT, 'report.json'), `${JSON.stringify(report, null, 2)}\n`);
  console.log(JSON.stringify(report, null, 2));
  console.log(table(report));
  progress(`done; report in ${path.join(OUT, 'report.json')}`);
}

const pct = (now: number, base: number) => (base ? (now - base) / base : 0);
const signed = (ratio: number) => `${ratio >= 0 ? '+' : ''}${Math.round(ratio * 1000) / 10} %`;

interface Window {
  start: number | null;
  start_max: number | null;
  end: number | null;
  end_max: number | null;
  max: number | null;
  growth: number | null;
}

/** Start and end of a measure: medians of the first and last minute (at least 3 samples) after the warm-up. */
function window(measured: Sample[], pick: (m: Record<string, number | null>) => number | null): Window {
  const values = measured.map((s) => pick(measures(s)));
  const per = Math.max(3, Math.round(60 / SAMPLE_S));
  const head = values.slice(0, Math.min(per, Math.ceil(values.length / 2)));
  const tail = values.slice(-Math.min(per, Math.floor(values.length / 2) || 1));
  const finite = (v: (number | null)[]) => v.filter((x): x is number => typeof x === 'number');
  const start = median(head);
  const end = median(tail);
  const all = finite(values);
  return {
    start,
    start_max: finite(head).length ? Math.max(...finite(head)) : null,
    end,
    end_max: finite(tail).length ? Math.max(...finite(tail)) : null,
    max: all.length ? Math.max(...all) : null,
    growth: start !== null && end !== null && start !== 0 ? Math.round(((end - start) / start) * 1000) / 1000 : null,
  };
}

/** Times a series fell from one sample to the next (an optimize compacting or pruning). */
function drops(measured: Sample[], pick: (m: Record<string, number | null>) => number | null): number {
  let n = 0;
  let prev: number | null = null;
  for (const s of measured) {
    const v = pick(measures(s));
    if (v !== null && prev !== null && v < prev) n++;
    if (v !== null) prev = v;
  }
  return n;
}

function buildReport(r: {
  measured: Sample[];
  idleBefore: Sample | undefined;
  idleAfter: Sample | undefined;
  turns: TurnRecord[];
  measureStart: number;
  measureEnd: number;
  loadAtStart: number[];
  problems: string[];
  reopened: number;
  clientLateness: number[];
  errorCodes: Record<string, number>;
  framesSent: number;
  exit: { code: number | null; signal: string | null };
  dataDir: string;
}) {
  const { measured } = r;
  const spanMin = measured.length >= 2 ? (measured.at(-1)!.min - measured[0]!.min) : 0;
  const pick = (key: string) => (m: Record<string, number | null>) => m[key] ?? null;
  const series = ['rss_mb', 'tree_rss_mb', 'heap_used_mb', 'external_mb', 'fds', 'threads', 'children', 'descendants', 'active_handles', 'event_loop_p99_ms', 'event_loop_max_ms'];
  const tables = [...new Set(measured.flatMap((s) => Object.keys(s.lance.files)))].sort();
  const lanceSeries = tables.flatMap((t) => [`${t}.fragments`, `${t}.data_files`, `${t}.version_files`, `${t}.rows`]);
  const growth = Object.fromEntries([...series, ...lanceSeries].map((k) => [k, window(measured, pick(k))]));

  // Child processes: the same ones all along (a restart shows as a new pid).
  const pidsOf = (s: Sample) => s.tree.descendants.map((d) => `${d.name}#${d.pid}`);
  const firstPids = new Set(measured[0] ? pidsOf(measured[0]) : []);
  const newChildren = [...new Set(measured.flatMap(pidsOf))].filter((p) => !firstPids.has(p));

  const rss = growth.rss_mb!;
  const fds = growth.fds!;
  const desc = growth.descendants!;
  // Each flush (about one a second under load) adds a fragment and a version; the scheduled
  // optimize (every 5 min) compacts small tables and prunes old versions: a sawtooth. Bounded
  // means it was brought down, and its peaks in the last optimize interval are no higher than
  // in the first (half again, plus a little, for uneven traffic). A run shorter than two
  // intervals after the warm-up cannot tell: not judged.
  const judged = spanMin >= 2 * OPTIMIZE_INTERVAL_MIN;
  const inMinutes = (lo: number, hi: number) => measured.filter((s) => s.min >= lo && s.min <= hi);
  const first = measured.length ? inMinutes(measured[0]!.min, measured[0]!.min + OPTIMIZE_INTERVAL_MIN) : [];
  const last = measured.length ? inMinutes(measured.at(-1)!.min - OPTIMIZE_INTERVAL_MIN, measured.at(-1)!.min) : [];
  const peak = (list: Sample[], key: string) => {
    const v = list.map((s) => measures(s)[key]).filter((x): x is number => typeof x === 'number');
    return v.length ? Math.max(...v) : null;
  };
  const sawtooth = (t: string, series: 'fragments' | 'version_files') => {
    const key = `${t}.${series}`;
    const firstPeak = peak(first, key);
    const lastPeak = peak(last, key);
    const fell = drops(measured, pick(key));
    // A table that never held more than one fragment, or never gained any (meta: written once,
    // two version files from start to end), needs no maintenance.
    const needed = (growth[key]!.max ?? 0) > Math.max(1, growth[key]!.start ?? 0);
    const pass = !judged ? null : !needed || (fell > 0 && firstPeak !== null && lastPeak !== null && lastPeak <= 1.5 * firstPeak + 8);
    return { first_interval_peak: firstPeak, last_interval_peak: lastPeak, max: growth[key]!.max, drops: fell, pass };
  };
  const fragmentGoals = Object.fromEntries(tables.map((t) => [t, { fragments: sawtooth(t, 'fragments'), version_files: sawtooth(t, 'version_files') }]));
  const fragmentsPass = judged ? Object.values(fragmentGoals).every((t) => t.fragments.pass !== false && t.version_files.pass !== false) : null;
  const cpuKeys = [...new Set(measured.flatMap((s) => Object.keys(s.cpu)))];
  const cpu = Object.fromEntries(cpuKeys.map((k) => [k, median(measured.map((s) => s.cpu[k] ?? null))]));
  const measuredTurns = r.turns.filter((t) => t.at >= r.measureStart && t.at <= r.measureEnd);
  const firstFive = measuredTurns.filter((t) => t.at < r.measureStart + 5 * 60_000);
  const lastFive = measuredTurns.filter((t) => t.at > r.measureEnd - 5 * 60_000);
  const metricsFirst = measured.find((s) => s.metrics)?.metrics;
  const metricsLast = [...measured].reverse().find((s) => s.metrics)?.metrics;
  // What the server counted during the measured span (its *_total counters; process and Node gauges left out).
  const isCounter = (k: string) => /_total(\{|$)/.test(k) && !/^omnilive_(process|nodejs)_/.test(k);
  const counters =
    metricsFirst && metricsLast
      ? Object.fromEntries(Object.entries(metricsLast).filter(([k, v]) => isCounter(k) && v - (metricsFirst[k] ?? 0) !== 0).map(([k, v]) => [k, Math.round((v - (metricsFirst[k] ?? 0)) * 1000) / 1000]))
      : null;
  const idle = (s: Sample | undefined) => (s ? { rss_mb: mb(s.tree.root.rss), heap_used_mb: mb(s.probe?.heapUsed), fds: s.tree.root.fds, threads: s.tree.root.threads, descendants: s.tree.descendants.map((d) => d.name), sessions: s.sessions } : null);

  return {
    benchmark: 'soak',
    date: new Date().toISOString(),
    options: { sessions: SESSIONS, minutes: MINUTES, warmup_minutes: WARMUP_MIN, sample_s: SAMPLE_S, seed: SEED, serve_args: serveArgs },
    machine: describeMachine(r.loadAtStart),
    output: OUT,
    definitions: {
      start_end: `medians of the first and last ${Math.max(3, Math.round(60 / SAMPLE_S))} samples after the warm-up (at most half the samples each)`,
      rss: '/proc/PID/status VmRSS of the server process; tree_rss adds its descendants',
      fds: 'entries of /proc/PID/fd of the server process',
      children: 'direct children of the server process (engine processes, mediasoup workers); descendants counts all levels',
      heap_and_event_loop: 'from a probe preloaded into the server (process.memoryUsage, monitorEventLoopDelay: p99 and max of each second, past the 10 ms sampling interval)',
      fragments: "live fragments of each LanceDB table (table.stats() on a read-only connection); data_files and version_files count the table's files on disk",
      audio_lag: 'VAD decision events (speech_started, speech_stopped) arrival minus the send time of the audio chunk that completed the deciding frame',
      cpu: '% of one core, median over the samples, by process',
    },
    measured: { minutes: Math.round(spanMin * 10) / 10, samples: measured.length },
    growth,
    idle_before: idle(r.idleBefore),
    idle_after: idle(r.idleAfter),
    new_child_processes: newChildren,
    cpu_percent: cpu,
    metrics_counters: counters,
    turns: {
      whole_run: turnStats(r.turns),
      measured: turnStats(measuredTurns),
      first_5_min: turnStats(firstFive),
      last_5_min: turnStats(lastFive),
    },
    client: { mic_send_lateness_ms: dist(r.clientLateness), video_frames_sent: r.framesSent, server_errors: r.errorCodes, sessions_reopened: r.reopened },
    goals: {
      rss_growth: { goal: `≤ ${GOAL_RSS_GROWTH * 100} %`, value: rss.growth, pass: rss.growth !== null && rss.growth <= GOAL_RSS_GROWTH },
      fd_growth: { goal: 'end median ≤ highest of the first minute', start_max: fds.start_max, end: fds.end, pass: fds.end !== null && fds.start_max !== null && fds.end <= fds.start_max },
      // Growth is more processes at the end; a child that died and was replaced is not growth, but is listed (new pids).
      child_growth: { goal: 'no more processes at the end than in the first minute', start_max: desc.start_max, end_max: desc.end_max, replaced: newChildren, pass: desc.end_max !== null && desc.start_max !== null && desc.end_max <= desc.start_max },
      fragments_bounded: {
        goal: judged ? `brought down by optimize; last ${OPTIMIZE_INTERVAL_MIN}-min peak ≤ 1.5 × first + 8` : `not judged: under ${2 * OPTIMIZE_INTERVAL_MIN} min measured`,
        tables: fragmentGoals,
        pass: fragmentsPass,
      },
    },
    health: { server_exit: r.exit, problems: r.problems },
  };
}

function table(report: ReturnType<typeof buildReport>): string {
  const cell = (x: unknown, w = 10) => (x === null || x === undefined ? '—' : String(x)).padStart(w);
  const NAME = 26;
  // Tables that stayed empty all run (no episode yet in a short run) are left out of the table.
  const rows = Object.entries(report.growth).filter(([, g]) => g.max !== null && !(g.max === 0 && g.start === 0)).map(([k, g]) => {
    const gr = g.growth === null ? '—' : signed(g.growth);
    return `${k.padEnd(NAME)}${cell(g.start)}${cell(g.end)}${cell(g.max)}${cell(gr)}`;
  });
  const goal = (name: string, g: { goal: string; pass: boolean | null }, value: string) => `  ${name.padEnd(18)} ${value.padEnd(30)} ${g.goal.padEnd(46)} ${g.pass === null ? 'n/a' : g.pass ? 'PASS' : 'FAIL'}`;
  const t = report.turns.measured;
  const gl = report.goals;
  return [
    '',
    `soak: ${report.options.sessions} sessions, ${report.measured.minutes} min measured after ${report.options.warmup_minutes} min warm-up (${report.measured.samples} samples); load ${report.machine.loadavg_start} → ${report.machine.loadavg_end}`,
    `${'measure'.padEnd(NAME)}${['start', 'end', 'max', 'growth'].map((h) => cell(h)).join('')}`,
    ...rows,
    '',
    `turns measured: ${t.turns} (${Object.entries(t.statuses).map(([k, n]) => `${k} ${n}`).join(', ') || '—'}); overhead p50/p95 ${t.pipeline_overhead_ms.p50 ?? '—'}/${t.pipeline_overhead_ms.p95 ?? '—'} ms; ` +
      `audio lag p50/p99 ${t.audio_lag_ms.p50 ?? '—'}/${t.audio_lag_ms.p99 ?? '—'} ms; first audio p50/p95 ${t.client_first_audio_ms.p50 ?? '—'}/${t.client_first_audio_ms.p95 ?? '—'} ms`,
    `first vs last 5 min: overhead p95 ${report.turns.first_5_min.pipeline_overhead_ms.p95 ?? '—'} → ${report.turns.last_5_min.pipeline_overhead_ms.p95 ?? '—'} ms, first audio p50 ${report.turns.first_5_min.client_first_audio_ms.p50 ?? '—'} → ${report.turns.last_5_min.client_first_audio_ms.p50 ?? '—'} ms`,
    `CPU % of one core: ${Object.entries(report.cpu_percent).map(([k, v]) => `${k} ${v}`).join(', ')}`,
    `idle before → after: rss ${report.idle_before?.rss_mb ?? '—'} → ${report.idle_after?.rss_mb ?? '—'} MB, fds ${report.idle_before?.fds ?? '—'} → ${report.idle_after?.fds ?? '—'}, processes ${report.idle_before?.descendants.length ?? '—'} → ${report.idle_after?.descendants.length ?? '—'}`,
    '',
    'goals:',
    goal('RSS growth', gl.rss_growth, gl.rss_growth.value === null ? '—' : signed(gl.rss_growth.value)),
    goal('fd growth', gl.fd_growth, `${gl.fd_growth.start_max ?? '—'} → ${gl.fd_growth.end ?? '—'}`),
    goal('child processes', gl.child_growth, `${gl.child_growth.start_max ?? '—'} → ${gl.child_growth.end_max ?? '—'}`),
    ...(gl.child_growth.replaced.length ? [`  ! processes started during the run (a child died and was replaced?): ${gl.child_growth.replaced.join(', ')}`] : []),
    goal(
      'fragments bounded',
      gl.fragments_bounded,
      Object.entries(gl.fragments_bounded.tables)
        .filter(([, v]) => (v.fragments.max ?? 0) > 1)
        .map(([k, v]) => `${k} ${v.fragments.first_interval_peak ?? '—'}→${v.fragments.last_interval_peak ?? '—'} (${v.fragments.drops}↓)`)
        .join(' '),
    ),
    `health: server exit ${JSON.stringify(report.health.server_exit)}, ${report.health.problems.length} problems, ${report.client.sessions_reopened} sessions reopened`,
  ].join('\n');
}

main().then(
  // A stray handle (a LanceDB thread, a socket) must not keep the process alive once the report is out.
  () => setTimeout(() => process.exit(0), 2000).unref(),
  (error) => {
    console.error(error);
    process.exit(1);
  },
);

/**
 * Turn-latency benchmark: a real OmniLive server with its default engines, driven over ws://
 * by a client that behaves like a live microphone (pcm16 chunks at real time — 20 ms by
 * default, as WebRTC frames its audio — silence when nobody talks). One run, one server, the
 * same generated sets for `server_vad` and `semantic_vad` side by side (switched with
 * session.update between phases):
 *   - complete questions: speech end → first answer audio (client, and the server's metrics);
 *   - paused sentences (a pause after "the", "and", "um"…): false cuts, i.e. the server ending
 *     the turn inside the pause;
 *   - fillers ("um", "ah"): ignored or answered;
 *   - speculation: answers prepared during a pause, and those thrown away;
 * then once, in the last mode: barge-ins (speech onset → audio paused → answer cancelled) and
 * false interruptions (noise bursts during an answer: paused → resumed, nothing lost).
 * Prints one JSON document and a table to stdout, progress to stderr.
 *
 *   node --import tsx benchmarks/turn-latency/index.ts [--questions N] [--paused N] [--fillers N]
 *     [--barge-ins N] [--false-interruptions N] [--pause-ms MIN-MAX] [--modes server_vad,semantic_vad]
 *     [--seed S] [--chunk-ms MS]
 */
import os from 'node:os';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { describeMachine } from '../../server/eval/machine.ts';
import { COMPLETE_QUESTIONS, FILLERS, PAUSED_TEMPLATES, noiseBurst, pausedSentence } from '../../test/helpers/paused-speech.ts';
import { startServer } from '../../test/helpers/server.ts';
import { closeSpeech, speak } from '../../test/helpers/speech.ts';
import { seededRandom } from '../seeded-random.ts';
import { type BargeInResult, type FalseInterruptionResult, bargeIn, falseInterruption } from './barge.ts';
import { Client, type Event, progress, round1, sleep } from './client.ts';
import { INPUT_RATE, Mic, toInput } from './mic.ts';
import { GOALS, type ModeReport, bargeInReport, falseInterruptionReport, goal, modeReport, summarize, table } from './report.ts';
import { type SpokenItem, type SpokenResult, spokenTurn } from './spoken.ts';

// ---- arguments ----

const { values: args } = parseArgs({
  options: {
    questions: { type: 'string', default: '10' },
    turns: { type: 'string' }, // the former name of --questions
    paused: { type: 'string', default: '20' },
    fillers: { type: 'string', default: '5' },
    'barge-ins': { type: 'string', default: '10' },
    'false-interruptions': { type: 'string', default: '5' },
    'pause-ms': { type: 'string', default: '600-1200' },
    modes: { type: 'string', default: 'server_vad,semantic_vad' },
    seed: { type: 'string', default: '1' },
    'chunk-ms': { type: 'string', default: '20' },
  },
});

function count(name: string, value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0) throw new TypeError(`--${name} must be a non-negative integer, got '${value}'`);
  return n;
}

const QUESTIONS = count('questions', args.turns ?? args.questions!);
const PAUSED = count('paused', args.paused!);
const FILLER_COUNT = count('fillers', args.fillers!);
const BARGE_INS = count('barge-ins', args['barge-ins']!);
const FALSE_INTERRUPTIONS = count('false-interruptions', args['false-interruptions']!);
const CHUNK_MS = Number(args['chunk-ms']);
const SEED = Number(args.seed) || 1;
const [PAUSE_MIN, PAUSE_MAX] = (() => {
  const m = /^(\d+)(?:-(\d+))?$/.exec(args['pause-ms']!);
  if (!m) throw new TypeError(`--pause-ms must be MS or MIN-MAX, got '${args['pause-ms']}'`);
  const lo = Number(m[1]);
  const hi = Number(m[2] ?? m[1]);
  if (hi < lo) throw new TypeError(`--pause-ms: ${hi} < ${lo}`);
  return [lo, hi];
})();
const MODES = args.modes!.split(',').map((m) => m.trim()).filter(Boolean);
for (const m of MODES) if (m !== 'server_vad' && m !== 'semantic_vad') throw new TypeError(`--modes: unknown turn detection '${m}'`);
if (MODES.length === 0) throw new TypeError('--modes: at least one mode');
/** How each mode is asked for (the server fills in its defaults). */
const TURN_DETECTION: Record<string, Record<string, unknown>> = { server_vad: { type: 'server_vad' }, semantic_vad: { type: 'semantic_vad', eagerness: 'auto' } };

// Interruptions of the barge-in runs: pocketsphinx transcribes them well from Flite's slt voice.
const INTERRUPTIONS = ['stop please I have another question', 'wait a moment please', 'tell me about the car instead'];

// ---- the sets (seeded, generated once for every mode) ----

const loadAtStart = os.loadavg().map(round1);
progress('generating speech…');
const pauseRandom = seededRandom(`${SEED}:pauses`);
const burstRandom = seededRandom(`${SEED}:bursts`);
const timingRandom = seededRandom(`${SEED}:timing`);
const questionItems: SpokenItem[] = [];
for (let i = 0; i < QUESTIONS; i++) {
  const text = COMPLETE_QUESTIONS[i % COMPLETE_QUESTIONS.length]!;
  questionItems.push({ kind: 'question', u: toInput(text, await speak(text)) });
}
const pausedItems: SpokenItem[] = [];
for (let i = 0; i < PAUSED; i++) {
  const t = PAUSED_TEMPLATES[i % PAUSED_TEMPLATES.length]!;
  const pauseMs = Math.round((PAUSE_MIN + pauseRandom() * (PAUSE_MAX - PAUSE_MIN)) / 10) * 10;
  const p = await pausedSentence(t.before, t.after, pauseMs);
  pausedItems.push({ kind: 'paused', u: toInput(p.text, p.pcm), pauseStartMs: p.pauseStartMs, pauseEndMs: p.pauseEndMs });
}
const fillerItems: SpokenItem[] = [];
for (let i = 0; i < FILLER_COUNT; i++) {
  const text = FILLERS[i % FILLERS.length]!;
  fillerItems.push({ kind: 'filler', u: toInput(text, await speak(text)) });
}
const interruptions = await Promise.all(INTERRUPTIONS.map(async (text) => toInput(text, await speak(text))));
const bursts = Array.from({ length: FALSE_INTERRUPTIONS }, (_, i) => {
  const ms = Math.round(60 + burstRandom() * 90);
  const levelDb = round1(-18 + burstRandom() * 10);
  return { levelDb, u: toInput(`noise burst ${ms} ms`, noiseBurst(ms, levelDb, `${SEED}:burst:${i}`)) };
});

// ---- setup ----

progress('starting OmniLive (default engines)…');
const server = await startServer();
const { client, created } = await Client.connect(`ws://127.0.0.1:${server.port}/v1/realtime`);
const mic = new Mic(client.ws, CHUNK_MS);
mic.start();
// Stalls of the shared event loop delay VAD and audio for every session: watch them during the run only.
const EVENT_LOOP_RESOLUTION_MS = 10;
const eventLoop = monitorEventLoopDelay({ resolution: EVENT_LOOP_RESOLUTION_MS });
eventLoop.enable();

// ---- per mode: questions, paused sentences, fillers ----

const modeResults: Record<string, { turnDetection: unknown; questions: SpokenResult[]; paused: SpokenResult[]; fillers: SpokenResult[] }> = {};
for (const mode of MODES) {
  progress(`— ${mode} —`);
  let turnDetection: Record<string, any> | null = null;
  try {
    turnDetection = await client.setTurnDetection(TURN_DETECTION[mode]!);
    if (turnDetection?.type !== mode) client.problem(`session.update to ${mode}: the session reports turn_detection ${JSON.stringify(turnDetection)}`);
  } catch (error) {
    client.problem(`${mode}: ${(error as Error).message}`);
  }
  await sleep(300);
  const results = { turnDetection, questions: [] as SpokenResult[], paused: [] as SpokenResult[], fillers: [] as SpokenResult[] };
  modeResults[mode] = results;
  for (const [i, item] of questionItems.entries()) {
    const label = `${mode} question ${i + 1}`;
    const r = await spokenTurn({ client, mic }, item, mode, label);
    results.questions.push(r);
    const m = r.metrics;
    progress(
      `${label}/${questionItems.length}: said "${r.said}" heard "${r.heard ?? '—'}" ${r.status}` +
        (m ? `; first audio ${m.latency_ms.first_audio_delta} ms after speech end (client ${r.clientFirstAudioMs} ms)${m.speculative ? ', speculative' : ''}${m.speculation_discarded ? `, ${m.speculation_discarded} discarded` : ''}` : ''),
    );
  }
  for (const [i, item] of pausedItems.entries()) {
    const label = `${mode} paused ${i + 1}`;
    const r = await spokenTurn({ client, mic }, item, mode, label);
    results.paused.push(r);
    progress(
      `${label}/${pausedItems.length}: "${r.said}" with ${r.pauseMs} ms pause: ${r.falseCut ? `CUT at ${r.cuts.map((c) => `${c.afterPauseStartMs} ms`).join(', ')} into the pause` : 'one turn'}; ` +
        `heard ${r.heardTurns.map((h) => `"${h}"`).join(' + ') || '—'}; ${r.status}` +
        (r.metrics ? `${r.metrics.speculative ? ', speculative' : ''}, ${r.metrics.speculation_discarded ?? '?'} discarded` : ''),
    );
  }
  for (const [i, item] of fillerItems.entries()) {
    const label = `${mode} filler ${i + 1}`;
    const r = await spokenTurn({ client, mic }, item, mode, label);
    results.fillers.push(r);
    progress(`${label}/${fillerItems.length}: "${r.said}" heard ${r.heardTurns.map((h) => `"${h}"`).join(' + ') || '—'}: ${r.status}`);
  }
  // An answered spoken turn in server_vad was never prepared during a pause.
  if (mode === 'server_vad') {
    const spec = [...results.questions, ...results.paused].filter((t) => t.metrics?.speculative === true).length;
    if (spec) client.problem(`server_vad: ${spec} answers reported speculative`);
  }
}

// ---- once, in the last mode: barge-ins and false interruptions ----

const lastMode = MODES.at(-1)!;
progress(`— interruptions (${lastMode}) —`);
const bargeIns: BargeInResult[] = [];
for (let i = 0; i < BARGE_INS; i++) {
  const label = `barge-in ${i + 1}`;
  const r = await bargeIn(client, mic, interruptions[i % interruptions.length]!, timingRandom, label);
  bargeIns.push(r);
  progress(
    `${label}/${BARGE_INS}: ${r.status}; audio paused ${r.pausedMs} ms, speech_started ${r.speechStartedMs} ms, response.done ${r.cancelledMs} ms, last delta ${r.lastDeltaMs} ms after onset ` +
      `(VAD onset lag ${r.vadOnsetLagMs} ms, server reaction ${r.serverReactionMs} ms); heard "${r.heard ?? '—'}", follow-up ${r.followUp}`,
  );
}
const falseInterruptions: FalseInterruptionResult[] = [];
for (const [i, burst] of bursts.entries()) {
  const label = `false interruption ${i + 1}`;
  const r = await falseInterruption(client, mic, burst.u, burst.levelDb, timingRandom, label);
  falseInterruptions.push(r);
  progress(
    `${label}/${bursts.length}: ${r.burstMs} ms burst at ${r.levelDb} dBFS, ${r.atMs} ms into the answer: ${r.pauses} paused (${r.pausedMs} ms after onset, for ${r.pausedForMs} ms), ${r.resumes} resumed; ` +
      `${r.status}; audio ${r.deltaSumMs} ms (sent ${r.audioSentMs}, uninterrupted ${r.referenceMs})${r.samplesMatch ? ', same samples' : r.samplesMatch === false ? `, differs from ${r.firstDifferenceMs} ms` : ''}`,
  );
}

// ---- whole-run checks ----

mic.stop();
await sleep(200);
eventLoop.disable();
const events = client.events;
const errors = client.log.of('error').map((e) => `${e.error?.code}: ${e.error?.message}`);
for (const e of errors) client.problem(`server error event: ${e}`);
// No event of any response may follow its response.done, nor come before its response.created.
const doneSeq = new Map<string, number>();
const createdSeq = new Map<string, number>();
for (const e of events) {
  if (e.type === 'response.done') doneSeq.set(e.response.id, e.seq);
  if (e.type === 'response.created') createdSeq.set(e.response.id, e.seq);
}
const afterDone = events.filter((e: Event) => e.response_id && e.type !== 'omnilive.metrics' && e.seq > (doneSeq.get(e.response_id) ?? Infinity));
if (afterDone.length) client.problem(`${afterDone.length} response events after their response.done: ${[...new Set(afterDone.map((e) => e.type))].join(', ')}`);
const beforeCreated = events.filter((e: Event) => e.response_id && e.seq < (createdSeq.get(e.response_id) ?? -1));
const orphans = events.filter((e: Event) => e.response_id && !createdSeq.has(e.response_id));
if (beforeCreated.length || orphans.length) client.problem(`${beforeCreated.length + orphans.length} response events before (or without) their response.created: ${[...new Set([...beforeCreated, ...orphans].map((e) => e.type))].join(', ')}`);

// ---- report ----

const modes: Record<string, ModeReport> = Object.fromEntries(Object.entries(modeResults).map(([m, r]) => [m, modeReport(r.turnDetection, r.questions, r.paused, r.fillers)]));
const semantic = modes.semantic_vad;
const barge = bargeInReport(lastMode, bargeIns);
const baseline = modes.server_vad ?? modes[MODES[0]!]!;
const report = {
  benchmark: 'turn-latency',
  date: new Date().toISOString(),
  options: { questions: QUESTIONS, paused: PAUSED, fillers: FILLER_COUNT, barge_ins: BARGE_INS, false_interruptions: FALSE_INTERRUPTIONS, pause_ms: [PAUSE_MIN, PAUSE_MAX], modes: MODES, seed: SEED, chunk_ms: CHUNK_MS, input_rate: INPUT_RATE },
  engines: created.session?.omnilive?.engines ?? null,
  machine: describeMachine(loadAtStart),
  definitions: {
    client_first_audio: 'ms from sending the chunk holding the last speech sample (|x| >= -40 dBFS) to the first answer audio delta',
    latency: "server's omnilive.metrics: ms from the arrival of the audio where speech ended (its VAD's audio_end_ms)",
    false_cut: 'a paused sentence in which the server ended a turn (speech_stopped) whose audio_end_ms, on the media clock, falls before the second part begins (the end of the inserted silence)',
    barge_in: 'ms from sending the chunk holding the first speech sample (|x| >= -40 dBFS) of the interruption',
    false_interruption: 'a 60-150 ms seeded noise burst during an answer to a typed question; its audio is compared with an uninterrupted answer to the same question just before',
    vad_lag_media: 'media ms between the first/last speech sample and the VAD start/end of speech (acoustics, not compute)',
    server_reaction: 'ms from sending the chunk that completed the VAD minimum speech run to speech_started',
    server_speech_end_skew: "server's speech-end mark minus the send time of the chunk holding audio_end_ms (expected ~0)",
    p95: 'nearest rank',
  },
  modes,
  barge_ins: barge,
  false_interruptions: falseInterruptionReport(lastMode, falseInterruptions),
  goals: {
    semantic_vad_first_audio_p50: goal(semantic?.questions.steps_ms.client_first_audio.median ?? null, GOALS.semanticFirstAudioP50),
    semantic_vad_first_audio_p95: goal(semantic?.questions.steps_ms.client_first_audio.p95 ?? null, GOALS.semanticFirstAudioP95),
    semantic_vad_false_cuts: goal(semantic?.paused.false_cut_rate ?? null, GOALS.falseCutRate, 'ratio'),
    barge_in_audio_paused_p95: goal(barge.steps_ms.audio_paused.p95, GOALS.pausedP95),
    barge_in_cancelled_p95: goal(barge.steps_ms.response_cancelled.p95, GOALS.bargeInP95),
    [`pipeline_overhead_p50_${MODES.includes('server_vad') ? 'server_vad' : MODES[0]}`]: goal(baseline.questions.steps_ms.pipeline_overhead.median, GOALS.overheadP50),
    [`pipeline_overhead_p95_${MODES.includes('server_vad') ? 'server_vad' : MODES[0]}`]: goal(baseline.questions.steps_ms.pipeline_overhead.p95, GOALS.overheadP95),
  },
  health: {
    server_errors: errors.length,
    events_after_response_done: afterDone.length,
    events_before_response_created: beforeCreated.length + orphans.length,
    mic_send_lateness_ms: summarize(mic.lateness),
    // The histogram records whole sampling intervals: subtract the interval to get the stall.
    event_loop_stall_ms: Object.fromEntries(
      (
        [
          ['p50', eventLoop.percentile(50)],
          ['p99', eventLoop.percentile(99)],
          ['max', eventLoop.max],
        ] as const
      ).map(([k, ns]) => [k, round1(Math.max(0, ns / 1e6 - EVENT_LOOP_RESOLUTION_MS))]),
    ),
    problems: client.problems,
  },
};

console.log(JSON.stringify(report, null, 2));
console.log(table(report));

// ---- teardown ----

client.ws.close();
await server.close();
await closeSpeech();
// The report is out: a stray handle must not keep the process alive.
setTimeout(() => process.exit(0), 2000).unref();

/**
 * Sound-event benchmark: a labelled set generated at run time from a seed (set.ts, synth.ts):
 * alarms of several pitches, rhythms and timbres, sirens (wail, yelp), knocks and bangs, music
 * (melodies, chords, a song over drums), Flite speech (awb, slt), room noise (white, pink, brown
 * at three levels) and mixtures (alarm + noise at 20/10/5 dB SNR, others at 10 dB, an alarm
 * under speech). Each clip is pushed into a fresh stream in 32 ms chunks, as a live microphone
 * would, then flushed.
 *
 * Per label, segment level: an event is a true positive when it overlaps a true span of its
 * label in its clip (precision); a true span is found when an event of its label overlaps it
 * (recall). Also: alarm events on speech (overlapping speech and no alarm), how late the first
 * alarm event came (media ms from the alarm's start to the push that produced it), where the
 * first alarm event starts against the alarm's first beep, and the engine's cost per 32 ms of
 * audio (wall µs per push: median, p95; and CPU µs, mean), and the process's CPU ms per second
 * of audio with the flushes (a model engine infers off push(), in its worker). Clips are pushed
 * as fast as they go, so a model engine's first-event delay shows its backlog, not live
 * latency. Goals: alarm precision ≥ 0.95, recall ≥ 0.9, no alarm on speech.
 *
 * Prints one JSON document, then a table, to stdout; progress to stderr.
 *
 *   node --import tsx benchmarks/sound-events/index.ts [--seed 1[,2…]] [--engine signal|auto] [--verbose]
 */
import { parseArgs } from 'node:util';
import { describeMachine, loadNow } from '../../server/eval/machine.ts';
import { SignalSoundEngine } from '../../server/perception/sound/signal-detector.ts';
import { SOUND_LABELS, type SoundEvent, type SoundEventEngine } from '../../server/perception/sound/types.ts';
import { closeSpeech } from '../../test/helpers/speech.ts';
import { buildSet, type Clip } from './set.ts';

const { values: args } = parseArgs({ options: { seed: { type: 'string', default: '1' }, engine: { type: 'string', default: 'signal' }, verbose: { type: 'boolean', default: false } } });
const SEEDS = args.seed.split(',').map((s) => {
  const n = Number(s);
  if (!Number.isInteger(n) || n < 1) throw new TypeError(`--seed must be positive integers, comma-separated, got '${args.seed}'`);
  return n;
});
if (args.engine !== 'signal' && args.engine !== 'auto') throw new TypeError(`--engine must be signal or auto, got '${args.engine}'`);

const CHUNK = 512; // 32 ms
const GOALS = { alarm_precision: 0.95, alarm_recall: 0.9, alarms_on_speech: 0 };
const loadAtStart = loadNow();
const T0 = performance.now();
const log = (message: string) => process.stderr.write(`[sound-events ${((performance.now() - T0) / 1000).toFixed(1).padStart(6)} s] ${message}\n`);
const r3 = (x: number) => (Number.isFinite(x) ? Math.round(x * 1000) / 1000 : null);
const r1 = (x: number) => (Number.isFinite(x) ? Math.round(x * 10) / 10 : null);
const quantile = (xs: number[], q: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length ? s[Math.min(s.length - 1, Math.max(0, Math.ceil(q * s.length) - 1))]! : NaN;
};
const overlaps = (a: { startMs: number; endMs: number }, b: { startMs: number; endMs: number }) => a.startMs < b.endMs && b.startMs < a.endMs;

interface Heard extends SoundEvent {
  /** Media ms pushed when the event came out. */
  knownAtMs: number;
}

/** Runs one clip through a fresh stream; the events, wall µs per 32 ms chunk, and the CPU µs the pushes took (and with the flush). */
async function run(engine: SoundEventEngine, clip: Clip): Promise<{ events: Heard[]; micros: number[]; cpuMicros: number; cpuAllMicros: number }> {
  const events: Heard[] = [];
  let pushedMs = 0;
  let failure: unknown;
  const stream = engine.open({ onEvent: (e) => events.push({ ...e, knownAtMs: pushedMs }), onError: (error) => (failure = error) });
  const micros: number[] = [];
  // CPU time as well as wall time: on a loaded machine the wall clock also counts other work.
  const cpu = process.cpuUsage();
  for (let from = 0; from < clip.pcm.length; from += CHUNK) {
    const chunk = clip.pcm.subarray(from, from + CHUNK);
    pushedMs = ((from + chunk.length) * 1000) / 16000;
    const t = performance.now();
    stream.push(chunk, (from * 1000) / 16000);
    if (chunk.length === CHUNK) micros.push((performance.now() - t) * 1000);
  }
  const used = process.cpuUsage(cpu);
  await stream.flush();
  stream.close();
  const all = process.cpuUsage(cpu); // with the flush: a model engine's inference runs off push()
  if (failure) throw failure;
  return { events, micros, cpuMicros: used.user + used.system, cpuAllMicros: all.user + all.system };
}

interface LabelScore {
  events: number;
  true_events: number;
  spans: number;
  found_spans: number;
  precision: number | null;
  recall: number | null;
}

async function evaluate(seed: number, engine: SoundEventEngine) {
  log(`seed ${seed}: generating the set`);
  const clips = await buildSet(seed);
  log(`seed ${seed}: ${clips.length} clips, ${r1(clips.reduce((s, c) => s + c.pcm.length, 0) / 16000)} s of audio`);
  const labels = [...new Set([...SOUND_LABELS, ...engine.labels])];
  const tally = new Map(labels.map((l) => [l, { events: 0, true_events: 0, spans: 0, found_spans: 0 }]));
  const micros: number[] = [];
  let cpuMicros = 0;
  let cpuAllMicros = 0;
  const falseEvents: { clip: string; label: string; startMs: number; endMs: number }[] = [];
  const missed: { clip: string; label: string }[] = [];
  const alarmDelays: number[] = [];
  const alarmOnsets: number[] = [];
  let alarmsOnSpeech = 0;
  for (const clip of clips) {
    const { events, micros: m, cpuMicros: c, cpuAllMicros: a } = await run(engine, clip);
    micros.push(...m);
    cpuMicros += c;
    cpuAllMicros += a;
    for (const e of events) {
      const t = tally.get(e.label) ?? tally.set(e.label, { events: 0, true_events: 0, spans: 0, found_spans: 0 }).get(e.label)!;
      t.events++;
      const hit = clip.truth.some((s) => s.label === e.label && overlaps(s, e));
      if (hit) t.true_events++;
      else falseEvents.push({ clip: clip.name, label: e.label, startMs: e.startMs, endMs: e.endMs });
      if (e.label === 'alarm' && !hit && clip.truth.some((s) => s.label === 'speech' && overlaps(s, e))) alarmsOnSpeech++;
    }
    for (const span of clip.truth) {
      const t = tally.get(span.label)!;
      t.spans++;
      const found = events.filter((e) => e.label === span.label && overlaps(span, e));
      if (found.length) t.found_spans++;
      else missed.push({ clip: clip.name, label: span.label });
      if (span.label === 'alarm' && found.length) {
        alarmDelays.push(Math.min(...found.map((e) => e.knownAtMs)) - span.startMs);
        alarmOnsets.push(Math.min(...found.map((e) => e.startMs)) - span.startMs);
      }
    }
    if (args.verbose) log(`${clip.name}: truth ${clip.truth.map((s) => `${s.label} ${s.startMs}-${s.endMs}`).join(', ') || 'none'}; heard ${events.map((e) => `${e.label} ${e.startMs}-${e.endMs} (${e.score})`).join(', ') || 'nothing'}`);
  }
  const per: Record<string, LabelScore> = {};
  for (const [label, t] of tally) {
    if (t.events === 0 && t.spans === 0) continue;
    per[label] = { ...t, precision: t.events ? r3(t.true_events / t.events) : null, recall: t.spans ? r3(t.found_spans / t.spans) : null };
  }
  const alarm = per.alarm!;
  return {
    seed,
    clips: clips.length,
    audio_s: r1(clips.reduce((s, c) => s + c.pcm.length, 0) / 16000),
    labels: per,
    alarms_on_speech: alarmsOnSpeech,
    alarm_first_event_delay_ms: { median: r1(quantile(alarmDelays, 0.5)), p95: r1(quantile(alarmDelays, 0.95)), max: r1(Math.max(...alarmDelays)) },
    alarm_onset_error_ms: { median: r1(quantile(alarmOnsets, 0.5)), min: r1(Math.min(...alarmOnsets)), max: r1(Math.max(...alarmOnsets)) },
    us_per_32ms_frame: { median: r1(quantile(micros, 0.5)), p95: r1(quantile(micros, 0.95)), mean: r1(micros.reduce((a, b) => a + b, 0) / micros.length), cpu_mean: r1(cpuMicros / micros.length) },
    cpu_ms_per_audio_s: r1(cpuAllMicros / 1000 / (clips.reduce((s, c) => s + c.pcm.length, 0) / 16000)),
    goals_met: (alarm.precision ?? 0) >= GOALS.alarm_precision && (alarm.recall ?? 0) >= GOALS.alarm_recall && alarmsOnSpeech <= GOALS.alarms_on_speech,
    false_events: falseEvents,
    missed,
  };
}

// The model engine is only loaded when asked for: the signal engine needs no onnxruntime.
const engine: SoundEventEngine = args.engine === 'auto' ? await (await import('../../server/perception/sound/index.ts')).createSoundEngine() : new SignalSoundEngine();
log(`engine ${engine.name}`);
const results = [];
try {
  for (const seed of SEEDS) results.push(await evaluate(seed, engine));
} finally {
  await engine.close();
  await closeSpeech();
}

console.log(JSON.stringify({ benchmark: 'sound-events', engine: engine.name, machine: describeMachine(loadAtStart), goals: GOALS, results }, null, 2));
const pad = (s: unknown, n: number) => String(s ?? '—').padStart(n);
for (const r of results) {
  console.log(`\nseed ${r.seed}: ${r.clips} clips, ${r.audio_s} s, engine ${engine.name}`);
  console.log(`${'label'.padEnd(10)}${pad('events', 8)}${pad('true', 6)}${pad('prec', 7)}${pad('spans', 7)}${pad('found', 7)}${pad('recall', 8)}`);
  for (const [label, s] of Object.entries(r.labels)) console.log(`${label.padEnd(10)}${pad(s.events, 8)}${pad(s.true_events, 6)}${pad(s.precision, 7)}${pad(s.spans, 7)}${pad(s.found_spans, 7)}${pad(s.recall, 8)}`);
  console.log(`alarms on speech ${r.alarms_on_speech}; first alarm event after ${r.alarm_first_event_delay_ms.median} ms median (p95 ${r.alarm_first_event_delay_ms.p95}); µs per 32 ms: median ${r.us_per_32ms_frame.median}, p95 ${r.us_per_32ms_frame.p95}, CPU mean ${r.us_per_32ms_frame.cpu_mean}; goals ${r.goals_met ? 'met' : 'NOT met'}`);
}

/**
 * Watch checking benchmark: what checking N standing watches costs per observation, for
 * N = 1, 10, 100 watches of mixed rule kinds (text, objects appearing / leaving / counted,
 * phrases, sounds, scene changes; no judge), on generated but realistic observations:
 *
 *   clip        3–5 lines of sign text (OCR-like: codes, times, capitals), 5–10 COCO objects, a cut in one of five
 *   utterance   a user's sentence of 6–20 words
 *   sound       an event of a SOUND_LABEL or an AudioSet name
 *
 * Every observation is a fresh object, as in a session: the first watch to read a clip's text
 * normalises it, the others reuse that. Also timed: parsing a user's utterance for a request
 * (every utterance is parsed), ordinary and request.
 *
 * Prints one JSON document, then a table, to stdout.
 *
 *   node --import tsx benchmarks/watches/cost.ts [--runs N] [--warmup N]
 */
import { parseArgs } from 'node:util';
import { describeMachine, loadNow } from '../../server/eval/machine.ts';
import { quantile } from '../../server/eval/stats.ts';
import { SOUND_LABELS } from '../../server/perception/sound/types.ts';
import type { Observation, Watch, WatchRule } from '../../server/reasoning/watch/types.ts';
import { WatchChecker } from '../../server/reasoning/watch/watch-checker.ts';
import { parseCondition, parseWatchRequest } from '../../server/reasoning/watch/watch-request.ts';
import { seededRandom } from '../seeded-random.ts';
import { positiveInteger } from '../args.ts';

const { values: args } = parseArgs({ options: { runs: { type: 'string', default: '2000' }, warmup: { type: 'string', default: '200' } } });
const RUNS = positiveInteger('runs', args.runs);
const WARMUP = positiveInteger('warmup', args.warmup);
const WATCH_COUNTS = [1, 10, 100];

const loadAtStart = loadNow();
const random = seededRandom('watches-cost');
const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)]!;
const between = (lo: number, hi: number) => lo + Math.floor(random() * (hi - lo + 1));
const r2 = (x: number) => Math.round(x * 100) / 100;

// ---- watches: conditions as people say them, parsed as a session would ----

const WORDS = ['gate', 'boarding', 'delayed', 'platform', 'exit', 'meeting', 'closed', 'cancelled', 'departure', 'london', 'room', 'final', 'call', 'b17', 'a4'];
const LABELS = ['dog', 'cat', 'cup', 'laptop', 'car', 'bicycle', 'bottle', 'chair', 'book', 'cell phone', 'backpack', 'umbrella', 'tv', 'clock'];
const CONDITIONS: (() => string)[] = [
  () => `the screen says "${pick(WORDS)} ${pick(WORDS)}"`,
  () => `the ${pick(WORDS)} number is on the screen`,
  () => `a ${pick(LABELS)} appears`,
  () => `the ${pick(LABELS)} is gone`,
  () => 'someone else arrives',
  () => `the number of ${pick(LABELS)}s changes`,
  () => `someone says '${pick(WORDS)} now'`,
  () => `anyone mentions the ${pick(WORDS)}`,
  () => 'the smoke alarm goes off',
  () => 'someone knocks',
  () => 'the scene changes',
];

function watches(n: number): Watch[] {
  return Array.from({ length: n }, (_, i) => {
    const condition = CONDITIONS[i % CONDITIONS.length]!();
    const rule = parseCondition(condition);
    if (!rule) throw new Error(`benchmark condition did not parse: ${condition}`);
    return { id: `w${i}`, memoryId: 'm', createdAt: 0, firedCount: 0, condition, rule, mode: 'every', cooldownMs: 0 };
  });
}

// ---- observations ----

const SIGN_LINES = [
  () => `GATE ${pick(['A', 'B', 'C'])}${between(1, 40)} CLOSES AT ${between(6, 23)}:${String(between(0, 59)).padStart(2, '0')}`,
  () => `${pick(['BA', 'LH', 'AF', 'KL'])} ${between(100, 999)} ${pick(['LONDON', 'PARIS', 'BERLIN', 'MADRID'])} ${pick(['BOARDING', 'DELAYED', 'ON TIME', 'FINAL CALL'])}`,
  () => `Platform ${between(1, 12)} - departures`,
  () => `Meeting room ${between(100, 450)}, ${between(1, 5)} PM`,
  () => 'Please keep this door closed',
  () => `EXIT ${between(1, 20)}`,
  () => 'Wi-Fi: Airport_Free  Password: welcome2024',
];
const COCO = ['person', 'dog', 'cat', 'cup', 'laptop', 'car', 'bicycle', 'bottle', 'chair', 'book', 'cell phone', 'backpack', 'umbrella', 'tv', 'clock', 'dining table', 'potted plant', 'handbag'];
const SENTENCE_WORDS = ('the we our flight is now boarding at gate please go to platform train to london leaves in ten minutes ' +
  'i think my phone is on the table did you see where I left the keys meeting starts soon').split(' ');
const SOUNDS = [...SOUND_LABELS, 'smoke detector, smoke alarm', 'doorbell', 'dog', 'applause'];

function clipObservation(startMs: number): Observation {
  const lines = Array.from({ length: between(3, 5) }, () => pick(SIGN_LINES)());
  const objects = new Map<string, number>();
  for (let i = between(5, 10); i > 0; i--) objects.set(pick(COCO), between(1, 3));
  return {
    kind: 'clip', startMs, endMs: startMs + 4000, ocrText: lines.join('\n'),
    objects: [...objects].map(([label, count]) => ({ label, count })), sceneChange: random() < 0.2,
  };
}

function utterance(startMs: number): Observation {
  const text = Array.from({ length: between(6, 20) }, () => pick(SENTENCE_WORDS)).join(' ');
  return { kind: 'utterance', role: 'user', text, startMs, endMs: startMs + 3000 };
}

function sound(startMs: number): Observation {
  return { kind: 'sound', event: { label: pick(SOUNDS), startMs, endMs: startMs + 1500, score: 0.8 } };
}

const KINDS = { clip: clipObservation, utterance, sound } as const;
type Kind = keyof typeof KINDS;

// ---- measuring ----

const signal = new AbortController().signal;

/** µs to check one observation against every checker, per observation; and how many watches fired. */
function measure(n: number, kind: Kind): { us: number[]; fired: number } {
  const checkers = watches(n).map((w) => new WatchChecker(w));
  const observations = Array.from({ length: WARMUP + RUNS }, (_, i) => KINDS[kind](i * 4000));
  const us: number[] = [];
  let fired = 0;
  for (const [i, observation] of observations.entries()) {
    const t0 = process.hrtime.bigint();
    for (const checker of checkers) if (checker.check(observation, signal)) fired++;
    const t1 = process.hrtime.bigint();
    if (i >= WARMUP) us.push(Number(t1 - t0) / 1000);
  }
  return { us, fired };
}

const stat = (us: number[]) => ({ p50: r2(quantile(us, 0.5)), p95: r2(quantile(us, 0.95)), mean: r2(us.reduce((a, b) => a + b, 0) / us.length) });

const results = Object.fromEntries(
  WATCH_COUNTS.map((n) => [
    n,
    Object.fromEntries(
      (Object.keys(KINDS) as Kind[]).map((kind) => {
        const { us, fired } = measure(n, kind);
        const s = stat(us);
        return [kind, { us: s, us_per_watch_p50: r2(s.p50 / n), fired_per_observation: r2(fired / (WARMUP + RUNS)) }];
      }),
    ),
  ]),
);

/** Parsing for a request runs on every user utterance: time the miss and the hit. */
function parseUs(text: string): ReturnType<typeof stat> {
  const us: number[] = [];
  for (let i = 0; i < WARMUP + RUNS; i++) {
    const t0 = process.hrtime.bigint();
    const request = parseWatchRequest(text);
    if (request) parseCondition(request.condition);
    const t1 = process.hrtime.bigint();
    if (i >= WARMUP) us.push(Number(t1 - t0) / 1000);
  }
  return stat(us);
}
const parsing = {
  ordinary_utterance: parseUs('what did you see on the screen when I was out of the room earlier'),
  request: parseUs('could you tell me when the gate number is on the screen please'),
};

const report = {
  benchmark: 'watches-cost',
  runs: RUNS,
  warmup: WARMUP,
  machine: describeMachine(loadAtStart),
  definitions: {
    us: 'wall µs to check one observation against all N watches (synchronous rules, no judge); p50 = median, p95 by nearest rank',
    us_per_watch_p50: 'p50 / N',
    fired_per_observation: 'watches that fired per observation (mode every, no cooldown): a check that did work',
    watches: `N watches cycling through ${CONDITIONS.length} condition shapes (text ×2, appears, leaves, count ×2, phrase ×2, sound ×2, scene change), parsed by parseCondition`,
    clip: '3–5 OCR lines of signs, 5–10 COCO labels with counts 1–3, a scene cut in 20 %',
    parsing: 'parseWatchRequest, then parseCondition when it is a request, µs per utterance',
  },
  results,
  parsing,
};

console.log(JSON.stringify(report, null, 2));
console.log(table());

function table(): string {
  const m = report.machine as { cpus: number; model: string; loadavg_start: number[]; loadavg_end: number[] };
  const cell = (s: { p50: number; p95: number }) => `${s.p50}/${s.p95}`.padStart(16);
  return [
    '',
    `watch checks, µs per observation p50/p95 over ${RUNS} observations; ${m.cpus} × ${m.model}, load ${m.loadavg_start.join(' ')} → ${m.loadavg_end.join(' ')}`,
    `${'watches'.padEnd(9)}${['clip', 'utterance', 'sound'].map((h) => h.padStart(16)).join('')}   µs/watch (clip)`,
    ...WATCH_COUNTS.map((n) => {
      const r = results[n]!;
      return `${String(n).padEnd(9)}${cell(r.clip!.us)}${cell(r.utterance!.us)}${cell(r.sound!.us)}   ${r.clip!.us_per_watch_p50}`;
    }),
    `parsing a user's utterance for a request: ordinary ${parsing.ordinary_utterance.p50} µs, request ${parsing.request.p50} µs (p50)`,
  ].join('\n');
}

/**
 * Proactive questions ("Proactive Output") in stream mode, two ways:
 * - poll: the official loop (StreamingBenchProactive.py): once a second from t + 1 to the
 *   ground truth + 4 s the session is asked "… Is it the right time to output X? yes or no";
 *   on a yes the question itself is asked and its answer is the output.
 * - watch: at the question's time the session gets a watch on the question's condition (the
 *   ask stripped off: "When the screen shows "LOCKER", output …" watches "the screen shows
 *   "LOCKER""). Its firing is the answer time; then the question is asked once, as the
 *   official loop does after its yes, for the output.
 * Both are scored the official way (scoring.ts); this file also sums up what each cost.
 */
import type { Reasoner, ReasonerDelta, ReasonerRequest } from '../../reasoning/index.ts';
import { quantile } from '../stats.ts';
import type { BenchQuestion } from './questions.ts';
import { DETAILS_KEY, MODEL_KEY, proactiveOutcome, type ProactiveResponse } from './scoring.ts';

export type ProactiveMode = 'poll' | 'watch';
export const PROACTIVE_MODES: readonly ProactiveMode[] = ['poll', 'watch'];
/** Stream mode answers proactive questions through watches unless told otherwise. */
export const DEFAULT_PROACTIVE_MODES: readonly ProactiveMode[] = ['watch'];

/** `--proactive poll`, `watch` or `poll,watch` (both, one after the other, side by side in the report). */
export function parseProactiveModes(text: string): ProactiveMode[] {
  const modes = text.split(',').map((m) => m.trim());
  if (!modes.length || modes.some((m) => !PROACTIVE_MODES.includes(m as ProactiveMode)) || new Set(modes).size !== modes.length) {
    throw new TypeError(`--proactive takes poll, watch or poll,watch, got '${text}'`);
  }
  return modes as ProactiveMode[];
}

/** Where one mode's answers go when several modes run: "x.json" → "x.watch.json". */
export function proactiveOut(out: string, mode: ProactiveMode, several: boolean): string {
  if (!several) return out;
  return /\.json$/i.test(out) ? out.replace(/\.json$/i, `.${mode}.json`) : `${out}.${mode}`;
}

const CONNECTIVE = String.raw`(?:whenever|every time|each time|as soon as|the moment|once|when|if|after)`;
/** What a proactive question asks for once its condition holds; it starts the ask. */
const ASK_VERB = String.raw`(?:output|say|print|write|respond|reply|answer|tell|notify|let me know|remind|alert|inform|warn|give|describe|report|announce|state|provide|identify|name|list|count|explain|show)`;
/** "When X, output …" / "If X then say …": the condition first. */
const CONDITION_FIRST = new RegExp(String.raw`^\s*(?:please\s+)?${CONNECTIVE}\s+(?<cond>.+?)\s*(?:,|;|\bthen\b)\s*(?:(?:please|then|and|just|immediately)\s+)*${ASK_VERB}\b`, 'is');
/** "Notify me when X." / "Output "Y" as soon as X.": the ask first. */
const ASK_FIRST = new RegExp(String.raw`^\s*(?:please\s+)?(?:(?:can|could|would) you\s+)?${ASK_VERB}\b.*?\s${CONNECTIVE}\s+(?<cond>.+?)\s*[.!?]*\s*$`, 'is');
/** A trailing ask with no connective to cut at: ", output "Y"." */
const TRAILING_ASK = new RegExp(String.raw`\s*(?:,|;)?\s*(?:then\s+)?${ASK_VERB}\b[^,;]*$`, 'i');

/**
 * The condition of a proactive question, in its own words, with the ask stripped off:
 * what a watch is made of. Quoted words stay quoted (they are read or heard as they are).
 */
export function watchCondition(question: string): string {
  const text = question.replace(/[’ʼ]/g, "'").replace(/\s+/g, ' ').trim();
  const found = CONDITION_FIRST.exec(text)?.groups?.cond ?? ASK_FIRST.exec(text)?.groups?.cond;
  const condition = found ?? text.replace(TRAILING_ASK, '').replace(new RegExp(String.raw`^\s*${CONNECTIVE}\s+`, 'i'), '');
  return condition.replace(/^[\s,]+|[\s,.!?;:]+$/g, '') || text;
}

/** One call the session made to its reasoner (an answer, a watch judgement, an instruction check). */
export type ReasonerCall = 'respond' | 'judgeWatch' | 'isInstruction';

/**
 * The reasoner with every call reported: `onCall` hears of each when it starts and returns
 * what to call when it ends. Methods run on the reasoner itself (its private state stays
 * reachable); what it lacks stays absent (a judge only when it can judge).
 */
export function meteredReasoner(reasoner: Reasoner, onCall: (call: ReasonerCall, args: readonly unknown[]) => () => void): Reasoner {
  return new Proxy(reasoner, {
    get(target, prop) {
      const value = Reflect.get(target, prop, target) as unknown;
      if (typeof value !== 'function') return value;
      if (prop === 'respond') {
        return (request: ReasonerRequest, signal: AbortSignal) => untilDone((value as Reasoner['respond']).call(target, request, signal), onCall('respond', [request]));
      }
      if (prop === 'judgeWatch' || prop === 'isInstruction') {
        return async (...args: unknown[]) => {
          const end = onCall(prop, args);
          try {
            return await (value as (...a: unknown[]) => Promise<unknown>).apply(target, args);
          } finally {
            end();
          }
        };
      }
      return (value as (...a: unknown[]) => unknown).bind(target);
    },
  });
}

async function* untilDone(deltas: AsyncIterable<ReasonerDelta>, end: () => void): AsyncIterable<ReasonerDelta> {
  try {
    yield* deltas;
  } finally {
    end();
  }
}

/** What answering one proactive question cost; stored in its details. */
export interface ProactiveCost {
  /** Session responses made for it: polls and answers, or the watch's announcement and the answer. */
  responses: number;
  /** Reasoner calls made for it (answers, polls, watch judgements). */
  reasoner_calls: number;
  reasoner_ms: number;
  /** Wall time the harness spent on it: asking, or making the watch and asking. */
  wall_ms: number;
}

export interface ProactiveSummary {
  mode: ProactiveMode;
  /** The results file of this mode. */
  out: string;
  /** Questions with a dialog (counted as count.py counts them). */
  questions: number;
  /** Questions with an answer time (a yes, a firing). */
  answered: number;
  /** Output right and on time (±2 s): the PO score. */
  correct: number;
  accuracy: number;
  time_correct: number;
  /** Watch: the system knew within ±2 s of the ground truth (the firing came when its clip closed). Poll: the same as time_correct. */
  noticed_on_time: number;
  /** Watch: conditions no rule reads and no judge was there for. */
  refused: number;
  cost: ProactiveCost & { per_question: { responses: number; reasoner_calls: number; wall_ms: number } };
  /** Answer time − ground truth, ms, over answered questions. */
  latency_ms: { p50: number; min: number; max: number } | null;
  /** Watch: when the firing was known − the time it reports (its clip's start), ms. */
  notice_lag_ms: { p50: number; max: number } | null;
  throughput: { media_s: number; wall_s: number };
}

const round = (x: number, digits = 0) => Math.round(x * 10 ** digits) / 10 ** digits;

/** Score, cost and latency of one mode's answers, from the questions' responses and details. */
export function summarizeProactive(mode: ProactiveMode, out: string, questions: readonly BenchQuestion[], throughput: { media_s: number; wall_s: number }): ProactiveSummary {
  let counted = 0;
  let correct = 0;
  let timeCorrect = 0;
  let noticedOnTime = 0;
  let refused = 0;
  const cost: ProactiveCost = { responses: 0, reasoner_calls: 0, reasoner_ms: 0, wall_ms: 0 };
  const latencies: number[] = [];
  const lags: number[] = [];
  for (const q of questions) {
    const response = q.raw[MODEL_KEY] as ProactiveResponse | undefined;
    if (!Array.isArray(response?.dialog_history) || response.dialog_history.length === 0 || q.groundTruthTimeS === undefined) continue;
    counted++;
    const outcome = proactiveOutcome(response, q.groundTruthTimeS, q.groundTruthOutput!);
    if (outcome.answerCorrect) correct++;
    if (outcome.timeCorrect) timeCorrect++;
    const d = (q.raw[DETAILS_KEY] ?? {}) as Record<string, unknown>;
    for (const key of ['responses', 'reasoner_calls', 'reasoner_ms', 'wall_ms'] as const) cost[key] += typeof d[key] === 'number' ? d[key] : 0;
    if (typeof d.latency_ms === 'number') latencies.push(d.latency_ms);
    if (typeof d.notice_lag_ms === 'number') lags.push(d.notice_lag_ms);
    const noticed = typeof d.noticed_ms === 'number' ? d.noticed_ms / 1000 : response.answered === false ? undefined : response.answered;
    if (noticed !== undefined && Math.abs(noticed - q.groundTruthTimeS) <= 2) noticedOnTime++;
    if (typeof d.refused === 'string') refused++;
  }
  const per = (x: number) => (counted ? round(x / counted, 1) : 0);
  return {
    mode,
    out,
    questions: counted,
    answered: latencies.length,
    correct,
    accuracy: counted ? correct / counted : 0,
    time_correct: timeCorrect,
    noticed_on_time: noticedOnTime,
    refused,
    cost: { ...cost, reasoner_ms: round(cost.reasoner_ms), wall_ms: round(cost.wall_ms), per_question: { responses: per(cost.responses), reasoner_calls: per(cost.reasoner_calls), wall_ms: per(cost.wall_ms) } },
    latency_ms: latencies.length ? { p50: quantile(latencies, 0.5), min: Math.min(...latencies), max: Math.max(...latencies) } : null,
    notice_lag_ms: lags.length ? { p50: quantile(lags, 0.5), max: Math.max(...lags) } : null,
    throughput,
  };
}

const seconds = (ms: number) => `${ms >= 0 ? '+' : '−'}${(Math.abs(ms) / 1000).toFixed(1)}`;

/**
 * The side-by-side table, one line per mode: "±2 s" is the official timing (a watch's firing
 * time), "known ±2 s" when the system could first have said it.
 */
export function formatProactiveTable(summaries: readonly ProactiveSummary[]): string {
  const head = `${'proactive'.padEnd(11)}${'n'.padStart(4)}${'correct'.padStart(9)}${'acc %'.padStart(8)}${'±2 s'.padStart(6)}${'known ±2 s'.padStart(12)}${'responses'.padStart(11)}${'reasoner'.padStart(10)}${'wall s'.padStart(8)}${'latency p50 (min…max) s'.padStart(26)}${'noticed after s'.padStart(17)}`;
  const lines = [head];
  for (const s of summaries) {
    const latency = s.latency_ms ? `${seconds(s.latency_ms.p50)} (${seconds(s.latency_ms.min)}…${seconds(s.latency_ms.max)})` : '–';
    const lag = s.notice_lag_ms ? `${seconds(s.notice_lag_ms.p50)}…${seconds(s.notice_lag_ms.max)}` : '–';
    lines.push(
      `${s.mode.padEnd(11)}${String(s.questions).padStart(4)}${String(s.correct).padStart(9)}${(s.accuracy * 100).toFixed(2).padStart(8)}${String(s.time_correct).padStart(6)}${String(s.noticed_on_time).padStart(12)}${String(s.cost.responses).padStart(11)}${String(s.cost.reasoner_calls).padStart(10)}${(s.cost.wall_ms / 1000).toFixed(1).padStart(8)}${latency.padStart(26)}${lag.padStart(17)}`,
    );
  }
  const notes = summaries.filter((s) => s.refused).map((s) => `${s.mode}: ${s.refused} condition${s.refused === 1 ? '' : 's'} no rule reads (no language model to judge them)`);
  return [...lines, ...notes].join('\n');
}

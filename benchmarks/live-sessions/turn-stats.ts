/**
 * Turns of many live sessions, summed up: how they ended, the audio lag at the VAD's
 * decisions, the server's pipeline overhead and stage latencies, and the first answer audio.
 */
import { quantile } from '../../server/eval/stats.ts';
import type { TurnRecord } from './live-session.ts';

const round1 = (x: number) => Math.round(x * 10) / 10;

export interface Dist {
  n: number;
  p50: number | null;
  p95: number | null;
  p99: number | null;
  max: number | null;
}

/** Nearest-rank percentiles of the finite numbers in `values`. */
export function dist(values: readonly (number | null | undefined)[]): Dist {
  const v = values.filter((x): x is number => typeof x === 'number' && Number.isFinite(x));
  if (v.length === 0) return { n: 0, p50: null, p95: null, p99: null, max: null };
  return { n: v.length, p50: round1(quantile(v, 0.5)), p95: round1(quantile(v, 0.95)), p99: round1(quantile(v, 0.99)), max: round1(v.reduce((m, x) => (x > m ? x : m), -Infinity)) }; // no spread: a soak has ~10⁶ values
}

/** Median of the finite numbers (null when there are none). */
export function median(values: readonly (number | null | undefined)[]): number | null {
  return dist(values).p50;
}

/** Stages of an answer after the end of speech, in pipeline order (omnilive.metrics latency_ms). */
export const STAGES = ['end_of_turn', 'asr_final', 'retrieval', 'first_llm_token', 'first_tts_audio', 'first_audio_delta'] as const;
/** Engine compute of an answer (omnilive.metrics compute_ms). */
export const COMPUTE = ['asr_finish', 'retrieval', 'llm_first_token', 'tts_first_sentence'] as const;

export function turnStats(turns: readonly TurnRecord[]) {
  const statuses: Record<string, number> = {};
  for (const t of turns) statuses[t.status] = (statuses[t.status] ?? 0) + 1;
  const answered = turns.filter((t) => t.latency);
  return {
    turns: turns.length,
    statuses,
    /** Both VAD decisions of every turn: the audio lag samples. */
    audio_lag_ms: dist(turns.flatMap((t) => [t.startLagMs, t.stopLagMs])),
    audio_lag_at_start_ms: dist(turns.map((t) => t.startLagMs)),
    audio_lag_at_stop_ms: dist(turns.map((t) => t.stopLagMs)),
    server_stop_lag_ms: dist(turns.map((t) => t.serverStopLagMs)),
    pipeline_overhead_ms: dist(turns.map((t) => t.overheadMs)),
    client_first_audio_ms: dist(turns.map((t) => t.clientFirstAudioMs)),
    /** Median ms after the server received the end of speech, per stage. */
    stages_ms: Object.fromEntries(STAGES.map((s) => [s, median(answered.map((t) => t.latency?.[s]))])),
    /** Median engine compute per stage. */
    compute_ms: Object.fromEntries(COMPUTE.map((s) => [s, median(answered.map((t) => t.compute?.[s]))])),
    answer_audio_ms: median(turns.map((t) => (t.answerAudioMs > 0 ? t.answerAudioMs : null))),
  };
}
export type TurnStats = ReturnType<typeof turnStats>;

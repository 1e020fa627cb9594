/**
 * The turn-latency benchmark's report: summaries (median, nearest-rank p95), the JSON
 * document, and the table, with the two turn-detection modes side by side.
 */
import type { BargeInResult, FalseInterruptionResult } from './barge.ts';
import { type Event, round1, words } from './client.ts';
import type { SpokenResult } from './spoken.ts';

export interface Summary {
  n: number;
  median: number | null;
  p95: number | null;
  min: number | null;
  max: number | null;
}

/** Median (mean of the middle two when even) and nearest-rank p95. */
export function summarize(values: (number | null | undefined)[]): Summary {
  const v = values.filter((x): x is number => typeof x === 'number' && Number.isFinite(x)).sort((a, b) => a - b);
  if (v.length === 0) return { n: 0, median: null, p95: null, min: null, max: null };
  const mid = v.length >> 1;
  const median = v.length % 2 ? v[mid]! : (v[mid - 1]! + v[mid]!) / 2;
  const p95 = v[Math.min(v.length - 1, Math.ceil(0.95 * v.length) - 1)]!;
  return { n: v.length, median: round1(median), p95: round1(p95), min: round1(v[0]!), max: round1(v[v.length - 1]!) };
}

const roundAll = (o: Record<string, number | null>) => Object.fromEntries(Object.entries(o).map(([k, v]) => [k, v === null ? null : round1(v)]));
const answered = (r: SpokenResult) => r.status === 'completed' || r.status === 'cancelled';
const count = <T>(list: T[], pick: (x: T) => string) => list.reduce<Record<string, number>>((o, x) => ((o[pick(x)] = (o[pick(x)] ?? 0) + 1), o), {});

/** What one turn-detection mode did with the three sets. */
export function modeReport(turnDetection: unknown, questions: SpokenResult[], paused: SpokenResult[], fillers: SpokenResult[]) {
  const metric = (list: SpokenResult[], pick: (m: Event) => number | null) => summarize(list.map((t) => (t.metrics ? pick(t.metrics) : null)));
  const withMetrics = [...questions, ...paused].filter((t) => t.metrics);
  const gaps = questions.flatMap((t) => t.gaps);
  const cuts = paused.filter((p) => p.falseCut).length;
  return {
    turn_detection: turnDetection,
    questions: {
      count: questions.length,
      answered: questions.filter(answered).length,
      transcribed_exactly: questions.filter((t) => t.heard !== null && words(t.heard).join(' ') === words(t.said).join(' ')).length,
      speculative: questions.filter((t) => t.metrics?.speculative === true).length,
      steps_ms: {
        client_first_audio: summarize(questions.map((t) => t.clientFirstAudioMs)),
        first_audio_delta: metric(questions, (m) => m.latency_ms.first_audio_delta),
        end_of_turn: metric(questions, (m) => m.latency_ms.end_of_turn),
        asr_final: metric(questions, (m) => m.latency_ms.asr_final),
        first_llm_token: metric(questions, (m) => m.latency_ms.first_llm_token),
        first_tts_audio: metric(questions, (m) => m.latency_ms.first_tts_audio),
        vad_end_lag_media: summarize(questions.map((t) => t.vadEndLagMs)),
        server_speech_end_skew: summarize(questions.map((t) => t.speechEndSkewMs)),
        compute_asr_finish: metric(questions, (m) => m.compute_ms.asr_finish),
        compute_llm_first_token: metric(questions, (m) => m.compute_ms.llm_first_token),
        compute_tts_first_sentence: metric(questions, (m) => m.compute_ms.tts_first_sentence),
        pipeline_overhead: metric(questions, (m) => m.pipeline_overhead_ms),
      },
      playback_gaps: { count: gaps.length, total_ms: round1(gaps.reduce((a, b) => a + b, 0)), max_ms: gaps.length ? round1(Math.max(...gaps)) : 0 },
      detail: questions.map(spokenDetail),
    },
    paused: {
      count: paused.length,
      false_cuts: cuts,
      false_cut_rate: paused.length ? round1((100 * cuts) / paused.length) / 100 : null,
      first_parts_answered: paused.filter((p) => p.partAnswers.length > 0).length,
      answered: paused.filter(answered).length,
      speculative: paused.filter((t) => t.metrics?.speculative === true).length,
      steps_ms: {
        client_first_audio: summarize(paused.map((t) => t.clientFirstAudioMs)),
        first_audio_delta: metric(paused, (m) => m.latency_ms.first_audio_delta),
        pause: summarize(paused.map((t) => t.pauseMs)),
      },
      detail: paused.map(spokenDetail),
    },
    fillers: {
      count: fillers.length,
      outcomes: count(fillers, (f) => f.status),
      detail: fillers.map((f) => ({ said: f.said, heard_turns: f.heardTurns, status: f.status })),
    },
    speculation: {
      answers: withMetrics.length,
      speculative: withMetrics.filter((t) => t.metrics!.speculative === true).length,
      discarded: withMetrics.reduce((n, t) => n + (Number(t.metrics!.speculation_discarded) || 0), 0),
      metrics_without_fields: withMetrics.filter((t) => typeof t.metrics!.speculative !== 'boolean' || typeof t.metrics!.speculation_discarded !== 'number').length,
    },
  };
}
export type ModeReport = ReturnType<typeof modeReport>;

function spokenDetail(t: SpokenResult) {
  return {
    said: t.said,
    pause_ms: t.pauseMs,
    heard_turns: t.heardTurns,
    status: t.status,
    false_cut: t.kind === 'paused' ? t.falseCut : undefined,
    cuts: t.cuts.length ? t.cuts.map((c) => ({ audio_end_ms: c.audioEndMs, after_pause_start_ms: c.afterPauseStartMs, before_second_part: c.beforeSecondPart })) : undefined,
    part_answers: t.partAnswers.length ? t.partAnswers : undefined,
    client_first_audio_ms: t.clientFirstAudioMs,
    vad_end_lag_ms: t.vadEndLagMs,
    speech_end_skew_ms: t.speechEndSkewMs,
    speculative: t.metrics?.speculative ?? null,
    speculation_discarded: t.metrics?.speculation_discarded ?? null,
    latency_ms: t.metrics?.latency_ms ?? null,
    compute_ms: t.metrics ? roundAll(t.metrics.compute_ms) : null,
    pipeline_overhead_ms: t.metrics?.pipeline_overhead_ms ?? null,
  };
}

export function bargeInReport(mode: string, list: BargeInResult[]) {
  return {
    mode,
    count: list.length,
    cancelled: list.filter((b) => b.status === 'cancelled').length,
    paused_first: list.filter((b) => b.pausedMs !== null).length,
    audio_deltas_while_paused: list.reduce((n, b) => n + b.deltasWhilePaused, 0),
    audio_deltas_after_cancel: list.reduce((n, b) => n + b.lateDeltas, 0),
    steps_ms: {
      audio_paused: summarize(list.map((b) => b.pausedMs)),
      speech_started: summarize(list.map((b) => b.speechStartedMs)),
      vad_onset_lag_media: summarize(list.map((b) => b.vadOnsetLagMs)),
      server_reaction: summarize(list.map((b) => b.serverReactionMs)),
      response_cancelled: summarize(list.map((b) => b.cancelledMs)),
      last_audio_delta: summarize(list.map((b) => b.lastDeltaMs)),
      client_response_cancel: summarize(list.map((b) => b.clientCancelMs)),
    },
    detail: list.map((b) => ({ said: b.said, status: b.status, audio_paused_ms: b.pausedMs, speech_started_ms: b.speechStartedMs, vad_onset_lag_ms: b.vadOnsetLagMs, server_reaction_ms: b.serverReactionMs, response_cancelled_ms: b.cancelledMs, last_audio_delta_ms: b.lastDeltaMs, deltas_while_paused: b.deltasWhilePaused, late_deltas: b.lateDeltas, audio_sent_ms: b.audioSentMs, audio_heard_ms: b.audioHeardMs, heard: b.heard, follow_up: b.followUp })),
  };
}

export function falseInterruptionReport(mode: string, list: FalseInterruptionResult[]) {
  return {
    mode,
    count: list.length,
    paused: list.filter((f) => f.pauses > 0).length,
    paused_and_resumed: list.filter((f) => f.pauses > 0 && f.pauses === f.resumes).length,
    completed_as_one_response: list.filter((f) => f.status === 'completed' && f.otherResponses === 0).length,
    taken_for_speech: list.filter((f) => f.speechStarted > 0).length,
    deltas_add_up: list.filter((f) => f.deltaSumMs !== null && f.audioSentMs !== null && Math.abs(f.deltaSumMs - f.audioSentMs) <= 1).length,
    compared: list.filter((f) => f.sameTranscript).length,
    same_length: list.filter((f) => f.lengthMatches === true).length,
    same_samples: list.filter((f) => f.samplesMatch === true).length,
    steps_ms: {
      audio_paused: summarize(list.map((f) => f.pausedMs)),
      paused_for: summarize(list.map((f) => f.pausedForMs)),
    },
    detail: list.map((f) => ({
      burst_ms: f.burstMs,
      level_dbfs: f.levelDb,
      at_ms: f.atMs,
      status: f.status,
      other_responses: f.otherResponses,
      speech_started: f.speechStarted,
      pauses: f.pauses,
      resumes: f.resumes,
      audio_paused_ms: f.pausedMs,
      paused_at_audio_ms: f.pausedAtAudioMs,
      paused_for_ms: f.pausedForMs,
      delta_sum_ms: f.deltaSumMs,
      audio_sent_ms: f.audioSentMs,
      reference_ms: f.referenceMs,
      same_transcript: f.sameTranscript,
      same_length: f.lengthMatches,
      same_samples: f.samplesMatch,
      first_difference_ms: f.firstDifferenceMs,
    })),
  };
}

export const GOALS = { semanticFirstAudioP50: 350, semanticFirstAudioP95: 600, falseCutRate: 0.05, pausedP95: 150, overheadP50: 30, overheadP95: 60, bargeInP95: 150 };

export interface Goal {
  goal: number;
  value: number | null;
  unit: 'ms' | 'ratio';
  pass: boolean;
}
export const goal = (value: number | null, limit: number, unit: Goal['unit'] = 'ms'): Goal => ({ goal: limit, value, unit, pass: value !== null && value <= limit });

/** The table printed after the JSON: the two modes side by side. */
export function table(r: {
  modes: Record<string, ModeReport>;
  barge_ins: ReturnType<typeof bargeInReport>;
  false_interruptions: ReturnType<typeof falseInterruptionReport>;
  goals: Record<string, Goal>;
  health: { server_errors: number; problems: string[]; event_loop_stall_ms: Record<string, number> };
}): string {
  const modes = Object.keys(r.modes);
  const cell = (x: number | string | null, w = 8) => (x === null ? '—' : String(x)).padStart(w);
  const NAME = 30;
  const sideHead = () => [
    `${''.padEnd(NAME)}${modes.map((m) => `  ${m.padStart(24)}`).join('')}`,
    `${'step (ms)'.padEnd(NAME)}${modes.map(() => `  ${['n', 'median', 'p95'].map((h) => h.padStart(8)).join('')}`).join('')}`,
  ];
  const sideRow = (name: string, pick: (m: ModeReport) => Summary) => `${name.padEnd(NAME)}${modes.map((m) => `  ${cell(pick(r.modes[m]!).n)}${cell(pick(r.modes[m]!).median)}${cell(pick(r.modes[m]!).p95)}`).join('')}`;
  const sideLine = (name: string, pick: (m: ModeReport) => string | number | null) => `${name.padEnd(NAME)}${modes.map((m) => `  ${cell(pick(r.modes[m]!), 24)}`).join('')}`;
  const head = `${'step (ms)'.padEnd(NAME)}${['n', 'median', 'p95', 'min', 'max'].map((h) => h.padStart(8)).join('')}`;
  const row = (name: string, s: Summary) => `${name.padEnd(NAME)}${cell(s.n)}${cell(s.median)}${cell(s.p95)}${cell(s.min)}${cell(s.max)}`;
  const showGoal = (name: string, g: Goal) => {
    const v = g.value === null ? '—' : g.unit === 'ratio' ? `${round1(g.value * 100)} %` : `${g.value}`;
    const limit = g.unit === 'ratio' ? `${g.goal * 100} %` : `${g.goal} ms`;
    return `  ${name.padEnd(44)} ${v.padStart(8)} ≤ ${limit.padEnd(7)} ${g.pass ? 'PASS' : 'FAIL'}`;
  };
  const first = r.modes[modes[0]!]!;
  const q = first ? Object.keys(first.questions.steps_ms) : [];
  const b = r.barge_ins;
  const f = r.false_interruptions;
  return [
    '',
    'complete questions (speech end → answer)',
    ...sideHead(),
    sideLine('answered / asked', (m) => `${m.questions.answered}/${m.questions.count}`),
    sideLine('transcribed exactly', (m) => m.questions.transcribed_exactly),
    sideLine('speculative answers', (m) => m.questions.speculative),
    ...q.map((k) => sideRow(k, (m) => (m.questions.steps_ms as Record<string, Summary>)[k]!)),
    '',
    'paused sentences (a pause inside the sentence)',
    sideLine('false cuts', (m) => `${m.paused.false_cuts}/${m.paused.count} (${m.paused.false_cut_rate === null ? '—' : round1(m.paused.false_cut_rate * 100)} %)`),
    sideLine('first part answered', (m) => m.paused.first_parts_answered),
    sideLine('whole sentence answered', (m) => `${m.paused.answered}/${m.paused.count}`),
    sideLine('speculative answers', (m) => m.paused.speculative),
    sideRow('client_first_audio', (m) => m.paused.steps_ms.client_first_audio),
    sideRow('pause', (m) => m.paused.steps_ms.pause),
    '',
    'fillers',
    sideLine('outcomes', (m) => Object.entries(m.fillers.outcomes).map(([k, n]) => `${k} ${n}`).join(', ') || '—'),
    '',
    'speculation (questions and paused sentences)',
    sideLine('speculative / answers', (m) => `${m.speculation.speculative}/${m.speculation.answers}`),
    sideLine('discarded speculative runs', (m) => m.speculation.discarded),
    '',
    `barge-ins (${b.mode}): ${b.cancelled}/${b.count} cancelled, ${b.paused_first}/${b.count} paused first, ${b.audio_deltas_while_paused} deltas while paused, ${b.audio_deltas_after_cancel} after cancel`,
    head,
    ...Object.entries(b.steps_ms).map(([k, s]) => row(k, s)),
    '',
    `false interruptions (${f.mode}): ${f.count} noise bursts; ${f.paused_and_resumed} paused→resumed, ${f.completed_as_one_response} completed as one response, ${f.taken_for_speech} taken for speech; ` +
      `audio: ${f.deltas_add_up}/${f.count} deltas = audio_sent_ms, ${f.same_length}/${f.compared} same length and ${f.same_samples}/${f.compared} same samples as uninterrupted`,
    head,
    ...Object.entries(f.steps_ms).map(([k, s]) => row(k, s)),
    '',
    'goals:',
    ...Object.entries(r.goals).map(([k, g]) => showGoal(k.replace(/_/g, ' '), g)),
    `health: ${r.health.server_errors} server errors, ${r.health.problems.length} problems, event-loop stall p99 ${r.health.event_loop_stall_ms.p99} ms, max ${r.health.event_loop_stall_ms.max} ms`,
  ].join('\n');
}

/**
 * Scoring exactly as the official count script (src/data/count.py) does it:
 * - multiple choice: a question counts when its response is a non-empty string, and is correct
 *   when the response's first character equals the answer letter (" A", "a" and "(A)" are
 *   wrong; "A." and "A, because…" are right). Accuracy is correct / counted, per task and over
 *   all counted questions (a per-question average). count.py skips empty responses in SQA
 *   files and stops with an error on them in the others; here they are skipped and reported
 *   as unanswered.
 * - proactive: a question counts when it has a dialog; its timing is right when the last turn
 *   is within ±2 s of the ground-truth time, and its output is right when, in addition, the
 *   expected output is contained in the last answer (case-sensitive). The PO score is the
 *   output accuracy.
 */
import type { BenchQuestion, QuestionFileKind } from './questions.ts';

/** The key results are stored under in each question, as the official scripts store MODEL.name(). */
export const MODEL_KEY = 'OmniLive';
/** Per-question details of a run (mode, timings, transcript), beside the official response. */
export const DETAILS_KEY = 'OmniLive_details';

export interface DialogTurn {
  role: 'user' | 'assistant';
  content: string;
  /** Video seconds. */
  time: number;
  /** Wall seconds the answer took. */
  cost: number;
}

/** What the official proactive script stores. */
export interface ProactiveResponse {
  answered: number | false;
  dialog_history: DialogTurn[];
}

/** The leaderboard's groups and abbreviations (paper, Table 2 and Figure 3), by the task_type in the files. */
export const TASKS: readonly (readonly [taskType: string, abbreviation: string, group: string])[] = [
  ['Object Recognition', 'OP', 'Real-Time Visual Understanding'],
  ['Causal Reasoning', 'CR', 'Real-Time Visual Understanding'],
  ['Clips Summarize', 'CS', 'Real-Time Visual Understanding'],
  ['Attribute Recognition', 'ATP', 'Real-Time Visual Understanding'],
  ['Event Understanding', 'EU', 'Real-Time Visual Understanding'],
  ['Text-Rich Understanding', 'TR', 'Real-Time Visual Understanding'],
  ['Prospective Reasoning', 'PR', 'Real-Time Visual Understanding'],
  ['Spatial Understanding', 'SU', 'Real-Time Visual Understanding'],
  ['Action Recognition', 'ACP', 'Real-Time Visual Understanding'],
  ['Counting', 'CT', 'Real-Time Visual Understanding'],
  ['Emotion Recognition', 'ER', 'Omni-Source Understanding'],
  ['Scene Understanding', 'SCU', 'Omni-Source Understanding'],
  ['Source Discrimination', 'SD', 'Omni-Source Understanding'],
  ['Multimodal Alignment', 'MA', 'Omni-Source Understanding'],
  ['Anomaly Context Understanding', 'ACU', 'Contextual Understanding'],
  ['Misleading Context Understanding', 'MCU', 'Contextual Understanding'],
  ['Sequential Question Answering', 'SQA', 'Contextual Understanding'],
  ['Proactive Output', 'PO', 'Contextual Understanding'],
];

export interface Tally {
  total: number;
  correct: number;
  /** correct / total (0 when nothing counted), as count.py computes it. */
  accuracy: number;
}

export interface TaskScore extends Tally {
  task_type: string;
  abbreviation: string;
  group: string;
  /** Proactive only: answers within ±2 s of the ground truth. */
  time_correct?: number;
  time_accuracy?: number;
}

export interface Scores {
  questions: number;
  /** Questions without a response (not run yet, failed, or empty): not counted, as in count.py. */
  unanswered: number;
  tasks: TaskScore[];
  groups: (Tally & { group: string })[];
  /** Per-question average over everything counted. */
  overall: Tally;
}

const tally = (total: number, correct: number): Tally => ({ total, correct, accuracy: total > 0 ? correct / total : 0 });

/** The official first-character rule. */
export function isCorrectChoice(response: string, answer: string): boolean {
  return response.length > 0 && response[0] === answer;
}

/** The official proactive rule: timing within ±2 s, then the expected output contained. */
export function proactiveOutcome(response: ProactiveResponse, groundTruthS: number, expected: string): { timeCorrect: boolean; answerCorrect: boolean } {
  const last = response.dialog_history.at(-1)!;
  const timeCorrect = Math.abs(last.time - groundTruthS) <= 2;
  return { timeCorrect, answerCorrect: timeCorrect && String(last.content).includes(expected) };
}

/** Whether count.py counts the question: a non-empty response; for proactive, any dialog. */
function isCounted(q: BenchQuestion): boolean {
  const value = q.raw[MODEL_KEY];
  if (q.groundTruthOutput !== undefined) return Array.isArray((value as ProactiveResponse | undefined)?.dialog_history) && (value as ProactiveResponse).dialog_history.length > 0;
  return typeof value === 'string' && value.length > 0;
}

/** Whether the official eval loop would skip the question as done (resumption). */
export function hasResponse(q: BenchQuestion): boolean {
  const value = q.raw[MODEL_KEY];
  if (q.groundTruthOutput !== undefined) {
    const history = (value as ProactiveResponse | undefined)?.dialog_history;
    return Array.isArray(history) && history.length > 0 && !!history.at(-1)?.content;
  }
  return typeof value === 'string' && value.length > 0;
}

function taskInfo(taskType: string): { abbreviation: string; group: string; rank: number } {
  const i = TASKS.findIndex(([t]) => t === taskType);
  return i >= 0 ? { abbreviation: TASKS[i]![1], group: TASKS[i]![2], rank: i } : { abbreviation: taskType, group: 'Other', rank: TASKS.length };
}

/** Scores the responses stored in the questions' raw objects. */
export function scoreQuestions(questions: readonly BenchQuestion[], kind: QuestionFileKind): Scores {
  const byTask = new Map<string, { total: number; correct: number; timeCorrect: number }>();
  let unanswered = 0;
  for (const q of questions) {
    if (!isCounted(q)) {
      unanswered++;
      continue;
    }
    const t = byTask.get(q.taskType) ?? { total: 0, correct: 0, timeCorrect: 0 };
    t.total++;
    if (kind === 'proactive') {
      const outcome = proactiveOutcome(q.raw[MODEL_KEY] as ProactiveResponse, q.groundTruthTimeS!, q.groundTruthOutput!);
      if (outcome.timeCorrect) t.timeCorrect++;
      if (outcome.answerCorrect) t.correct++;
    } else if (isCorrectChoice(q.raw[MODEL_KEY] as string, q.answer!)) {
      t.correct++;
    }
    byTask.set(q.taskType, t);
  }
  const tasks: TaskScore[] = [...byTask.entries()]
    .map(([taskType, t]) => {
      const info = taskInfo(taskType);
      return {
        task_type: taskType,
        abbreviation: info.abbreviation,
        group: info.group,
        ...tally(t.total, t.correct),
        ...(kind === 'proactive' ? { time_correct: t.timeCorrect, time_accuracy: t.total ? t.timeCorrect / t.total : 0 } : {}),
        rank: info.rank,
      };
    })
    .sort((a, b) => a.rank - b.rank || a.task_type.localeCompare(b.task_type))
    .map(({ rank: _, ...task }) => task);
  const groups = [...new Set(tasks.map((t) => t.group))].map((group) => {
    const inGroup = tasks.filter((t) => t.group === group);
    return { group, ...tally(inGroup.reduce((s, t) => s + t.total, 0), inGroup.reduce((s, t) => s + t.correct, 0)) };
  });
  const total = tasks.reduce((s, t) => s + t.total, 0);
  return { questions: questions.length, unanswered, tasks, groups, overall: tally(total, tasks.reduce((s, t) => s + t.correct, 0)) };
}

const pct = (x: number) => (x * 100).toFixed(2).padStart(7);

/** The human table: per task with the official abbreviations, per group, overall. */
export function formatScoreTable(scores: Scores): string {
  const lines = [`${'task'.padEnd(44)}${'n'.padStart(6)}${'correct'.padStart(9)}${'acc %'.padStart(9)}`];
  for (const g of scores.groups) {
    lines.push(g.group);
    for (const t of scores.tasks.filter((t) => t.group === g.group)) {
      lines.push(`  ${t.abbreviation.padEnd(5)}${t.task_type.padEnd(37)}${String(t.total).padStart(6)}${String(t.correct).padStart(9)}  ${pct(t.accuracy)}`);
      if (t.time_correct !== undefined) lines.push(`  ${''.padEnd(5)}${'  answered within ±2 s'.padEnd(37)}${''.padStart(6)}${String(t.time_correct).padStart(9)}  ${pct(t.time_accuracy!)}`);
    }
    lines.push(`  ${'All'.padEnd(42)}${String(g.total).padStart(6)}${String(g.correct).padStart(9)}  ${pct(g.accuracy)}`);
  }
  lines.push(`${'Overall (per question)'.padEnd(44)}${String(scores.overall.total).padStart(6)}${String(scores.overall.correct).padStart(9)}  ${pct(scores.overall.accuracy)}`);
  if (scores.unanswered) lines.push(`${scores.unanswered} of ${scores.questions} questions have no response and are not counted (as in count.py)`);
  return lines.join('\n');
}

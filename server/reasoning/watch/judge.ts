import type { Reasoner } from '../llm/types.ts';
import type { WatchJudge } from './types.ts';

/** The reasoner as a watch judge, when it can judge (a language model); the embedded answerer cannot. */
export function reasonerJudge(reasoner: Reasoner): WatchJudge | undefined {
  if (!reasoner.judgeWatch) return undefined;
  return { judge: (question, facts, keyframeJpeg, signal) => reasoner.judgeWatch!(question, facts, keyframeJpeg, signal) };
}

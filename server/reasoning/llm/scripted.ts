import type { Reasoner, ReasonerDelta } from './types.ts';

/**
 * An answer whose words are already known (a watch's confirmation, a proactive announcement):
 * it goes through the same Response as any answer — events, speech, barge-in, memory — but
 * nothing is asked of a model.
 */
export function scriptedReasoner(text: string): Reasoner {
  return {
    name: 'scripted',
    usesLanguageModel: false,
    async *respond(_request, signal): AsyncIterable<ReasonerDelta> {
      if (!signal.aborted) yield { type: 'text', text };
    },
    async close() {},
  };
}

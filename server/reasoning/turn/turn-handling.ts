import { checkInstruction, defaultInstructionFilterOptions, type InstructionFilterOptions } from './instruction-filter.ts';

/** What happens once a user turn has its transcript. */
export interface TurnHandlingOptions {
  /** `turn_detection.create_response`: a finished turn is answered. @defaultValue true */
  createResponse: boolean;
  /** Which utterances count as addressed to the assistant. */
  filter: InstructionFilterOptions;
}

export const defaultTurnHandlingOptions: TurnHandlingOptions = { createResponse: true, filter: { ...defaultInstructionFilterOptions } };

export type TurnVerdict =
  | { kind: 'answer' }
  /** Ask the language model whether the words were meant for the assistant, then answer. */
  | { kind: 'ask_reasoner' }
  | { kind: 'ignore'; reason: string }
  /** Turn detection does not answer (manual responses, or create_response false). */
  | { kind: 'silent' };

export interface TurnFacts {
  text: string;
  /** The user already speaks again: their next turn gets the answer. */
  userSpeaking: boolean;
  /** The reasoner can judge whether words are addressed to it. */
  reasonerJudges: boolean;
}

/** Decides whether a finished user turn gets an answer. Pure, so it is testable alone. */
export function decideTurn(options: TurnHandlingOptions, facts: TurnFacts): TurnVerdict {
  if (!options.createResponse) return { kind: 'silent' };
  const verdict = checkInstruction(facts.text, options.filter);
  if (!verdict.accept) return { kind: 'ignore', reason: verdict.reason };
  if (facts.userSpeaking) return { kind: 'ignore', reason: 'user_continued' };
  if (options.filter.mode === 'llm' && facts.reasonerJudges) return { kind: 'ask_reasoner' };
  return { kind: 'answer' };
}

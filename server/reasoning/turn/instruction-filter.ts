import { tokenize } from '../../../memory/index.ts';

/**
 * Decides whether a finished user turn should start a response. The reference system asks
 * the LLM "is this an instruction?"; we first drop what is obviously not one, cheaply.
 */
export interface InstructionFilterOptions {
  /** 'off': every non-empty turn is answered. 'rules': fillers and fragments are dropped.
   *  'llm': rules, then the reasoner's own yes/no check when it has one. @defaultValue 'rules' */
  mode: 'off' | 'rules' | 'llm';
  /** Turns with fewer words are dropped unless they are a question. @defaultValue 2 */
  minWords: number;
  /** When set, only turns that mention this name (e.g. "omni") are answered. @defaultValue undefined */
  wakeWord?: string;
}

export const defaultInstructionFilterOptions = {
  mode: 'rules',
  minWords: 2,
} as const satisfies InstructionFilterOptions;

const FILLERS = new Set(
  ('um umm uh uhh uh-huh mm mmm mm-hm mhm hmm hm ah oh eh er erm enn en ok okay yeah yep yes no nope right ' +
    'so well like alright sure huh wow hey hi hello thanks thank you bye').split(' '),
);

const QUESTION_START = new Set(
  ('what where when who whom whose why how which is are was were do does did can could would will should ' +
    'tell show describe remind find help explain read list count give say repeat summarize').split(' '),
);

/** A question or a request ("what…", "tell me…", "…?"), as opposed to a statement. */
export function isQuestion(text: string): boolean {
  const content = tokenize(text).filter((w) => !FILLERS.has(w));
  return content.length > 0 && (QUESTION_START.has(content[0]!) || /\?\s*$/.test(text));
}

export type FilterVerdict = { accept: true } | { accept: false; reason: 'empty' | 'filler' | 'fragment' | 'not_addressed' };

export function checkInstruction(text: string, options: InstructionFilterOptions = defaultInstructionFilterOptions): FilterVerdict {
  const words = tokenize(text);
  if (words.length === 0) return { accept: false, reason: 'empty' };
  if (options.mode === 'off') return { accept: true };
  if (words.every((w) => FILLERS.has(w))) return { accept: false, reason: 'filler' };
  if (options.wakeWord && !words.includes(options.wakeWord.toLowerCase())) return { accept: false, reason: 'not_addressed' };
  const content = words.filter((w) => !FILLERS.has(w));
  if (!isQuestion(text) && content.length < options.minWords) return { accept: false, reason: 'fragment' };
  return { accept: true };
}

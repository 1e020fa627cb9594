export { TranscriptLog, tokenize, contentWords } from './transcript-log.ts';
export type { Utterance, UtteranceHit } from './transcript-log.ts';

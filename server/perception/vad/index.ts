export { SileroVad, SileroStream, SILERO_FRAME, SILERO_SAMPLE_RATE, defaultSileroModelPath } from './silero.ts';
export { SpeechSegmenter, defaultServerVadOptions } from './segmenter.ts';
export type { ServerVadOptions, SegmenterEvent } from './segmenter.ts';
export type { VadEngine, VadStream } from './types.ts';

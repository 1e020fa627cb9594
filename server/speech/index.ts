export { SentenceChunker } from './sentence-chunker.ts';
export { FliteTts, FLITE_VOICES } from './tts/flite.ts';
export type { FliteVoice } from './tts/flite.ts';
export { RemoteTts } from './tts/remote.ts';
export type { RemoteTtsOptions } from './tts/remote.ts';
export type { TtsEngine, SpeechAudio, SynthesizeOptions } from './tts/types.ts';

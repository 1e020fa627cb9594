/**
 * Sound events: alarms, sirens, knocks, music and speech heard in a session's audio.
 *
 * createSoundEngine() picks the engine: an AudioSet tagging model from `<models>/sound-events/`
 * when one is there (audio-tagger.ts), else the signal-processing detectors (signal-detector.ts).
 */
import { defaultModelsDir } from '../embedding/index.ts';
import { findSoundModel, loadAudioTagger, type AudioTaggerOptions } from './audio-tagger.ts';
import { SignalSoundEngine, type SignalSoundOptionsInput } from './signal-detector.ts';
import type { SoundEventEngine } from './types.ts';

export { SOUND_LABELS } from './types.ts';
export type { SoundEvent, SoundEventEngine, SoundEventSink, SoundEventStream, SoundLabel } from './types.ts';
export { SignalSoundEngine, SignalSoundStream, defaultSignalSoundOptions, resolveSignalSoundOptions } from './signal-detector.ts';
export type { SignalSoundOptions, SignalSoundOptionsInput } from './signal-detector.ts';
export { AudioTaggerEngine, SOUND_EVENTS_DIR, defaultAudioTaggerOptions, findSoundModel, loadAudioTagger } from './audio-tagger.ts';
export type { AudioTaggerOptions } from './audio-tagger.ts';
export { AudioTaggerStream } from './tagger-stream.ts';
export { readLabels, soundLabelOf } from './audioset-labels.ts';
export { defaultTonalOptions } from './tonal-detector.ts';
export type { TonalOptions } from './tonal-detector.ts';
export { defaultKnockOptions } from './transient-detector.ts';
export type { KnockOptions } from './transient-detector.ts';
export { defaultTextureOptions } from './texture-detector.ts';
export type { TextureOptions } from './texture-detector.ts';

export interface SoundEngineConfig {
  /** Where `sound-events/*.onnx` is looked for. @defaultValue defaultModelsDir() (OMNILIVE_MODELS or ~/.omnilive/models) */
  modelsDir?: string;
  /** Options of the model engine, when a model is there. */
  model?: Partial<AudioTaggerOptions>;
  /** Options of the signal engine, when none is. */
  signal?: SignalSoundOptionsInput;
}

/**
 * The model engine when `<modelsDir>/sound-events/` holds a model, else the signal engine. A
 * model that is there but does not fit the contract is an error (naming what is wrong), not a
 * silent fallback: whoever put it there wants to know.
 */
export async function createSoundEngine({ modelsDir = defaultModelsDir(), model, signal }: SoundEngineConfig = {}): Promise<SoundEventEngine> {
  const file = findSoundModel(modelsDir);
  return file ? loadAudioTagger(file, model) : new SignalSoundEngine(signal);
}

import { concatPcm } from '../../server/audio/pcm.ts';
import { Resampler } from '../../server/audio/resampler.ts';
import { FliteTts, type FliteVoice } from '../../server/speech/index.ts';

let tts: FliteTts | undefined;

/** Speech for tests: Flite's CMU voices, which pocketsphinx transcribes reliably. */
export async function speak(text: string, { voice = 'slt', rate = 16000 }: { voice?: FliteVoice; rate?: number } = {}): Promise<Int16Array> {
  tts ??= new FliteTts(voice);
  const audio = await tts.synthesize(text, { voice });
  return Resampler.convert(audio.pcm, audio.sampleRate, rate);
}

export function silence(ms: number, rate = 16000): Int16Array {
  return new Int16Array(Math.round((rate * ms) / 1000));
}

/** Joins speech and silences into one signal. */
export function sequence(...parts: Int16Array[]): Int16Array {
  return concatPcm(parts);
}

export async function closeSpeech(): Promise<void> {
  await tts?.close();
  tts = undefined;
}

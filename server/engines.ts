import type { OmniLiveConfig } from './config.ts';
import type { AsrEngine } from './perception/asr/types.ts';
import { RemoteAsrEngine } from './perception/asr/remote.ts';
import { SileroVad } from './perception/vad/index.ts';
import { EmbeddedAnswerer, OpenAICompatibleReasoner, type Reasoner } from './reasoning/index.ts';
import { FliteTts, RemoteTts, type FliteVoice, type TtsEngine } from './speech/index.ts';
import type { SessionEngines } from './session/session.ts';

/** Loads the engines the configuration names. Shared by every session of a process. */
export async function createEngines(config: OmniLiveConfig): Promise<SessionEngines & { close(): Promise<void> }> {
  const vad = await SileroVad.load();
  let asr: AsrEngine;
  if (config.asr.engine === 'remote') {
    asr = new RemoteAsrEngine({ baseURL: config.asr.url!, model: config.asr.model ?? 'whisper-1', apiKey: config.asr.apiKey, language: config.asr.language });
  } else {
    const { PocketsphinxAsrEngine } = await import('./perception/asr/pocketsphinx.ts');
    asr = new PocketsphinxAsrEngine();
  }
  const reasoner: Reasoner = config.llm.url
    ? new OpenAICompatibleReasoner({ baseURL: config.llm.url, model: config.llm.model!, apiKey: config.llm.apiKey })
    : new EmbeddedAnswerer();
  const tts: TtsEngine =
    config.tts.engine === 'remote'
      ? new RemoteTts({ baseURL: config.tts.url!, model: config.tts.model ?? 'tts-1', voice: config.tts.voice, apiKey: config.tts.apiKey })
      : new FliteTts(config.tts.voice as FliteVoice);
  return {
    vad,
    asr,
    reasoner,
    tts,
    async close() {
      await Promise.allSettled([vad.close(), asr.close(), reasoner.close(), tts.close()]);
    },
  };
}

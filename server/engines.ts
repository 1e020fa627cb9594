import type { OmniLiveConfig } from './config.ts';
import type { Logger } from './logger.ts';
import type { AsrEngine } from './perception/asr/types.ts';
import { RemoteAsrEngine } from './perception/asr/remote.ts';
import { SileroVad } from './perception/vad/index.ts';
import { findEndOfTurnModel, loadEndOfTurnModel } from './reasoning/turn/end-of-turn-model.ts';
import { EmbeddedAnswerer, OpenAICompatibleReasoner, type Reasoner } from './reasoning/index.ts';
import { FliteTts, RemoteTts, type FliteVoice, type TtsEngine } from './speech/index.ts';
import type { SessionEngines } from './session/session.ts';
import { MemoryStore } from '../memory/index.ts';
import { findEmbeddingModel } from './perception/embedding/index.ts';
import { sceneDescriptorAsync, sceneSimilarity } from './perception/kernels/index.ts';
import { FactsHost } from './perception/video/facts-host.ts';
import { FrameFactsScheduler } from './perception/video/facts.ts';
import type { SceneComparer } from './perception/video/pipeline.ts';

/** Scene cuts from the native colour/layout descriptor. */
export const descriptorComparer: SceneComparer = {
  name: 'native-descriptor',
  describe: (image) => sceneDescriptorAsync(image),
  similarity: sceneSimilarity,
};

function cosine(a: Float32Array, b: Float32Array): number {
  let dot = 0;
  for (let i = 0; i < a.length; i++) dot += a[i]! * b[i]!;
  return dot; // both are L2-normalized
}

/** Keyframe facts in a child process; scene cuts by embeddings when a model is present. */
export async function createVision(config: OmniLiveConfig): Promise<{ vision: NonNullable<SessionEngines['vision']>; close(): Promise<void> }> {
  const { ocr, objects, people, modelsDir } = config.vision;
  const host = await FactsHost.start({ ocr, objects, people, embedding: findEmbeddingModel(modelsDir) });
  const embed = host.embed;
  const comparer: SceneComparer = embed
    ? { name: `embedding:${host.names.embedder}`, describe: (image) => embed(image), similarity: cosine }
    : descriptorComparer;
  return { vision: { comparer, facts: new FrameFactsScheduler(host) }, close: () => host.close() };
}

export interface EngineOptions {
  /** The process's logger, for the engines that log. @defaultValue silentLogger */
  logger?: Logger;
}

/** Loads the engines the configuration names. Shared by every session of a process. */
export async function createEngines(config: OmniLiveConfig, options: EngineOptions = {}): Promise<SessionEngines & { close(): Promise<void> }> {
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
      : new FliteTts(config.tts.voice as FliteVoice, { logger: options.logger });
  const seeing = config.vision.enabled ? await createVision(config) : undefined;
  // semantic_vad's end-of-turn model, when the user put one in the models dir.
  const turnModelFile = findEndOfTurnModel(config.vision.modelsDir);
  const turnDetector = turnModelFile ? await loadEndOfTurnModel(turnModelFile) : undefined;
  const memory = config.memory.enabled
    ? await MemoryStore.open({
        uri: config.memory.uri,
        retention: { maxAgeMs: config.memory.maxAgeMs, maxBytes: config.memory.maxBytes },
        logger: options.logger,
      })
    : undefined;
  return {
    vad,
    asr,
    reasoner,
    tts,
    vision: seeing?.vision,
    memory,
    turnDetector,
    async close() {
      await Promise.allSettled([vad.close(), asr.close(), reasoner.close(), tts.close(), seeing?.close(), memory?.close(), turnDetector?.close()]);
    },
  };
}

import type { OmniLiveConfig } from './config.ts';
import type { Logger } from './logger.ts';
import type { AsrEngine } from './perception/asr/types.ts';
import { RemoteAsrEngine } from './perception/asr/remote.ts';
import { SileroVad } from './perception/vad/index.ts';
import { createSoundEngine } from './perception/sound/index.ts';
import { WatchBook, memoryWatchStorage } from './reasoning/watch/watch-book.ts';
import { findEndOfTurnModel, loadEndOfTurnModel } from './reasoning/turn/end-of-turn-model.ts';
import { EmbeddedAnswerer, OpenAICompatibleReasoner, type Reasoner } from './reasoning/index.ts';
import { FliteTts, RemoteTts, type FliteVoice, type TtsEngine } from './speech/index.ts';
import type { SessionEngines } from './session/session.ts';
import { MemoryStore } from '../memory/index.ts';
import { findEmbeddingModel } from './perception/embedding/index.ts';
import { sceneDescriptorAsync, sceneSimilarity } from './perception/kernels/index.ts';
import { FactsHost } from './perception/video/facts-host.ts';
import type { RestartPolicy } from './child-rpc.ts';
import { EngineHealth, watchMemoryHealth, type EngineStatusSink } from './ops/engine-health.ts';
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
export async function createVision(
  config: OmniLiveConfig,
  supervision: { health?: EngineStatusSink; restart?: Partial<RestartPolicy> } = {},
): Promise<{ vision: NonNullable<SessionEngines['vision']>; close(): Promise<void> }> {
  const { ocr, objects, people, modelsDir } = config.vision;
  const host = await FactsHost.start({ ocr, objects, people, embedding: findEmbeddingModel(modelsDir), restart: supervision.restart }, supervision.health);
  const embed = host.embed;
  const comparer: SceneComparer = embed
    ? { name: `embedding:${host.names.embedder}`, describe: (image) => embed(image), similarity: cosine }
    : descriptorComparer;
  return { vision: { comparer, facts: new FrameFactsScheduler(host) }, close: () => host.close() };
}

export interface EngineOptions {
  /** The process's logger, for the engines that log. @defaultValue silentLogger */
  logger?: Logger;
  /** How engine child processes restart after crashes. @defaultValue defaultRestartPolicy */
  restart?: Partial<RestartPolicy>;
}

/** Loads the engines the configuration names. Shared by every session of a process. */
export async function createEngines(config: OmniLiveConfig, options: EngineOptions = {}): Promise<SessionEngines & { health: EngineHealth; close(): Promise<void> }> {
  // Which engines are off right now (crash loops, a full disk); sessions attach to it.
  const health = new EngineHealth({ logger: options.logger });
  const supervision = { health, restart: options.restart };
  const vad = await SileroVad.load();
  let asr: AsrEngine;
  if (config.asr.engine === 'remote') {
    asr = new RemoteAsrEngine({ baseURL: config.asr.url!, model: config.asr.model ?? 'whisper-1', apiKey: config.asr.apiKey, language: config.asr.language });
  } else {
    const { PocketsphinxAsrEngine } = await import('./perception/asr/pocketsphinx.ts');
    asr = new PocketsphinxAsrEngine();
  }
  const reasoner: Reasoner = config.llm.url
    ? new OpenAICompatibleReasoner({ baseURL: config.llm.url, model: config.llm.model!, apiKey: config.llm.apiKey, firstTokenTimeoutMs: config.llm.firstTokenTimeoutMs, idleTimeoutMs: config.llm.idleTimeoutMs })
    : new EmbeddedAnswerer();
  const tts: TtsEngine =
    config.tts.engine === 'remote'
      ? new RemoteTts({ baseURL: config.tts.url!, model: config.tts.model ?? 'tts-1', voice: config.tts.voice, apiKey: config.tts.apiKey })
      : new FliteTts(config.tts.voice as FliteVoice, { logger: options.logger, ...supervision });
  const seeing = config.vision.enabled ? await createVision(config, supervision) : undefined;
  // semantic_vad's end-of-turn model, when the user put one in the models dir.
  const turnModelFile = findEndOfTurnModel(config.vision.modelsDir);
  const turnDetector = turnModelFile ? await loadEndOfTurnModel(turnModelFile) : undefined;
  const memory = config.memory.enabled
    ? await MemoryStore.open({
        uri: config.memory.uri,
        retention: { maxAgeMs: config.memory.maxAgeMs, maxBytes: config.memory.maxBytes },
        cacheBytes: { index: Math.round((config.memory.cacheBytes * 2) / 3), metadata: Math.round(config.memory.cacheBytes / 3) },
        logger: options.logger,
      })
    : undefined;
  if (memory) watchMemoryHealth(memory, health);
  // Sounds other than words: an AudioSet model from the models dir, else the signal detectors.
  const sounds = await createSoundEngine({ modelsDir: config.vision.modelsDir });
  const watches = new WatchBook({ storage: memory && memoryWatchStorage(memory) });
  // A user forgotten through the API must not keep watches alive in this process.
  memory?.on('forgotten', ({ memoryId }) => watches.forgetCached(memoryId));
  return {
    health,
    vad,
    asr,
    reasoner,
    tts,
    vision: seeing?.vision,
    memory,
    turnDetector,
    sounds,
    watches,
    async close() {
      await Promise.allSettled([vad.close(), asr.close(), reasoner.close(), tts.close(), seeing?.close(), memory?.close(), turnDetector?.close(), sounds.close()]);
    },
  };
}

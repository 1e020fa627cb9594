import type { MemoryStore } from '../../memory/index.ts';
import type { AsrEngine } from '../perception/asr/types.ts';
import type { VadEngine } from '../perception/vad/index.ts';
import type { FrameFactsScheduler } from '../perception/video/facts.ts';
import type { SceneComparer } from '../perception/video/pipeline.ts';
import type { Reasoner } from '../reasoning/index.ts';
import type { EndOfTurnModel } from '../reasoning/turn/end-of-turn-model.ts';
import type { TtsEngine } from '../speech/index.ts';
import type { SoundEventEngine } from '../perception/sound/types.ts';
import type { EngineHealth } from '../ops/engine-health.ts';
import type { WatchBook } from '../reasoning/watch/watch-book.ts';

/** The models a session uses; shared by all sessions of a server, never owned by one. */
export interface SessionEngines {
  vad: VadEngine;
  asr: AsrEngine;
  reasoner: Reasoner;
  tts: TtsEngine;
  /** Absent: the session hears but does not see. */
  vision?: { comparer: SceneComparer; facts: FrameFactsScheduler };
  /** Absent: nothing outlives the session. */
  memory?: MemoryStore;
  /** semantic_vad's end-of-turn model; absent: rules over the words and the pitch decide. */
  turnDetector?: EndOfTurnModel;
  /** Labels sounds other than words; absent: the session hears speech only. */
  sounds?: SoundEventEngine;
  /** Which engines are down (a child crashing in a loop, a full disk); the server tells its sessions. */
  health?: EngineHealth;
  /** The server's watches, shared by its sessions; absent: each session keeps its own, in RAM. */
  watches?: WatchBook;
}

/** Which engine plays each role, as clients and reports show it. */
export function describeEngines(engines: SessionEngines): Record<string, unknown> {
  return {
    vad: engines.vad.name,
    asr: engines.asr.name,
    reasoner: engines.reasoner.name,
    language_model: engines.reasoner.usesLanguageModel,
    notice: engines.reasoner.notice ?? null,
    tts: engines.tts.name,
    scene: engines.vision?.comparer.name ?? null,
    ocr: engines.vision?.facts.reader.names.ocr ?? null,
    objects: engines.vision?.facts.reader.names.objects ?? null,
    image_embedding: engines.vision?.facts.reader.names.embedder ?? null,
    turn_detector: engines.turnDetector?.name ?? 'rules',
    sound_events: engines.sounds?.name ?? null,
    watches: engines.watches?.durable ? 'memory' : 'session',
  };
}

/**
 * What an answer may draw on besides the conversation: the user's long-term memory, the scene
 * on screen, and the server's own tools over them. One place that knows which of these a
 * session has (memory on or off, video or none, a language model or the embedded answerer).
 */
import { ClientError } from '../errors.ts';
import type { MemoryHit } from '../../memory/types.ts';
import type { ContextSources } from '../reasoning/index.ts';
import { serverTools, type ServerTool } from '../reasoning/tools/server-tools.ts';
import { memoryHitToWire } from '../protocol/memory-wire.ts';
import type { ServerEventBody } from '../protocol/server-events.ts';
import type { SessionEngines } from './engines.ts';
import type { SessionSettings } from './types.ts';
import type { VisualMemory } from './visual-memory.ts';

export interface KnowledgeHost {
  readonly memoryId: string;
  readonly mediaMs: number;
  readonly settings: SessionSettings;
  emit(event: ServerEventBody): void;
}

export class SessionKnowledge {
  readonly #engines: SessionEngines;
  readonly #visual: VisualMemory | undefined;
  readonly #host: KnowledgeHost;

  constructor(engines: SessionEngines, visual: VisualMemory | undefined, host: KnowledgeHost) {
    this.#engines = engines;
    this.#visual = visual;
    this.#host = host;
  }

  /** omnilive.memory.search, and retrieval for answers: this session's memory id only. */
  async searchMemory(text: string, limit: number, signal?: AbortSignal): Promise<MemoryHit[]> {
    const memory = this.#engines.memory;
    if (!memory) throw new ClientError('memory_unavailable', 'long-term memory is off on this server');
    await memory.flush({ signal }); // what was just said or seen counts too
    return memory.query(this.#host.memoryId).text(text).at(this.#host.mediaMs, Date.now()).limit(limit).toArray({ signal });
  }

  reportMemoryResults(query: string, hits: MemoryHit[]): void {
    this.#host.emit({ type: 'omnilive.memory.results', query, results: hits.map(memoryHitToWire) });
  }

  /** memory_search and current_view, when a language model can call them and the client left them on. */
  serverTools(): ServerTool[] {
    if (!this.#host.settings.builtinTools || !this.#engines.reasoner.usesLanguageModel) return [];
    const visual = this.#visual;
    return serverTools({
      searchMemory: this.#engines.memory && ((query, limit, signal) => this.searchMemory(query, limit, signal)),
      reportMemory: (query, hits) => this.reportMemoryResults(query, hits),
      currentView: visual && (() => visual.recentClips.slice(-3).map((c) => ({ startMs: c.startMs, endMs: c.endMs, ocrText: c.facts.ocr.map((l) => l.text).join(' '), objects: c.facts.objects }))),
    });
  }

  contextSources(): ContextSources {
    const visual = this.#visual;
    const memory = this.#engines.memory;
    return {
      clock: this.#host.settings.clock,
      cutScene: visual && (() => visual.cut()),
      searchMemory: memory && ((text, limit, signal) => this.searchMemory(text, limit, signal)),
      // Only a language model looks at frames; the embedded answerer reads facts.
      currentImages: visual && this.#engines.reasoner.usesLanguageModel ? (count) => visual.currentImages(count) : undefined,
      currentView: visual && (() => visual.currentView()),
    };
  }
}

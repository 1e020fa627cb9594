import type { MemoryHit } from '../../../memory/types.ts';
import { formatMediaTime } from '../llm/media-clock.ts';
import type { ToolSpec } from '../llm/types.ts';

/**
 * Tools the server runs itself when a language model calls them (the client never sees these
 * calls): `memory_search` lets the model look further back than the memory fetched for the
 * question, `current_view` tells it what is on screen now.
 */
export interface ServerTool {
  spec: ToolSpec;
  /** Runs the call; `args` is the model's JSON text. The result is text for the model. */
  run(args: string, signal: AbortSignal): Promise<string>;
}

/** What the built-in tools read: each is offered only when its source exists. */
export interface ServerToolSources {
  /** Long-term memory of this session's user; `report` also shows the hits to the client. */
  searchMemory?(query: string, limit: number, signal: AbortSignal): Promise<MemoryHit[]>;
  reportMemory?(query: string, hits: MemoryHit[]): void;
  /** The latest clips' facts, newest last. */
  currentView?(): { startMs: number; endMs: number; ocrText: string; objects: { label: string; count: number }[] }[];
}

/** A tool's arguments, or an explanation the model can act on. */
function parseArgs(args: string): Record<string, unknown> | string {
  try {
    const parsed = JSON.parse(args || '{}') as unknown;
    return typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed) ? (parsed as Record<string, unknown>) : 'the arguments must be a JSON object';
  } catch (error) {
    return `the arguments are not valid JSON: ${(error as Error).message}`;
  }
}

export function serverTools(sources: ServerToolSources): ServerTool[] {
  const tools: ServerTool[] = [];
  const { searchMemory, currentView } = sources;
  if (searchMemory) {
    tools.push({
      spec: {
        name: 'memory_search',
        description: "Search the user's long-term memory (what was heard and seen, in this and earlier sessions) by words and time. Use it when the memory already given does not answer.",
        parameters: {
          type: 'object',
          properties: {
            query: { type: 'string', description: 'What to look for' },
            from_ms: { type: 'number', description: 'Earliest media time, ms (optional)' },
            to_ms: { type: 'number', description: 'Latest media time, ms (optional)' },
            limit: { type: 'integer', minimum: 1, maximum: 20, description: 'How many results (default 8)' },
          },
          required: ['query'],
          additionalProperties: false,
        },
      },
      async run(args, signal) {
        const parsed = parseArgs(args);
        if (typeof parsed === 'string') return `error: ${parsed}`;
        if (typeof parsed.query !== 'string' || !parsed.query.trim()) return 'error: query must be a non-empty string';
        const limit = typeof parsed.limit === 'number' ? Math.min(20, Math.max(1, Math.round(parsed.limit))) : 8;
        const from = typeof parsed.from_ms === 'number' ? parsed.from_ms : -Infinity;
        const to = typeof parsed.to_ms === 'number' ? parsed.to_ms : Infinity;
        const hits = (await searchMemory(parsed.query, limit, signal)).filter((h) => h.endMs >= from && h.startMs <= to);
        sources.reportMemory?.(parsed.query, hits);
        if (hits.length === 0) return 'nothing found';
        return hits.map((h) => `[${formatMediaTime(h.startMs)}] ${h.kind === 'utterance' ? (h.utterance?.role === 'assistant' ? 'You said' : 'User said') : 'Saw'}: ${h.text}`).join('\n');
      },
    });
  }
  if (currentView) {
    tools.push({
      spec: {
        name: 'current_view',
        description: 'What the camera shows now: the latest scenes with the text read in them and the objects seen.',
        parameters: { type: 'object', properties: {}, additionalProperties: false },
      },
      async run() {
        const clips = currentView();
        if (clips.length === 0) return 'the camera has shown nothing yet';
        return clips
          .map((c) => {
            const objects = c.objects.map((o) => (o.count > 1 ? `${o.count} ${o.label}` : o.label)).join(', ');
            return `[${formatMediaTime(c.startMs)}–${formatMediaTime(c.endMs)}] text: ${c.ocrText || '(none)'}; objects: ${objects || '(none)'}`;
          })
          .join('\n');
      },
    });
  }
  return tools;
}

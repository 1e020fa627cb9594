import type { MemoryHit } from '../../memory/types.ts';
import type { FrameImage, SceneView } from './llm/types.ts';
import { expandQuery } from './vocabulary.ts';

/** How long a live answer waits for the facts of the scene on screen (the open clip, cut at the question). */
export const QUESTION_CLIP_WAIT_MS = 400;
/** Keyframes shown to a language model as "now" (IXC falls back to the last 3 frames). */
export const CURRENT_FRAMES = 3;

/** Where an answer's context comes from; each part is optional (a session may not see or remember). */
export interface ContextSources {
  /** 'media': wait for everything; 'live': never hold an answer long for the scene. */
  clock: 'live' | 'media';
  /** Cuts the clip still open at the question; resolves once it has its facts. */
  cutScene?(): Promise<unknown>;
  /** Long-term memory for the question (this session's user only). */
  searchMemory?(text: string, limit: number, signal: AbortSignal): Promise<MemoryHit[]>;
  /** The latest keyframes, for reasoners that look. */
  currentImages?(count: number): Promise<FrameImage[]>;
  /** The facts of the scene on screen (the newest clip, once the open one was cut). */
  currentView?(): SceneView | undefined;
}

export interface AnswerContext {
  evidence: MemoryHit[];
  images: FrameImage[];
  view?: SceneView;
}

/**
 * Gathers what an answer needs before the reasoner starts: the scene on screen (cut into a clip,
 * so it reaches memory and the recent clips like any other), memory for the question, and the
 * current frames. The future home of the `memory_search` and `current_view` tools.
 */
export async function gatherContext(sources: ContextSources, question: string, signal: AbortSignal): Promise<AnswerContext> {
  await sceneAtQuestion(sources, signal);
  signal.throwIfAborted();
  // Questions in ordinary words ("which vehicle…", "anyone smiling?") also look for the labels they mean.
  const evidence = question && sources.searchMemory ? await sources.searchMemory(searchWords(question), 8, signal) : [];
  signal.throwIfAborted();
  const images = sources.currentImages ? await sources.currentImages(CURRENT_FRAMES) : [];
  const view = sources.currentView?.();
  return { evidence, images, ...(view ? { view } : {}) };
}

/** The question with the words it implies (vocabulary.ts), for memory's text search. */
export function searchWords(question: string): string {
  const words: string[] = question.toLowerCase().match(/[a-z']+/g) ?? [];
  const added = expandQuery(words).filter((w) => !words.includes(w));
  return added.length ? `${question} ${added.join(' ')}` : question;
}

/**
 * On the media clock the answer waits for the open clip's facts; on the live clock at most
 * QUESTION_CLIP_WAIT_MS, after which it goes on without them (the clip still reaches memory when
 * its facts come, for later questions).
 */
async function sceneAtQuestion(sources: ContextSources, signal: AbortSignal): Promise<void> {
  const cut = sources.cutScene?.();
  if (!cut) return;
  if (sources.clock === 'media') {
    await cut;
    return;
  }
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<void>((resolve) => {
    timer = setTimeout(resolve, QUESTION_CLIP_WAIT_MS);
    signal.addEventListener('abort', () => resolve(), { once: true });
  });
  await Promise.race([cut, late]);
  clearTimeout(timer);
}

import { Session, type SessionEngines } from '../session/session.ts';
import type { SessionSettings, ServerEvent } from '../session/types.ts';
import { PLAY_RATE, playMedia } from './play.ts';

export interface IngestQuestion {
  /** Media time at which the question is typed into the session. */
  atMs: number;
  text: string;
}

export interface IngestOptions {
  file: string;
  engines: SessionEngines;
  /** 1: as if live (real time); 'max': as fast as the machine allows, same events. */
  speed: 1 | 'max';
  questions?: IngestQuestion[];
  settings?: Partial<SessionSettings>;
  onEvent: (event: ServerEvent) => void;
  onProgress?: (mediaMs: number, durationMs: number) => void;
  /** Long-term memory to write into. @defaultValue the session's own */
  memoryId?: string;
  /** Frames per second decoded from the video track (when the session can see). @defaultValue 1 */
  videoFps?: number;
  signal?: AbortSignal;
}

/**
 * Plays a media file into a fresh Session as if it were live. At 'max' speed the session
 * runs on the media clock and every question's answer completes before more audio flows, so
 * the events depend on the media alone.
 */
export async function ingestFile(options: IngestOptions): Promise<{ mediaMs: number; wallMs: number; sessionId: string; memoryId: string }> {
  const started = performance.now();
  const max = options.speed === 'max';
  const session = new Session({
    engines: options.engines,
    settings: { ...options.settings, inputRate: PLAY_RATE, clock: max ? 'media' : 'live' },
    memoryId: options.memoryId,
  });
  session.on('event', options.onEvent);
  const questions = [...(options.questions ?? [])].sort((a, b) => a.atMs - b.atMs);
  /** Types the questions due by `upTo` into the session, each answered before the next (at 'max'). */
  const ask = async (upTo: number) => {
    while (questions.length && questions[0]!.atMs <= upTo) {
      const q = questions.shift()!;
      if (max) await session.idle();
      session.addMessage('user', q.text);
      if (session.activeResponse) session.cancelResponse('client_cancelled');
      const response = session.createResponse();
      if (max) await response.start();
    }
  };
  try {
    await session.open();
    await playMedia({
      session,
      file: options.file,
      speed: options.speed,
      video: options.engines.vision !== undefined,
      videoFps: options.videoFps,
      at: ask,
      onProgress: options.onProgress,
      signal: options.signal,
    });
    await session.endAudio(); // sounds still going on at the end are reported
    await ask(Infinity);
    // A file that ends mid-sentence still ends the turn.
    if (session.utteranceOpen) session.commitAudio();
    await session.idle();
    const last = session.activeResponse;
    if (last) await last.start();
    await session.idle();
    await options.engines.memory?.flush();
    return { mediaMs: session.mediaMs, wallMs: performance.now() - started, sessionId: session.id, memoryId: session.memoryId };
  } finally {
    session.close();
  }
}

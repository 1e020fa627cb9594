import { pcm16FromBytes } from '../audio/pcm.ts';
import { sleep } from '../session/async-queue.ts';
import { Session, type SessionEngines } from '../session/session.ts';
import type { SessionSettings, ServerEvent } from '../session/types.ts';
import { decodeAudio, decodeVideo, type DecodedVideo } from './decode.ts';
import type { VideoFrame } from '../perception/video/types.ts';

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

/** Audio is appended in pieces of this length, as a live client would. */
const CHUNK_MS = 100;

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
    settings: { ...options.settings, inputRate: 16000, clock: max ? 'media' : 'live' },
    memoryId: options.memoryId,
  });
  session.on('event', options.onEvent);
  const decoded = decodeAudio(options.file);
  const questions = [...(options.questions ?? [])].sort((a, b) => a.atMs - b.atMs);
  const chunkBytes = (16000 * 2 * CHUNK_MS) / 1000;
  let mediaMs = 0;
  let pending: Buffer = Buffer.alloc(0);
  let video: DecodedVideo | undefined;
  const onAbort = () => {
    decoded.kill();
    video?.kill();
  };
  options.signal?.addEventListener('abort', onAbort, { once: true });
  try {
    await session.open();
    const info = await Promise.race([decoded.info, sleep(2000).then(() => ({ durationMs: 0, hasVideo: false }))]);
    const durationMs = info.durationMs;
    // The video track runs in its own ffmpeg; its frames join the timeline as audio passes them.
    if (info.hasVideo && options.engines.vision) video = decodeVideo(options.file, { fps: options.videoFps ?? session.settings.videoFps });
    const frames = video?.frames[Symbol.asyncIterator]();
    let nextFrame: VideoFrame | undefined | null; // null: no more frames
    const feedFrames = async (upTo: number) => {
      while (frames && nextFrame !== null) {
        if (nextFrame === undefined) {
          const r = await frames.next();
          nextFrame = r.done ? null : r.value;
          continue;
        }
        if (nextFrame.t > upTo) return;
        session.appendVideoFrame(nextFrame);
        nextFrame = undefined;
        // On the media clock every keyframe gets its facts: nothing is skipped for lack of time.
        if (max) await session.videoIdle();
      }
    };
    const ask = async (upTo: number) => {
      while (questions.length && questions[0]!.atMs <= upTo) {
        const q = questions.shift()!;
        if (max) await session.idle();
        session.addItem({ role: 'user', text: q.text });
        if (session.activeResponse) session.cancelResponse('client_cancelled');
        const response = session.createResponse();
        if (max) await response.start();
      }
    };
    for await (const data of decoded.stream as AsyncIterable<Buffer>) {
      pending = pending.length ? Buffer.concat([pending, data]) : data;
      while (pending.length >= chunkBytes) {
        const chunk = pending.subarray(0, chunkBytes);
        pending = pending.subarray(chunkBytes);
        await ask(mediaMs);
        if (!max) await sleep(Math.max(0, mediaMs - (performance.now() - started)), options.signal);
        session.appendAudio(pcm16FromBytes(chunk));
        mediaMs += CHUNK_MS;
        await feedFrames(mediaMs);
        if (max) {
          // On the media clock every turn is answered before more media flows: answers take no
          // media time, so the events depend on the media alone (and memory stays bounded).
          await session.idle();
          await session.activeResponse?.start();
        }
        options.onProgress?.(mediaMs, durationMs);
      }
    }
    await decoded.done;
    if (pending.length >= 2) session.appendAudio(pcm16FromBytes(pending));
    await feedFrames(Infinity);
    await video?.done;
    session.endVideo();
    await session.drained();
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
    options.signal?.removeEventListener('abort', onAbort);
    decoded.kill();
    video?.kill();
    session.close();
  }
}

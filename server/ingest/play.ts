import type { Readable } from 'node:stream';
import { pcm16FromBytes, samplesToMs } from '../audio/pcm.ts';
import { sleep } from '../session/async-queue.ts';
import type { Session } from '../session/session.ts';
import type { VideoFrame } from '../perception/video/types.ts';
import { decodeAudio, decodeVideo, fixedPieces, probeMedia } from './decode.ts';

/** The sample rate media is decoded at and appended with (the session's input rate must match). */
export const PLAY_RATE = 16000;
/** Audio is appended in pieces of this length, as a live client would. */
export const CHUNK_MS = 100;

/** 16 kHz pcm16 bytes → pieces of CHUNK_MS; the last piece may be shorter. */
export async function* pcmChunks(stream: Readable): AsyncGenerator<Int16Array> {
  const bytes = (PLAY_RATE * CHUNK_MS * 2) / 1000;
  for await (const piece of fixedPieces(stream as AsyncIterable<Buffer>, bytes, true)) if (piece.length >= 2) yield pcm16FromBytes(piece);
}

/** The media clock's rule: waits until audio, video, turns and any response have settled. */
export async function settle(session: Session): Promise<void> {
  await session.idle();
  for (let r = session.activeResponse; r; r = session.activeResponse) {
    await r.start();
    await session.idle();
  }
}

export interface PlayMediaOptions {
  /** An open session whose input rate is PLAY_RATE. */
  session: Session;
  file: string;
  /** 1: paced by the wall clock, as if live; 'max': as fast as the machine allows, and every
   *  frame's facts, turn and answer settle before more media flows (the media clock). */
  speed: 1 | 'max';
  /** Decode the video track, when the file has one; false for audio only. */
  video: boolean;
  /** Frames per second decoded from the video track. @defaultValue the session's videoFps */
  videoFps?: number;
  /**
   * Awaited before each piece of media plays, with how much has played (ms); once more when
   * all of it has, before the end is handled. Here a caller acts at media times (asks its
   * questions); 'stop' ends playback at once, with the end not handled.
   */
  at?: (playedMs: number) => Promise<void | 'stop'>;
  /** Where a frame at media time `t` goes on the session's timeline (later, when something
   *  else took session time, such as a spoken question). @defaultValue t */
  frameTime?: (t: number) => number;
  onProgress?: (playedMs: number, durationMs: number) => void;
  signal?: AbortSignal;
}

/**
 * Plays a media file into a session as a live client would: 100 ms pieces of audio, with the
 * video frames they pass. A file without audio plays silence under its frames, since the
 * session's media clock is the audio it has heard. Rejects before playing anything when the
 * file has neither audio nor video. At the end of the media the held frames become the last clip
 * (endVideo) and all audio is processed; speech still open is left for the caller to end.
 * Returns how much media played and whether it ran out (false: `at` stopped it).
 */
export async function playMedia(o: PlayMediaOptions): Promise<{ playedMs: number; durationMs: number; ended: boolean }> {
  const { session, signal } = o;
  const max = o.speed === 'max';
  const info = await probeMedia(o.file);
  const started = performance.now();
  // Audio and video each run in their own ffmpeg; frames join the timeline as audio passes them.
  const decoded = info.hasAudio ? decodeAudio(o.file, PLAY_RATE) : undefined;
  const video = o.video && info.hasVideo ? decodeVideo(o.file, { fps: o.videoFps ?? session.settings.videoFps }) : undefined;
  const kill = () => {
    decoded?.kill();
    video?.kill();
  };
  signal?.addEventListener('abort', kill, { once: true });
  try {
    let audio = decoded && pcmChunks(decoded.stream)[Symbol.asyncIterator]();
    const frames = video?.frames[Symbol.asyncIterator]();
    let playedMs = 0;
    let nextFrame: VideoFrame | null | undefined; // null: no more frames
    const peekFrame = async (): Promise<VideoFrame | null> => {
      while (frames && nextFrame === undefined) {
        const r = await frames.next();
        nextFrame = r.done ? null : r.value;
      }
      return nextFrame ?? null;
    };
    const nextAudio = async (): Promise<Int16Array | null> => {
      if (audio) {
        const r = await audio.next();
        if (!r.done) return r.value;
        audio = undefined;
        await decoded!.done; // the probe found an audio track: failing to decode it is an error
      }
      // Past the end of the audio, time passes in silence while frames last; with no audio
      // track at all, for the whole file (its last frame is a frame interval before its end).
      const more = (await peekFrame()) !== null || (!info.hasAudio && playedMs < info.durationMs);
      return more ? new Int16Array((PLAY_RATE * CHUNK_MS) / 1000) : null;
    };

    for (;;) {
      if (signal?.aborted) throw signal.reason;
      if ((await o.at?.(playedMs)) === 'stop') return { playedMs, durationMs: info.durationMs, ended: false };
      const chunk = await nextAudio();
      if (!chunk) break;
      if (!max) await sleep(Math.max(0, playedMs - (performance.now() - started)), signal);
      session.appendAudio(chunk);
      playedMs += samplesToMs(chunk.length, PLAY_RATE);
      for (let f = await peekFrame(); f && f.t <= playedMs; f = await peekFrame()) {
        session.appendVideoFrame(o.frameTime ? { ...f, t: o.frameTime(f.t) } : f);
        nextFrame = undefined;
        // On the media clock every keyframe gets its facts: nothing is skipped for lack of time.
        if (max) await session.videoIdle();
      }
      // On the media clock every turn is answered before more media flows: answers take no
      // media time, so the events depend on the media alone (and memory stays bounded).
      if (max) await settle(session);
      o.onProgress?.(playedMs, info.durationMs);
    }
    // A video track that the probe found and ffmpeg could not decode is an error, as the audio's is.
    await video?.done;
    session.endVideo();
    await session.drained();
    return { playedMs, durationMs: info.durationMs, ended: true };
  } finally {
    signal?.removeEventListener('abort', kill);
    kill();
  }
}

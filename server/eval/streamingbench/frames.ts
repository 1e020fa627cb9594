/**
 * The frames the official prefix evaluation shows a model. `split_video` cuts [start, t) with
 * start = max(0, t − C) (C ≤ 0: from the start); the model wrapper then takes one frame per
 * second of that clip (frame indices 0, fps, 2·fps, … — seconds start, start+1, …, t−1) and,
 * past its frame budget (64 for MiniCPM-V), samples it uniformly: index ⌊i·gap + gap/2⌋ with
 * gap = n / budget.
 */
import { decodeVideo, probeMedia } from '../../ingest/decode.ts';
import type { VideoFrame } from '../../perception/video/types.ts';

/** The seconds of the video shown for a question at `t` s with `context` s before it. */
export function prefixFrameTimes(t: number, context: number, maxFrames = 64): number[] {
  const start = context > 0 ? Math.max(0, t - context) : 0;
  const all: number[] = [];
  for (let s = start; s < t; s++) all.push(s);
  if (all.length <= maxFrames) return all;
  const gap = all.length / maxFrames;
  return Array.from({ length: maxFrames }, (_, i) => all[Math.floor(i * gap + gap / 2)]!);
}

/**
 * Decodes one frame per second of a video once and keeps what `read` makes of the seconds
 * asked for (facts or a JPEG), so the frames several questions share are read once.
 * Resolves with the seconds found (a video shorter than asked simply has fewer, a file with
 * sound only none); `onFrame` hears of every second decoded.
 */
export async function readFramesAt<T>(file: string, seconds: ReadonlySet<number>, read: (frame: VideoFrame) => Promise<T>, signal?: AbortSignal, onFrame?: () => void): Promise<Map<number, T>> {
  const out = new Map<number, T>();
  if (seconds.size === 0) return out;
  const last = Math.max(...seconds);
  // Sound alone has no frames to show (a file with neither stream is an error, from the probe).
  if (!(await probeMedia(file)).hasVideo) return out;
  const video = decodeVideo(file, { fps: 1 });
  const onAbort = () => video.kill();
  signal?.addEventListener('abort', onAbort, { once: true });
  try {
    let complete = false;
    for await (const frame of video.frames) {
      const s = Math.round(frame.t / 1000);
      if (seconds.has(s)) out.set(s, await read(frame));
      onFrame?.();
      if (s >= last || signal?.aborted) {
        complete = true;
        video.kill(); // before leaving the loop closes the pipe: ffmpeg then ends by our signal, not an error
        break;
      }
    }
    // The whole video was read without reaching `last`: a decoding error must not pass as a short video.
    if (!complete) await video.done;
    return out;
  } finally {
    signal?.removeEventListener('abort', onAbort);
    video.kill();
  }
}

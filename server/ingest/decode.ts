import ffmpegInstaller from '@ffmpeg-installer/ffmpeg';
import ffmpeg from 'fluent-ffmpeg';
import { PassThrough, type Readable } from 'node:stream';
import type { VideoFrame } from '../perception/video/types.ts';

/** The ffmpeg binary shipped in the @ffmpeg-installer npm package (no system ffmpeg needed). */
export const FFMPEG_PATH = ffmpegInstaller.path;

export interface MediaInfo {
  durationMs: number;
  hasVideo: boolean;
}

export interface DecodedAudio {
  /** Raw 16 kHz mono s16le. */
  stream: Readable;
  /** What ffmpeg reported of the file: duration in ms (0 when unknown) and whether it has video. */
  info: Promise<MediaInfo>;
  /** Resolves when ffmpeg exits cleanly; rejects with its error message otherwise. */
  done: Promise<void>;
  kill(): void;
}

/**
 * A byte stream cut into pieces of exactly `size` bytes, the way raw frames and pcm chunks
 * come out of ffmpeg; with `rest`, a shorter remainder comes last. Pieces are views into the
 * stream's buffers: copy what you keep.
 */
export async function* fixedPieces(stream: AsyncIterable<Buffer>, size: number, rest = false): AsyncGenerator<Buffer> {
  let pending: Buffer = Buffer.alloc(0);
  for await (const data of stream) {
    pending = pending.length ? Buffer.concat([pending, data]) : data;
    while (pending.length >= size) {
      yield pending.subarray(0, size);
      pending = pending.subarray(size);
    }
  }
  if (rest && pending.length > 0) yield pending;
}

function parseDuration(text: string | undefined): number {
  const m = /^(\d+):(\d+):(\d+(?:\.\d+)?)$/.exec(text ?? '');
  return m ? (Number(m[1]) * 3600 + Number(m[2]) * 60 + Number(m[3])) * 1000 : 0;
}

/** Decodes the audio track of any file ffmpeg reads to 16 kHz mono pcm16. */
export function decodeAudio(file: string, sampleRate = 16000): DecodedAudio {
  const out = new PassThrough();
  let resolveInfo!: (info: MediaInfo) => void;
  const info = new Promise<MediaInfo>((r) => (resolveInfo = r));
  const command = ffmpeg(file)
    .setFfmpegPath(FFMPEG_PATH)
    .noVideo()
    .audioChannels(1)
    .audioFrequency(sampleRate)
    .audioCodec('pcm_s16le')
    .format('s16le')
    .on('codecData', (data: { duration?: string; video?: string }) => resolveInfo({ durationMs: parseDuration(data.duration), hasVideo: !!data.video }));
  const done = new Promise<void>((resolve, reject) => {
    command.on('end', () => resolve());
    command.on('error', (error: Error, _stdout: string | null, stderr: string | null) => {
      const detail = stderr?.trim().split('\n').slice(-2).join(' ') ?? '';
      reject(new Error(`ffmpeg could not decode '${file}': ${error.message}${detail ? ` (${detail})` : ''}`));
    });
  });
  done.catch(() => {}).finally(() => resolveInfo({ durationMs: 0, hasVideo: false }));
  command.pipe(out, { end: true });
  return { stream: out, info, done, kill: () => command.kill('SIGKILL') };
}

export interface VideoDecodeOptions {
  /** Frames per second to sample. @defaultValue 1 */
  fps: number;
  /** Frames are scaled to fit this box (aspect kept, padded black). @defaultValue 640×360 */
  width: number;
  height: number;
}

export interface DecodedVideo {
  /** RGB24 frames at `fps`, t = media ms; read lazily, so ffmpeg waits for a slow reader. */
  frames: AsyncIterable<VideoFrame>;
  done: Promise<void>;
  kill(): void;
}

/** Decodes the first video track to RGB24 frames sampled at a fixed rate. */
export function decodeVideo(file: string, options: Partial<VideoDecodeOptions> = {}): DecodedVideo {
  const { fps = 1, width = 640, height = 360 } = options;
  const out = new PassThrough({ highWaterMark: width * height * 3 * 2 });
  const command = ffmpeg(file)
    .setFfmpegPath(FFMPEG_PATH)
    .noAudio()
    .videoFilters([
      `fps=${fps}`,
      `scale=${width}:${height}:force_original_aspect_ratio=decrease`,
      `pad=${width}:${height}:(ow-iw)/2:(oh-ih)/2`,
    ])
    .outputOptions(['-pix_fmt', 'rgb24'])
    .format('rawvideo');
  const done = new Promise<void>((resolve, reject) => {
    command.on('end', () => resolve());
    command.on('error', (error: Error, _stdout: string | null, stderr: string | null) => {
      if (/SIGKILL/.test(error.message)) return resolve();
      const detail = stderr?.trim().split('\n').slice(-2).join(' ') ?? '';
      reject(new Error(`ffmpeg could not decode the video of '${file}': ${error.message}${detail ? ` (${detail})` : ''}`));
    });
  });
  done.catch(() => {});
  command.pipe(out, { end: true });
  const frameBytes = width * height * 3;
  async function* frames(): AsyncIterable<VideoFrame> {
    let index = 0;
    for await (const piece of fixedPieces(out, width * height * 3)) {
      yield { t: Math.round((index++ * 1000) / fps), width, height, data: new Uint8Array(piece) };
    }
  }
  return { frames: frames(), done, kill: () => command.kill('SIGKILL') };
}

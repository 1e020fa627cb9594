import ffmpegInstaller from '@ffmpeg-installer/ffmpeg';
import { execFile } from 'node:child_process';
import ffmpeg from 'fluent-ffmpeg';
import { PassThrough, type Readable } from 'node:stream';
import type { VideoFrame } from '../perception/video/types.ts';

/** The ffmpeg binary shipped in the @ffmpeg-installer npm package (no system ffmpeg needed). */
export const FFMPEG_PATH = ffmpegInstaller.path;

export interface MediaInfo {
  /** 0 when unknown. */
  durationMs: number;
  hasAudio: boolean;
  hasVideo: boolean;
}

export interface DecodedAudio {
  /** Raw 16 kHz mono s16le. */
  stream: Readable;
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

/**
 * The streams of a file, from what `ffmpeg -i` prints (the npm package ships no ffprobe).
 * Rejects, naming the file, when it has no audio or video stream, so nothing starts decoding
 * a file it cannot play.
 */
export function probeMedia(file: string): Promise<MediaInfo> {
  return new Promise((resolve, reject) => {
    // With no output ffmpeg always exits 1 ("At least one output file must be specified"): stderr is the answer.
    execFile(FFMPEG_PATH, ['-hide_banner', '-nostdin', '-i', file], { timeout: 30_000, maxBuffer: 16 * 1024 * 1024 }, (error, _stdout, stderr) => {
      if (error?.killed) return reject(new Error(`ffmpeg could not read '${file}' within 30 s`));
      const noStream = (why: string) => reject(new Error(`'${file}' has no audio or video stream (${why})`));
      const input = /^Input #0, ([^,]+)/m.exec(stderr);
      if (!input) {
        const reason = stderr.trim().split('\n').at(-1)?.replace(`${file}: `, '') || error?.message;
        return /Invalid data/.test(reason ?? '') ? noStream('not a media file ffmpeg can read') : reject(new Error(`ffmpeg could not read '${file}': ${reason}`));
      }
      // ffmpeg's tty demuxer shows any text file as ANSI art: a text file is not a recording.
      if (input[1] === 'tty') return noStream('a text file');
      const kinds = [...stderr.matchAll(/^\s*Stream #\d+:\d+\S*: (\w+): (.*)$/gm)]
        // Cover art is one still image, not a video track.
        .map(([, kind, rest]) => (kind === 'Video' && /\(attached pic\)/.test(rest!) ? 'cover art' : kind!.toLowerCase()));
      const hasAudio = kinds.includes('audio');
      const hasVideo = kinds.includes('video');
      if (!hasAudio && !hasVideo) return noStream(kinds.length ? `only ${[...new Set(kinds)].join(', ')}` : 'no streams at all');
      const d = /Duration: (\d+):(\d+):(\d+(?:\.\d+)?)/.exec(stderr);
      resolve({ durationMs: d ? Math.round((Number(d[1]) * 3600 + Number(d[2]) * 60 + Number(d[3])) * 1000) : 0, hasAudio, hasVideo });
    });
  });
}

/** Decodes the audio track of any file ffmpeg reads to 16 kHz mono pcm16. */
export function decodeAudio(file: string, sampleRate = 16000): DecodedAudio {
  const out = new PassThrough();
  const command = ffmpeg(file)
    .setFfmpegPath(FFMPEG_PATH)
    .noVideo()
    .audioChannels(1)
    .audioFrequency(sampleRate)
    .audioCodec('pcm_s16le')
    .format('s16le');
  const done = new Promise<void>((resolve, reject) => {
    command.on('end', () => resolve());
    command.on('error', (error: Error, _stdout: string | null, stderr: string | null) => {
      const detail = stderr?.trim().split('\n').slice(-2).join(' ') ?? '';
      reject(new Error(`ffmpeg could not decode '${file}': ${error.message}${detail ? ` (${detail})` : ''}`));
    });
  });
  done.catch(() => {});
  command.pipe(out, { end: true });
  return { stream: out, done, kill: () => command.kill('SIGKILL') };
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
  async function* frames(): AsyncIterable<VideoFrame> {
    let index = 0;
    for await (const piece of fixedPieces(out, width * height * 3)) {
      yield { t: Math.round((index++ * 1000) / fps), width, height, data: new Uint8Array(piece) };
    }
  }
  return { frames: frames(), done, kill: () => command.kill('SIGKILL') };
}

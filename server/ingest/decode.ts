import ffmpegInstaller from '@ffmpeg-installer/ffmpeg';
import ffmpeg from 'fluent-ffmpeg';
import { PassThrough, type Readable } from 'node:stream';

/** The ffmpeg binary shipped in the @ffmpeg-installer npm package (no system ffmpeg needed). */
export const FFMPEG_PATH = ffmpegInstaller.path;

export interface DecodedAudio {
  /** Raw 16 kHz mono s16le. */
  stream: Readable;
  /** Resolves to the duration ffmpeg reported, in ms (0 when unknown, e.g. a live stream). */
  durationMs: Promise<number>;
  /** Resolves when ffmpeg exits cleanly; rejects with its error message otherwise. */
  done: Promise<void>;
  kill(): void;
}

function parseDuration(text: string | undefined): number {
  const m = /^(\d+):(\d+):(\d+(?:\.\d+)?)$/.exec(text ?? '');
  return m ? (Number(m[1]) * 3600 + Number(m[2]) * 60 + Number(m[3])) * 1000 : 0;
}

/** Decodes the audio track of any file ffmpeg reads to 16 kHz mono pcm16. */
export function decodeAudio(file: string, sampleRate = 16000): DecodedAudio {
  const out = new PassThrough();
  let resolveDuration!: (ms: number) => void;
  const durationMs = new Promise<number>((r) => (resolveDuration = r));
  const command = ffmpeg(file)
    .setFfmpegPath(FFMPEG_PATH)
    .noVideo()
    .audioChannels(1)
    .audioFrequency(sampleRate)
    .audioCodec('pcm_s16le')
    .format('s16le')
    .on('codecData', (data: { duration?: string }) => resolveDuration(parseDuration(data.duration)));
  const done = new Promise<void>((resolve, reject) => {
    command.on('end', () => resolve());
    command.on('error', (error: Error, _stdout: string | null, stderr: string | null) => {
      const detail = stderr?.trim().split('\n').slice(-2).join(' ') ?? '';
      reject(new Error(`ffmpeg could not decode '${file}': ${error.message}${detail ? ` (${detail})` : ''}`));
    });
  });
  done.catch(() => {}).finally(() => resolveDuration(0));
  command.pipe(out, { end: true });
  return { stream: out, durationMs, done, kill: () => command.kill('SIGKILL') };
}

/**
 * What the benchmark sessions say and show, made once per run: Flite speech (the CMU voices
 * pocketsphinx transcribes well) at the session's 24 kHz input rate, and JPEG scenes with text
 * on them (ffmpeg's lavfi sources and drawtext), so OCR, objects and clip cuts all have work.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import { FFMPEG_PATH } from '../../server/ingest/decode.ts';
import { speak } from '../../test/helpers/speech.ts';
import { type Utterance, toInput } from '../turn-latency/mic.ts';

/**
 * Things a user says to an assistant that watches and remembers: questions about now and
 * earlier (answered from the scene and from memory), and remarks worth remembering (the
 * instruction filter may answer or ignore those; both are real traffic).
 */
export const LINES: readonly string[] = [
  'what do you see',
  'what is the weather like today',
  'my car is parked on level five',
  'where is the train station',
  'what did I say about the car',
  'the meeting is at three o clock',
  'what is written on the screen',
  'where is the car',
  'tell me a joke',
  'what day is it today',
  'I left my keys on the kitchen table',
  'what did I say about my keys',
];

const FONT = '/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf';

/** Scene backgrounds (lavfi sources) and the text each shows. */
const SCENES: readonly [source: string, text: string][] = [
  ['color=c=white', 'PLATFORM 7'],
  ['testsrc', 'EXIT 12'],
  ['color=c=teal', 'OPEN 24 HOURS'],
  ['smptebars', 'ROOM 204'],
  ['color=c=maroon', 'NO PARKING'],
  ['mandelbrot', 'GATE B4'],
  ['color=c=olive', 'SALE 50 PERCENT'],
  ['testsrc2', 'LOCKER 4127'],
];

export interface Scene {
  text: string;
  /** Base64 JPEG, 640 × 360, as `omnilive.video_frame.append` takes it. */
  jpeg: string;
}

/** The sentences, spoken by Flite's slt voice, at 24 kHz with their speech bounds. */
export async function renderLines(lines: readonly string[] = LINES): Promise<Utterance[]> {
  const out: Utterance[] = [];
  for (const text of lines) out.push(toInput(text, await speak(text)));
  return out;
}

/** The scenes as JPEGs (one ffmpeg run each; a second or two in all). */
export function renderScenes(): Scene[] {
  const font = fs.existsSync(FONT) ? `fontfile=${FONT}:` : '';
  return SCENES.map(([source, text]) => {
    const input = `${source}${source.includes('=') ? ':' : '='}s=640x360:r=1`;
    const draw = `drawtext=${font}text='${text}':fontsize=56:fontcolor=black:box=1:boxcolor=white@0.85:boxborderw=12:x=(w-tw)/2:y=(h-th)/2`;
    const r = spawnSync(FFMPEG_PATH, ['-loglevel', 'error', '-f', 'lavfi', '-i', input, '-vf', draw, '-frames:v', '1', '-q:v', '4', '-f', 'image2pipe', '-vcodec', 'mjpeg', '-']);
    if (r.status !== 0) throw new Error(`ffmpeg could not draw the scene '${text}': ${r.stderr.toString()}`);
    return { text, jpeg: r.stdout.toString('base64') };
  });
}

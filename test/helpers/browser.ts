// Browser tests: Debian's Chromium driven by playwright-core, with fake camera and microphone
// fed from generated files (a y4m video, a WAV of a spoken question).
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import ffmpegInstaller from '@ffmpeg-installer/ffmpeg';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { encodeWav } from '../../server/audio/pcm.ts';
import { sequence, silence, speak } from './speech.ts';

export const CHROMIUM = '/usr/bin/chromium';
export const ARTIFACTS = path.resolve(import.meta.dirname, '../artifacts');
const FONT = '/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf';
const run = promisify(execFile);

export interface BrowserOptions {
  /** Grant camera and microphone without a prompt (default true); false: prompts are denied. */
  allowMedia?: boolean;
  /** Fake capture devices; with files, they play these (looped) instead of a test pattern and beep. */
  fakeDevices?: boolean | { video?: string; audio?: string };
  /** Print the page's console to stderr (debugging). */
  echoConsole?: boolean;
}

export interface TestBrowser {
  context: BrowserContext;
  page: Page;
  close(): Promise<void>;
}

/** A fresh Chromium profile, headless, offline apart from what the page itself opens. */
export async function launchBrowser(options: BrowserOptions = {}): Promise<TestBrowser> {
  if (!fs.existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: apt-get install -y chromium`);
  const { allowMedia = true, fakeDevices = false, echoConsole = false } = options;
  const args = [
    '--no-sandbox',
    '--headless',
    '--disable-gpu',
    '--disable-background-networking',
    '--disable-quic',
    '--no-first-run',
    '--disable-component-update',
    '--disable-sync',
    allowMedia ? '--use-fake-ui-for-media-stream' : '--deny-permission-prompts',
  ];
  if (fakeDevices) {
    args.push('--use-fake-device-for-media-stream');
    if (typeof fakeDevices === 'object') {
      if (fakeDevices.video) args.push(`--use-file-for-fake-video-capture=${fakeDevices.video}`);
      if (fakeDevices.audio) args.push(`--use-file-for-fake-audio-capture=${fakeDevices.audio}`);
    }
  }
  const userDataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'omnilive-chromium-'));
  const context = await chromium.launchPersistentContext(userDataDir, {
    executablePath: CHROMIUM,
    headless: true,
    args,
    viewport: { width: 1280, height: 800 },
  });
  const page = context.pages()[0] ?? (await context.newPage());
  if (echoConsole) page.on('console', (m) => process.stderr.write(`[page ${m.type()}] ${m.text()}\n`));
  return {
    context,
    page,
    async close() {
      await context.close().catch(() => {});
      fs.rmSync(userDataDir, { recursive: true, force: true });
    },
  };
}

/** Saves a full-page screenshot as test/artifacts/<name>.png (kept for looking at, gitignored). */
export async function screenshot(page: Page, name: string): Promise<string> {
  fs.mkdirSync(ARTIFACTS, { recursive: true });
  const file = path.join(ARTIFACTS, `${name}.png`);
  await page.screenshot({ path: file, fullPage: true });
  return file;
}

export type Scene = { text: string; background: string; color: string };

/** ffmpeg's drawtext reading `text` from a file next to `file`: no filter-graph escaping to get wrong. */
function drawText(file: string, text: string, color: string, height: number): string {
  const textFile = `${file}.${createHash('sha1').update(text).digest('hex').slice(0, 8)}.txt`;
  fs.writeFileSync(textFile, text);
  return `drawtext=fontfile=${FONT}:textfile=${textFile}:fontsize=${Math.round(height / 9)}:fontcolor=${color}:x=(w-text_w)/2:y=(h-text_h)/2`;
}

/**
 * A y4m for Chromium's fake camera (which loops it). Default: ffmpeg's test pattern with `text`
 * across it; with `scenes`: each a solid background with its text for `seconds`, one after another.
 */
export async function makeY4m(
  file: string,
  { text = 'OmniLive test camera', scenes, seconds = 4, width = 640, height = 360, fps = 15 }: { text?: string; scenes?: Scene[]; seconds?: number; width?: number; height?: number; fps?: number } = {},
): Promise<string> {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const size = `${width}x${height}`;
  const args = ['-hide_banner', '-loglevel', 'error', '-y'];
  if (scenes?.length) {
    for (const scene of scenes) args.push('-f', 'lavfi', '-i', `color=c=${scene.background}:s=${size}:r=${fps}:d=${seconds}`);
    const drawn = scenes.map((scene, i) => `[${i}]${drawText(file, scene.text, scene.color, height)}[s${i}]`);
    const joined = `${scenes.map((_, i) => `[s${i}]`).join('')}concat=n=${scenes.length}:v=1:a=0,format=yuv420p[out]`;
    args.push('-filter_complex', [...drawn, joined].join(';'), '-map', '[out]');
  } else {
    const box = ':box=1:boxcolor=black@0.7:boxborderw=12';
    args.push('-f', 'lavfi', '-i', `testsrc=size=${size}:rate=${fps}:duration=${seconds}`, '-vf', drawText(file, text, 'white', height) + box, '-pix_fmt', 'yuv420p');
  }
  await run(ffmpegInstaller.path, [...args, file]);
  return file;
}

/**
 * A 16-bit PCM WAV of `text` spoken (Flite) for Chromium's fake microphone, which loops it:
 * a little silence before, and `padMs` after so the server's VAD ends the turn each time round.
 */
export async function makeSpeechWav(file: string, text: string, { padMs = 2000, rate = 48000 } = {}): Promise<string> {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const speech = await speak(text, { rate });
  fs.writeFileSync(file, encodeWav(sequence(silence(300, rate), speech, silence(padMs, rate)), rate));
  return file;
}

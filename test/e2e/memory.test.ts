import assert from 'node:assert/strict';
import { execFile, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { encodeWav } from '../../server/audio/pcm.ts';
import { FFMPEG_PATH } from '../../server/ingest/decode.ts';
import { NO_LANGUAGE_MODEL_NOTE } from '../../server/reasoning/index.ts';
import { closeSpeech, speak } from '../helpers/speech.ts';

const run = promisify(execFile);
const CLI = path.resolve(import.meta.dirname, '../../server/bin/omnilive.mjs');
const FONT = '/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf';

const MINUTES = 20;
const NEEDLE_TEXT = { at: 420, seconds: 30, text: 'LOCKER 4127' }; // 07:00 on screen
const NEEDLE_SPEECH = { at: 780, text: 'my car is parked on level five' }; // 13:00 said

type Event = { type: string } & Record<string, any>;

function cli(dataDir: string, ...args: string[]) {
  return run(process.execPath, [CLI, ...args, '--data', dataDir, '--models', path.join(dataDir, 'no-models')], { maxBuffer: 512 * 1024 * 1024, timeout: 900_000 });
}

describe('needle in a stream: 20 minutes ingested, then asked about', () => {
  let dir: string;
  let events: Event[];
  let memoryId: string;
  before(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'omnilive-needle-'));
    // Audio: silence with one spoken sentence at 13:00.
    const audio = new Int16Array(MINUTES * 60 * 16000);
    audio.set(await speak(NEEDLE_SPEECH.text), NEEDLE_SPEECH.at * 16000);
    fs.writeFileSync(path.join(dir, 'audio.wav'), encodeWav(audio, 16000));
    // Video: a new scene every 40 s (test patterns and colours), the needle text at 07:00 for 30 s.
    const font = fs.existsSync(FONT) ? `fontfile=${FONT}:` : '';
    const sources = ['testsrc', 'smptebars', 'color=c=teal', 'mandelbrot', 'color=c=maroon', 'testsrc2', 'color=c=olive', 'rgbtestsrc'];
    const args = ['-loglevel', 'error', '-y'];
    const scenes: string[] = [];
    for (let t = 0, i = 0; t < MINUTES * 60; i++) {
      const needle = t === NEEDLE_TEXT.at;
      const seconds = needle ? NEEDLE_TEXT.seconds : Math.min(40, NEEDLE_TEXT.at > t ? NEEDLE_TEXT.at - t : MINUTES * 60 - t);
      const source = needle ? 'color=c=white' : sources[i % sources.length]!;
      args.push('-t', String(seconds), '-f', 'lavfi', '-i', `${source}${source.includes('=') ? ':' : '='}s=640x360:r=2`);
      scenes.push(needle ? `[${i}:v]drawtext=${font}text='${NEEDLE_TEXT.text}':fontsize=56:fontcolor=black:x=(w-tw)/2:y=(h-th)/2,format=yuv420p[v${i}]` : `[${i}:v]format=yuv420p[v${i}]`);
      t += seconds;
    }
    args.push('-i', path.join(dir, 'audio.wav'));
    args.push('-filter_complex', `${scenes.join(';')};${scenes.map((_, i) => `[v${i}]`).join('')}concat=n=${scenes.length}:v=1:a=0[v]`);
    args.push('-map', '[v]', '-map', `${scenes.length}:a`, '-c:v', 'mpeg4', '-q:v', '6', '-c:a', 'libopus', path.join(dir, 'stream.mkv'));
    const made = spawnSync(FFMPEG_PATH, args);
    assert.equal(made.status, 0, made.stderr?.toString());
    const end = MINUTES * 60 - 10;
    const out = await cli(dir, 'ingest', path.join(dir, 'stream.mkv'), '--speed', 'max', '--jsonl', '--frame-facts', 'ocr', '--ask', `${end}=where is my car parked?`, '--ask', `${end + 5}=what did the locker sign say?`);
    events = out.stdout.trim().split('\n').map((l) => JSON.parse(l));
    memoryId = /memory id (\S+)/.exec(out.stderr)![1]!;
  });
  after(async () => {
    if (!process.env.KEEP) fs.rmSync(dir, { recursive: true, force: true });
    await closeSpeech();
  });

  const answers = () => events.filter((e) => e.type === 'response.done' && e.response.status === 'completed').map((e) => e.response.output[0].content[0].transcript as string);

  it('answers from what was said 7 minutes earlier, quoting it with its time', () => {
    const said = answers().find((a) => /car/.test(a));
    assert.match(said ?? '', /^At 13:0\d you said: my car is parked on level five\./, JSON.stringify(answers())); // the evidence first
  });

  it('says once per session, at the end of its first answer, that no language model is configured', () => {
    // The first answer is "Noted." to the spoken statement at 13:00; the questions come later.
    const noted = answers().filter((a) => a.includes(NO_LANGUAGE_MODEL_NOTE));
    assert.equal(noted.length, 1, JSON.stringify(answers()));
    assert.equal(noted[0], answers()[0]);
    assert.ok(noted[0]!.endsWith(NO_LANGUAGE_MODEL_NOTE), noted[0]);
  });

  it('answers from what was on screen 13 minutes earlier, quoting it with its time', () => {
    const seen = answers().find((a) => /LOCKER/i.test(a));
    // The sign stayed up across several clips: said once, as a stretch of time.
    assert.match(seen ?? '', /^(At 07:\d\d|From 07:\d\d to 07:\d\d) the screen showed "LOCKER 4127"\./, JSON.stringify(answers()));
    assert.equal(seen!.match(/LOCKER 4127/g)!.length, 1, seen);
  });

  it('memory search ranks the needle clip first; forget removes it for good', async () => {
    const found = await cli(dir, 'memory', 'search', 'locker 4127', '--memory-id', memoryId);
    // The answer that quoted it is memory too; among what was seen, the needle comes first.
    const firstClip = found.stdout.split('\n').find((l) => /^\S+\s+clip/.test(l));
    assert.match(firstClip ?? '', /^07:\d\d\s+clip.*LOCKER 4127/, found.stdout);
    const listed = await cli(dir, 'memory', 'list', '--memory-id', memoryId, '--limit', '1000');
    assert.ok(listed.stdout.trim().split('\n').length > 30, 'clips and utterances are listed');
    await cli(dir, 'memory', 'forget', '--memory-id', memoryId);
    const after = await cli(dir, 'memory', 'search', 'locker 4127', '--memory-id', memoryId);
    assert.equal(after.stdout.trim(), '');
    const listedAfter = await cli(dir, 'memory', 'list', '--memory-id', memoryId);
    assert.equal(listedAfter.stdout.trim(), '');
  });
});

import assert from 'node:assert/strict';
import { execFile, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { encodeWav } from '../../server/audio/pcm.ts';
import { FFMPEG_PATH } from '../../server/ingest/decode.ts';
import { closeSpeech, sequence, silence, speak } from '../helpers/speech.ts';

const run = promisify(execFile);
const CLI = path.resolve(import.meta.dirname, '../../server/bin/omnilive.mjs');
// A fixed font keeps the frames the same from machine to machine; without it drawtext asks fontconfig.
const DEJAVU = '/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf';
const FONT = fs.existsSync(DEJAVU) ? `fontfile=${DEJAVU}:` : '';

type Row = Record<string, any>;

function ffmpeg(...args: string[]): void {
  const r = spawnSync(FFMPEG_PATH, ['-loglevel', 'error', '-y', ...args]);
  assert.equal(r.status, 0, r.stderr?.toString());
}

describe('omnilive ingest: a file with only video, only audio, or neither', () => {
  let dir: string;
  // No optional models (image embeddings): OCR is what these files are read for.
  const cli = (...args: string[]) => run(process.execPath, [CLI, ...args, '--data', path.join(dir, 'data'), '--models', path.join(dir, 'no-models')], { maxBuffer: 64 * 1024 * 1024, timeout: 60_000 });
  const memory = async (memoryId: string): Promise<Row[]> => {
    const { stdout } = await cli('memory', 'list', '--memory-id', memoryId);
    return stdout.trim().split('\n').filter(Boolean).map((l) => JSON.parse(l));
  };

  before(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'omnilive-ingest-streams-'));
  });
  after(async () => {
    fs.rmSync(dir, { recursive: true, force: true });
    await closeSpeech();
  });

  it('a video without an audio track: its clips and their text are remembered at their media times', async () => {
    // 8 s, no audio: a white sign for 4 s, then a navy one.
    const file = path.join(dir, 'screen.mp4');
    const sign = (text: string, colour: string, when: string) => `drawtext=${FONT}text='${text}':fontsize=64:fontcolor=${colour}:x=(w-tw)/2:y=(h-th)/2:enable='${when}'`;
    const filters = [`drawbox=color=navy:t=fill:enable='gte(t,4)'`, sign('ALPHA 12', 'black', 'lt(t,4)'), sign('BRAVO 34', 'white', 'gte(t,4)'), 'format=yuv420p'];
    ffmpeg('-f', 'lavfi', '-i', 'color=c=white:s=640x360:r=5:d=8', '-vf', filters.join(','), '-c:v', 'libx264', '-preset', 'ultrafast', file);
    const { stderr } = await cli('ingest', file, '--speed', 'max', '--frame-facts', 'ocr', '--memory-id', 'video-only');
    assert.match(stderr, /ingested 00:08 of media/, 'the media clock ran with the video to its end');
    const clips = (await memory('video-only')).filter((r) => r.kind === 'clip').sort((a, b) => a.start_ms - b.start_ms);
    assert.equal(clips.length, 2, JSON.stringify(clips));
    assert.match(clips[0]!.ocr_text, /ALPHA 12/);
    assert.match(clips[1]!.ocr_text, /BRAVO 34/);
    assert.equal(clips[0]!.start_ms, 0);
    assert.equal(clips[1]!.start_ms, 4000, 'the cut is where the video changes');
    assert.ok(clips[1]!.end_ms >= 7000 && clips[1]!.end_ms <= 8000, `last clip ends at ${clips[1]!.end_ms}`);
  });

  it('an audio file with no video (m4a): the utterance is remembered', async () => {
    const wav = path.join(dir, 'voice.wav');
    fs.writeFileSync(wav, encodeWav(sequence(silence(1000), await speak('the blue whale is the largest animal'), silence(1500)), 16000));
    const file = path.join(dir, 'voice.m4a');
    ffmpeg('-i', wav, '-c:a', 'aac', '-b:a', '64k', file);
    await cli('ingest', file, '--speed', 'max', '--frame-facts', 'ocr', '--memory-id', 'audio-only');
    const said = (await memory('audio-only')).filter((r) => r.kind === 'utterance' && r.role === 'user');
    assert.equal(said.length, 1, JSON.stringify(said));
    assert.match(said[0]!.text, /whale/);
    assert.ok(said[0]!.start_ms >= 500 && said[0]!.start_ms <= 1500, `said at ${said[0]!.start_ms}`);
  });

  it('a file with neither fails at once, naming the file, without an ffmpeg dump', async () => {
    const renamed = path.join(dir, 'notes.mp4');
    fs.writeFileSync(renamed, 'these are notes, not a video\n');
    const srt = path.join(dir, 'subs.srt');
    fs.writeFileSync(srt, '1\n00:00:00,000 --> 00:00:02,000\nhello\n');
    const subtitles = path.join(dir, 'subs.mkv');
    ffmpeg('-i', srt, subtitles);
    for (const [file, why] of [[renamed, 'not a media file ffmpeg can read'], [subtitles, 'only subtitle']] as const) {
      await assert.rejects(cli('ingest', file, '--speed', 'max', '--frame-facts', 'ocr'), (e: Error & { stderr: string; code: number }) => {
        assert.equal(e.stderr.trim().split('\n').at(-1), `omnilive: '${file}' has no audio or video stream (${why})`);
        assert.doesNotMatch(e.stderr, /ffmpeg could not decode|Output #0/);
        assert.equal(e.code, 1);
        return true;
      });
    }
  });
});

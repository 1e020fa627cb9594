import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { prefixFrameTimes, readFramesAt } from '../../server/eval/streamingbench/frames.ts';
import { FFMPEG_PATH } from '../../server/ingest/decode.ts';

const range = (from: number, to: number) => Array.from({ length: to - from }, (_, i) => from + i);

describe('prefix frames: what the official evaluation shows for a question at t with context C', () => {
  it('one frame a second of [t − C, t)', () => {
    assert.deepEqual(prefixFrameTimes(100, 60), range(40, 100));
    assert.deepEqual(prefixFrameTimes(61, 60), range(1, 61));
    assert.deepEqual(prefixFrameTimes(60, 60), range(0, 60));
  });

  it('t < C starts at 0; C = -1 (and any C ≤ 0) means from the start', () => {
    assert.deepEqual(prefixFrameTimes(30, 60), range(0, 30));
    assert.deepEqual(prefixFrameTimes(30, -1), range(0, 30));
    assert.deepEqual(prefixFrameTimes(30, 0), range(0, 30));
    assert.deepEqual(prefixFrameTimes(0, 60), []);
    assert.deepEqual(prefixFrameTimes(1, -1), [0]);
  });

  it('past the frame budget, uniform samples at ⌊i·gap + gap/2⌋', () => {
    // 100 s from the start, 64 frames: gap 1.5625.
    const times = prefixFrameTimes(100, -1);
    assert.equal(times.length, 64);
    assert.deepEqual(times.slice(0, 5), [0, 2, 3, 5, 7]);
    assert.deepEqual(times.slice(-3), [96, 97, 99]);
    // A one-hour prefix: gap 56.25 → 28, 84, 140, …, 3571.
    const hour = prefixFrameTimes(3600, -1);
    assert.deepEqual([hour[0], hour[1], hour[2], hour.at(-1)], [28, 84, 140, 3571]);
    // With C = 60 the budget is never reached; with a smaller budget it is.
    assert.deepEqual(prefixFrameTimes(100, 60, 4), [47, 62, 77, 92]);
    assert.equal(new Set(prefixFrameTimes(5000, -1)).size, 64);
  });
});

describe('readFramesAt', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'omnilive-frames-'));
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('decodes the seconds asked for, once, and stops after the last', async () => {
    // A 12 s video whose red channel steps up every second: 20 × second.
    const file = path.join(dir, 'steps.mp4');
    const r = spawnSync(FFMPEG_PATH, ['-loglevel', 'error', '-y', '-f', 'lavfi', '-i', 'color=c=black:s=64x36:r=10', '-t', '12', '-vf', "geq=r='20*floor(T)':g=0:b=0,format=yuv420p", '-c:v', 'libx264', '-preset', 'ultrafast', file]);
    assert.equal(r.status, 0, r.stderr?.toString());
    const seen: number[] = [];
    const frames = await readFramesAt(file, new Set([2, 5, 9, 30]), async (frame) => {
      seen.push(frame.t);
      return frame.data[0]!;
    });
    assert.deepEqual([...frames.keys()], [2, 5, 9], 'seconds past the end are simply missing');
    for (const [s, red] of frames) assert.ok(Math.abs(red - 20 * s) <= 12, `second ${s}: red ${red}`);
    assert.deepEqual(seen, [2000, 5000, 9000]);
  });

  it('a file with sound only has no frames; one with neither stream is an error naming it', async () => {
    const sound = path.join(dir, 'tone.ogg');
    const r = spawnSync(FFMPEG_PATH, ['-loglevel', 'error', '-y', '-f', 'lavfi', '-i', 'sine=d=3', '-c:a', 'libvorbis', sound]);
    assert.equal(r.status, 0, r.stderr?.toString());
    assert.equal((await readFramesAt(sound, new Set([0, 1]), async () => 1)).size, 0);
    const text = path.join(dir, 'text.mp4');
    fs.writeFileSync(text, 'not a video');
    await assert.rejects(readFramesAt(text, new Set([0]), async () => 1), { message: `'${text}' has no audio or video stream (not a media file ffmpeg can read)` });
  });
});

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Clipper } from '../../../../server/perception/video/clipper.ts';
import type { VideoFrame } from '../../../../server/perception/video/types.ts';

const frame = (t: number): VideoFrame => ({ t, width: 1, height: 1, data: new Uint8Array(3) });

/** Feeds frames at 1 fps with the given similarities; returns each clip as [start, end] times. */
function clips(similarities: number[], options = {}): [number, number, string][] {
  const c = new Clipper(options);
  const out: [number, number, string][] = [];
  const add = (clip: ReturnType<Clipper['push']>) => clip && out.push([clip.frames[0]!.t, clip.frames.at(-1)!.t, clip.reason]);
  similarities.forEach((s, i) => add(c.push(frame(i * 1000), s)));
  add(c.flush());
  return out;
}

test('cuts at a scene change once the clip has three frames', () => {
  assert.deepEqual(clips([1, 0.99, 0.98, 0.97, 0.3, 0.99, 0.99]), [
    [0, 3000, 'scene_change'],
    [4000, 6000, 'end'],
  ]);
});

test('a change within the first three frames does not cut', () => {
  assert.deepEqual(clips([1, 0.2, 0.99, 0.99, 0.99]), [[0, 4000, 'end']]);
});

test('cuts after 16 frames of the same scene', () => {
  const out = clips(Array(40).fill(0.99));
  assert.deepEqual(out.map(([a, b]) => (b - a) / 1000 + 1), [16, 16, 8]);
  assert.equal(out[0]![2], 'max_frames');
});

test('thresholds are configurable and checked', () => {
  assert.deepEqual(clips([1, 0.95, 0.95], { minFrames: 1, cutSimilarity: 0.96 }), [
    [0, 0, 'scene_change'],
    [1000, 1000, 'scene_change'],
    [2000, 2000, 'end'],
  ]);
  assert.throws(() => new Clipper({ minFrames: 5, maxFrames: 4 }), TypeError);
});

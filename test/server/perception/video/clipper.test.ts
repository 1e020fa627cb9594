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

test('a question cuts the open clip early; the scene cuts stay where they were', () => {
  const similarities = [1, 0.99, 0.98, 0.97, 0.3, 0.99, 0.2, 0.99, ...Array(20).fill(0.99)];
  const questionsAfter = new Set([1, 4, 5, 12]); // frame indices after which a question is asked
  const c = new Clipper();
  const out: [number, number, string][] = [];
  const add = (clip: ReturnType<Clipper['push']>) => clip && out.push([clip.frames[0]!.t, clip.frames.at(-1)!.t, clip.reason]);
  similarities.forEach((s, i) => {
    add(c.push(frame(i * 1000), s));
    if (questionsAfter.has(i)) add(c.cut());
    if (i === 12) assert.equal(c.cut(), undefined, 'nothing open right after a cut: no empty clip');
  });
  add(c.flush());
  assert.deepEqual(out, [
    [0, 1000, 'question'],
    [2000, 3000, 'scene_change'], // the change at 4 s cuts as it would have
    [4000, 4000, 'question'],
    [5000, 5000, 'question'],
    // the change at 6 s is 2 frames after the scene cut: the reference rule waits, question or not
    [6000, 12000, 'question'],
    [13000, 19000, 'max_frames'], // 16 frames since the scene cut at 4 s, not since the question
    [20000, 27000, 'end'],
  ]);
  // Without the questions the same scene cuts, and the cut clips cover the same frames.
  assert.deepEqual(
    clips(similarities).map(([, end, reason]) => [end, reason]),
    [
      [3000, 'scene_change'],
      [19000, 'max_frames'],
      [27000, 'end'],
    ],
  );
});

test('eager (something waits on the screen): a new scene is cut after its first two frames, and the scene cuts stay where they were', () => {
  const c = new Clipper();
  c.eagerFrames = 2;
  const out: [number, number, string][] = [];
  [1, 0.99, 0.98, 0.97, 0.3, 0.99, 0.99, 0.99].forEach((s, i) => {
    const clip = c.push(frame(i * 1000), s);
    if (clip) out.push([clip.frames[0]!.t, clip.frames.at(-1)!.t, clip.reason]);
  });
  assert.deepEqual(out, [
    [0, 1000, 'watch'],
    [2000, 3000, 'scene_change'],
    [4000, 5000, 'watch'],
  ]);
});

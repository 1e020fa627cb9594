import assert from 'node:assert/strict';
import { test } from 'node:test';
import { SpeechSegmenter, type SegmenterEvent } from '../../../../server/perception/vad/index.ts';

/** Feeds 32 ms frames with the given probabilities; returns the events with their frame index. */
function run(seg: SpeechSegmenter, probs: number[]): (SegmenterEvent & { frame: number })[] {
  const out: (SegmenterEvent & { frame: number })[] = [];
  probs.forEach((p, i) => {
    const e = seg.push(i * 32, 32, p);
    if (e) out.push({ ...e, frame: i });
  });
  return out;
}

test('speech starts after minSpeechMs of speech frames and stops after silenceDurationMs', () => {
  const seg = new SpeechSegmenter({ silenceDurationMs: 500, minSpeechMs: 64 });
  const probs = [0.1, 0.1, 0.9, 0.9, 0.9, 0.8, ...Array(20).fill(0.05)];
  const events = run(seg, probs);
  assert.deepEqual(events.map((e) => e.type), ['speech_started', 'speech_stopped']);
  assert.equal((events[0] as { audioStartMs: number }).audioStartMs, 64);
  assert.equal(events[0]!.frame, 3); // decided on the second speech frame
  const stop = events[1] as { audioEndMs: number; decidedAtMs: number };
  assert.equal(stop.audioEndMs, 6 * 32);
  assert.ok(stop.decidedAtMs - stop.audioEndMs >= 500 && stop.decidedAtMs - stop.audioEndMs < 532);
});

test('a single loud frame (a click) does not start speech', () => {
  const seg = new SpeechSegmenter();
  assert.deepEqual(run(seg, [0.1, 0.95, 0.1, 0.1]), []);
});

test('hysteresis: frames just under the threshold keep the turn open', () => {
  const seg = new SpeechSegmenter({ threshold: 0.5, silenceDurationMs: 200 });
  const events = run(seg, [0.9, 0.9, ...Array(20).fill(0.4), ...Array(10).fill(0.0)]);
  assert.deepEqual(events.map((e) => e.type), ['speech_started', 'speech_stopped']);
  assert.equal((events[1] as { audioEndMs: number }).audioEndMs, 22 * 32);
});

test('configure() changes the silence needed to end a turn', () => {
  const seg = new SpeechSegmenter({ silenceDurationMs: 1000 });
  seg.configure({ silenceDurationMs: 200 });
  const events = run(seg, [0.9, 0.9, 0.9, ...Array(8).fill(0)]);
  assert.equal(events.at(-1)?.type, 'speech_stopped');
});

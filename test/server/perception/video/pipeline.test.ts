import assert from 'node:assert/strict';
import { test } from 'node:test';
import { FrameFactsScheduler, type FactsReader, type FrameFacts } from '../../../../server/perception/video/facts.ts';
import { VideoPipeline, type Clip, type SceneComparer } from '../../../../server/perception/video/pipeline.ts';
import type { RgbImage, VideoFrame } from '../../../../server/perception/video/types.ts';

const frame = (t: number): VideoFrame => ({ t, width: 8, height: 8, data: new Uint8Array(8 * 8 * 3).fill(t / 100) });

/** Every frame alike: only max_frames cuts. */
const sameScene: SceneComparer = { name: 'same', describe: async () => new Float32Array(1), similarity: () => 1 };

/** An OCR reader whose first read is slow: later keyframes are queued, then skipped at once. */
function slowFirstReader(): FactsReader & { reads: number } {
  return {
    names: { ocr: 'slow' },
    reads: 0,
    async read(image: RgbImage): Promise<FrameFacts> {
      if (this.reads++ === 0) await new Promise((r) => setTimeout(r, 300));
      return { ocr: [{ text: `t${image.data[0]}`, score: 1, box: [0, 0, 1, 1] }], objects: [], skipped: [] };
    },
    close: async () => {},
  };
}

test('clips reach onClip in time order even when a later one is skipped before an earlier one is read', async () => {
  const facts = new FrameFactsScheduler(slowFirstReader(), { maxQueue: 1 });
  const seen: Clip[] = [];
  let id = 0;
  const pipeline = new VideoPipeline(
    { fps: 1, clipper: { minFrames: 1, maxFrames: 1 } },
    { comparer: sameScene, facts, newId: () => `c${id++}`, onClip: (c) => seen.push(c), onError: (e) => assert.fail(String(e)) },
  );
  for (let i = 0; i < 5; i++) pipeline.push(frame(i * 1000));
  pipeline.flush();
  await pipeline.idle();
  assert.deepEqual(seen.map((c) => c.startMs), [0, 1000, 2000, 3000, 4000]);
  // The scheduler did skip some (so they were ready first), yet order held.
  assert.ok(facts.stats.skipped > 0, `expected skipped keyframes, got ${JSON.stringify(facts.stats)}`);
  assert.ok(seen.some((c) => c.facts.skipped.includes('ocr')));
});

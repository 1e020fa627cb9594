import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import sharp, { type Sharp } from 'sharp';
import { InvalidStateError } from '../../../../server/errors.ts';
import { CenterNetDetector, COCO_LABELS } from '../../../../server/perception/objects/index.ts';
import type { Box, RgbImage } from '../../../../server/perception/video/types.ts';

const require = createRequire(import.meta.url);
/** A collage of photos of people that ships with the Human package (its README banner). */
const SAMPLES = path.resolve(path.dirname(require.resolve('@vladmandic/human')), '..', 'assets', 'samples.jpg');

async function decode(image: Sharp): Promise<RgbImage> {
  const { data, info } = await image.removeAlpha().raw().toBuffer({ resolveWithObject: true });
  return { width: info.width, height: info.height, data };
}

const contains = ([x, y, w, h]: Box, px: number, py: number) => px >= x && px <= x + w && py >= y && py <= y + h;

describe('CenterNetDetector', () => {
  let detector: CenterNetDetector;
  before(async () => {
    detector = await CenterNetDetector.load();
  });
  after(() => detector?.close());

  it('has the 80 COCO labels and reads its input size from the model', () => {
    assert.equal(COCO_LABELS.length, 80);
    assert.deepEqual(detector.inputSize, [512, 512]);
  });

  it('finds the man, his glass and the table in the dinner photo of the collage', async () => {
    // The top strip's third thumbnail: a man at a restaurant table, a glass on its left.
    const image = await decode(sharp(SAMPLES).extract({ left: 330, top: 0, width: 210, height: 160 }));
    const objects = await detector.detect(image);
    const person = objects.find((o) => o.label === 'person');
    assert.ok(person && person.score >= 0.5, `a confident person in ${JSON.stringify(objects)}`);
    assert.ok(contains(person.box, 120, 40), `the person box ${person.box} covers his face`);
    const cup = objects.find((o) => o.label === 'cup');
    assert.ok(cup && cup.score >= 0.4, `a cup in ${JSON.stringify(objects)}`);
    assert.ok(contains(cup.box, 35, 108), `the cup box ${cup.box} covers the glass`);
    for (const o of objects) {
      const [x, y, w, h] = o.box;
      assert.ok(x >= 0 && y >= 0 && w > 0 && h > 0 && x + w <= image.width && y + h <= image.height, `box ${o.box} inside the image`);
      assert.ok(o.score >= 0.25 && o.score <= 1);
    }
  });

  it('finds several people in the whole collage, most confident first', async () => {
    const objects = await detector.detect(await decode(sharp(SAMPLES)));
    const people = objects.filter((o) => o.label === 'person');
    assert.ok(people.length >= 5, `people: ${JSON.stringify(objects)}`);
    assert.deepEqual(objects.map((o) => o.score), objects.map((o) => o.score).sort((a, b) => b - a));
  });

  it('finds nothing in a blank grey frame', async () => {
    const grey = { width: 640, height: 360, data: new Uint8Array(640 * 360 * 3).fill(128) };
    assert.deepEqual(await detector.detect(grey), []);
  });

  it('rejects what is not an RGB image with a TypeError', async () => {
    const bad: unknown[] = [
      null,
      { width: 4, height: 4, data: new Uint8Array(4 * 4 * 4) },
      { width: 4.5, height: 4, data: new Uint8Array(54) },
      { width: 0, height: 0, data: new Uint8Array(0) },
      { width: 2, height: 2, data: [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12] },
    ];
    for (const image of bad) await assert.rejects(detector.detect(image as RgbImage), TypeError);
  });

  it('rejects bad options with a TypeError', async () => {
    await assert.rejects(CenterNetDetector.load({ minScore: 2 }), TypeError);
    await assert.rejects(CenterNetDetector.load({ maxDetections: 0 }), TypeError);
  });

  it('fails to load a model that is not there', async () => {
    await assert.rejects(CenterNetDetector.load({ modelPath: '/nonexistent/centernet.json' }), /CenterNet failed to load/);
  });

  it('honours an aborted signal', async () => {
    const image = { width: 64, height: 64, data: new Uint8Array(64 * 64 * 3) };
    await assert.rejects(detector.detect(image, AbortSignal.abort()), { name: 'AbortError' });
  });

  it('fails the frame in flight when its process dies, and detects the next one in a restarted process', async () => {
    const own = await CenterNetDetector.load({}, { restart: { initialDelayMs: 50 } });
    const first = own.pid;
    const pending = own.detect({ width: 640, height: 360, data: new Uint8Array(640 * 360 * 3) });
    process.kill(own.pid!, 'SIGKILL');
    await assert.rejects(pending, /CenterNet process exited/);
    // The first crash restarts at once; the next frame waits for it.
    assert.deepEqual(await own.detect({ width: 64, height: 64, data: new Uint8Array(64 * 64 * 3) }), []);
    assert.notEqual(own.pid, first);
    await own.close();
  });

  it('refuses work once closed', async () => {
    const own = await CenterNetDetector.load({ minScore: 0.5 });
    await own.close();
    await assert.rejects(own.detect({ width: 1, height: 1, data: new Uint8Array(3) }), InvalidStateError);
  });
});

import assert from 'node:assert/strict';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { describe, it } from 'node:test';
import { COCO_LABELS } from '../../../server/perception/objects/centernet.ts';
import type { ObjectCount } from '../../../server/perception/video/facts.ts';
import { decodeImage } from '../../../server/perception/video/pipeline.ts';
import {
  boxShare,
  brightness,
  COCO_SUPERCATEGORIES,
  COLOUR_NAMES,
  describeObjects,
  dominantColours,
  framePosition,
  motion,
  namedColour,
  objectColour,
  sceneFacts,
  supercategoryOf,
  type ColourName,
} from '../../../server/perception/video/scene-facts.ts';
import type { Box, RgbImage } from '../../../server/perception/video/types.ts';

type Rgb = [number, number, number];

function solid(width: number, height: number, colour: Rgb): RgbImage {
  const data = new Uint8Array(width * height * 3);
  for (let i = 0; i < data.length; i += 3) data.set(colour, i);
  return { width, height, data };
}

function paint(image: RgbImage, [x, y, w, h]: Box, colour: Rgb): RgbImage {
  for (let row = y; row < y + h; row++) {
    for (let col = x; col < x + w; col++) image.data.set(colour, (row * image.width + col) * 3);
  }
  return image;
}

/** Deterministic uniform numbers in [0, 1). */
function random(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = Math.imul(s ^ (s >>> 15), 1 | s);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 2 ** 32;
  };
}

/** A textured "room": 40-pixel blocks of random colours over a gradient. */
function scene(width: number, height: number, seed = 1): RgbImage {
  const next = random(seed);
  const image = solid(width, height, [0, 0, 0]);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) image.data.set([(x * 255) / width, (y * 255) / height, 128], (y * width + x) * 3);
  }
  for (let y = 0; y < height; y += 40) {
    for (let x = 0; x < width; x += 40) {
      if (next() < 0.5) paint(image, [x, y, Math.min(40, width - x), Math.min(40, height - y)], [next() * 255, next() * 255, next() * 255]);
    }
  }
  return image;
}

/** The image with independent noise of ±amplitude added to every channel of every pixel. */
function noisy(image: RgbImage, amplitude: number, seed = 7): RgbImage {
  const next = random(seed);
  const data = image.data.map((v) => Math.max(0, Math.min(255, Math.round(v + (next() * 2 - 1) * amplitude))));
  return { ...image, data };
}

function halfSize(image: RgbImage): RgbImage {
  const width = image.width >> 1;
  const height = image.height >> 1;
  const data = new Uint8Array(width * height * 3);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      for (let c = 0; c < 3; c++) {
        const at = (yy: number, xx: number) => image.data[(yy * image.width + xx) * 3 + c]!;
        data[(y * width + x) * 3 + c] = (at(2 * y, 2 * x) + at(2 * y, 2 * x + 1) + at(2 * y + 1, 2 * x) + at(2 * y + 1, 2 * x + 1)) >> 2;
      }
    }
  }
  return { width, height, data };
}

/** Everyday examples of each palette name, as a camera might see them. */
const EXAMPLES: Record<ColourName, Rgb[]> = {
  black: [[0, 0, 0], [30, 30, 35], [45, 40, 40]],
  white: [[255, 255, 255], [230, 232, 235], [250, 245, 235]],
  grey: [[128, 128, 128], [90, 92, 95], [180, 180, 175]],
  red: [[255, 0, 0], [200, 30, 40], [128, 0, 0], [220, 20, 60]],
  orange: [[255, 165, 0], [255, 120, 0], [230, 110, 30]],
  yellow: [[255, 255, 0], [255, 215, 0], [240, 220, 60]],
  green: [[0, 128, 0], [0, 255, 0], [120, 200, 60], [34, 139, 34]],
  blue: [[0, 0, 255], [0, 0, 128], [30, 144, 255], [135, 206, 235], [40, 70, 140]],
  purple: [[128, 0, 128], [120, 80, 180], [238, 130, 238], [75, 0, 130]],
  pink: [[255, 192, 203], [255, 105, 180], [255, 20, 147]],
  brown: [[139, 69, 19], [100, 50, 40], [150, 111, 51], [90, 60, 40]],
  beige: [[245, 222, 179], [210, 180, 140], [224, 172, 105], [193, 151, 147]],
};

describe('namedColour', () => {
  for (const [name, colours] of Object.entries(EXAMPLES)) {
    it(`names ${name}`, () => {
      for (const [r, g, b] of colours) assert.equal(namedColour(r, g, b), name, `rgb(${r}, ${g}, ${b})`);
    });
  }

  it('has a palette of the everyday names', () => {
    assert.deepEqual([...COLOUR_NAMES].sort(), Object.keys(EXAMPLES).sort());
  });
});

describe('dominantColours', () => {
  it('reads a solid frame of each palette colour as that colour alone', () => {
    for (const [name, [colour]] of Object.entries(EXAMPLES)) {
      assert.deepEqual(dominantColours(solid(64, 48, colour!)), [{ name, share: 1 }]);
    }
  });

  it('gives a two-colour split its shares, largest first', () => {
    const image = paint(solid(640, 480, [0, 0, 255]), [0, 0, 192, 480], [255, 0, 0]);
    const colours = dominantColours(image);
    assert.deepEqual(colours.map((c) => c.name), ['blue', 'red']);
    assert.ok(Math.abs(colours[0]!.share - 0.7) < 0.02, `blue ${colours[0]!.share}`);
    assert.ok(Math.abs(colours[1]!.share - 0.3) < 0.02, `red ${colours[1]!.share}`);
    assert.ok(Math.abs(colours[0]!.share + colours[1]!.share - 1) < 0.002);
  });

  it('drops colours under 5% and renormalizes the rest', () => {
    const image = paint(paint(solid(400, 100, [255, 255, 255]), [0, 0, 12, 100], [255, 0, 0]), [12, 0, 100, 100], [0, 128, 0]);
    const colours = dominantColours(image);
    assert.deepEqual(colours.map((c) => c.name), ['white', 'green']);
    assert.ok(Math.abs(colours.reduce((s, c) => s + c.share, 0) - 1) < 0.002);
  });

  it('weights a box towards its centre: a red object in a loose box on white is red', () => {
    // The object fills half the detection box; the rest of the box is white background.
    const image = paint(solid(640, 480, [255, 255, 255]), [250, 190, 100, 100], [200, 20, 30]);
    const box: Box = [230, 170, 140, 140];
    const colours = dominantColours(image, box);
    assert.equal(colours[0]!.name, 'red');
    assert.ok(colours[0]!.share > 0.7, `red ${colours[0]!.share} (an unweighted count gives 0.51)`);
    assert.equal(objectColour(image, box), 'red');
  });

  it('names an object by a vivid colour close to a leading neutral one', () => {
    // A yellow shirt over dark trousers: black leads by area, yellow is what people name.
    const image = paint(paint(solid(100, 100, [255, 255, 255]), [20, 10, 60, 40], [240, 220, 40]), [20, 50, 60, 45], [20, 20, 20]);
    assert.equal(dominantColours(image, [20, 10, 60, 85])[0]!.name, 'black');
    assert.equal(objectColour(image, [20, 10, 60, 85]), 'yellow');
  });

  it('clips boxes to the frame; a box outside it has no colour', () => {
    const image = solid(100, 100, [0, 0, 255]);
    assert.deepEqual(dominantColours(image, [-50, -50, 100, 100]), [{ name: 'blue', share: 1 }]);
    assert.deepEqual(dominantColours(image, [200, 200, 10, 10]), []);
    assert.equal(objectColour(image, [200, 200, 10, 10]), undefined);
  });

  it('rejects what is not an RgbImage', () => {
    assert.throws(() => dominantColours({ width: 2, height: 2, data: new Uint8Array(3) }), TypeError);
  });
});

describe('framePosition and boxShare', () => {
  it('places a box by the third its centre is in', () => {
    assert.equal(framePosition([0, 0, 100, 50], 640), 'left');
    assert.equal(framePosition([270, 0, 100, 50], 640), 'centre');
    assert.equal(framePosition([540, 0, 100, 50], 640), 'right');
    assert.equal(framePosition([0, 0, 640, 480], 640), 'centre');
  });

  it('gives the share of the frame inside it', () => {
    assert.equal(boxShare([0, 0, 320, 240], 640, 480), 0.25);
    assert.equal(boxShare([-320, 0, 640, 480], 640, 480), 0.5);
    assert.equal(boxShare([700, 0, 10, 10], 640, 480), 0);
    assert.equal(boxShare([0, 0, 2000, 2000], 640, 480), 1);
  });
});

describe('COCO supercategories', () => {
  it('covers every detector label with an official supercategory', () => {
    assert.deepEqual(Object.keys(COCO_SUPERCATEGORIES).sort(), [...COCO_LABELS].sort());
    assert.deepEqual(
      [...new Set(Object.values(COCO_SUPERCATEGORIES))].sort(),
      ['accessory', 'animal', 'appliance', 'electronic', 'food', 'furniture', 'indoor', 'kitchen', 'outdoor', 'person', 'sports', 'vehicle'],
    );
  });

  it('looks labels up', () => {
    assert.equal(supercategoryOf('truck'), 'vehicle');
    assert.equal(supercategoryOf('cell phone'), 'electronic');
    assert.equal(supercategoryOf('potted plant'), 'furniture');
    assert.equal(supercategoryOf('unicorn'), undefined);
    assert.equal(supercategoryOf('toString'), undefined);
  });
});

describe('brightness', () => {
  it('tells dark, dim and bright frames apart', () => {
    assert.equal(brightness(solid(64, 48, [10, 10, 12])), 'dark');
    assert.equal(brightness(solid(64, 48, [60, 65, 70])), 'dim');
    assert.equal(brightness(solid(64, 48, [200, 190, 180])), 'bright');
    assert.equal(brightness(scene(640, 480)), 'bright');
  });
});

describe('motion', () => {
  const room = scene(640, 480);

  it('reads the same frame as still', () => {
    assert.equal(motion(room, room), 'still');
  });

  it('reads camera noise as still', () => {
    assert.equal(motion(room, noisy(room, 12)), 'still');
    assert.equal(motion(noisy(room, 30, 3), noisy(room, 30, 4)), 'still');
  });

  it('reads an exposure step as still', () => {
    assert.equal(motion(room, { ...room, data: room.data.map((v) => Math.min(255, v + 20)) }), 'still');
  });

  it('reads a moving object as moving', () => {
    const before = paint(scene(640, 480), [100, 200, 120, 120], [20, 20, 20]);
    const after = paint(scene(640, 480), [300, 200, 120, 120], [20, 20, 20]);
    assert.equal(motion(before, after), 'moving');
    assert.equal(motion(room, scene(640, 480, 2)), 'moving');
  });

  it('compares frames of different sizes on a common grid', () => {
    assert.equal(motion(room, halfSize(room)), 'still');
    assert.equal(motion(halfSize(room), scene(640, 480, 2)), 'moving');
  });
});

describe('describeObjects and sceneFacts', () => {
  it('fills supercategory, positions, colours and sizes per box, leaving the input alone', () => {
    const image = paint(paint(solid(640, 480, [255, 255, 255]), [20, 100, 100, 200], [200, 20, 30]), [500, 100, 100, 200], [0, 60, 200]);
    const objects: ObjectCount[] = [
      { label: 'person', count: 2, boxes: [[10, 90, 120, 220], [490, 90, 120, 220]] },
      { label: 'gizmo', count: 1, boxes: [[280, 200, 80, 80]] },
    ];
    const described = describeObjects(objects, image);
    assert.deepEqual(described[0], {
      label: 'person',
      count: 2,
      boxes: objects[0]!.boxes,
      supercategory: 'person',
      positions: ['left', 'right'],
      colours: ['red', 'blue'],
      sizes: [0.086, 0.086],
    });
    assert.deepEqual(described[1], {
      label: 'gizmo',
      count: 1,
      boxes: [[280, 200, 80, 80]],
      positions: ['centre'],
      colours: ['white'],
      sizes: [0.021],
    });
    assert.equal(objects[0]!.colours, undefined);
  });

  it('gives the frame its colours and brightness, and motion only against a previous frame', () => {
    const image = paint(solid(640, 480, [250, 250, 250]), [0, 0, 384, 480], [0, 128, 0]);
    assert.deepEqual(sceneFacts(image), {
      colours: [{ name: 'green', share: 0.6 }, { name: 'white', share: 0.4 }],
      brightness: 'bright',
    });
    assert.equal(sceneFacts(image, image).motion, 'still');
    assert.equal(sceneFacts(image, solid(320, 240, [0, 0, 0])).motion, 'moving');
  });
});

describe('on a real photo', () => {
  const require = createRequire(import.meta.url);
  // A collage of photos of people that ships with the Human package (1280×1158).
  const SAMPLES = path.resolve(path.dirname(require.resolve('@vladmandic/human')), '..', 'assets', 'samples.jpg');

  it('names the dresses by their colours', async () => {
    const image = await decodeImage(fs.readFileSync(SAMPLES), 0, { width: 640, height: 579 });
    const scale = image.width / 1280;
    const box = (x: number, y: number, w: number, h: number): Box => [x * scale, y * scale, w * scale, h * scale];
    // Boxes in the photo's own pixels.
    assert.equal(objectColour(image, box(980, 724, 120, 170)), 'yellow'); // the yellow dress, bottom right
    assert.equal(objectColour(image, box(1144, 44, 60, 100)), 'red'); // the red dress, top-right thumbnail
    assert.equal(objectColour(image, box(806, 44, 52, 80)), 'purple'); // the lilac dress, sixth thumbnail
    // The whole woman in yellow: skin, hair and shadow take as much of her box as the dress.
    assert.equal(objectColour(image, box(920, 540, 220, 580)), 'yellow');
    assert.equal(brightness(image), 'bright');
  });
});

describe('cost on a 640×480 frame', () => {
  it('is measured, not asserted', (t) => {
    const image = scene(640, 480);
    const previous = noisy(image, 10);
    const objects: ObjectCount[] = [
      { label: 'person', count: 2, boxes: [[40, 60, 200, 400], [400, 80, 180, 380]] },
      { label: 'cup', count: 1, boxes: [[300, 300, 60, 70]] },
      { label: 'laptop', count: 1, boxes: [[220, 240, 220, 160]] },
    ];
    const timings = (run: () => void): string => {
      for (let i = 0; i < 20; i++) run();
      const ms: number[] = [];
      for (let i = 0; i < 300; i++) {
        const start = performance.now();
        run();
        ms.push(performance.now() - start);
      }
      ms.sort((a, b) => a - b);
      return `median ${ms[150]!.toFixed(3)} ms, p95 ${ms[285]!.toFixed(3)} ms`;
    };
    t.diagnostic(`dominantColours: ${timings(() => dominantColours(image))}`);
    t.diagnostic(`sceneFacts with motion: ${timings(() => sceneFacts(image, previous))}`);
    t.diagnostic(`describeObjects (4 boxes): ${timings(() => describeObjects(objects, image))}`);
    t.diagnostic(`all three: ${timings(() => (dominantColours(image), sceneFacts(image, previous), describeObjects(objects, image)))}`);
  });
});

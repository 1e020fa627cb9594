import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import sharp from 'sharp';
import { InvalidStateError } from '../../../server/errors.ts';
import { CenterNetDetector } from '../../../server/perception/objects/index.ts';
import {
  facingOf,
  gesturesOf,
  handRaisedOf,
  HumanPeopleReader,
  observedFacts,
  personDistance,
  postureOf,
  type Keypoint,
  type PersonObservation,
} from '../../../server/perception/people/index.ts';
import type { PersonFacts } from '../../../server/perception/video/facts.ts';
import { decodeImage } from '../../../server/perception/video/pipeline.ts';
import type { Box, RgbImage } from '../../../server/perception/video/types.ts';

const require = createRequire(import.meta.url);
const ASSETS = path.resolve(path.dirname(require.resolve('@vladmandic/human')), '..', 'assets');
/** A collage of photos of people (Human's README banner): a strip of thumbnails over a party photo. */
const SAMPLES = path.join(ASSETS, 'samples.jpg');
/** Human's face-detection demo: its bottom row is five face close-ups, four of them women smiling or pouting. */
const FACE_DEMO = path.join(ASSETS, 'screenshot-facedetect.jpg');
const FRAME = { width: 640, height: 480 };
/** The only keys a PersonFacts may have (no age, no gender, no face descriptor unless asked). */
const PERSON_KEYS = new Set(['box', 'position', 'distance', 'facing', 'posture', 'handRaised', 'gestures', 'emotion']);

/** A region of a photo, decoded into a 640×480 frame the way the pipeline decodes stills. */
async function frameOf(file: string, region: { left: number; top: number; width: number; height: number }): Promise<RgbImage> {
  const png = await sharp(file).extract(region).png().toBuffer();
  return decodeImage(png, 0, FRAME);
}

const byLeft = (a: PersonFacts, b: PersonFacts) => a.box[0] - b.box[0];

function assertNoPrivateFields(people: PersonFacts[]): void {
  for (const person of people) {
    for (const key of Object.keys(person)) assert.ok(PERSON_KEYS.has(key), `unexpected field '${key}' in ${JSON.stringify(person)}`);
    assert.doesNotMatch(JSON.stringify(person), /age|gender|descriptor|embedding/i);
  }
}

describe('HumanPeopleReader', () => {
  let detector: CenterNetDetector;
  let reader: HumanPeopleReader;
  /** CenterNet's person boxes, as the product gets them. */
  const personBoxes = async (image: RgbImage) => (await detector.detect(image)).filter((o) => o.label === 'person').map((o) => o.box);

  before(async () => {
    [detector, reader] = await Promise.all([CenterNetDetector.load(), HumanPeopleReader.load()]);
  });
  after(() => Promise.all([detector?.close(), reader?.close()]));

  it('describes the three women of the collage strip left to right: standing, facing the camera', async () => {
    // Thumbnails 4–6 of the strip: a woman taking a selfie, one in a grey top, one perched on a stool.
    const image = await frameOf(SAMPLES, { left: 545, top: 0, width: 358, height: 160 });
    const boxes = await personBoxes(image);
    assert.equal(boxes.length, 3, `person boxes ${JSON.stringify(boxes)}`);
    const people = (await reader.describe(image, boxes)).sort(byLeft);
    assert.equal(people.length, 3);
    assert.deepEqual(people.map((p) => p.position), ['left', 'centre', 'right']);
    for (const p of people) {
      assert.equal(p.distance, 'middle', JSON.stringify(p));
      assert.equal(p.facing, 'camera', JSON.stringify(p));
      assert.equal(p.handRaised, false, JSON.stringify(p));
      assert.deepEqual(p.gestures, []);
      // Their faces are ~40 px upscaled from a thumbnail: too small to read an expression from.
      assert.equal(p.emotion, undefined);
    }
    assert.equal(people[0]!.posture, 'standing');
    assert.equal(people[1]!.posture, 'standing');
    assertNoPrivateFields(people);
  });

  it('reads "happy" on the smiling faces and not on the pouting one', async () => {
    // Faces 2–5 of the demo's bottom row: smiling, pouting, smiling, laughing.
    const image = await frameOf(FACE_DEMO, { left: 160, top: 340, width: 640, height: 165 });
    const boxes = await personBoxes(image);
    assert.equal(boxes.length, 4, `person boxes ${JSON.stringify(boxes)}`);
    const people = (await reader.describe(image, boxes)).sort(byLeft);
    assert.deepEqual(people.map((p) => p.emotion), ['happy', 'neutral', 'happy', 'happy'], JSON.stringify(people));
    for (const p of people) {
      assert.equal(p.facing, 'camera');
      // Close-ups, but in a strip a third of the frame's height: "middle" by the box rule.
      assert.equal(p.distance, 'middle');
    }
    assertNoPrivateFields(people);
  });

  it('reads the smiling man at the dinner table: near, centre, facing the camera', async () => {
    const image = await frameOf(SAMPLES, { left: 326, top: 1, width: 199, height: 157 });
    const boxes = await personBoxes(image);
    assert.equal(boxes.length, 1, `person boxes ${JSON.stringify(boxes)}`);
    const [man] = await reader.describe(image, boxes);
    assert.ok(man);
    assert.deepEqual(man.box, boxes[0]);
    assert.equal(man.position, 'centre');
    assert.equal(man.distance, 'near');
    assert.equal(man.facing, 'camera');
    assert.equal(man.emotion, 'happy');
    // Seated behind a table: his legs are hidden, so no posture is claimed.
    assert.equal(man.posture, undefined);
    assertNoPrivateFields([man]);
  });

  it('looks closely at the largest maxPeople and gives the rest their box facts', async () => {
    // The whole row of five close-ups; the default looks at four.
    const image = await frameOf(FACE_DEMO, { left: 0, top: 340, width: 800, height: 165 });
    const boxes = await personBoxes(image);
    assert.equal(boxes.length, 5, `person boxes ${JSON.stringify(boxes)}`);
    const people = await reader.describe(image, boxes);
    assert.deepEqual(people.map((p) => p.box), boxes, 'one PersonFacts per box, in the order given');
    const smallest = boxes.reduce((min, b, i) => (b[2] * b[3] < boxes[min]![2] * boxes[min]![3] ? i : min), 0);
    assert.deepEqual(Object.keys(people[smallest]!).sort(), ['box', 'distance', 'gestures', 'position']);
    assert.equal(people.filter((p) => p.facing !== undefined).length, 4);
  });

  it('does not call the models for an empty scene', async () => {
    const blank: RgbImage = { width: 640, height: 480, data: new Uint8Array(640 * 480 * 3).fill(90) };
    assert.deepEqual(await personBoxes(blank), []);
    // Resolves before any I/O could: no round trip to the model process.
    const first = await Promise.race([
      reader.describe(blank, []).then((people) => ({ people })),
      new Promise<'io'>((resolve) => setImmediate(() => resolve('io'))),
    ]);
    assert.deepEqual(first, { people: [] });
  });

  it('gives people too small to look at, or outside the frame, only their box facts', async () => {
    const blank: RgbImage = { width: 640, height: 480, data: new Uint8Array(640 * 480 * 3) };
    const people = await reader.describe(blank, [[300, 200, 6, 12], [700, 100, 80, 200]]);
    assert.deepEqual(people, [
      { box: [300, 200, 6, 12], position: 'centre', distance: 'far', gestures: [] },
      { box: [700, 100, 80, 200], position: 'right', distance: 'middle', gestures: [] },
    ]);
  });

  it('rejects bad images and boxes with a TypeError', async () => {
    const image = { width: 4, height: 4, data: new Uint8Array(48) };
    await assert.rejects(reader.describe({ width: 4, height: 4, data: new Uint8Array(47) }, []), TypeError);
    await assert.rejects(reader.describe(image, [[0, 0, 0, 2]]), TypeError);
    await assert.rejects(reader.describe(image, [[0, 0, Number.NaN, 2]]), TypeError);
    await assert.rejects(reader.describe(image, [[1, 2, 3]] as unknown as Box[]), TypeError);
    await assert.rejects(HumanPeopleReader.load({ maxPeople: -1 }), TypeError);
  });

  it('honours an aborted signal', async () => {
    const image = { width: 64, height: 64, data: new Uint8Array(64 * 64 * 3) };
    await assert.rejects(reader.describe(image, [[0, 0, 32, 64]], AbortSignal.abort()), { name: 'AbortError' });
  });
});

describe('HumanPeopleReader with face descriptors', () => {
  it('returns a descriptor only when loaded with faceDescriptors, and still no age or gender', async () => {
    const reader = await HumanPeopleReader.load({ faceDescriptors: true, hands: false });
    try {
      const image = await frameOf(SAMPLES, { left: 326, top: 1, width: 199, height: 157 });
      // About where CenterNet boxes the man in this frame (the dinner test above).
      const [man] = await reader.describe(image, [[205, 10, 384, 388]]);
      assert.ok(man?.faceDescriptor instanceof Float32Array, JSON.stringify(man));
      assert.equal(man.faceDescriptor.length, 1024);
      const { faceDescriptor: _, ...facts } = man;
      assertNoPrivateFields([facts]);
    } finally {
      await reader.close();
    }
    await assert.rejects(reader.describe({ width: 1, height: 1, data: new Uint8Array(3) }, [[0, 0, 1, 1]]), InvalidStateError);
  });
});

/** Keypoints by part from [part, x, y] triples, all confidently seen. */
function points(...list: [string, number, number][]): Partial<Record<string, Keypoint>> {
  return Object.fromEntries(list.map(([part, x, y]) => [part, { part, x, y, score: 0.8 }]));
}

describe('people rules', () => {
  const box: Box = [100, 0, 120, 400];
  const head: [string, number, number][] = [['nose', 160, 40], ['leftEye', 168, 32], ['rightEye', 152, 32]];
  // Seen from the front, the person's left shoulder is on the image's right.
  const shoulders: [string, number, number][] = [['leftShoulder', 200, 80], ['rightShoulder', 120, 80]];
  const hips: [string, number, number][] = [['leftHip', 185, 190], ['rightHip', 135, 190]];

  it('tells facing from the face keypoints and the shoulders', () => {
    assert.equal(facingOf(points(...head, ...shoulders, ...hips), undefined, box), 'camera');
    assert.equal(facingOf(points(...shoulders, ...hips), undefined, box), 'away');
    // Side-on, the shoulders overlap.
    assert.equal(facingOf(points(['nose', 150, 40], ['rightEye', 152, 32], ['rightShoulder', 155, 80], ['leftShoulder', 165, 80], ...hips), undefined, box), 'side');
    // A close-up without shoulders: the face mesh's head turn decides.
    const face = { box: [120, 0, 80, 80] as Box, score: 1, emotions: [], yaw: 0.9 };
    assert.equal(facingOf({}, face, box), 'side');
    assert.equal(facingOf({}, { ...face, yaw: 0.1 }, box), 'camera');
    assert.equal(facingOf({}, undefined, box), undefined);
  });

  it('tells standing from sitting by the thighs against the torso', () => {
    const standing = points(...shoulders, ...hips, ['leftKnee', 183, 300], ['rightKnee', 137, 300], ['leftAnkle', 182, 395]);
    assert.equal(postureOf(standing, box), 'standing');
    // Facing the camera seated, the thighs point at it and look short.
    const seated = points(...shoulders, ...hips, ['leftKnee', 190, 215], ['rightKnee', 130, 215], ['leftAnkle', 190, 320]);
    assert.equal(postureOf(seated, box), 'sitting');
    // Side-on seated: a level thigh.
    const profile = points(...shoulders, ...hips, ['leftKnee', 280, 200]);
    assert.equal(postureOf(profile, box), 'sitting');
    assert.equal(postureOf(points(...shoulders, ...hips), box), undefined, 'no knees, no claim');
  });

  it('calls a hand raised when a wrist is above the nose, or above the shoulders when the face is not seen', () => {
    assert.equal(handRaisedOf(points(...head, ...shoulders, ['leftWrist', 210, 20])), true);
    assert.equal(handRaisedOf(points(...head, ...shoulders, ['leftWrist', 210, 60], ['rightWrist', 110, 200])), false);
    assert.equal(handRaisedOf(points(...shoulders, ['rightWrist', 110, 70])), true);
    assert.equal(handRaisedOf(points(...head, ...shoulders)), undefined, 'no wrist seen');
  });

  it('grades distance by the box against the frame height', () => {
    assert.equal(personDistance([0, 0, 100, 300], 480), 'near');
    assert.equal(personDistance([0, 0, 100, 200], 480), 'middle');
    assert.equal(personDistance([0, 0, 100, 100], 480), 'far');
  });

  it("keeps Human's whole-person gestures and drops per-finger noise", () => {
    const hand = { box: [0, 0, 90, 110] as Box, score: 0.9, fingerScore: 0.8, label: 'hand' };
    const observation: PersonObservation = {
      keypoints: [],
      hands: [hand, { ...hand, box: [0, 0, 30, 25] }, hand],
      gestures: [
        { source: 'body', gesture: 'i give up' },
        { source: 'body', gesture: 'leaning left' },
        { source: 'face', gesture: 'head down' },
        { source: 'face', gesture: 'mouth 42% open' },
        { source: 'face', gesture: 'mouth 12% open' },
        { source: 'hand', gesture: 'index up', hand: 0 },
        { source: 'hand', gesture: 'thumbs up', hand: 0 },
        // Too small a hand to read fingers from.
        { source: 'hand', gesture: 'middle finger', hand: 1 },
        // Two poses at once: not read.
        { source: 'hand', gesture: 'victory', hand: 2 },
        { source: 'hand', gesture: 'open palm', hand: 2 },
      ],
    };
    assert.deepEqual(gesturesOf(observation).sort(), ['leaning left', 'mouth open', 'raise both hands', 'thumbs up']);
  });

  it('ignores a face or body that belongs to a neighbour caught in the crop margin', () => {
    const observation: PersonObservation = {
      keypoints: [{ part: 'nose', x: 20, y: 40, score: 0.9 }, { part: 'leftWrist', x: 30, y: 10, score: 0.9 }],
      face: { box: [0, 10, 60, 60], score: 1, emotions: [{ emotion: 'happy', score: 0.9 }] },
      hands: [],
      gestures: [],
    };
    const facts = observedFacts(box, observation);
    assert.equal(facts.emotion, undefined);
    assert.equal(facts.handRaised, undefined);
  });
});

import { SupervisedChild, type ChildReply, type Supervision } from '../../child-rpc.ts';
import { InvalidStateError } from '../../errors.ts';
import type { PersonFacts } from '../video/facts.ts';
import { framePosition } from '../video/scene-facts.ts';
import { assertRgbImage, type Box, type RgbImage } from '../video/types.ts';

export interface HumanPeopleOptions {
  /**
   * Also compute a face descriptor (Human's faceres embedding) for each visible face, to tell
   * that the same person came back. Off unless asked for: it is biometric data.
   * @defaultValue false
   */
  faceDescriptors: boolean;
  /**
   * Run the hand models (finger gestures such as "thumbs up") for people near the camera.
   * They are the costliest part, and on smaller people fingers are a few pixels.
   * @defaultValue true
   */
  hands: boolean;
  /** People looked at closely, the largest first; the rest get only box facts. @defaultValue 4 */
  maxPeople: number;
}

/** PersonFacts, with a face descriptor when the reader was loaded with `faceDescriptors: true`. */
export interface DescribedPerson extends PersonFacts {
  /** Human's faceres embedding (1024 values; nearer by Euclidean distance is likelier the same face); only with the faceDescriptors option. */
  faceDescriptor?: Float32Array;
}

/** A body keypoint (MoveNet's 17: nose, leftEye, …, rightAnkle; left/right are the person's own). */
export interface Keypoint {
  part: string;
  x: number;
  y: number;
  score: number;
}

/** What the models saw of one person, in frame pixels (the child's reply). */
export interface PersonObservation {
  keypoints: Keypoint[];
  face?: {
    box: Box;
    score: number;
    /** Best first. */
    emotions: { emotion: string; score: number }[];
    /** Head turn in radians from the face mesh, 0 facing the camera. */
    yaw?: number;
    descriptor?: Float32Array;
  };
  /** HandTrack's box, its score, the landmark model's score, and its hand class (fist, point, …). */
  hands: { box: Box; score: number; fingerScore: number; label: string }[];
  /** Human's gesture rules' output; a hand gesture names its hand by index in `hands`. */
  gestures: { source: 'face' | 'body' | 'hand'; gesture: string; hand?: number }[];
}

interface ChildMessage extends ChildReply {
  people?: PersonObservation[];
}

/** Below this a keypoint is not trusted to be visible (Human drops those under 0.3 already). */
const MIN_KEYPOINT_SCORE = 0.3;
/** An emotion is reported only when the model is this sure of it. */
const MIN_EMOTION_SCORE = 0.4;
/** Faces smaller than this (frame pixels) are upscaled mush to the 64 px emotion model. */
const MIN_EMOTION_FACE = 48;
/** Finger poses of smaller or less certain hands are mostly noise (a 30 px fist read as "middle finger"). */
const MIN_HAND_SIZE = 60;
const MIN_HAND_SCORE = 0.6;

/**
 * Facts about the people in a keyframe — where they are, which way they face, standing or
 * sitting, hands up, gestures, facial expression — from Human's face (BlazeFace + FaceMesh +
 * emotion), body (MoveNet Lightning) and hand (HandTrack + landmarks) models on the tfjs wasm
 * backend, in a child process (people-process.mjs). Never age or gender.
 *
 * The object detector's person boxes say where to look: each is examined on its own crop, so
 * an empty scene costs nothing and the facts are matched to their box by construction.
 */
export class HumanPeopleReader {
  readonly name = 'human';
  readonly options: HumanPeopleOptions;
  readonly #rpc: SupervisedChild<ChildMessage>;
  #closed = false;

  /** `supervision`: where its process's crashes and restarts are reported, and how it restarts. */
  static async load(options: Partial<HumanPeopleOptions> = {}, supervision: Supervision = {}): Promise<HumanPeopleReader> {
    const resolved = resolveOptions(options);
    const { child } = await SupervisedChild.start<ChildMessage>(
      new URL('./people-process.mjs', import.meta.url),
      [JSON.stringify({ faceDescriptors: resolved.faceDescriptors })],
      { label: 'Human people reader', errorPrefix: 'Human failed: ', engine: 'people', what: 'describing people', ...supervision },
    );
    return new HumanPeopleReader(child, resolved);
  }

  private constructor(rpc: SupervisedChild<ChildMessage>, options: HumanPeopleOptions) {
    this.#rpc = rpc;
    this.options = options;
  }

  /** Of the child process that runs the models (diagnostics). */
  get pid(): number | undefined {
    return this.#rpc.pid;
  }

  /**
   * One PersonFacts per box, in the order given. `personBoxes` are the object detector's
   * "person" boxes in `image` pixels; with none, the models are not asked.
   */
  async describe(image: RgbImage, personBoxes: Box[], signal?: AbortSignal): Promise<DescribedPerson[]> {
    assertRgbImage(image);
    if (this.#closed) throw new InvalidStateError('people reader is closed');
    if (!Array.isArray(personBoxes)) throw new TypeError('personBoxes must be an array of [x, y, width, height] boxes');
    for (const box of personBoxes) assertBox(box);
    signal?.throwIfAborted();
    const facts: DescribedPerson[] = personBoxes.map((box) => boxFacts(box, image.width, image.height));
    if (facts.length === 0) return facts;

    // The largest people are the ones the models can read, and the ones asked about.
    const chosen = personBoxes
      .map((box, index) => ({ box, index }))
      .filter(({ box }) => bigEnough(box, image.width, image.height))
      .sort((a, b) => b.box[2] * b.box[3] - a.box[2] * a.box[3])
      .slice(0, this.options.maxPeople);
    if (chosen.length === 0) return facts;
    const people = chosen.map(({ box, index }) => ({ box, hands: this.options.hands && facts[index]!.distance === 'near' }));
    // Structured clone copies a view's whole ArrayBuffer: send only this frame's bytes.
    const { data } = image;
    const bytes = data.byteOffset === 0 && data.byteLength === data.buffer.byteLength ? data : data.slice();
    const reply = await this.#rpc.call({ width: image.width, height: image.height, data: bytes, people }, signal);
    reply.people!.forEach((observation, i) => {
      const index = chosen[i]!.index;
      facts[index] = { ...facts[index]!, ...observedFacts(facts[index]!.box, observation) };
      if (!this.options.faceDescriptors) delete facts[index]!.faceDescriptor;
    });
    return facts;
  }

  async close(): Promise<void> {
    this.#closed = true;
    await this.#rpc.close();
  }
}

function resolveOptions(options: Partial<HumanPeopleOptions>): HumanPeopleOptions {
  // Hands off by default: they double a near person's cost, and finger poses proved unreliable.
  const o = { faceDescriptors: false, hands: false, maxPeople: 4, ...options };
  if (typeof o.faceDescriptors !== 'boolean') throw new TypeError('faceDescriptors must be a boolean');
  if (typeof o.hands !== 'boolean') throw new TypeError('hands must be a boolean');
  if (!Number.isInteger(o.maxPeople) || o.maxPeople < 0) throw new TypeError(`maxPeople must be a non-negative integer, got ${o.maxPeople}`);
  return o;
}

function assertBox(box: Box): void {
  if (!Array.isArray(box) || box.length !== 4 || !box.every(Number.isFinite) || !(box[2] > 0 && box[3] > 0)) {
    throw new TypeError(`a person box must be [x, y, width, height] with a positive size, got ${JSON.stringify(box)}`);
  }
}

/** Smaller than this inside the frame, a person is a few pixels of each body part: not worth a model run. */
const MIN_PERSON_WIDTH = 8;
const MIN_PERSON_HEIGHT = 24;

function bigEnough([x, y, w, h]: Box, width: number, height: number): boolean {
  const seenW = Math.min(width, x + w) - Math.max(0, x);
  const seenH = Math.min(height, y + h) - Math.max(0, y);
  return seenW >= MIN_PERSON_WIDTH && seenH >= MIN_PERSON_HEIGHT;
}

/** What the box alone says: where the person is and how far. */
export function boxFacts(box: Box, width: number, height: number): PersonFacts {
  return { box, position: framePosition(box, width), distance: personDistance(box, height), gestures: [] };
}

/** A person filling most of the frame's height is near; under a third, far. */
export function personDistance(box: Box, frameHeight: number): PersonFacts['distance'] {
  const share = box[3] / frameHeight;
  return share >= 0.6 ? 'near' : share >= 0.3 ? 'middle' : 'far';
}

/** The facts the models add to the box's. Exported for tests of the rules. */
export function observedFacts(box: Box, observation: PersonObservation): Omit<DescribedPerson, 'box' | 'position' | 'distance'> {
  const points = keypointsByPart(observation.keypoints, box);
  const face = faceOf(observation, box);
  const out: Omit<DescribedPerson, 'box' | 'position' | 'distance'> = { gestures: gesturesOf(observation) };
  const facing = facingOf(points, face, box);
  if (facing) out.facing = facing;
  const posture = postureOf(points, box);
  if (posture) out.posture = posture;
  const raised = handRaisedOf(points);
  if (raised !== undefined) out.handRaised = raised;
  const emotion = face && face.box[2] >= MIN_EMOTION_FACE ? face.emotions[0] : undefined;
  if (emotion && emotion.score >= MIN_EMOTION_SCORE) out.emotion = emotion.emotion;
  if (face?.descriptor) out.faceDescriptor = face.descriptor;
  return out;
}

type Points = Partial<Record<string, Keypoint>>;

/** Visible keypoints of this person: a neighbour's body seen in an overlapping crop is dropped. */
function keypointsByPart(keypoints: Keypoint[], box: Box): Points {
  const visible = keypoints.filter((k) => k.score >= MIN_KEYPOINT_SCORE);
  const inside = visible.filter((k) => contains(box, k.x, k.y, 0.15)).length;
  if (visible.length === 0 || inside < visible.length / 2) return {};
  return Object.fromEntries(visible.map((k) => [k.part, k]));
}

function faceOf(observation: PersonObservation, box: Box): PersonObservation['face'] {
  const face = observation.face;
  if (!face) return undefined;
  // A face whose centre is outside the box is someone else's, caught by the crop's margin.
  return contains(box, face.box[0] + face.box[2] / 2, face.box[1] + face.box[3] / 2, 0) ? face : undefined;
}

function contains([x, y, w, h]: Box, px: number, py: number, margin: number): boolean {
  return px >= x - w * margin && px <= x + w * (1 + margin) && py >= y - h * margin && py <= y + h * (1 + margin);
}

/**
 * Both eyes and the nose with wide shoulders: towards the camera. Shoulders but no face: away.
 * Narrow shoulders or half a face: side. Without shoulders, the face mesh's head turn decides.
 */
export function facingOf(p: Points, face: PersonObservation['face'], box: Box): PersonFacts['facing'] {
  const eyes = Number(Boolean(p.leftEye)) + Number(Boolean(p.rightEye));
  const ears = Number(Boolean(p.leftEar)) + Number(Boolean(p.rightEar));
  const shoulders = p.leftShoulder && p.rightShoulder ? Math.abs(p.leftShoulder.x - p.rightShoulder.x) : undefined;
  // Frontal or from behind, shoulders span ~¾ of the torso's length (or most of the box's width); side-on, a fraction.
  const torso = torsoLength(p);
  const wide = shoulders === undefined ? undefined : shoulders >= 0.45 * (torso ?? box[2]);
  if (wide === undefined) {
    if (face?.yaw !== undefined) return Math.abs(face.yaw) <= 0.6 ? 'camera' : 'side';
    if (p.nose && eyes === 2) return 'camera';
    return eyes + ears > 0 ? 'side' : undefined;
  }
  if (!wide) return 'side';
  if (face || (p.nose && eyes === 2)) return 'camera';
  if (!p.nose && eyes === 0) return 'away';
  return 'side';
}

/** Vertical distance from the shoulders' middle to the hips' middle, when both are seen. */
function torsoLength(p: Points): number | undefined {
  const shoulderY = meanY(p.leftShoulder, p.rightShoulder);
  const hipY = meanY(p.leftHip, p.rightHip);
  return shoulderY !== undefined && hipY !== undefined && hipY > shoulderY ? hipY - shoulderY : undefined;
}

function meanY(a?: Keypoint, b?: Keypoint): number | undefined {
  return a && b ? (a.y + b.y) / 2 : (a ?? b)?.y;
}

/**
 * From the thighs against the torso: standing, a thigh drops about as far as the torso is
 * long and hangs near vertical; sitting, it is foreshortened or level. Omitted when hips,
 * knees or shoulders are not seen, or the person is not upright.
 */
export function postureOf(p: Points, box: Box): PersonFacts['posture'] {
  const torso = torsoLength(p);
  if (torso === undefined || torso < 0.12 * box[3]) return undefined;
  const thighs = (['left', 'right'] as const).flatMap((side) => {
    const hip = p[`${side}Hip`];
    const knee = p[`${side}Knee`];
    if (!hip || !knee) return [];
    const ankle = p[`${side}Ankle`];
    return [{ drop: (knee.y - hip.y) / torso, slant: Math.abs(knee.x - hip.x) / torso, shin: ankle ? (ankle.y - knee.y) / torso : undefined }];
  });
  if (thighs.length === 0) return undefined;
  const drop = thighs.reduce((s, t) => s + t.drop, 0) / thighs.length;
  const slant = thighs.reduce((s, t) => s + t.slant, 0) / thighs.length;
  if (drop < 0.45 || slant > Math.max(drop, 0)) return 'sitting';
  const shinsDown = thighs.every((t) => t.shin === undefined || t.shin >= 0.4);
  if (drop >= 0.6 && slant <= 0.5 * drop && shinsDown) return 'standing';
  return undefined;
}

/**
 * A wrist above the nose (the face not seen: above the shoulders) is a raised hand. Unknown
 * when no wrist, or neither nose nor shoulders, is visible.
 */
export function handRaisedOf(p: Points): boolean | undefined {
  const wrists = [p.leftWrist, p.rightWrist].filter((k): k is Keypoint => k !== undefined);
  const line = p.nose?.y ?? (p.leftShoulder && p.rightShoulder ? Math.min(p.leftShoulder.y, p.rightShoulder.y) : undefined);
  if (wrists.length === 0 || line === undefined) return undefined;
  return wrists.some((w) => w.y < line);
}

/**
 * Human's gesture rules, kept where they are about the person as a whole: raised hands and
 * leaning (body), finger poses such as "thumbs up" and "victory" (hands), a wide-open mouth
 * (face). Facing is its own fact; "head down", blinks and per-finger directions are noise in
 * a single keyframe.
 */
export function gesturesOf(observation: PersonObservation): string[] {
  const out = new Set<string>();
  const posesByHand = new Map<number, string[]>();
  for (const { source, gesture, hand } of observation.gestures) {
    if (source === 'body') {
      if (gesture === 'i give up') out.add('raise both hands');
      else if (gesture.startsWith('raise ') || gesture.startsWith('leaning ')) out.add(gesture);
    } else if (source === 'hand' && hand !== undefined) {
      // "<finger> up/forward" is said of every hand seen; the named poses are the gestures.
      if (/ (up|forward)$/.test(gesture) && gesture !== 'thumbs up') continue;
      posesByHand.set(hand, [...(posesByHand.get(hand) ?? []), gesture]);
    } else if (source === 'face') {
      const open = /^mouth (\d+)% open$/.exec(gesture);
      if (open && Number(open[1]) >= 30) out.add('mouth open');
    }
  }
  for (const [index, poses] of posesByHand) {
    const hand = observation.hands[index];
    if (!hand || Math.max(hand.box[2], hand.box[3]) < MIN_HAND_SIZE || Math.min(hand.score, hand.fingerScore) < MIN_HAND_SCORE) continue;
    // A hand matching two poses at once ("victory" and "open palm") was not read.
    if (poses.length === 1) out.add(poses[0]!);
  }
  return [...out];
}

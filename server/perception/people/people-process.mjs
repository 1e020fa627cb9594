// Looks at the people in a frame with Human (@vladmandic/human) on the tfjs wasm backend, in a
// child process for the same reasons as centernet-process.mjs: tfjs-wasm computes synchronously
// (a person costs 100–400 ms) and its Emscripten glue installs process-wide error handlers.
//
// Each person box is cropped (with a margin), padded to a square and given to Human on its own:
// MoveNet Lightning sees one body per input, and a person's own crop makes the face and hands
// larger and already matched to that person. Age and gender are never computed: the face
// description model (faceres), which also estimates them, runs only when face descriptors are
// asked for, and then only its descriptor leaves this process.
//
// argv: JSON options { faceDescriptors: boolean }
// in:  { id, width, height, data: Uint8Array (RGB24), people: [{ box: [x, y, w, h], hands: boolean }] } | { close: true }
// out: { ready: true } | { fatal } once, then { id, people: [Observation] } | { id, error }
//      Observation: { keypoints: [{ part, x, y, score }], face?: { box, score, emotions: [{ emotion, score }], yaw?, descriptor? },
//                     hands: [{ box, score, fingerScore, label }], gestures: [{ source: 'face' | 'body' | 'hand', gesture, hand? }] }
//      (frame pixels, best emotion first)
import path from 'node:path';
import { createRequire } from 'node:module';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { serveRequests } from '../../child-serve.mjs';
import { fileHandler } from '../tfjs-file-handler.mjs';

const require = createRequire(import.meta.url);
const tf = require('@tensorflow/tfjs-core');
// The package's exports map names this build without "./", so it is not importable by subpath.
const humanDist = path.dirname(require.resolve('@vladmandic/human'));
const { Human } = require(path.join(humanDist, 'human.node-wasm.js'));

const { faceDescriptors } = JSON.parse(process.argv[2] ?? '{}');
const MODELS = path.join(humanDist, '..', 'models');
/** Box margin on each side, as a share of the box: CenterNet's person boxes can cut off hands and feet. */
const MARGIN_X = 0.1;
const MARGIN_Y = 0.05;
/** Crops larger than this are scaled down: the models look at 192–320 px anyway. */
const MAX_CROP = 512;

/** tfjs in Node cannot fetch file:// URLs (that takes tfjs-node): read model.json and its shards from disk. */
function registerFileLoader() {
  tf.io.registerLoadRouter((url) => (typeof url === 'string' && url.startsWith('file://') ? fileHandler(fileURLToPath(url)) : null));
}

/** Everything off that is not a people fact; every call states whether hands run (Human keeps the last config). */
function humanConfig() {
  return {
    backend: 'wasm',
    wasmPath: path.join(path.dirname(require.resolve('@tensorflow/tfjs-backend-wasm/package.json')), 'dist') + path.sep,
    modelBasePath: pathToFileURL(MODELS).href + '/',
    debug: false,
    // Sequential: wasm runs one kernel at a time anyway, and the timings stay per model.
    async: false,
    warmup: 'none',
    cacheModels: false,
    // Consecutive inputs are different people: never reuse a previous input's results.
    cacheSensitivity: 0,
    filter: { enabled: false },
    face: {
      enabled: true,
      detector: { maxDetected: 1, rotation: false, minConfidence: 0.2 },
      mesh: { enabled: true },
      iris: { enabled: false },
      attention: { enabled: false },
      emotion: { enabled: true, minConfidence: 0.1 },
      description: { enabled: Boolean(faceDescriptors) },
      antispoof: { enabled: false },
      liveness: { enabled: false },
      gear: { enabled: false },
    },
    body: { enabled: true, modelPath: 'movenet-lightning.json', maxDetected: 1, minConfidence: 0.3 },
    hand: { enabled: false, maxDetected: 2, minConfidence: 0.5, rotation: true, landmarks: true },
    gesture: { enabled: true },
    object: { enabled: false },
    segmentation: { enabled: false },
  };
}

async function load() {
  registerFileLoader();
  const human = new Human(humanConfig());
  // Hands are off in the base config, but their models are loaded once up front, not on a first near person.
  await human.load({ hand: { enabled: true } });
  if (human.tf.getBackend() !== 'wasm') throw new Error(`Human runs on '${human.tf.getBackend()}', not wasm`);
  // A first pass compiles the kernels; a later real frame should not pay for that.
  const blank = tf.zeros([256, 256, 3], 'float32');
  await human.detect(blank, { hand: { enabled: true } });
  blank.dispose();
  return human;
}

/** The person's box with a margin, clamped to the frame: [x0, y0, x1, y1]. */
function cropRect([x, y, w, h], width, height) {
  const x0 = Math.min(width - 1, Math.max(0, Math.floor(x - w * MARGIN_X)));
  const y0 = Math.min(height - 1, Math.max(0, Math.floor(y - h * MARGIN_Y)));
  const x1 = Math.min(width, Math.ceil(x + w * (1 + MARGIN_X)));
  const y1 = Math.min(height, Math.ceil(y + h * (1 + MARGIN_Y)));
  return [x0, y0, Math.max(x0 + 1, x1), Math.max(y0 + 1, y1)];
}

async function observe(human, frame, person, width, height) {
  const [x0, y0, x1, y1] = cropRect(person.box, width, height);
  const cw = x1 - x0;
  const ch = y1 - y0;
  const side = Math.max(cw, ch);
  const scale = Math.min(1, MAX_CROP / side);
  const padX = Math.floor((side - cw) / 2);
  const padY = Math.floor((side - ch) / 2);
  // Padded to a square with black: the face detector and MoveNet squash non-square inputs.
  const input = tf.tidy(() => {
    const square = tf.pad(tf.slice(frame, [y0, x0, 0], [ch, cw, 3]), [[padY, side - ch - padY], [padX, side - cw - padX], [0, 0]]);
    const size = Math.max(1, Math.round(side * scale));
    return scale < 1 ? tf.image.resizeBilinear(square, [size, size]) : square;
  });
  let result;
  try {
    result = await human.detect(input, { hand: { enabled: Boolean(person.hands) } });
  } finally {
    input.dispose();
  }
  if (result.error) throw new Error(result.error);

  // Crop pixels back to frame pixels.
  const fx = (x) => round1(x / scale - padX + x0);
  const fy = (y) => round1(y / scale - padY + y0);
  const fbox = ([bx, by, bw, bh]) => [fx(bx), fy(by), round1(bw / scale), round1(bh / scale)];

  const body = result.body[0];
  const keypoints = (body?.keypoints ?? []).map((k) => ({ part: k.part, x: fx(k.position[0]), y: fy(k.position[1]), score: k.score }));
  const observation = { keypoints, hands: [], gestures: [] };
  const face = result.face[0];
  if (face) {
    // Only the fields named here leave the process (never age, gender or the face crop).
    observation.face = {
      box: fbox(face.box),
      score: face.score,
      emotions: (face.emotion ?? []).map((e) => ({ emotion: e.emotion, score: e.score })).sort((a, b) => b.score - a.score),
    };
    if (face.rotation?.angle) observation.face.yaw = round3(face.rotation.angle.yaw);
    if (faceDescriptors && face.embedding?.length) observation.face.descriptor = Float32Array.from(face.embedding);
  }
  observation.hands = result.hand.map((h) => ({ box: fbox(h.box), score: h.score, fingerScore: h.fingerScore, label: h.label }));
  for (const g of result.gesture) {
    if ('hand' in g) observation.gestures.push({ source: 'hand', gesture: g.gesture, hand: g.hand });
    else if ('body' in g) observation.gestures.push({ source: 'body', gesture: g.gesture });
    else if ('face' in g) observation.gestures.push({ source: 'face', gesture: g.gesture });
  }
  return observation;
}

async function describe(human, { width, height, data, people }) {
  const frame = tf.tensor3d(data, [height, width, 3], 'int32');
  try {
    const out = [];
    for (const person of people) out.push(await observe(human, frame, person, width, height));
    return out;
  } finally {
    frame.dispose();
  }
}

const round1 = (v) => Math.round(v * 10) / 10;
const round3 = (v) => Math.round(v * 1000) / 1000;

await serveRequests(load, async (human, msg) => ({ people: await describe(human, msg) }));

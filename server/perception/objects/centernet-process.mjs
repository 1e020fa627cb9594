// Runs CenterNet on the tfjs wasm backend in a child process. tfjs-wasm executes synchronously
// (~130–250 ms a frame on this class of CPU), and its Emscripten glue installs process-wide
// uncaughtException/unhandledRejection handlers that rethrow; neither belongs in the server.
// A process, not a worker thread: Node 20 shares its module-hooks thread (tsx) with workers,
// and that crashed (see flite-process.mjs).
//
// argv: modelJsonPath, JSON options { minScore, iouThreshold, maxDetections }
// in:  { id, width, height, data: Uint8Array (RGB24) } | { close: true }
// out: { ready: true, inputSize: [h, w] } | { fatal } once, then { id, objects: [{ cls, score, box }] } | { id, error }
import path from 'node:path';
import { createRequire } from 'node:module';
import { serveRequests } from '../../child-serve.mjs';
import { fileHandler } from '../tfjs-file-handler.mjs';

const require = createRequire(import.meta.url);
const tf = require('@tensorflow/tfjs-core');
const { setWasmPaths } = require('@tensorflow/tfjs-backend-wasm');
const { loadGraphModel } = require('@tensorflow/tfjs-converter');

const DETECTIONS = 'tower_0/detections';
/** Letterbox padding: black worked as well as grey on the sample photos. */
const PAD = 0;

const [modelPath, optionsJson] = process.argv.slice(2);
const { minScore, iouThreshold, maxDetections } = JSON.parse(optionsJson);


async function loadModel() {
  // Under Node tfjs reports no wasm multithreading, so it picks the single-threaded SIMD build.
  setWasmPaths(path.join(path.dirname(require.resolve('@tensorflow/tfjs-backend-wasm/package.json')), 'dist') + path.sep);
  if (!(await tf.setBackend('wasm'))) throw new Error('tfjs wasm backend failed to initialize');
  const model = await loadGraphModel(fileHandler(modelPath));
  const shape = model.inputs[0]?.shape ?? [];
  const [inH, inW] = [shape[1], shape[2]];
  if (!(inH > 0 && inW > 0)) throw new Error(`unexpected CenterNet input shape ${JSON.stringify(shape)}`);
  if (!model.outputNodes.includes(DETECTIONS)) throw new Error(`CenterNet model has no '${DETECTIONS}' output`);
  return { model, inH, inW };
}

/**
 * The graph already decodes its heatmap: `tower_0/detections` is [1, 100, 6], rows of
 * x1, y1, x2, y2 (model input pixels), score, class (0-based COCO index). The model wants
 * RGB in 0..255 (it scored far lower on /255, [-1,1] or BGR input).
 */
async function detect({ model, inH, inW }, { width, height, data }) {
  // Letterbox instead of stretching: a 16:9 frame squashed to a square lost most detections.
  const scale = Math.min(inH / height, inW / width);
  const h = Math.min(inH, Math.max(1, Math.round(height * scale)));
  const w = Math.min(inW, Math.max(1, Math.round(width * scale)));
  const output = tf.tidy(() => {
    const image = tf.cast(tf.tensor3d(data, [height, width, 3], 'int32'), 'float32');
    const resized = tf.image.resizeBilinear(image, [h, w]);
    const padded = tf.pad(resized, [[0, inH - h], [0, inW - w], [0, 0]], PAD);
    return model.execute(tf.expandDims(padded, 0), DETECTIONS);
  });
  const rows = await output.data();
  output.dispose();

  // Back to input pixels; keep only what can survive the score threshold.
  const found = [];
  for (let i = 0; i + 6 <= rows.length; i += 6) {
    const score = rows[i + 4];
    const cls = rows[i + 5];
    if (!(score >= minScore) || !Number.isInteger(cls) || cls < 0) continue;
    const x1 = clamp(rows[i] / scale, 0, width);
    const y1 = clamp(rows[i + 1] / scale, 0, height);
    const x2 = clamp(rows[i + 2] / scale, 0, width);
    const y2 = clamp(rows[i + 3] / scale, 0, height);
    if (x2 <= x1 || y2 <= y1) continue;
    found.push({ cls, score, x1, y1, x2, y2 });
  }
  if (found.length === 0) return [];

  // Per-class NMS in one call: shifting each class to its own region of the plane means boxes of
  // different classes never overlap (a cup on a table is not suppressed by the table).
  const offset = Math.max(width, height) + 1;
  const boxes = tf.tensor2d(found.flatMap((f) => [f.y1 + f.cls * offset, f.x1 + f.cls * offset, f.y2 + f.cls * offset, f.x2 + f.cls * offset]), [found.length, 4]);
  const scores = tf.tensor1d(found.map((f) => f.score));
  const keep = await tf.image.nonMaxSuppressionAsync(boxes, scores, maxDetections, iouThreshold, minScore);
  const indices = await keep.data();
  tf.dispose([boxes, scores, keep]);
  return Array.from(indices, (k) => {
    const f = found[k];
    return { cls: f.cls, score: Math.round(f.score * 1000) / 1000, box: [Math.round(f.x1), Math.round(f.y1), Math.round(f.x2 - f.x1), Math.round(f.y2 - f.y1)] };
  });
}

const clamp = (v, lo, hi) => Math.min(hi, Math.max(lo, v));

await serveRequests(loadModel, async (loaded, msg) => ({ objects: await detect(loaded, msg) }), (loaded) => ({ inputSize: [loaded.inH, loaded.inW] }));

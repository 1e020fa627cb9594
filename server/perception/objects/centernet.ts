import path from 'node:path';
import { createRequire } from 'node:module';
import { SupervisedChild, type ChildReply, type Supervision } from '../../child-rpc.ts';
import { InvalidStateError } from '../../errors.ts';
import { assertRgbImage, type Box, type DetectedObject, type ObjectDetector, type RgbImage } from '../video/types.ts';

const require = createRequire(import.meta.url);

/** The 80 COCO detection classes, in the order of the model's 0-based class index. */
export const COCO_LABELS = [
  'person', 'bicycle', 'car', 'motorcycle', 'airplane', 'bus', 'train', 'truck', 'boat', 'traffic light',
  'fire hydrant', 'stop sign', 'parking meter', 'bench', 'bird', 'cat', 'dog', 'horse', 'sheep', 'cow',
  'elephant', 'bear', 'zebra', 'giraffe', 'backpack', 'umbrella', 'handbag', 'tie', 'suitcase', 'frisbee',
  'skis', 'snowboard', 'sports ball', 'kite', 'baseball bat', 'baseball glove', 'skateboard', 'surfboard', 'tennis racket', 'bottle',
  'wine glass', 'cup', 'fork', 'knife', 'spoon', 'bowl', 'banana', 'apple', 'sandwich', 'orange',
  'broccoli', 'carrot', 'hot dog', 'pizza', 'donut', 'cake', 'chair', 'couch', 'potted plant', 'bed',
  'dining table', 'toilet', 'tv', 'laptop', 'mouse', 'remote', 'keyboard', 'cell phone', 'microwave', 'oven',
  'toaster', 'sink', 'refrigerator', 'book', 'clock', 'vase', 'scissors', 'teddy bear', 'hair drier', 'toothbrush',
] as const;

export interface CenterNetOptions {
  /** model.json of the tfjs graph model. @defaultValue Human's models/centernet.json */
  modelPath: string;
  /** Detections scoring below this are dropped. @defaultValue 0.25 */
  minScore: number;
  /** Boxes of one class overlapping more than this are merged by NMS. @defaultValue 0.4 */
  iouThreshold: number;
  /** @defaultValue 20 */
  maxDetections: number;
}

/** MobileNetV3 CenterNet (COCO, 512×512 input) as shipped in the @vladmandic/human npm package. */
export function defaultCenterNetModelPath(): string {
  // The package's exports hide package.json; its main entry lives in dist/, the models beside it.
  return path.resolve(path.dirname(require.resolve('@vladmandic/human')), '..', 'models', 'centernet.json');
}

interface ChildMessage extends ChildReply {
  inputSize?: [number, number];
  objects?: { cls: number; score: number; box: Box }[];
}

/**
 * COCO object detection with CenterNet on the tfjs wasm backend, in a child process
 * (centernet-process.mjs): a frame takes 100–250 ms of synchronous wasm, which on the main
 * thread would stall VAD and audio. Here the event loop only pays for copying the frame.
 * Frames are detected one at a time, in the order given.
 */
export class CenterNetDetector implements ObjectDetector {
  readonly name = 'centernet';
  readonly options: CenterNetOptions;
  /** [height, width] the model runs at. */
  readonly inputSize: [number, number];
  readonly #rpc: SupervisedChild<ChildMessage>;
  #closed = false;

  /** `supervision`: where its process's crashes and restarts are reported, and how it restarts. */
  static async load(options: Partial<CenterNetOptions> = {}, supervision: Supervision = {}): Promise<CenterNetDetector> {
    const resolved = resolveOptions(options);
    const { child, ready } = await SupervisedChild.start<ChildMessage>(
      new URL('./centernet-process.mjs', import.meta.url),
      [resolved.modelPath, JSON.stringify({ ...resolved, modelPath: undefined })],
      { label: 'CenterNet', errorPrefix: 'CenterNet failed: ', engine: 'objects', what: 'object detection', ...supervision },
    );
    return new CenterNetDetector(child, resolved, ready.inputSize!);
  }

  private constructor(rpc: SupervisedChild<ChildMessage>, options: CenterNetOptions, inputSize: [number, number]) {
    this.#rpc = rpc;
    this.options = options;
    this.inputSize = inputSize;
  }

  /** Of the child process that runs the model (diagnostics). */
  get pid(): number | undefined {
    return this.#rpc.pid;
  }

  async detect(image: RgbImage, signal?: AbortSignal): Promise<DetectedObject[]> {
    assertRgbImage(image);
    if (this.#closed) throw new InvalidStateError('object detector is closed');
    signal?.throwIfAborted();
    // Structured clone copies a view's whole ArrayBuffer: send only this frame's bytes.
    const { data } = image;
    const bytes = data.byteOffset === 0 && data.byteLength === data.buffer.byteLength ? data : data.slice();
    const reply = await this.#rpc.call({ width: image.width, height: image.height, data: bytes }, signal);
    return reply.objects!.map((o) => ({ label: COCO_LABELS[o.cls] ?? `class ${o.cls}`, score: o.score, box: o.box }));
  }

  async close(): Promise<void> {
    this.#closed = true;
    await this.#rpc.close();
  }
}

function resolveOptions(options: Partial<CenterNetOptions>): CenterNetOptions {
  const o = { modelPath: defaultCenterNetModelPath(), minScore: 0.25, iouThreshold: 0.4, maxDetections: 20, ...options };
  if (typeof o.modelPath !== 'string' || o.modelPath === '') throw new TypeError('modelPath must be a non-empty string');
  if (!(o.minScore >= 0 && o.minScore <= 1)) throw new TypeError(`minScore must be in [0, 1], got ${o.minScore}`);
  if (!(o.iouThreshold > 0 && o.iouThreshold <= 1)) throw new TypeError(`iouThreshold must be in (0, 1], got ${o.iouThreshold}`);
  if (!Number.isInteger(o.maxDetections) || o.maxDetections < 1) throw new TypeError(`maxDetections must be a positive integer, got ${o.maxDetections}`);
  return o;
}


import path from 'node:path';
import { createRequire } from 'node:module';
import { fork, type ChildProcess } from 'node:child_process';
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

interface Pending {
  resolve: (objects: DetectedObject[]) => void;
  reject: (error: Error) => void;
}

interface ChildMessage {
  ready?: boolean;
  inputSize?: [number, number];
  fatal?: string;
  id?: number;
  objects?: { cls: number; score: number; box: Box }[];
  error?: string;
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
  readonly #process: ChildProcess;
  readonly #pending = new Map<number, Pending>();
  #nextId = 1;
  #closed = false;

  static async load(options: Partial<CenterNetOptions> = {}): Promise<CenterNetDetector> {
    const resolved = resolveOptions(options);
    const script = new URL('./centernet-process.mjs', import.meta.url);
    // Plain JavaScript: keep the parent's loader flags (tsx) out of the child.
    const child = fork(script, [resolved.modelPath, JSON.stringify({ ...resolved, modelPath: undefined })], {
      execArgv: [],
      serialization: 'advanced',
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    try {
      const ready = await new Promise<ChildMessage>((resolve, reject) => {
        child.once('message', (msg: ChildMessage) => (msg.ready ? resolve(msg) : reject(new Error(`CenterNet failed to load: ${msg.fatal}`))));
        child.once('error', reject);
        child.once('exit', (code) => reject(new Error(`CenterNet process exited early (code ${code})`)));
      });
      return new CenterNetDetector(child, resolved, ready.inputSize!);
    } catch (error) {
      child.kill('SIGKILL');
      throw error;
    }
  }

  private constructor(child: ChildProcess, options: CenterNetOptions, inputSize: [number, number]) {
    this.#process = child;
    this.options = options;
    this.inputSize = inputSize;
    // While idle, neither the child nor its IPC channel keeps the parent alive.
    this.#hold(false);
    child.on('message', (msg: ChildMessage) => {
      if (msg.id === undefined) return;
      const pending = this.#pending.get(msg.id);
      this.#forget(msg.id);
      if (!pending) return;
      if (msg.error !== undefined) return pending.reject(new Error(`CenterNet failed: ${msg.error}`));
      pending.resolve(msg.objects!.map((o) => ({ label: COCO_LABELS[o.cls] ?? `class ${o.cls}`, score: o.score, box: o.box })));
    });
    child.on('error', (error) => this.#failAll(error));
    // 'disconnect' too: with the handles unref'd, 'exit' may never be delivered before the loop drains.
    child.on('disconnect', () => this.#failAll(new Error('CenterNet process exited')));
    child.on('exit', () => this.#failAll(new Error('CenterNet process exited')));
  }

  /** Of the child process that runs the model (diagnostics). */
  get pid(): number | undefined {
    return this.#process.pid;
  }

  async detect(image: RgbImage, signal?: AbortSignal): Promise<DetectedObject[]> {
    assertRgbImage(image);
    if (this.#closed) throw new InvalidStateError('object detector is closed');
    if (!this.#process.connected) throw new InvalidStateError('CenterNet process is gone');
    signal?.throwIfAborted();
    // Structured clone copies a view's whole ArrayBuffer: send only this frame's bytes.
    const { data } = image;
    const bytes = data.byteOffset === 0 && data.byteLength === data.buffer.byteLength ? data : data.slice();
    const id = this.#nextId++;
    return new Promise<DetectedObject[]>((resolve, reject) => {
      const onAbort = () => {
        this.#forget(id); // the child's answer, when it comes, is dropped
        reject(signal!.reason ?? new DOMException('aborted', 'AbortError'));
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      // While an answer is awaited the child keeps the event loop alive.
      if (this.#pending.size === 0) this.#hold(true);
      this.#pending.set(id, {
        resolve: (o) => (signal?.removeEventListener('abort', onAbort), resolve(o)),
        reject: (e) => (signal?.removeEventListener('abort', onAbort), reject(e)),
      });
      this.#process.send({ id, width: image.width, height: image.height, data: bytes });
    });
  }

  #forget(id: number): void {
    this.#pending.delete(id);
    if (this.#pending.size === 0) this.#hold(false);
  }

  #failAll(error: Error): void {
    for (const p of this.#pending.values()) p.reject(error);
    this.#pending.clear();
    this.#hold(false);
  }

  #hold(on: boolean): void {
    if (on) {
      this.#process.ref();
      this.#process.channel?.ref();
    } else {
      this.#process.unref();
      this.#process.channel?.unref();
    }
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#failAll(new InvalidStateError('object detector closed'));
    if (this.#process.exitCode === null && this.#process.signalCode === null) {
      this.#hold(true); // until it has exited
      const exited = new Promise((resolve) => this.#process.once('exit', resolve));
      if (this.#process.connected) this.#process.send({ close: true });
      else this.#process.kill('SIGKILL');
      // A child stuck in a long inference is stopped the hard way.
      const timer = setTimeout(() => this.#process.kill('SIGKILL'), 5000);
      await exited;
      clearTimeout(timer);
      this.#hold(false);
    }
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


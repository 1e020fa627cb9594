import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createRequire } from 'node:module';
import * as ort from 'onnxruntime-node';
import sharp from 'sharp';
import { InvalidStateError, UnsupportedError } from '../../errors.ts';
import { assertRgbImage, type ImageEmbedder, type RgbImage } from '../video/types.ts';

const require = createRequire(import.meta.url);

type Rgb = readonly [number, number, number];

/** How a frame becomes the model's square input. */
export interface Preprocessing {
  /** Per-channel mean and std of pixels scaled to 0..1. */
  mean: Rgb;
  std: Rgb;
  /** Side of the square input, used when the model's own input shape is dynamic. */
  size: number;
  /**
   * 'crop': shorter side to `size`, then a centre crop (CLIP).
   * 'stretch': straight to size×size, aspect ratio not kept (SigLIP).
   */
  resize: 'crop' | 'stretch';
  /**
   * Only for models whose chosen output is [N, tokens, D] (no pooled output exported):
   * 'cls' takes token 0 (CLIP puts its class token first), 'mean' averages all tokens
   * (SigLIP has no class token).
   */
  pooling: 'cls' | 'mean';
}

export const CLIP_PREPROCESSING: Preprocessing = {
  mean: [0.48145466, 0.4578275, 0.40821073],
  std: [0.26862954, 0.26130258, 0.27577711],
  size: 224,
  resize: 'crop',
  pooling: 'cls',
};

export const SIGLIP_PREPROCESSING: Preprocessing = {
  mean: [0.5, 0.5, 0.5],
  std: [0.5, 0.5, 0.5],
  size: 224,
  resize: 'stretch',
  pooling: 'mean',
};

export interface OnnxEmbedderOptions extends Partial<Omit<Preprocessing, 'mean' | 'std' | 'size'>> {
  modelPath: string;
  mean: Rgb;
  std: Rgb;
  size: number;
  /** Shown in `name`. @defaultValue the model's directory name */
  label?: string;
  /**
   * onnxruntime execution providers, e.g. ['cuda', 'cpu']. When omitted: CUDA first if its
   * provider library and an NVIDIA device are present (falling back to CPU if it fails), else CPU.
   */
  executionProviders?: string[];
  /** Threads for one inference. @defaultValue half the cores: audio work must keep a core */
  threads?: number;
}

/** Vision tower of CLIP or SigLIP exported to ONNX, run by onnxruntime (its own thread pool). */
export class OnnxImageEmbedder implements ImageEmbedder {
  static async load(options: OnnxEmbedderOptions): Promise<OnnxImageEmbedder> {
    const pre = checkOptions(options);
    const base: ort.InferenceSession.SessionOptions = {
      intraOpNumThreads: options.threads ?? Math.max(1, Math.floor(os.availableParallelism() / 2)),
      interOpNumThreads: 1,
      graphOptimizationLevel: 'all',
    };
    let session: ort.InferenceSession;
    let providers = options.executionProviders;
    if (providers) {
      session = await ort.InferenceSession.create(options.modelPath, { ...base, executionProviders: providers });
    } else if (cudaAvailable()) {
      try {
        providers = ['cuda', 'cpu'];
        session = await ort.InferenceSession.create(options.modelPath, { ...base, executionProviders: providers });
      } catch {
        providers = ['cpu'];
        session = await ort.InferenceSession.create(options.modelPath, { ...base, executionProviders: providers });
      }
    } else {
      providers = ['cpu'];
      session = await ort.InferenceSession.create(options.modelPath, { ...base, executionProviders: providers });
    }
    try {
      const embedder = new OnnxImageEmbedder(session, options, pre, providers);
      // One run now: learns the embedding length and fails early on a model we cannot feed.
      const [probe] = await embedder.#run([{ width: 1, height: 1, data: new Uint8Array(3) }]);
      embedder.#dims = probe.length;
      return embedder;
    } catch (error) {
      await session.release();
      throw error;
    }
  }

  readonly name: string;
  readonly executionProviders: readonly string[];
  /** Model input: name, [height, width] and how many images one run takes. */
  readonly input: { name: string; height: number; width: number; maxBatch: number };
  readonly output: string;
  readonly #session: ort.InferenceSession;
  readonly #pre: Preprocessing;
  #dims = 0;
  #closed = false;

  private constructor(session: ort.InferenceSession, options: OnnxEmbedderOptions, pre: Preprocessing, providers: string[]) {
    this.#session = session;
    this.#pre = pre;
    this.executionProviders = providers;
    this.name = `onnx:${options.label ?? path.basename(path.dirname(path.resolve(options.modelPath)))}`;

    const inputs = session.inputMetadata;
    const input = inputs.find((m) => m.name === 'pixel_values') ?? inputs[0];
    if (!input?.isTensor || input.type !== 'float32') throw new UnsupportedError(`the model's image input must be a float32 tensor`);
    // [N, 3, H, W]: a static H and W win over the configured size; a static N of 1 means one image a run.
    const [n, c, h, w] = input.shape;
    if (input.shape.length !== 4 || (typeof c === 'number' && c !== 3)) {
      throw new UnsupportedError(`expected an image input [N, 3, H, W], got ${input.name} ${JSON.stringify(input.shape)}`);
    }
    const side = (d: number | string | undefined) => (typeof d === 'number' && d > 0 ? d : pre.size);
    this.input = { name: input.name, height: side(h), width: side(w), maxBatch: typeof n === 'number' && n > 0 ? n : 16 };

    const names = session.outputNames;
    this.output = names.find((o) => o === 'image_embeds') ?? names.find((o) => o === 'pooler_output') ?? names[0];
  }

  get dims(): number {
    return this.#dims;
  }

  async embed(images: RgbImage[], signal?: AbortSignal): Promise<Float32Array[]> {
    if (!Array.isArray(images)) throw new TypeError('images must be an array of RgbImage');
    images.forEach(assertRgbImage);
    if (this.#closed) throw new InvalidStateError('image embedder is closed');
    const out: Float32Array[] = [];
    for (let i = 0; i < images.length; i += this.input.maxBatch) {
      signal?.throwIfAborted();
      out.push(...(await this.#run(images.slice(i, i + this.input.maxBatch), signal)));
    }
    signal?.throwIfAborted();
    return out;
  }

  async #run(images: RgbImage[], signal?: AbortSignal): Promise<Float32Array[]> {
    const { name, height, width } = this.input;
    const plane = height * width;
    const batch = new Float32Array(images.length * 3 * plane);
    const pixels = await Promise.all(images.map((image) => this.#resize(image)));
    signal?.throwIfAborted();
    // HWC bytes → CHW floats, (v/255 − mean) / std folded into one multiply-add per channel.
    const { mean, std } = this.#pre;
    const scale = std.map((s) => 1 / (255 * s));
    const shift = mean.map((m, c) => -m / std[c]);
    pixels.forEach((px, n) => {
      const base = n * 3 * plane;
      for (let c = 0; c < 3; c++) {
        const a = scale[c];
        const b = shift[c];
        const dst = base + c * plane;
        for (let i = 0; i < plane; i++) batch[dst + i] = px[i * 3 + c] * a + b;
      }
    });
    const result = await this.#session.run({ [name]: new ort.Tensor('float32', batch, [images.length, 3, height, width]) });
    const tensor = result[this.output];
    if (tensor.type !== 'float32') throw new UnsupportedError(`embedding output ${this.output} is ${tensor.type}, not float32`);
    return pool(tensor.data as Float32Array, tensor.dims, images.length, this.#pre.pooling).map(normalize);
  }

  /** Resizing runs in libvips' thread pool, off the event loop. */
  async #resize({ width, height, data }: RgbImage): Promise<Uint8Array> {
    const target = this.input;
    if (width === target.width && height === target.height) return data;
    const fit = this.#pre.resize === 'crop' ? 'cover' : 'fill'; // cover = shorter side to size + centre crop
    return sharp(data, { raw: { width, height, channels: 3 } })
      .resize(target.width, target.height, { fit, position: 'centre', kernel: 'cubic' })
      .raw()
      .toBuffer();
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await this.#session.release();
  }
}

/** One vector per image from [N, D], [N, T, D] (pooled as configured) or [N, D, 1, 1]-like outputs. */
function pool(data: Float32Array, dims: readonly number[], n: number, pooling: 'cls' | 'mean'): Float32Array[] {
  if (dims[0] !== n) throw new UnsupportedError(`embedding output has batch ${dims[0]}, expected ${n}`);
  const per = data.length / n;
  const rows = Array.from({ length: n }, (_, i) => data.subarray(i * per, (i + 1) * per));
  if (dims.length !== 3) return rows.map((r) => r.slice());
  const [, tokens, d] = dims as [number, number, number];
  return rows.map((r) => {
    if (pooling === 'cls') return r.slice(0, d);
    const sum = new Float32Array(d);
    for (let t = 0; t < tokens; t++) for (let j = 0; j < d; j++) sum[j] += r[t * d + j];
    return sum.map((v) => v / tokens);
  });
}

/** L2-normalizes in place; an all-zero vector stays zero. */
function normalize(v: Float32Array): Float32Array {
  let sq = 0;
  for (const x of v) sq += x * x;
  const norm = Math.sqrt(sq);
  if (norm > 0) for (let i = 0; i < v.length; i++) v[i] /= norm;
  return v;
}

/** The CUDA provider library is only there when onnxruntime-node's install step fetched it. */
export function cudaAvailable(): boolean {
  const bin = path.resolve(path.dirname(require.resolve('onnxruntime-node')), '..', 'bin', 'napi-v6', process.platform, process.arch);
  return fs.existsSync(path.join(bin, 'libonnxruntime_providers_cuda.so')) && fs.existsSync('/dev/nvidiactl');
}

/** `OMNILIVE_MODELS`, else ~/.omnilive/models. */
export function defaultModelsDir(): string {
  const dir = process.env.OMNILIVE_MODELS;
  if (dir) return dir.startsWith('~/') ? path.join(os.homedir(), dir.slice(2)) : dir;
  return path.join(os.homedir(), '.omnilive', 'models');
}

/** The first `*.onnx` file in `<modelsDir>/<subdir>`, by name; undefined when there is none. */
export function findFirstModel(modelsDir: string, subdir: string): string | undefined {
  const dir = path.join(modelsDir, subdir);
  let names: string[];
  try {
    names = fs.readdirSync(dir);
  } catch {
    return undefined;
  }
  const name = names
    .filter((n) => n.toLowerCase().endsWith('.onnx'))
    .sort()
    .find((n) => fs.statSync(path.join(dir, n), { throwIfNoEntry: false })?.isFile());
  return name === undefined ? undefined : path.join(dir, name);
}

export interface EmbeddingModelConfig extends OnnxEmbedderOptions {
  family: 'clip' | 'siglip';
  label: string;
  resize: Preprocessing['resize'];
  pooling: Preprocessing['pooling'];
}

/**
 * Looks for an image embedding model in the models directory:
 *
 *   <models>/clip-vit-<anything>/vision_model.onnx     CLIP vision tower (with or without projection)
 *   <models>/siglip-<anything>/vision_model.onnx       SigLIP vision tower
 *   <models>/<same dir>/preprocessor.json              optional, overrides the family's preset:
 *       { "mean": [r, g, b], "std": [r, g, b], "size": 224 }
 *       (Hugging Face's preprocessor_config.json keys image_mean / image_std / crop_size / size
 *       are read too, from either file name)
 *
 * The first matching directory in name order wins. Returns options for OnnxImageEmbedder.load.
 */
export function findEmbeddingModel(modelsDir = defaultModelsDir()): EmbeddingModelConfig | undefined {
  let entries: fs.Dirent[];
  try {
    entries = fs.readdirSync(modelsDir, { withFileTypes: true });
  } catch {
    return undefined;
  }
  const dirs = entries.filter((e) => e.isDirectory() || e.isSymbolicLink()).map((e) => e.name).sort();
  for (const dir of dirs) {
    const family = dir.startsWith('clip-vit-') ? 'clip' : dir.startsWith('siglip-') ? 'siglip' : undefined;
    const modelPath = path.join(modelsDir, dir, 'vision_model.onnx');
    if (!family || !fs.existsSync(modelPath)) continue;
    const preset = family === 'clip' ? CLIP_PREPROCESSING : SIGLIP_PREPROCESSING;
    return { family, label: dir, modelPath, ...preset, ...readPreprocessor(path.join(modelsDir, dir)) };
  }
  return undefined;
}

function readPreprocessor(dir: string): Partial<Preprocessing> {
  const file = ['preprocessor.json', 'preprocessor_config.json'].map((f) => path.join(dir, f)).find((f) => fs.existsSync(f));
  if (!file) return {};
  let json: Record<string, unknown>;
  try {
    json = JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch (error) {
    throw new TypeError(`${file} is not valid JSON: ${(error as Error).message}`);
  }
  const rgb = (v: unknown) => (Array.isArray(v) && v.length === 3 && v.every((x) => typeof x === 'number') ? (v as unknown as Rgb) : undefined);
  const side = (v: unknown): number | undefined => {
    if (typeof v === 'number') return v;
    if (v && typeof v === 'object') {
      const o = v as Record<string, unknown>;
      return side(o.height ?? o.shortest_edge);
    }
    return undefined;
  };
  const out: Partial<Preprocessing> = {};
  const mean = rgb(json.mean ?? json.image_mean);
  const std = rgb(json.std ?? json.image_std);
  const size = side(json.crop_size ?? json.size);
  if (mean) out.mean = mean;
  if (std) out.std = std;
  if (size) out.size = size;
  if (json.do_center_crop === false) out.resize = 'stretch';
  return out;
}

function checkOptions(o: OnnxEmbedderOptions): Preprocessing {
  if (typeof o?.modelPath !== 'string' || o.modelPath === '') throw new TypeError('modelPath must be a non-empty string');
  const triple = (v: unknown) => Array.isArray(v) && v.length === 3 && v.every((x) => Number.isFinite(x));
  if (!triple(o.mean)) throw new TypeError('mean must be three numbers (R, G, B)');
  if (!triple(o.std) || o.std.some((s) => s <= 0)) throw new TypeError('std must be three positive numbers (R, G, B)');
  if (!Number.isInteger(o.size) || o.size < 1) throw new TypeError(`size must be a positive integer, got ${o.size}`);
  const resize = o.resize ?? 'crop';
  const pooling = o.pooling ?? 'cls';
  if (resize !== 'crop' && resize !== 'stretch') throw new TypeError(`resize must be 'crop' or 'stretch', got ${resize}`);
  if (pooling !== 'cls' && pooling !== 'mean') throw new TypeError(`pooling must be 'cls' or 'mean', got ${pooling}`);
  return { mean: o.mean, std: o.std, size: o.size, resize, pooling };
}


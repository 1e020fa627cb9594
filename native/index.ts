/**
 * Typed face of the omnilive_native C++ addon (native/src). The addon trusts its
 * arguments; everything is validated here first.
 */
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { types } from 'node:util';

const ADDON_PATH = path.join(path.dirname(fileURLToPath(import.meta.url)), 'build', 'Release', 'omnilive_native.node');

export interface PocketsphinxOptions {
  /** Acoustic model directory (contains mdef, means, ...). */
  hmm: string;
  /** Pronunciation dictionary file. */
  dict: string;
  /** N-gram language model (.lm or .lm.bin). */
  lm: string;
  /** Sample rate of the audio fed to process(); must suit the model. Default 16000. */
  sampleRate?: number;
}

export interface ProcessResult {
  /** Partial hypothesis so far ('' when none). */
  hypothesis: string;
  /** pocketsphinx's own voice activity flag for the audio seen so far. */
  inSpeech: boolean;
}

export interface EndResult {
  hypothesis: string;
}

interface NativeDecoder {
  readonly closed: boolean;
  start(): Promise<void>;
  process(pcm: Int16Array): Promise<ProcessResult>;
  end(): Promise<EndResult>;
  close(): void;
}

/** Raw kernel entry points (native/src/kernel_bindings.cc); they trust their arguments. */
interface NativeKernels {
  imageBackend(): ImageBackendInfo;
  setImageBackend(preference: ImageBackendPreference): 'cpu' | 'cuda';
  convertToRgb(format: number, src: Uint8Array, width: number, height: number, async: boolean): Uint8Array | Promise<Uint8Array>;
  resizeRgb(src: Uint8Array, sw: number, sh: number, dw: number, dh: number, mode: number, async: boolean): Uint8Array | Promise<Uint8Array>;
  normalizeChw(src: Uint8Array, width: number, height: number, meanStd: Float64Array, out: Float32Array | undefined, async: boolean): Float32Array | Promise<Float32Array>;
  sceneDescriptor(src: Uint8Array, width: number, height: number, async: boolean): Float32Array | Promise<Float32Array>;
  sceneSimilarity(a: Float32Array, b: Float32Array): number;
  perceptualHash(src: Uint8Array, width: number, height: number, async: boolean): bigint | Promise<bigint>;
  hammingDistance(a: bigint, b: bigint): number;
  resamplePcm(samples: Int16Array | Float32Array, fromRate: number, toRate: number, async: boolean): Int16Array | Float32Array | Promise<Int16Array | Float32Array>;
  logMelSpectrogram(samples: Float32Array | Int16Array, nMels: number, padding: number, async: boolean): Float32Array | Promise<Float32Array>;
  melFilters(nMels: number): Float32Array;
}

interface NativeAddon extends NativeKernels {
  PocketsphinxDecoder: {
    createDecoder(options: Required<PocketsphinxOptions>): Promise<NativeDecoder>;
  };
}

let addon: NativeAddon | undefined;

/** Loads the addon once; throws a clear error when it was not built. */
export function loadNativeAddon(): NativeAddon {
  if (addon) return addon;
  if (!fs.existsSync(ADDON_PATH)) {
    throw new Error(`native addon not built: run npm install (missing ${ADDON_PATH})`);
  }
  addon = createRequire(import.meta.url)(ADDON_PATH) as NativeAddon;
  return addon;
}

/** Paths of Debian's pocketsphinx-en-us package. */
export function pocketsphinxDefaults(): Required<PocketsphinxOptions> {
  const dir = '/usr/share/pocketsphinx/model/en-us';
  return {
    hmm: path.join(dir, 'en-us'),
    dict: path.join(dir, 'cmudict-en-us.dict'),
    lm: path.join(dir, 'en-us.lm.bin'),
    sampleRate: 16000,
  };
}

function describe(value: unknown): string {
  if (value === null || value === undefined) return String(value);
  if (typeof value === 'string') return `string ${JSON.stringify(value.length > 40 ? value.slice(0, 40) + '…' : value)}`;
  if (typeof value !== 'object' && typeof value !== 'function') return `${typeof value} ${String(value)}`;
  return Array.isArray(value) ? 'array' : (value.constructor?.name ?? 'object');
}

function invalidParameter(name: string, expected: string, actual: unknown): TypeError {
  return new TypeError(`invalid parameter: expected ${expected} for ${name}, got ${describe(actual)}`);
}

function checkPath(name: string, value: unknown, kind: 'file' | 'directory'): string {
  if (typeof value !== 'string' || value === '') throw invalidParameter(name, `${kind} path`, value);
  // Some pocketsphinx load failures end in exit(); never hand it a path that is not there.
  const stat = fs.statSync(value, { throwIfNoEntry: false });
  if (!stat || (kind === 'file' ? !stat.isFile() : !stat.isDirectory())) {
    throw new Error(`pocketsphinx: ${name} ${kind} not found: ${value}`);
  }
  return value;
}

/**
 * One pocketsphinx decoder, decoding one utterance at a time: start() → process()* → end().
 * All work runs off the main thread. Calls must not overlap (await each one); an
 * overlapping call rejects. close() may be called at any time, even during a call.
 */
export class PocketsphinxDecoder {
  static async create(options: PocketsphinxOptions): Promise<PocketsphinxDecoder> {
    if (typeof options !== 'object' || options === null) throw invalidParameter('options', 'object', options);
    const sampleRate = options.sampleRate ?? 16000;
    if (!Number.isInteger(sampleRate) || sampleRate < 8000 || sampleRate > 48000) {
      throw invalidParameter('options.sampleRate', 'integer between 8000 and 48000', sampleRate);
    }
    const hmm = checkPath('options.hmm', options.hmm, 'directory');
    checkPath('options.hmm', path.join(hmm, 'mdef'), 'file');
    const resolved = {
      hmm,
      dict: checkPath('options.dict', options.dict, 'file'),
      lm: checkPath('options.lm', options.lm, 'file'),
      sampleRate,
    };
    const native = await loadNativeAddon().PocketsphinxDecoder.createDecoder(resolved);
    return new PocketsphinxDecoder(native, resolved);
  }

  private constructor(
    readonly native: NativeDecoder,
    readonly options: Required<PocketsphinxOptions>,
  ) {}

  get closed(): boolean {
    return this.native.closed;
  }

  /** Begins an utterance (ps_start_utt). Rejects if one is already running. */
  async start(): Promise<void> {
    return this.native.start();
  }

  /** Feeds audio (mono pcm16 at options.sampleRate); the samples are copied. */
  async process(pcm: Int16Array): Promise<ProcessResult> {
    if (!types.isInt16Array(pcm)) throw invalidParameter('pcm', 'Int16Array', pcm);
    return this.native.process(pcm);
  }

  /** Ends the utterance and returns the final hypothesis. */
  async end(): Promise<EndResult> {
    return this.native.end();
  }

  /** Idempotent. A running call finishes first; the decoder is freed after it. */
  close(): void {
    this.native.close();
  }
}

export function createDecoder(options: PocketsphinxOptions): Promise<PocketsphinxDecoder> {
  return PocketsphinxDecoder.create(options);
}

// ---------------------------------------------------------------------------------------
// Image and audio kernels (native/src/image_kernels.cc, audio_kernels.cc, cuda/). Every
// function validates its arguments here and throws TypeError (the async variants reject
// with it); the C++ side trusts them. Sync variants run on the calling thread; the *Async
// variants run on the libuv thread pool, copy their input first (the caller may reuse its
// buffer at once) and resolve with a freshly allocated result.
// Plain TypeScript versions of every kernel: server/perception/kernels/reference.ts.
// ---------------------------------------------------------------------------------------

/** An RGB24 image: row-major, 3 bytes a pixel; what every image kernel takes and returns. */
export interface RgbImage {
  width: number;
  height: number;
  /** width × height × 3 bytes, R G B. */
  data: Uint8Array;
}

/** 'area' = box filter (use it to downscale); 'bilinear' = half-pixel centres, like OpenCV INTER_LINEAR. */
export type ResizeMode = 'area' | 'bilinear';
export type Triple = readonly [number, number, number];
/** Per-channel mean and standard deviation on the 0..1 scale. */
export interface NormalizeParams {
  mean: Triple;
  std: Triple;
}

export const CLIP_MEAN: Triple = [0.48145466, 0.4578275, 0.40821073];
export const CLIP_STD: Triple = [0.26862954, 0.26130258, 0.27577711];
export const SIGLIP_MEAN: Triple = [0.5, 0.5, 0.5];
export const SIGLIP_STD: Triple = [0.5, 0.5, 0.5];
export const CLIP_NORMALIZATION: NormalizeParams = { mean: CLIP_MEAN, std: CLIP_STD };
export const SIGLIP_NORMALIZATION: NormalizeParams = { mean: SIGLIP_MEAN, std: SIGLIP_STD };

/**
 * Scene descriptor layout: 8 hue × 4 chroma × 4 value soft-binned colour histogram (128
 * values, sum 1; index (h·4 + c)·4 + v), then an 8×8 grid of mean edge strength (64
 * values, L2 norm 1), both computed on a box-filtered copy of about 64×64 pixels.
 * sceneSimilarity = 0.6 · histogram intersection + 0.4 · layout cosine, in [0, 1].
 */
export const SCENE_HISTOGRAM_LENGTH = 128;
export const SCENE_LAYOUT_LENGTH = 64;
export const SCENE_DESCRIPTOR_LENGTH = SCENE_HISTOGRAM_LENGTH + SCENE_LAYOUT_LENGTH;
export const SCENE_HISTOGRAM_WEIGHT = 0.6;
export const SCENE_LAYOUT_WEIGHT = 0.4;

/** Whisper's audio front end (openai/whisper audio.py). */
export const WHISPER_SAMPLE_RATE = 16000;
export const WHISPER_N_FFT = 400;
export const WHISPER_HOP_LENGTH = 160;

/** Largest width or height the image kernels accept. */
export const MAX_IMAGE_DIMENSION = 32768;
/** Largest output, in samples, of resamplePcm and of logMelSpectrogram's input. */
export const MAX_AUDIO_SAMPLES = 2 ** 30;
export const MAX_SAMPLE_RATE = 1_000_000;

export type PcmSamples = Int16Array | Float32Array;

export interface LogMelOptions {
  /** 80 (Whisper ≤ large-v2) or 128 (large-v3). Default 80. */
  nMels?: 80 | 128;
  /** Zero samples appended before the STFT (Whisper's `padding`). Default 0. */
  padding?: number;
}

/** Whisper's log-mel spectrogram: data[m · frames + t], values ~ −1.5 .. 1.5. */
export interface LogMelSpectrogram {
  nMels: number;
  frames: number;
  data: Float32Array;
}

export type ImageBackendPreference = 'auto' | 'cpu' | 'cuda';

export interface ImageBackendInfo {
  /** Backend of colour conversion, resize and normalize for frames ≥ 256×256 pixels (smaller ones always run on the CPU). */
  active: 'cpu' | 'cuda';
  preference: ImageBackendPreference;
  /** The addon was built with nvcc (native/install.mjs). */
  cudaCompiled: boolean;
  /** CUDA devices found (0 without a driver or GPU). */
  cudaDevices: number;
  cudaDevice?: string;
  /** Why CUDA is not used, or its last failure (after which the CPU takes over). */
  cudaError?: string;
}

/** Everything server/perception/kernels exports, native or reference. */
export interface PerceptionKernels {
  i420ToRgb(data: Uint8Array, width: number, height: number): RgbImage;
  i420ToRgbAsync(data: Uint8Array, width: number, height: number): Promise<RgbImage>;
  nv12ToRgb(data: Uint8Array, width: number, height: number): RgbImage;
  nv12ToRgbAsync(data: Uint8Array, width: number, height: number): Promise<RgbImage>;
  rgbaToRgb(data: Uint8Array, width: number, height: number): RgbImage;
  rgbaToRgbAsync(data: Uint8Array, width: number, height: number): Promise<RgbImage>;
  resizeRgb(image: RgbImage, width: number, height: number, mode?: ResizeMode): RgbImage;
  resizeRgbAsync(image: RgbImage, width: number, height: number, mode?: ResizeMode): Promise<RgbImage>;
  normalizeChw(image: RgbImage, params?: NormalizeParams, out?: Float32Array): Float32Array;
  normalizeChwAsync(image: RgbImage, params?: NormalizeParams): Promise<Float32Array>;
  sceneDescriptor(image: RgbImage): Float32Array;
  sceneDescriptorAsync(image: RgbImage): Promise<Float32Array>;
  sceneSimilarity(a: Float32Array, b: Float32Array): number;
  perceptualHash(image: RgbImage): bigint;
  perceptualHashAsync(image: RgbImage): Promise<bigint>;
  hammingDistance(a: bigint, b: bigint): number;
  resamplePcm<T extends PcmSamples>(samples: T, fromRate: number, toRate: number): T;
  resamplePcmAsync<T extends PcmSamples>(samples: T, fromRate: number, toRate: number): Promise<T>;
  logMelSpectrogram(samples: PcmSamples, options?: LogMelOptions): LogMelSpectrogram;
  logMelSpectrogramAsync(samples: PcmSamples, options?: LogMelOptions): Promise<LogMelSpectrogram>;
  whisperMelFilters(nMels: 80 | 128): Float32Array;
}

// ---- validation (shared by every kernel wrapper) ----

function checkInteger(name: string, value: unknown, min: number, max: number): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    throw invalidParameter(name, `integer between ${min} and ${max}`, value);
  }
  return value;
}

function checkDimension(name: string, value: unknown): number {
  return checkInteger(name, value, 1, MAX_IMAGE_DIMENSION);
}

function checkBytes(name: string, data: unknown, expected: number, what: string): Uint8Array {
  if (!types.isUint8Array(data)) throw invalidParameter(name, 'Uint8Array', data);
  if (data.length !== expected) {
    throw new TypeError(`invalid parameter: expected ${expected} bytes (${what}) for ${name}, got ${data.length}`);
  }
  return data;
}

function checkRgbImage(name: string, image: unknown): RgbImage {
  if (typeof image !== 'object' || image === null) throw invalidParameter(name, 'RgbImage { width, height, data }', image);
  const { width, height, data } = image as Partial<RgbImage>;
  checkDimension(`${name}.width`, width);
  checkDimension(`${name}.height`, height);
  checkBytes(`${name}.data`, data, width! * height! * 3, `${width}×${height}×3 RGB24`);
  return image as RgbImage;
}

/** Bytes of a packed I420 or NV12 frame: Y plane plus two ceil(w/2)×ceil(h/2) chroma planes. */
export function yuv420Size(width: number, height: number): number {
  checkDimension('width', width);
  checkDimension('height', height);
  return width * height + 2 * Math.ceil(width / 2) * Math.ceil(height / 2);
}

const PIXEL_FORMATS = { i420: 0, nv12: 1, rgba: 2 } as const;
type PixelFormat = keyof typeof PIXEL_FORMATS;

function checkFrame(format: PixelFormat, data: unknown, width: unknown, height: unknown): [Uint8Array, number, number] {
  const w = checkDimension('width', width);
  const h = checkDimension('height', height);
  const expected = format === 'rgba' ? w * h * 4 : yuv420Size(w, h);
  const what = format === 'rgba' ? `${w}×${h}×4 RGBA` : `${w}×${h} ${format.toUpperCase()}, chroma ${Math.ceil(w / 2)}×${Math.ceil(h / 2)}`;
  return [checkBytes('data', data, expected, what), w, h];
}

function checkResize(image: unknown, width: unknown, height: unknown, mode: unknown): [RgbImage, number, number, number] {
  const img = checkRgbImage('image', image);
  const w = checkDimension('width', width);
  const h = checkDimension('height', height);
  if (mode !== 'area' && mode !== 'bilinear') throw invalidParameter('mode', "'area' or 'bilinear'", mode);
  return [img, w, h, mode === 'area' ? 0 : 1];
}

function checkTriple(name: string, value: unknown, nonZero: boolean): number[] {
  const ok =
    (Array.isArray(value) || types.isTypedArray(value)) &&
    (value as ArrayLike<unknown>).length === 3 &&
    Array.from(value as ArrayLike<unknown>).every((v) => typeof v === 'number' && Number.isFinite(v) && (!nonZero || v !== 0));
  if (!ok) throw invalidParameter(name, `3 finite${nonZero ? ' non-zero' : ''} numbers`, value);
  return Array.from(value as ArrayLike<number>);
}

function checkNormalizeParams(params: unknown): Float64Array {
  if (typeof params !== 'object' || params === null) throw invalidParameter('params', 'NormalizeParams { mean, std }', params);
  const { mean, std } = params as Partial<NormalizeParams>;
  return Float64Array.from([...checkTriple('params.mean', mean, false), ...checkTriple('params.std', std, true)]);
}

function checkDescriptor(name: string, value: unknown): Float32Array {
  if (!types.isFloat32Array(value)) throw invalidParameter(name, 'Float32Array scene descriptor', value);
  if (value.length !== SCENE_DESCRIPTOR_LENGTH) {
    throw new TypeError(`invalid parameter: expected ${SCENE_DESCRIPTOR_LENGTH} values (a sceneDescriptor) for ${name}, got ${value.length}`);
  }
  return value;
}

function checkHash(name: string, value: unknown): bigint {
  if (typeof value !== 'bigint' || value < 0n || value >= 1n << 64n) throw invalidParameter(name, 'bigint in 0 .. 2^64 − 1', value);
  return value;
}

function checkSamples(name: string, value: unknown): PcmSamples {
  if (!types.isInt16Array(value) && !types.isFloat32Array(value)) throw invalidParameter(name, 'Int16Array or Float32Array', value);
  return value;
}

function checkResample(samples: unknown, fromRate: unknown, toRate: unknown): [PcmSamples, number, number] {
  const s = checkSamples('samples', samples);
  const from = checkInteger('fromRate', fromRate, 1, MAX_SAMPLE_RATE);
  const to = checkInteger('toRate', toRate, 1, MAX_SAMPLE_RATE);
  const outLength = Math.ceil((s.length * to) / from);
  if (outLength > MAX_AUDIO_SAMPLES) {
    throw new TypeError(`invalid parameter: resampling ${s.length} samples from ${from} to ${to} Hz gives ${outLength} samples, more than ${MAX_AUDIO_SAMPLES}`);
  }
  return [s, from, to];
}

function checkLogMel(samples: unknown, options: unknown): [PcmSamples, number, number] {
  const s = checkSamples('samples', samples);
  if (options !== undefined && (typeof options !== 'object' || options === null)) throw invalidParameter('options', 'LogMelOptions object', options);
  const { nMels = 80, padding = 0 } = (options ?? {}) as LogMelOptions;
  if (nMels !== 80 && nMels !== 128) throw invalidParameter('options.nMels', '80 or 128', nMels);
  checkInteger('options.padding', padding, 0, MAX_AUDIO_SAMPLES);
  const total = s.length + padding;
  // torch.stft's reflect padding of n_fft/2 needs more samples than that.
  if (total <= WHISPER_N_FFT / 2 || total > MAX_AUDIO_SAMPLES) {
    throw new TypeError(
      `invalid parameter: expected ${WHISPER_N_FFT / 2 + 1} to ${MAX_AUDIO_SAMPLES} samples (with padding) for samples, got ${total}`,
    );
  }
  return [s, nMels, padding];
}

// ---- image kernels ----

function convert(format: PixelFormat, data: unknown, width: unknown, height: unknown): RgbImage {
  const [d, w, h] = checkFrame(format, data, width, height);
  return { width: w, height: h, data: loadNativeAddon().convertToRgb(PIXEL_FORMATS[format], d, w, h, false) as Uint8Array };
}

async function convertAsync(format: PixelFormat, data: unknown, width: unknown, height: unknown): Promise<RgbImage> {
  const [d, w, h] = checkFrame(format, data, width, height);
  return { width: w, height: h, data: await loadNativeAddon().convertToRgb(PIXEL_FORMATS[format], d, w, h, true) };
}

/** Packed I420 (yuv420p: Y plane, then U and V planes of ceil(w/2)×ceil(h/2)), BT.601 limited range → RGB24. */
export function i420ToRgb(data: Uint8Array, width: number, height: number): RgbImage {
  return convert('i420', data, width, height);
}
export function i420ToRgbAsync(data: Uint8Array, width: number, height: number): Promise<RgbImage> {
  return convertAsync('i420', data, width, height);
}

/** Packed NV12 (Y plane, then interleaved U,V pairs of ceil(w/2)×ceil(h/2)), BT.601 limited range → RGB24. */
export function nv12ToRgb(data: Uint8Array, width: number, height: number): RgbImage {
  return convert('nv12', data, width, height);
}
export function nv12ToRgbAsync(data: Uint8Array, width: number, height: number): Promise<RgbImage> {
  return convertAsync('nv12', data, width, height);
}

/** RGBA → RGB24 (alpha dropped, not blended). */
export function rgbaToRgb(data: Uint8Array, width: number, height: number): RgbImage {
  return convert('rgba', data, width, height);
}
export function rgbaToRgbAsync(data: Uint8Array, width: number, height: number): Promise<RgbImage> {
  return convertAsync('rgba', data, width, height);
}

/** Resizes RGB24 to width × height. Default mode 'bilinear'; use 'area' to downscale. */
export function resizeRgb(image: RgbImage, width: number, height: number, mode: ResizeMode = 'bilinear'): RgbImage {
  const [img, w, h, m] = checkResize(image, width, height, mode);
  const data = loadNativeAddon().resizeRgb(img.data, img.width, img.height, w, h, m, false) as Uint8Array;
  return { width: w, height: h, data };
}
export async function resizeRgbAsync(image: RgbImage, width: number, height: number, mode: ResizeMode = 'bilinear'): Promise<RgbImage> {
  const [img, w, h, m] = checkResize(image, width, height, mode);
  const data = await loadNativeAddon().resizeRgb(img.data, img.width, img.height, w, h, m, true);
  return { width: w, height: h, data };
}

/**
 * RGB24 → float32 CHW (3 × height × width planes, R then G then B) of (v/255 − mean) / std.
 * `out`, when given, must have 3·w·h elements (e.g. a subarray of a batch tensor) and is returned.
 */
export function normalizeChw(image: RgbImage, params: NormalizeParams = CLIP_NORMALIZATION, out?: Float32Array): Float32Array {
  const img = checkRgbImage('image', image);
  const meanStd = checkNormalizeParams(params);
  if (out !== undefined) {
    if (!types.isFloat32Array(out)) throw invalidParameter('out', 'Float32Array', out);
    if (out.length !== img.data.length) {
      throw new TypeError(`invalid parameter: expected ${img.data.length} values (3×${img.height}×${img.width}) for out, got ${out.length}`);
    }
  }
  return loadNativeAddon().normalizeChw(img.data, img.width, img.height, meanStd, out, false) as Float32Array;
}
export async function normalizeChwAsync(image: RgbImage, params: NormalizeParams = CLIP_NORMALIZATION): Promise<Float32Array> {
  const img = checkRgbImage('image', image);
  const meanStd = checkNormalizeParams(params);
  return loadNativeAddon().normalizeChw(img.data, img.width, img.height, meanStd, undefined, true);
}

/** Scene descriptor (SCENE_DESCRIPTOR_LENGTH floats) for cut detection; compare with sceneSimilarity. */
export function sceneDescriptor(image: RgbImage): Float32Array {
  const img = checkRgbImage('image', image);
  return loadNativeAddon().sceneDescriptor(img.data, img.width, img.height, false) as Float32Array;
}
export async function sceneDescriptorAsync(image: RgbImage): Promise<Float32Array> {
  const img = checkRgbImage('image', image);
  return loadNativeAddon().sceneDescriptor(img.data, img.width, img.height, true);
}

/** Similarity of two scene descriptors in [0, 1]; 1 = identical. */
export function sceneSimilarity(a: Float32Array, b: Float32Array): number {
  return loadNativeAddon().sceneSimilarity(checkDescriptor('a', a), checkDescriptor('b', b));
}

/** 64-bit DCT perceptual hash (bit 63 first); near-duplicate frames differ in few bits. */
export function perceptualHash(image: RgbImage): bigint {
  const img = checkRgbImage('image', image);
  return loadNativeAddon().perceptualHash(img.data, img.width, img.height, false) as bigint;
}
export async function perceptualHashAsync(image: RgbImage): Promise<bigint> {
  const img = checkRgbImage('image', image);
  return loadNativeAddon().perceptualHash(img.data, img.width, img.height, true);
}

/** Number of differing bits of two 64-bit hashes. */
export function hammingDistance(a: bigint, b: bigint): number {
  return loadNativeAddon().hammingDistance(checkHash('a', a), checkHash('b', b));
}

/** Which backend runs the CUDA-capable image kernels, and why. */
export function imageBackend(): ImageBackendInfo {
  return loadNativeAddon().imageBackend();
}

/** True when the addon was built with CUDA and a GPU is present. */
export function cudaAvailable(): boolean {
  const info = imageBackend();
  return info.cudaCompiled && info.cudaDevices > 0;
}

/** 'auto' (default: CUDA when available), 'cpu', or 'cuda' (throws without a GPU). Returns the active backend. */
export function setImageBackend(preference: ImageBackendPreference): 'cpu' | 'cuda' {
  if (preference !== 'auto' && preference !== 'cpu' && preference !== 'cuda') {
    throw invalidParameter('preference', "'auto', 'cpu' or 'cuda'", preference);
  }
  return loadNativeAddon().setImageBackend(preference);
}

// ---- audio kernels ----

/**
 * Resamples mono pcm16 or float audio (Kaiser-windowed sinc, 32 zero crossings, cutoff 0.92 ×
 * the lower Nyquist). Returns ceil(n · toRate / fromRate) samples of the input's type; the
 * signal is taken as zero outside the input. Equal rates return a copy.
 */
export function resamplePcm<T extends PcmSamples>(samples: T, fromRate: number, toRate: number): T {
  const [s, from, to] = checkResample(samples, fromRate, toRate);
  if (from === to) return s.slice() as T;
  return loadNativeAddon().resamplePcm(s, from, to, false) as T;
}
export async function resamplePcmAsync<T extends PcmSamples>(samples: T, fromRate: number, toRate: number): Promise<T> {
  const [s, from, to] = checkResample(samples, fromRate, toRate);
  if (from === to) return s.slice() as T;
  return (await loadNativeAddon().resamplePcm(s, from, to, true)) as T;
}

/**
 * Whisper's log_mel_spectrogram of 16 kHz mono audio (Float32Array in −1..1, or Int16Array,
 * scaled by 1/32768): 400-point periodic-Hann STFT, hop 160, reflect padding, power,
 * Slaney mel filters, log10 clamped at max − 8, (x + 4) / 4. floor(n / 160) frames.
 */
export function logMelSpectrogram(samples: PcmSamples, options?: LogMelOptions): LogMelSpectrogram {
  const [s, nMels, padding] = checkLogMel(samples, options);
  const data = loadNativeAddon().logMelSpectrogram(s, nMels, padding, false) as Float32Array;
  return { nMels, frames: Math.floor((s.length + padding) / WHISPER_HOP_LENGTH), data };
}
export async function logMelSpectrogramAsync(samples: PcmSamples, options?: LogMelOptions): Promise<LogMelSpectrogram> {
  const [s, nMels, padding] = checkLogMel(samples, options);
  const data = await loadNativeAddon().logMelSpectrogram(s, nMels, padding, true);
  return { nMels, frames: Math.floor((s.length + padding) / WHISPER_HOP_LENGTH), data };
}

/** librosa.filters.mel(sr=16000, n_fft=400, n_mels) as Whisper ships it: float32 [nMels × 201]. */
export function whisperMelFilters(nMels: 80 | 128): Float32Array {
  if (nMels !== 80 && nMels !== 128) throw invalidParameter('nMels', '80 or 128', nMels);
  return loadNativeAddon().melFilters(nMels);
}

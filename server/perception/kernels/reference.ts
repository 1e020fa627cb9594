/**
 * Plain TypeScript reference of every perception kernel (native/src/image_kernels.cc,
 * audio_kernels.cc): the same formulas, written to be read rather than to be fast. Numbers
 * are doubles here where the C++ uses float in places, so results agree to rounding (see
 * test/native/*-kernels.test.ts for the tolerances). Used as the spec, by the tests, by the
 * benchmark, and as a fallback where the addon is not built.
 *
 * Checks here are light (sizes only); native/index.ts validates every argument.
 */
import type {
  NormalizeParams,
  PerceptionKernels,
  ResizeMode,
  RgbImage,
} from '../../../native/index.ts';
import {
  CLIP_NORMALIZATION,
  SCENE_HISTOGRAM_LENGTH,
  SCENE_HISTOGRAM_WEIGHT,
  SCENE_LAYOUT_LENGTH,
  SCENE_LAYOUT_WEIGHT,
} from '../../../native/index.ts';
import { logMelSpectrogram, logMelSpectrogramAsync, resamplePcm, resamplePcmAsync, whisperMelFilters } from './reference-audio.ts';

export { fft, logMelSpectrogram, logMelSpectrogramAsync, resamplePcm, resamplePcmAsync, whisperMelFilters } from './reference-audio.ts';

function assertSize(what: string, actual: number, expected: number): void {
  if (actual !== expected) throw new TypeError(`${what}: expected ${expected} values, got ${actual}`);
}

function clampByte(v: number): number {
  return v < 0 ? 0 : v > 255 ? 255 : v;
}

// ---- colour conversion: BT.601 limited range, 16-bit fixed point ----

/** Writes R, G, B of one Y, U, V sample at out[at] (integer arithmetic; `>> 16` floors like C++'s shift). */
export function yuvToRgb(y: number, u: number, v: number, out: Uint8Array, at: number): void {
  const c = (y - 16) * 76309 + 32768; // 255/219 · 65536
  const d = u - 128;
  const e = v - 128;
  out[at] = clampByte((c + 104597 * e) >> 16); // 1.402 · 255/224 · 65536
  out[at + 1] = clampByte((c - 25675 * d - 53279 * e) >> 16); // 0.344136, 0.714136 · 255/224 · 65536
  out[at + 2] = clampByte((c + 132201 * d) >> 16); // 1.772 · 255/224 · 65536
}

/** 4:2:0 → RGB24: pixel (x, y) takes the chroma sample (x >> 1, y >> 1). */
function yuv420(data: Uint8Array, width: number, height: number, layout: 'i420' | 'nv12'): RgbImage {
  const cw = Math.ceil(width / 2);
  const ch = Math.ceil(height / 2);
  assertSize(`${layout} frame ${width}×${height}`, data.length, width * height + 2 * cw * ch);
  const out = new Uint8Array(width * height * 3);
  const chroma = width * height;
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const cx = x >> 1;
      const cy = y >> 1;
      const u = layout === 'i420' ? data[chroma + cy * cw + cx]! : data[chroma + (cy * cw + cx) * 2]!;
      const v = layout === 'i420' ? data[chroma + cw * ch + cy * cw + cx]! : data[chroma + (cy * cw + cx) * 2 + 1]!;
      const i = y * width + x;
      yuvToRgb(data[i]!, u, v, out, i * 3);
    }
  }
  return { width, height, data: out };
}

export function i420ToRgb(data: Uint8Array, width: number, height: number): RgbImage {
  return yuv420(data, width, height, 'i420');
}

export function nv12ToRgb(data: Uint8Array, width: number, height: number): RgbImage {
  return yuv420(data, width, height, 'nv12');
}

export function rgbaToRgb(data: Uint8Array, width: number, height: number): RgbImage {
  assertSize(`RGBA ${width}×${height}`, data.length, width * height * 4);
  const out = new Uint8Array(width * height * 3);
  for (let i = 0; i < width * height; i++) {
    out[i * 3] = data[i * 4]!;
    out[i * 3 + 1] = data[i * 4 + 1]!;
    out[i * 3 + 2] = data[i * 4 + 2]!;
  }
  return { width, height, data: out };
}

// ---- resize ----

/** Bilinear source taps of output index d: half-pixel centres, weights in 1/2048 (as OpenCV). */
export function bilinearTap(d: number, scale: number, src: number): { i0: number; i1: number; w1: number } {
  const s = (d + 0.5) * scale - 0.5;
  let i0 = Math.floor(s);
  let f = s - i0;
  if (i0 < 0) [i0, f] = [0, 0];
  if (i0 >= src - 1) [i0, f] = [src - 1, 0];
  return { i0, i1: Math.min(i0 + 1, src - 1), w1: Math.floor(f * 2048 + 0.5) };
}

/** Box-filter taps of output index d: the source pixels its interval [d·scale, (d+1)·scale) overlaps. */
export function areaTaps(d: number, scale: number, src: number): { index: number; weight: number }[] {
  const start = d * scale;
  const end = Math.min((d + 1) * scale, src);
  const first = Math.floor(start);
  const last = Math.max(first, Math.min(Math.ceil(end) - 1, src - 1));
  const taps = [];
  for (let i = first; i <= last; i++) {
    const overlap = Math.min(i + 1, end) - Math.max(i, start);
    taps.push({ index: i, weight: overlap > 0 ? overlap / scale : 0 });
  }
  return taps;
}

/**
 * Box-filtered RGB as unrounded doubles (0..255). Separable: per output row, the vertical
 * sum of its source rows, then per output pixel the horizontal sum of that row.
 */
function areaResizeFloat(image: RgbImage, width: number, height: number): Float64Array {
  const out = new Float64Array(width * height * 3);
  const xTaps = Array.from({ length: width }, (_, dx) => areaTaps(dx, image.width / width, image.width));
  const src = image.data;
  const column = new Float64Array(image.width * 3);
  for (let dy = 0; dy < height; dy++) {
    column.fill(0);
    for (const { index, weight } of areaTaps(dy, image.height / height, image.height)) {
      const row = index * column.length;
      for (let i = 0; i < column.length; i++) column[i] += weight * src[row + i]!;
    }
    for (let dx = 0; dx < width; dx++) {
      for (const { index, weight } of xTaps[dx]!) {
        for (let c = 0; c < 3; c++) out[(dy * width + dx) * 3 + c] += weight * column[index * 3 + c]!;
      }
    }
  }
  return out;
}

export function resizeRgb(image: RgbImage, width: number, height: number, mode: ResizeMode = 'bilinear'): RgbImage {
  assertSize(`RGB ${image.width}×${image.height}`, image.data.length, image.width * image.height * 3);
  if (mode === 'area') {
    const sums = areaResizeFloat(image, width, height);
    const data = new Uint8Array(sums.length);
    for (let i = 0; i < sums.length; i++) data[i] = clampByte(Math.floor(sums[i]! + 0.5));
    return { width, height, data };
  }
  const out = new Uint8Array(width * height * 3);
  const src = image.data;
  const stride = image.width * 3;
  const xTaps = Array.from({ length: width }, (_, dx) => bilinearTap(dx, image.width / width, image.width));
  for (let dy = 0; dy < height; dy++) {
    const ty = bilinearTap(dy, image.height / height, image.height);
    for (let dx = 0; dx < width; dx++) {
      const tx = xTaps[dx]!;
      for (let c = 0; c < 3; c++) {
        const [p00, p01] = [src[ty.i0 * stride + tx.i0 * 3 + c]!, src[ty.i0 * stride + tx.i1 * 3 + c]!];
        const [p10, p11] = [src[ty.i1 * stride + tx.i0 * 3 + c]!, src[ty.i1 * stride + tx.i1 * 3 + c]!];
        const top = p00 * (2048 - tx.w1) + p01 * tx.w1;
        const bottom = p10 * (2048 - tx.w1) + p11 * tx.w1;
        out[(dy * width + dx) * 3 + c] = (top * (2048 - ty.w1) + bottom * ty.w1 + (1 << 21)) >> 22;
      }
    }
  }
  return { width, height, data: out };
}

// ---- normalize ----

export function normalizeChw(image: RgbImage, params: NormalizeParams = CLIP_NORMALIZATION, out?: Float32Array): Float32Array {
  const n = image.width * image.height;
  assertSize(`RGB ${image.width}×${image.height}`, image.data.length, n * 3);
  const result = out ?? new Float32Array(n * 3);
  assertSize('out', result.length, n * 3);
  for (let i = 0; i < n; i++) {
    for (let c = 0; c < 3; c++) result[c * n + i] = (image.data[i * 3 + c]! / 255 - params.mean[c]!) / params.std[c]!;
  }
  return result;
}

// ---- scene descriptor ----

const WORKING_PIXELS = 64 * 64;
const LAYOUT_FLOOR = 2;
const HUE_BINS = 8;
const CHROMA_BINS = 4;
const VALUE_BINS = 4;
const GRID = 8;

/** Size of the working copy: about WORKING_PIXELS, aspect kept, never enlarged. */
function workingSize(width: number, height: number): [number, number] {
  if (width * height <= WORKING_PIXELS) return [width, height];
  const f = Math.sqrt((width * height) / WORKING_PIXELS);
  return [Math.max(1, Math.floor(width / f + 0.5)), Math.max(1, Math.floor(height / f + 0.5))];
}

/** Linear soft binning of x in [0, 1] over bin centres 0, 1/(bins−1), ..., 1: [lower bin, weight of the upper]. */
function softBin(x: number, bins: number): [number, number] {
  const p = x * (bins - 1);
  const k = Math.min(Math.max(Math.floor(p), 0), bins - 2);
  return [k, p - k];
}

/** Adds one pixel (r, g, b in 0..1) to the 8 hue × 4 chroma × 4 value histogram. */
function addColour(r: number, g: number, b: number, hist: Float64Array): void {
  const max = Math.max(r, g, b);
  const chroma = max - Math.min(r, g, b);
  const [kv, tv] = softBin(max, VALUE_BINS);
  const [kc, tc] = softBin(chroma, CHROMA_BINS);
  let kh = 0;
  let th = 0;
  if (chroma > 0) {
    let hue: number; // in sextants, [0, 6)
    if (max === r) {
      hue = (g - b) / chroma;
      if (hue < 0) hue += 6;
    } else if (max === g) {
      hue = (b - r) / chroma + 2;
    } else {
      hue = (r - g) / chroma + 4;
    }
    const p = (hue * HUE_BINS) / 6;
    kh = Math.floor(p);
    th = p - kh;
    kh %= HUE_BINS;
  }
  const index = (h: number, c: number, v: number) => (h * CHROMA_BINS + c) * VALUE_BINS + v;
  for (const [c, wc] of [[kc, 1 - tc], [kc + 1, tc]] as const) {
    for (const [v, wv] of [[kv, 1 - tv], [kv + 1, tv]] as const) {
      const w = wc * wv;
      if (w === 0) continue;
      if (c === 0) {
        // Hue means nothing without chroma: spread evenly over the hue bins.
        for (let h = 0; h < HUE_BINS; h++) hist[index(h, 0, v)]! += w / HUE_BINS;
      } else {
        hist[index(kh, c, v)]! += w * (1 - th);
        hist[index((kh + 1) % HUE_BINS, c, v)]! += w * th;
      }
    }
  }
}

export function sceneDescriptor(image: RgbImage): Float32Array {
  assertSize(`RGB ${image.width}×${image.height}`, image.data.length, image.width * image.height * 3);
  const [ws, hs] = workingSize(image.width, image.height);
  const work = areaResizeFloat(image, ws, hs);
  const out = new Float32Array(SCENE_HISTOGRAM_LENGTH + SCENE_LAYOUT_LENGTH);

  const hist = new Float64Array(SCENE_HISTOGRAM_LENGTH);
  const grey = new Float64Array(ws * hs);
  for (let i = 0; i < ws * hs; i++) {
    const [r, g, b] = [work[i * 3]!, work[i * 3 + 1]!, work[i * 3 + 2]!];
    addColour(r / 255, g / 255, b / 255, hist);
    grey[i] = 0.299 * r + 0.587 * g + 0.114 * b;
  }
  for (let i = 0; i < hist.length; i++) out[i] = hist[i]! / (ws * hs);

  // Mean |∂x| + |∂y| of the grey image per cell of an 8×8 grid (central differences,
  // one-sided at the borders), plus the noise floor, L2-normalized.
  const sum = new Float64Array(SCENE_LAYOUT_LENGTH);
  const count = new Float64Array(SCENE_LAYOUT_LENGTH);
  for (let y = 0; y < hs; y++) {
    const [yu, yd] = [Math.max(y - 1, 0), Math.min(y + 1, hs - 1)];
    for (let x = 0; x < ws; x++) {
      const [xl, xr] = [Math.max(x - 1, 0), Math.min(x + 1, ws - 1)];
      const gx = xr > xl ? (grey[y * ws + xr]! - grey[y * ws + xl]!) / (xr - xl) : 0;
      const gy = yd > yu ? (grey[yd * ws + x]! - grey[yu * ws + x]!) / (yd - yu) : 0;
      const cell = Math.floor((y * GRID) / hs) * GRID + Math.floor((x * GRID) / ws);
      sum[cell]! += Math.abs(gx) + Math.abs(gy);
      count[cell]! += 1;
    }
  }
  const layout = Array.from(sum, (s, i) => (count[i]! > 0 ? s / count[i]! : 0) + LAYOUT_FLOOR);
  const norm = Math.hypot(...layout);
  layout.forEach((v, i) => (out[SCENE_HISTOGRAM_LENGTH + i] = v / norm));
  return out;
}

export function sceneSimilarity(a: Float32Array, b: Float32Array): number {
  assertSize('descriptor a', a.length, SCENE_HISTOGRAM_LENGTH + SCENE_LAYOUT_LENGTH);
  assertSize('descriptor b', b.length, SCENE_HISTOGRAM_LENGTH + SCENE_LAYOUT_LENGTH);
  let intersection = 0;
  for (let i = 0; i < SCENE_HISTOGRAM_LENGTH; i++) intersection += Math.min(a[i]!, b[i]!);
  let cosine = 0;
  for (let i = SCENE_HISTOGRAM_LENGTH; i < a.length; i++) cosine += a[i]! * b[i]!;
  const clamp01 = (v: number) => Math.min(1, Math.max(0, v));
  return SCENE_HISTOGRAM_WEIGHT * clamp01(intersection) + SCENE_LAYOUT_WEIGHT * clamp01(cosine);
}

// ---- perceptual hash ----

/**
 * Box-filter to 32×32, grey, DCT-II; the 8×8 lowest frequencies without the DC row and
 * column (u, v = 1..8) against their median: bit 63 is (1, 1), then row by row.
 */
export function perceptualHash(image: RgbImage): bigint {
  const N = 32;
  assertSize(`RGB ${image.width}×${image.height}`, image.data.length, image.width * image.height * 3);
  const work = areaResizeFloat(image, N, N);
  const grey = (x: number, y: number) => {
    const i = (y * N + x) * 3;
    return 0.299 * work[i]! + 0.587 * work[i + 1]! + 0.114 * work[i + 2]!;
  };
  const basis = (u: number, x: number) => Math.cos((Math.PI * (2 * x + 1) * u) / (2 * N));
  const coefficients: number[] = [];
  for (let u = 1; u <= 8; u++) {
    for (let v = 1; v <= 8; v++) {
      let s = 0;
      for (let y = 0; y < N; y++) {
        let row = 0;
        for (let x = 0; x < N; x++) row += basis(v, x) * grey(x, y);
        s += basis(u, y) * row;
      }
      coefficients.push(s);
    }
  }
  // A flat image has no AC energy: what is left is rounding noise, which must not pick bits.
  for (let i = 0; i < coefficients.length; i++) if (Math.abs(coefficients[i]!) < 1e-6) coefficients[i] = 0;
  const sorted = [...coefficients].sort((a, b) => a - b);
  const median = (sorted[31]! + sorted[32]!) / 2;
  let hash = 0n;
  for (const c of coefficients) hash = (hash << 1n) | (c > median ? 1n : 0n);
  return hash;
}

export function hammingDistance(a: bigint, b: bigint): number {
  let x = BigInt.asUintN(64, a ^ b);
  let bits = 0;
  for (; x > 0n; x >>= 1n) bits += Number(x & 1n);
  return bits;
}

// ---- async variants, for the same API as the native kernels ----

export const i420ToRgbAsync = async (data: Uint8Array, width: number, height: number) => i420ToRgb(data, width, height);
export const nv12ToRgbAsync = async (data: Uint8Array, width: number, height: number) => nv12ToRgb(data, width, height);
export const rgbaToRgbAsync = async (data: Uint8Array, width: number, height: number) => rgbaToRgb(data, width, height);
export const resizeRgbAsync = async (image: RgbImage, width: number, height: number, mode?: ResizeMode) => resizeRgb(image, width, height, mode);
export const normalizeChwAsync = async (image: RgbImage, params?: NormalizeParams) => normalizeChw(image, params);
export const sceneDescriptorAsync = async (image: RgbImage) => sceneDescriptor(image);
export const perceptualHashAsync = async (image: RgbImage) => perceptualHash(image);

/** The reference as one object of the same shape as the native kernels. */
export const referenceKernels: PerceptionKernels = {
  i420ToRgb,
  i420ToRgbAsync,
  nv12ToRgb,
  nv12ToRgbAsync,
  rgbaToRgb,
  rgbaToRgbAsync,
  resizeRgb,
  resizeRgbAsync,
  normalizeChw,
  normalizeChwAsync,
  sceneDescriptor,
  sceneDescriptorAsync,
  sceneSimilarity,
  perceptualHash,
  perceptualHashAsync,
  hammingDistance,
  resamplePcm,
  resamplePcmAsync,
  logMelSpectrogram,
  logMelSpectrogramAsync,
  whisperMelFilters,
};

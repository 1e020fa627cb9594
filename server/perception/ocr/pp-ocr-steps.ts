import type { Box, OcrLine, RgbImage } from '../video/types.ts';

/**
 * The steps around PP-OCR's two models: resizing regions into their input tensors, finding text
 * regions in the detector's probability map, merging them into lines, CTC decoding of the
 * recognizer's output and reading order. Pure CPU work, paced so the event loop keeps turning.
 */

/** Side-by-side regions closer than this × the taller one's height are one line (a word space is ~0.4). */
const MERGE_GAP = 0.5;

/** Keeps synchronous stretches short: yields to the event loop once `sliceMs` has passed, and checks the signal. */
export class Pacer {
  #since = performance.now();

  constructor(
    readonly sliceMs: number,
    readonly signal?: AbortSignal,
  ) {}

  async pace(): Promise<void> {
    if (performance.now() - this.#since < this.sliceMs) return;
    await new Promise(setImmediate);
    this.check();
    this.restart();
  }

  check(): void {
    this.signal?.throwIfAborted();
  }

  /** After an await the event loop has had its turn. */
  restart(): void {
    this.#since = performance.now();
  }
}

/** Where resizeInto writes: planar channels (B, G, R) of a float tensor. */
export interface PlanarTarget {
  data: Float32Array;
  offset: number;
  width: number;
  height: number;
  /** Floats between rows. */
  stride: number;
  /** Floats between channel planes. */
  plane: number;
}

/**
 * Bilinear resize (pixel centres aligned, like OpenCV's INTER_LINEAR) of one region of an RGB
 * image into B, G, R planes, normalized as (v / 255 − mean) / std. Both PaddleOCR models were
 * trained on OpenCV's BGR images, hence the channel order.
 */
export async function resizeInto(
  image: RgbImage,
  [rx, ry, rw, rh]: Box,
  t: PlanarTarget,
  mean: readonly [number, number, number],
  std: readonly [number, number, number],
  pacer: Pacer,
): Promise<void> {
  const src = image.data;
  const stride = image.width * 3;
  // Per output column: left source pixel (byte offset), right neighbour, weight of the right one.
  const x0s = new Int32Array(t.width);
  const x1s = new Int32Array(t.width);
  const fxs = new Float32Array(t.width);
  const scaleX = rw / t.width;
  for (let x = 0; x < t.width; x++) {
    const sx = clamp((x + 0.5) * scaleX - 0.5, 0, rw - 1);
    const ix = Math.floor(sx);
    x0s[x] = (rx + ix) * 3;
    x1s[x] = (rx + Math.min(ix + 1, rw - 1)) * 3;
    fxs[x] = sx - ix;
  }
  // out = v × k + c per output plane; plane p takes source channel 2 − p (RGB → BGR).
  const k = std.map((s) => 1 / (255 * s));
  const c = mean.map((m, i) => -m / std[i]!);
  const scaleY = rh / t.height;
  for (let y = 0; y < t.height; y++) {
    const sy = clamp((y + 0.5) * scaleY - 0.5, 0, rh - 1);
    const iy = Math.floor(sy);
    const fy = sy - iy;
    const row0 = (ry + iy) * stride;
    const row1 = (ry + Math.min(iy + 1, rh - 1)) * stride;
    const base = t.offset + y * t.stride;
    for (let p = 0; p < 3; p++) {
      const ch = 2 - p;
      const kp = k[p]!;
      const cp = c[p]!;
      const o = base + p * t.plane;
      for (let x = 0; x < t.width; x++) {
        const a = x0s[x]! + ch;
        const b = x1s[x]! + ch;
        const fx = fxs[x]!;
        const top = src[row0 + a]! + (src[row0 + b]! - src[row0 + a]!) * fx;
        const bottom = src[row1 + a]! + (src[row1 + b]! - src[row1 + a]!) * fx;
        t.data[o + x] = (top + (bottom - top) * fy) * kp + cp;
      }
    }
    await pacer.pace();
  }
}

export interface Region {
  minX: number;
  minY: number;
  maxX: number;
  maxY: number;
  /** Sum of the probabilities of its pixels. */
  sum: number;
  count: number;
}

/** 8-connected regions of pixels whose text probability exceeds the threshold. */
export async function findRegions(prob: Float32Array, width: number, height: number, threshold: number, pacer: Pacer): Promise<Region[]> {
  const seen = new Uint8Array(width * height);
  const stack = new Int32Array(width * height);
  const regions: Region[] = [];
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const start = y * width + x;
      if (seen[start] || prob[start]! <= threshold) continue;
      const r: Region = { minX: x, minY: y, maxX: x, maxY: y, sum: 0, count: 0 };
      seen[start] = 1;
      let top = 0;
      stack[top++] = start;
      while (top > 0) {
        const i = stack[--top]!;
        const px = i % width;
        const py = (i - px) / width;
        r.sum += prob[i]!;
        r.count++;
        if (px < r.minX) r.minX = px;
        if (px > r.maxX) r.maxX = px;
        if (py < r.minY) r.minY = py;
        if (py > r.maxY) r.maxY = py;
        for (let dy = -1; dy <= 1; dy++) {
          const ny = py + dy;
          if (ny < 0 || ny >= height) continue;
          for (let dx = -1; dx <= 1; dx++) {
            const nx = px + dx;
            if (nx < 0 || nx >= width) continue;
            const j = ny * width + nx;
            if (!seen[j] && prob[j]! > threshold) {
              seen[j] = 1;
              stack[top++] = j;
            }
          }
        }
      }
      regions.push(r);
    }
    await pacer.pace();
  }
  return regions;
}

/** A text region in detector pixels: its grown box and the probabilities of its kernel. */
export interface Candidate {
  x0: number;
  y0: number;
  x1: number;
  y1: number;
  sum: number;
  count: number;
}

/**
 * Left to right, adds each region to a line it shares most of its height with and nearly
 * touches, else starts a line. Scores pool over the merged kernels, so a faint glyph next to a
 * word rides along with it instead of being dropped or read twice.
 */
export function mergeLineNeighbours(candidates: Candidate[]): Candidate[] {
  const lines: Candidate[] = [];
  for (const c of [...candidates].sort((a, b) => a.x0 - b.x0)) {
    const line = lines.find((l) => {
      const overlap = Math.min(l.y1, c.y1) - Math.max(l.y0, c.y0);
      const hl = l.y1 - l.y0;
      const hc = c.y1 - c.y0;
      return overlap >= 0.5 * Math.min(hl, hc) && c.x0 - l.x1 <= MERGE_GAP * Math.max(hl, hc);
    });
    if (!line) {
      lines.push({ ...c });
      continue;
    }
    line.x0 = Math.min(line.x0, c.x0);
    line.y0 = Math.min(line.y0, c.y0);
    line.x1 = Math.max(line.x1, c.x1);
    line.y1 = Math.max(line.y1, c.y1);
    line.sum += c.sum;
    line.count += c.count;
  }
  return lines;
}

/** Greedy CTC: best class per step, repeats merged, blanks dropped; score = mean probability of the kept characters. */
export async function ctcGreedy(
  probs: Float32Array,
  offset: number,
  steps: number,
  classes: number,
  charset: readonly string[],
  pacer: Pacer,
): Promise<{ text: string; score: number }> {
  let text = '';
  let sum = 0;
  let kept = 0;
  let previous = 0;
  for (let t = 0; t < steps; t++) {
    const row = offset + t * classes;
    let best = 0;
    let bestP = probs[row]!;
    for (let c = 1; c < classes; c++) {
      const p = probs[row + c]!;
      if (p > bestP) {
        bestP = p;
        best = c;
      }
    }
    if (best !== 0 && best !== previous) {
      text += charset[best] ?? '';
      sum += bestP;
      kept++;
    }
    previous = best;
    if ((t & 15) === 15) await pacer.pace();
  }
  return { text, score: kept ? sum / kept : 0 };
}

/** Top to bottom; lines sharing a row (vertical centres within half the smaller height) left to right. */
export function sortReadingOrder(lines: OcrLine[]): OcrLine[] {
  lines.sort((a, b) => a.box[1] - b.box[1] || a.box[0] - b.box[0]);
  const sameRow = (a: Box, b: Box) => Math.abs(a[1] + a[3] / 2 - (b[1] + b[3] / 2)) < Math.min(a[3], b[3]) / 2;
  for (let i = 1; i < lines.length; i++) {
    for (let j = i; j > 0; j--) {
      const [prev, cur] = [lines[j - 1]!, lines[j]!];
      if (!sameRow(prev.box, cur.box) || prev.box[0] <= cur.box[0]) break;
      [lines[j - 1], lines[j]] = [cur, prev];
    }
  }
  return lines;
}

export function clamp(v: number, lo: number, hi: number): number {
  return v < lo ? lo : v > hi ? hi : v;
}

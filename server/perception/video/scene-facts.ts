import type { COCO_LABELS } from '../objects/centernet.ts';
import type { FramePosition, ObjectCount, SceneFacts } from './facts.ts';
import { assertRgbImage, type Box, type RgbImage } from './types.ts';

/**
 * Facts a keyframe gives away without a model: its named colours, brightness and motion, and
 * where, how big and what colour each detected object is. Pure and synchronous; every pass
 * reads a subsampled grid, so a 640×480 frame costs a fraction of a millisecond.
 */

/** The everyday colour words people use for things; beige because skin, wood, paper and walls are otherwise called "orange". */
export const COLOUR_NAMES = [
  'black', 'white', 'grey', 'red', 'orange', 'yellow', 'green', 'blue', 'purple', 'pink', 'brown', 'beige',
] as const;
export type ColourName = (typeof COLOUR_NAMES)[number];

// CIELAB LCh thresholds (L 0..100, chroma C, hue h in degrees), read off named sRGB references.
/** Below this chroma a colour reads as black, grey or white (camera white balance leaves C ≈ 5–10 on greys). */
const GREY_CHROMA = 12;
/** Lightness of the grey scale: below BLACK_L black, at or above WHITE_L white (≈ sRGB 53 and 205). */
const BLACK_L = 22;
const WHITE_L = 82;
/** Very dark colours with little chroma are black too (dark clothes under a camera's blue cast). */
const DARK_CHROMA = 20;

/** The name of an sRGB colour, decided on CIELAB lightness, chroma and hue. */
export function namedColour(r: number, g: number, b: number): ColourName {
  const [L, C, h] = lch(r, g, b);
  if (L < 8 || (L < BLACK_L && C < DARK_CHROMA)) return 'black';
  if (C < GREY_CHROMA) return L >= WHITE_L ? 'white' : 'grey';
  // Hue bands: pure sRGB red sits at 40°, orange 64–73°, yellow 103°, green 136°, cyan 196°, blue 306°, magenta 328°.
  if (h >= 335 || h < 20) return L >= 45 ? 'pink' : 'red'; // hot/deep pink; dark ones are burgundy
  if (h < 50) {
    // Reddish browns (chestnut, mahogany) are dull for their lightness; as saturated, it is a dark red (maroon, burgundy).
    if (L < 50 && C < 35 && C < 1.3 * L) return 'brown';
    if (C < 25) return 'beige'; // pale rosy skin, sand
    return L >= 72 ? 'pink' : 'red'; // light salmon reads pink
  }
  if (h < 85) {
    if (L < 50 || (L < 60 && C < 40)) return 'brown';
    return C < 50 ? 'beige' : 'orange'; // skin (C 40–50 under warm light), tan, wood vs. a real orange
  }
  if (h < 115) {
    if (L < 55) return h < 95 ? 'brown' : 'green'; // dark gold is brown, dark yellow is olive
    return C < 35 ? 'beige' : 'yellow';
  }
  if (h < 180) return 'green';
  if (h < 250) return 'blue'; // turquoise, teal, sky blue
  // CIELAB bunches blue and violet around sRGB blue's 306°; HSV hue still tells them apart there.
  return hsvHue(r, g, b) >= 255 ? 'purple' : 'blue';
}

/** HSV hue in degrees (0 for greys). */
function hsvHue(r: number, g: number, b: number): number {
  const max = Math.max(r, g, b);
  const span = max - Math.min(r, g, b);
  if (span === 0) return 0;
  const h = max === r ? (g - b) / span : max === g ? 2 + (b - r) / span : 4 + (r - g) / span;
  return h < 0 ? h * 60 + 360 : h * 60;
}

/** sRGB (0..255) → CIELAB LCh under D65. */
function lch(r: number, g: number, b: number): [number, number, number] {
  const R = linear(r), G = linear(g), B = linear(b);
  const fx = labF((0.4124 * R + 0.3576 * G + 0.1805 * B) / 0.95047);
  const fy = labF(0.2126 * R + 0.7152 * G + 0.0722 * B);
  const fz = labF((0.0193 * R + 0.1192 * G + 0.9505 * B) / 1.08883);
  const a = 500 * (fx - fy);
  const bb = 200 * (fy - fz);
  const h = (Math.atan2(bb, a) * 180) / Math.PI;
  return [116 * fy - 16, Math.hypot(a, bb), h < 0 ? h + 360 : h];
}

function linear(c: number): number {
  const s = c / 255;
  return s <= 0.04045 ? s / 12.92 : ((s + 0.055) / 1.055) ** 2.4;
}

function labF(t: number): number {
  return t > 216 / 24389 ? Math.cbrt(t) : ((24389 / 27) * t + 16) / 116;
}

/**
 * Palette index of every colour quantized to 5 bits a channel (32 KiB, built on first use):
 * the histograms then cost one table look-up a sample instead of a CIELAB conversion.
 */
let paletteTable: Uint8Array | undefined;

function colourTable(): Uint8Array {
  if (paletteTable) return paletteTable;
  const table = new Uint8Array(32 * 32 * 32);
  const index = new Map<ColourName, number>(COLOUR_NAMES.map((name, i) => [name, i]));
  for (let r = 0; r < 32; r++) {
    for (let g = 0; g < 32; g++) {
      for (let b = 0; b < 32; b++) {
        // Name each cell by its centre.
        table[(r << 10) | (g << 5) | b] = index.get(namedColour(r * 8 + 4, g * 8 + 4, b * 8 + 4))!;
      }
    }
  }
  return (paletteTable = table);
}

/** Colours under this share are dropped (and the rest renormalized): specks, edges, noise. */
const MIN_SHARE = 0.05;
/** Samples a histogram aims at: enough for 1% shares to be stable, few enough to stay cheap. */
const FRAME_SAMPLES = 20_000;
const BOX_SAMPLES = 4_096;

/**
 * Named-colour histogram of the frame or of a box, largest share first, shares summing to ~1.
 * In a box, samples are weighted by an elliptical kernel, 1 at the centre falling to 0 on the
 * inscribed ellipse, so the box's corners and edges (mostly background) count little or not at
 * all: the colour of a detected object is the colour of its middle.
 */
export function dominantColours(image: RgbImage, box?: Box): { name: ColourName; share: number }[] {
  assertRgbImage(image);
  const table = colourTable();
  const weights = new Float64Array(COLOUR_NAMES.length);
  const { width, height, data } = image;
  if (!box) {
    const step = gridStep(width * height, FRAME_SAMPLES);
    for (let y = step >> 1; y < height; y += step) {
      for (let x = step >> 1; x < width; x += step) {
        const p = (y * width + x) * 3;
        weights[table[((data[p]! >> 3) << 10) | ((data[p + 1]! >> 3) << 5) | (data[p + 2]! >> 3)]!]++;
      }
    }
  } else {
    const clip = clipBox(box, width, height);
    if (!clip) return [];
    const [x0, y0, x1, y1] = clip;
    const cx = box[0] + box[2] / 2;
    const cy = box[1] + box[3] / 2;
    const rx = Math.max(box[2], 1) / 2;
    const ry = Math.max(box[3], 1) / 2;
    const step = gridStep((x1 - x0) * (y1 - y0), BOX_SAMPLES);
    for (let y = y0 + (step >> 1); y < y1; y += step) {
      const v = (y + 0.5 - cy) / ry;
      for (let x = x0 + (step >> 1); x < x1; x += step) {
        const u = (x + 0.5 - cx) / rx;
        const w = 1 - u * u - v * v;
        if (w <= 0) continue;
        const p = (y * width + x) * 3;
        weights[table[((data[p]! >> 3) << 10) | ((data[p + 1]! >> 3) << 5) | (data[p + 2]! >> 3)]!] += w;
      }
    }
  }
  return shares(weights);
}

function gridStep(area: number, samples: number): number {
  return Math.max(1, Math.round(Math.sqrt(area / samples)));
}

/** The box's whole pixels inside the frame as [x0, y0, x1, y1), or undefined when none are. */
function clipBox([x, y, w, h]: Box, width: number, height: number): [number, number, number, number] | undefined {
  const x0 = Math.max(0, Math.floor(x));
  const y0 = Math.max(0, Math.floor(y));
  const x1 = Math.min(width, Math.ceil(x + w));
  const y1 = Math.min(height, Math.ceil(y + h));
  return x1 > x0 && y1 > y0 ? [x0, y0, x1, y1] : undefined;
}

function shares(weights: Float64Array): { name: ColourName; share: number }[] {
  let total = 0;
  for (const w of weights) total += w;
  if (total === 0) return [];
  let kept = 0;
  for (const w of weights) if (w / total >= MIN_SHARE) kept += w;
  const out: { name: ColourName; share: number }[] = [];
  weights.forEach((w, i) => {
    if (w / total >= MIN_SHARE) out.push({ name: COLOUR_NAMES[i]!, share: round3(w / kept) });
  });
  return out.sort((a, b) => b.share - a.share);
}

function round3(x: number): number {
  return Math.round(x * 1000) / 1000;
}

/** Colours that make a thing stand out; the others are as often shadow, highlight, skin or hair. */
const VIVID = new Set<ColourName>(['red', 'orange', 'yellow', 'green', 'blue', 'purple', 'pink']);
/** A vivid colour names the object when it has at least this share relative to a leading neutral one. */
const VIVID_RATIO = 2 / 3;

/**
 * The colour a person would name a detected object by: the box's leading colour, unless that is
 * neutral (black, white, grey, beige, brown) and a vivid colour comes close — "the woman in yellow"
 * although skin, hair and shadow cover as much of her box. Undefined when no pixel of the box is in the frame.
 */
export function objectColour(image: RgbImage, box: Box): ColourName | undefined {
  const colours = dominantColours(image, box);
  const top = colours[0];
  if (!top || VIVID.has(top.name)) return top?.name;
  const vivid = colours.find((c) => VIVID.has(c.name));
  return vivid && vivid.share >= VIVID_RATIO * top.share ? vivid.name : top.name;
}

/** Which third of the frame the box's centre is in. */
export function framePosition(box: Box, width: number): FramePosition {
  const centre = box[0] + box[2] / 2;
  return centre < width / 3 ? 'left' : centre >= (2 * width) / 3 ? 'right' : 'centre';
}

/** The box's share of the frame's area (0..1), counting only what is inside the frame. */
export function boxShare(box: Box, width: number, height: number): number {
  if (!(width > 0 && height > 0)) return 0;
  const w = Math.min(width, box[0] + box[2]) - Math.max(0, box[0]);
  const h = Math.min(height, box[1] + box[3]) - Math.max(0, box[1]);
  return w > 0 && h > 0 ? Math.min(1, (w * h) / (width * height)) : 0;
}

export type CocoLabel = (typeof COCO_LABELS)[number];

/** The official COCO supercategory of each of the 80 detector labels. */
export const COCO_SUPERCATEGORIES: Readonly<Record<CocoLabel, string>> = {
  person: 'person',
  bicycle: 'vehicle', car: 'vehicle', motorcycle: 'vehicle', airplane: 'vehicle',
  bus: 'vehicle', train: 'vehicle', truck: 'vehicle', boat: 'vehicle',
  'traffic light': 'outdoor', 'fire hydrant': 'outdoor', 'stop sign': 'outdoor', 'parking meter': 'outdoor', bench: 'outdoor',
  bird: 'animal', cat: 'animal', dog: 'animal', horse: 'animal', sheep: 'animal',
  cow: 'animal', elephant: 'animal', bear: 'animal', zebra: 'animal', giraffe: 'animal',
  backpack: 'accessory', umbrella: 'accessory', handbag: 'accessory', tie: 'accessory', suitcase: 'accessory',
  frisbee: 'sports', skis: 'sports', snowboard: 'sports', 'sports ball': 'sports', kite: 'sports',
  'baseball bat': 'sports', 'baseball glove': 'sports', skateboard: 'sports', surfboard: 'sports', 'tennis racket': 'sports',
  bottle: 'kitchen', 'wine glass': 'kitchen', cup: 'kitchen', fork: 'kitchen', knife: 'kitchen', spoon: 'kitchen', bowl: 'kitchen',
  banana: 'food', apple: 'food', sandwich: 'food', orange: 'food', broccoli: 'food',
  carrot: 'food', 'hot dog': 'food', pizza: 'food', donut: 'food', cake: 'food',
  chair: 'furniture', couch: 'furniture', 'potted plant': 'furniture', bed: 'furniture', 'dining table': 'furniture', toilet: 'furniture',
  tv: 'electronic', laptop: 'electronic', mouse: 'electronic', remote: 'electronic', keyboard: 'electronic', 'cell phone': 'electronic',
  microwave: 'appliance', oven: 'appliance', toaster: 'appliance', sink: 'appliance', refrigerator: 'appliance',
  book: 'indoor', clock: 'indoor', vase: 'indoor', scissors: 'indoor', 'teddy bear': 'indoor', 'hair drier': 'indoor', toothbrush: 'indoor',
};

export function supercategoryOf(label: string): string | undefined {
  return Object.hasOwn(COCO_SUPERCATEGORIES, label) ? COCO_SUPERCATEGORIES[label as CocoLabel] : undefined;
}

/**
 * Mean luma (0..255) thresholds. A camera's auto-exposure holds a lit scene near 100–130; it
 * falls below these only when the gain runs out.
 */
const DARK_LUMA = 45;
const DIM_LUMA = 85;

export function brightness(image: RgbImage): SceneFacts['brightness'] {
  assertRgbImage(image);
  const { width, height, data } = image;
  const step = gridStep(width * height, FRAME_SAMPLES);
  let sum = 0;
  let n = 0;
  for (let y = step >> 1; y < height; y += step) {
    for (let x = step >> 1; x < width; x += step) {
      const p = (y * width + x) * 3;
      sum += 0.299 * data[p]! + 0.587 * data[p + 1]! + 0.114 * data[p + 2]!;
      n++;
    }
  }
  const mean = sum / n;
  return mean < DARK_LUMA ? 'dark' : mean < DIM_LUMA ? 'dim' : 'bright';
}

/** Motion is judged on this grid of cells, each the mean grey of 6×6 samples, whatever the frame sizes. */
const GRID_W = 32;
const GRID_H = 24;
const CELL_SAMPLES = 6;
/** A cell changed when its grey moved by more than this (0..255) beyond the frame's overall shift. */
const CELL_CHANGE = 16;
/** Moving when at least this share of cells changed: about an object of 2% of the frame. */
const MOVING_SHARE = 0.02;

/**
 * Still or moving between two keyframes. Averaging 36 samples a cell divides sensor noise by 6,
 * and subtracting the median cell difference cancels an exposure step; what is left must change
 * a few percent of the frame to count.
 */
export function motion(previous: RgbImage, current: RgbImage): 'still' | 'moving' {
  assertRgbImage(previous);
  assertRgbImage(current);
  const a = greyGrid(previous);
  const b = greyGrid(current);
  const diff = new Float32Array(a.length);
  for (let i = 0; i < a.length; i++) diff[i] = b[i]! - a[i]!;
  const shift = median(diff);
  let changed = 0;
  for (const d of diff) if (Math.abs(d - shift) > CELL_CHANGE) changed++;
  return changed >= MOVING_SHARE * diff.length ? 'moving' : 'still';
}

/** Mean grey of each cell of a GRID_W × GRID_H grid laid over the frame (so any two sizes compare). */
function greyGrid({ width, height, data }: RgbImage): Float32Array {
  const grid = new Float32Array(GRID_W * GRID_H);
  const xs = samplePositions(width, GRID_W);
  const ys = samplePositions(height, GRID_H);
  for (let gy = 0; gy < GRID_H; gy++) {
    for (let gx = 0; gx < GRID_W; gx++) {
      let sum = 0;
      for (let j = 0; j < CELL_SAMPLES; j++) {
        const row = ys[gy * CELL_SAMPLES + j]! * width;
        for (let i = 0; i < CELL_SAMPLES; i++) {
          const p = (row + xs[gx * CELL_SAMPLES + i]!) * 3;
          // Integer Rec. 601 luma.
          sum += (77 * data[p]! + 150 * data[p + 1]! + 29 * data[p + 2]!) >> 8;
        }
      }
      grid[gy * GRID_W + gx] = sum / (CELL_SAMPLES * CELL_SAMPLES);
    }
  }
  return grid;
}

/** Pixel coordinates of CELL_SAMPLES evenly spaced samples in each of `cells` cells along `size`. */
function samplePositions(size: number, cells: number): Int32Array {
  const n = cells * CELL_SAMPLES;
  const out = new Int32Array(n);
  for (let k = 0; k < n; k++) out[k] = Math.min(size - 1, Math.floor(((k + 0.5) * size) / n));
  return out;
}

function median(values: Float32Array): number {
  const sorted = Float32Array.from(values).sort();
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/**
 * The object counts with their supercategory and, per box, position, colour and size filled in
 * (new objects; the input is left alone). A box with no pixel in the frame gets colour "".
 */
export function describeObjects(objects: ObjectCount[], image: RgbImage): ObjectCount[] {
  assertRgbImage(image);
  const { width, height } = image;
  return objects.map((o) => {
    const supercategory = supercategoryOf(o.label);
    return {
      ...o,
      ...(supercategory ? { supercategory } : {}),
      positions: o.boxes.map((box) => framePosition(box, width)),
      colours: o.boxes.map((box) => objectColour(image, box) ?? ''),
      sizes: o.boxes.map((box) => round3(boxShare(box, width, height))),
    };
  });
}

/** The whole frame's facts; motion only when there is a previous keyframe to compare with. */
export function sceneFacts(image: RgbImage, previous?: RgbImage): SceneFacts {
  const facts: SceneFacts = { colours: dominantColours(image), brightness: brightness(image) };
  if (previous) facts.motion = motion(previous, image);
  return facts;
}

import type { RgbImage } from '../../../native/index.ts';

/**
 * What the assistant sees. Frames are RGB24 (row-major, 3 bytes a pixel; the native layer's
 * RgbImage) on the session's media clock; engines behind these small interfaces turn
 * keyframes into facts.
 */
export type { RgbImage };

/** The engines' shared argument check: a clear TypeError for anything that is not an RgbImage. */
export function assertRgbImage(image: RgbImage): void {
  if (typeof image !== 'object' || image === null) throw new TypeError('image must be an RgbImage');
  const { width, height, data } = image;
  if (!Number.isInteger(width) || !Number.isInteger(height) || width < 1 || height < 1) {
    throw new TypeError(`image width and height must be positive integers, got ${width}×${height}`);
  }
  if (!(data instanceof Uint8Array) || data.length !== width * height * 3) {
    throw new TypeError(`image data must be a Uint8Array of width × height × 3 = ${width * height * 3} bytes`);
  }
}

export interface VideoFrame extends RgbImage {
  /** Media time, ms since the session started. */
  t: number;
}

/** [x, y, width, height] in pixels of the image the engine was given. */
export type Box = [number, number, number, number];

export interface OcrLine {
  text: string;
  /** 0..1 */
  score: number;
  box: Box;
}

export interface DetectedObject {
  /** COCO label, e.g. "cup". */
  label: string;
  score: number;
  box: Box;
}

export interface OcrEngine {
  readonly name: string;
  recognize(image: RgbImage, signal?: AbortSignal): Promise<OcrLine[]>;
  close(): Promise<void>;
}

export interface ObjectDetector {
  readonly name: string;
  detect(image: RgbImage, signal?: AbortSignal): Promise<DetectedObject[]>;
  close(): Promise<void>;
}

export interface ImageEmbedder {
  readonly name: string;
  /** Length of each embedding. */
  readonly dims: number;
  /** One L2-normalized embedding per image. */
  embed(images: RgbImage[], signal?: AbortSignal): Promise<Float32Array[]>;
  close(): Promise<void>;
}

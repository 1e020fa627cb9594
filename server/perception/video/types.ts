/**
 * What the assistant sees. Frames are RGB24 (row-major, 3 bytes a pixel) on the session's
 * media clock; engines behind these small interfaces turn keyframes into facts.
 */
export interface RgbImage {
  width: number;
  height: number;
  /** width × height × 3 bytes, R G B. */
  data: Uint8Array;
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

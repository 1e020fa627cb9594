import type { VideoFrame } from './types.ts';

/**
 * The reference system's clip rule: a new clip starts when at least `minFrames` frames have
 * passed since the last cut and either `maxFrames` have accumulated or the frame looks
 * different from the one before it (similarity ≤ `cutSimilarity`). Pure and synchronous.
 */
export interface ClipperOptions {
  /** Frames a clip has at least before a scene change may cut it. @defaultValue 3 */
  minFrames: number;
  /** Frames after which a clip is cut regardless. @defaultValue 16 */
  maxFrames: number;
  /** Similarity to the previous frame at or below which the scene changed. @defaultValue 0.9 */
  cutSimilarity: number;
}

export const defaultClipperOptions = {
  minFrames: 3,
  maxFrames: 16,
  cutSimilarity: 0.9,
} as const satisfies ClipperOptions;

export interface ClipFrames {
  frames: VideoFrame[];
  /** Why the clip ended: a scene change, the length limit, or the end of the stream. */
  reason: 'scene_change' | 'max_frames' | 'end';
}

export class Clipper {
  readonly options: ClipperOptions;
  #frames: VideoFrame[] = [];

  constructor(options: Partial<ClipperOptions> = {}) {
    this.options = { ...defaultClipperOptions, ...options };
    if (this.options.minFrames < 1 || this.options.maxFrames < this.options.minFrames) {
      throw new TypeError('clipper needs 1 ≤ minFrames ≤ maxFrames');
    }
  }

  get pending(): number {
    return this.#frames.length;
  }

  /**
   * Adds a frame with its similarity to the previous frame (1 for the first). Returns the
   * clip this frame closed, if any; the frame itself then opens the next clip.
   */
  push(frame: VideoFrame, similarityToPrevious: number): ClipFrames | undefined {
    const { minFrames, maxFrames, cutSimilarity } = this.options;
    let closed: ClipFrames | undefined;
    if (this.#frames.length >= maxFrames) closed = { frames: this.#frames, reason: 'max_frames' };
    else if (this.#frames.length >= minFrames && similarityToPrevious <= cutSimilarity) closed = { frames: this.#frames, reason: 'scene_change' };
    if (closed) this.#frames = [];
    this.#frames.push(frame);
    return closed;
  }

  /** Ends the stream: the frames still held form the last clip. */
  flush(): ClipFrames | undefined {
    if (this.#frames.length === 0) return undefined;
    const clip: ClipFrames = { frames: this.#frames, reason: 'end' };
    this.#frames = [];
    return clip;
  }
}

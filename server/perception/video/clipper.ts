import type { VideoFrame } from './types.ts';

/**
 * The reference system's clip rule: a new clip starts when at least `minFrames` frames have
 * passed since the last cut and either `maxFrames` have accumulated or the frame looks
 * different from the one before it (similarity ≤ `cutSimilarity`). Pure and synchronous.
 *
 * A question may also cut the open clip early (`cut()`), so that what is on screen when it is
 * asked becomes evidence. Such a cut only splits the scene's clip: the rule above keeps
 * counting from the last scene cut, so the scene cuts fall where they would without questions.
 *
 * While something waits on the screen (a watch), a run's first `eagerFrames` frames are cut
 * off as a clip of their own, the same way: its facts come after a frame or two, not when
 * the scene ends (up to `maxFrames` later).
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
  /** Why the clip ended: a scene change, the length limit, the end of the stream, or a question. */
  reason: 'scene_change' | 'max_frames' | 'end' | 'question' | 'watch';
}

export class Clipper {
  readonly options: ClipperOptions;
  /** Frames of the open clip. */
  #frames: VideoFrame[] = [];
  /** Frames since the last scene cut (or length cut): what the rule counts; a question's cut leaves it be. */
  #run = 0;

  constructor(options: Partial<ClipperOptions> = {}) {
    this.options = { ...defaultClipperOptions, ...options };
    if (this.options.minFrames < 1 || this.options.maxFrames < this.options.minFrames) {
      throw new TypeError('clipper needs 1 ≤ minFrames ≤ maxFrames');
    }
  }

  /** Frames after which an eager cut closes a new run's first clip (see the class comment); 0: off. */
  eagerFrames = 0;

  get pending(): number {
    return this.#frames.length;
  }

  /**
   * Adds a frame with its similarity to the previous frame (1 for the first). Returns the
   * clip this frame closed, if any; the frame itself then opens the next clip.
   */
  push(frame: VideoFrame, similarityToPrevious: number): ClipFrames | undefined {
    const { minFrames, maxFrames, cutSimilarity } = this.options;
    let reason: ClipFrames['reason'] | undefined;
    if (this.#run >= maxFrames) reason = 'max_frames';
    else if (this.#run >= minFrames && similarityToPrevious <= cutSimilarity) reason = 'scene_change';
    let closed: ClipFrames | undefined;
    if (reason) {
      closed = this.#close(reason); // none when a question's cut left no frame of the scene open
      this.#run = 0;
    }
    this.#frames.push(frame);
    this.#run++;
    if (!closed && this.eagerFrames > 0 && this.#run === this.eagerFrames && this.#frames.length === this.#run) return this.#close('watch');
    return closed;
  }

  /** A question was asked: the frames held so far form a clip now; the scene goes on in the next. */
  cut(): ClipFrames | undefined {
    return this.#close('question');
  }

  /** Ends the stream: the frames still held form the last clip. */
  flush(): ClipFrames | undefined {
    this.#run = 0;
    return this.#close('end');
  }

  #close(reason: ClipFrames['reason']): ClipFrames | undefined {
    if (this.#frames.length === 0) return undefined;
    const clip: ClipFrames = { frames: this.#frames, reason };
    this.#frames = [];
    return clip;
  }
}

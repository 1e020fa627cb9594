import type { ClipScene } from '../../../memory/types.ts';
import sharp from 'sharp';
import { Clipper, type ClipperOptions } from './clipper.ts';
import type { FrameFacts, FrameFactsScheduler } from './facts.ts';
import type { RgbImage, VideoFrame } from './types.ts';

/** How frames are compared for scene cuts: the native descriptor, or embeddings when a model is present. */
export interface SceneComparer {
  readonly name: string;
  describe(image: RgbImage): Promise<Float32Array>;
  similarity(a: Float32Array, b: Float32Array): number;
}

export interface VideoPipelineOptions {
  /** Frames per second kept from the source (1–5). @defaultValue 1 */
  fps: number;
  clipper: Partial<ClipperOptions>;
  /** Width of the keyframe thumbnail JPEG. @defaultValue 160 */
  thumbnailWidth: number;
}

export const defaultVideoPipelineOptions = {
  fps: 1,
  clipper: {},
  thumbnailWidth: 160,
} as const satisfies VideoPipelineOptions;

/** A stretch of video that shows one scene: up to 16 sampled frames, a keyframe and its facts. */
export interface Clip {
  id: string;
  startMs: number;
  /** Media time of the last frame plus one frame period. */
  endMs: number;
  frameCount: number;
  keyframe: VideoFrame;
  /** Small JPEG of the keyframe, for timelines and answers. */
  thumbnail: Buffer;
  facts: FrameFacts;
  /** Similarity of consecutive frames came from this. */
  comparer: string;
  /** The keyframe described, as memory keeps it (set when the clip is committed). */
  scene?: ClipScene;
  /** The clip began where the scene changed (not the first clip, nor one cut by length or a question). */
  sceneCut: boolean;
}

/** Frames of a new scene an eager cut waits for: one more than the first, which may be mid-change. */
const EAGER_FRAMES = 2;

export interface VideoPipelineHooks {
  comparer: SceneComparer;
  facts: FrameFactsScheduler;
  newId: () => string;
  onClip: (clip: Clip) => void;
  onError: (error: unknown) => void;
}

/**
 * Sampled frames → scene comparison → clipper → keyframe facts. Frames are handled in
 * order on their own queue, so video never waits on audio nor audio on video.
 */
export class VideoPipeline {
  readonly options: VideoPipelineOptions;
  readonly #hooks: VideoPipelineHooks;
  readonly #clipper: Clipper;
  #nextSampleMs = 0;
  #previous: Float32Array | undefined;
  #work: Promise<void> = Promise.resolve();
  #pendingClips = new Set<Promise<unknown>>();
  /** The last clip handed on: each clip waits for the one before, so `onClip` sees them in time order. */
  #delivered: Promise<unknown> = Promise.resolve();
  /** Why the clip before closed: a scene change means the next one starts a new scene. */
  #lastReason = 'start';
  #closed = false;

  constructor(options: Partial<VideoPipelineOptions>, hooks: VideoPipelineHooks) {
    this.options = { ...defaultVideoPipelineOptions, ...options };
    if (!(this.options.fps >= 0.1 && this.options.fps <= 5)) throw new TypeError(`video fps must be from 0.1 to 5, got ${this.options.fps}`);
    this.#hooks = hooks;
    this.#clipper = new Clipper(this.options.clipper);
  }

  /** Offers a frame; frames closer together than the sampling period are dropped. */
  push(frame: VideoFrame): boolean {
    if (this.#closed || frame.t < this.#nextSampleMs) return false;
    const period = 1000 / this.options.fps;
    this.#nextSampleMs = Math.max(this.#nextSampleMs + period, frame.t + period / 2);
    this.#work = this.#work.then(() => this.#take(frame)).catch((error) => this.#hooks.onError(error));
    return true;
  }

  /** Ends the stream: the frames held become the last clip. */
  flush(): void {
    this.#work = this.#work.then(() => {
      const last = this.#clipper.flush();
      if (last) void this.#commit(last.frames, last.reason);
    });
  }

  /**
   * A question is being answered: the frames offered so far that the clipper still holds
   * become a clip now (a shorter one; scene cuts stay where they were). Resolves with that
   * clip once it has its facts and `onClip` has seen it — undefined when no frame was open or
   * the clip failed or the pipeline closed. Frames offered later go to the next clip.
   */
  cut(): Promise<Clip | undefined> {
    let committed: Promise<Clip | undefined> = Promise.resolve(undefined);
    this.#work = this.#work
      .then(() => {
        if (this.#closed) return;
        const open = this.#clipper.cut();
        if (open) committed = this.#commit(open.frames, open.reason);
      })
      .catch((error) => this.#hooks.onError(error));
    return this.#work.then(() => committed);
  }

  /** Resolves when every frame offered so far is clipped and every clip has its facts. */
  async idle(): Promise<void> {
    await this.#work;
    while (this.#pendingClips.size) await Promise.all(this.#pendingClips);
  }

  /** Whether a new scene's first frames are a clip of their own (something waits on the screen). */
  set eager(on: boolean) {
    this.#clipper.eagerFrames = on ? EAGER_FRAMES : 0;
  }

  close(): void {
    this.#closed = true;
  }

  async #take(frame: VideoFrame): Promise<void> {
    if (this.#closed) return;
    const descriptor = await this.#hooks.comparer.describe(frame);
    const similarity = this.#previous ? this.#hooks.comparer.similarity(this.#previous, descriptor) : 1;
    this.#previous = descriptor;
    const closed = this.#clipper.push(frame, similarity);
    if (closed) void this.#commit(closed.frames, closed.reason);
  }

  /** Asks for the keyframe's facts; resolves with the clip once `onClip` has it (undefined if it never will). */
  #commit(frames: VideoFrame[], reason: string): Promise<Clip | undefined> {
    const id = this.#hooks.newId();
    const sceneCut = this.#lastReason === 'scene_change';
    this.#lastReason = reason;
    const keyframe = frames[Math.floor((frames.length - 1) / 2)]!;
    const period = 1000 / this.options.fps;
    const before = this.#delivered;
    // Facts and thumbnails of neighbouring clips finish in any order; memory and clients want time order.
    const done = Promise.all([this.#hooks.facts.request(keyframe), thumbnail(keyframe, this.options.thumbnailWidth), before])
      .then(([facts, jpeg]) => {
        if (this.#closed) return undefined;
        const clip: Clip = {
          id,
          startMs: frames[0]!.t,
          endMs: Math.round(frames.at(-1)!.t + period),
          frameCount: frames.length,
          keyframe,
          thumbnail: jpeg,
          facts,
          comparer: this.#hooks.comparer.name,
          sceneCut,
        };
        this.#hooks.onClip(clip);
        return clip;
      })
      .catch((error) => {
        this.#hooks.onError(error);
        return undefined;
      });
    this.#delivered = done;
    this.#pendingClips.add(done);
    done.finally(() => this.#pendingClips.delete(done));
    return done;
  }
}

export async function thumbnail(image: RgbImage, width: number): Promise<Buffer> {
  return sharp(image.data, { raw: { width: image.width, height: image.height, channels: 3 } })
    .resize({ width, withoutEnlargement: true })
    .jpeg({ quality: 70 })
    .toBuffer();
}

/** Decodes a JPEG (or PNG, WebP) and fits it into the pipeline's frame box, as file frames are. */
export async function decodeImage(bytes: Uint8Array, t: number, box = { width: 640, height: 360 }): Promise<VideoFrame> {
  const { data, info } = await sharp(bytes)
    .removeAlpha()
    .resize({ width: box.width, height: box.height, fit: 'contain', background: { r: 0, g: 0, b: 0 } })
    .raw()
    .toBuffer({ resolveWithObject: true });
  return { t, width: info.width, height: info.height, data: new Uint8Array(data.buffer, data.byteOffset, data.byteLength) };
}

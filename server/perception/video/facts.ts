import { describeObjects, sceneFacts } from './scene-facts.ts';
import type { Box, DetectedObject, ImageEmbedder, ObjectDetector, OcrEngine, OcrLine, RgbImage } from './types.ts';

/** Describes the people in a frame, given where the object detector found them. */
export interface PeopleDescriber {
  readonly name: string;
  describe(image: RgbImage, personBoxes: Box[], signal?: AbortSignal): Promise<PersonFacts[]>;
  close(): Promise<void>;
}

export interface VisionEngines {
  ocr?: OcrEngine;
  objects?: ObjectDetector;
  embedder?: ImageEmbedder;
  /** Only asked when the objects include a person: an empty scene costs nothing more. */
  people?: PeopleDescriber;
}

/** Which third of the frame a box's centre is in. */
export type FramePosition = 'left' | 'centre' | 'right';

export interface ObjectCount {
  label: string;
  count: number;
  boxes: Box[];
  /** COCO supercategory: person, vehicle, animal, food, furniture, electronic, kitchen, … */
  supercategory?: string;
  /** Per box, in the order of `boxes`: where it is, and its dominant named colour. */
  positions?: FramePosition[];
  colours?: string[];
  /** Per box: its share of the frame's area (0..1). */
  sizes?: number[];
}

/** One person seen (only looked at when the object detector found a person). */
export interface PersonFacts {
  box: Box;
  position: FramePosition;
  /** From the box's height against the frame's. */
  distance: 'near' | 'middle' | 'far';
  /** From body keypoints (MoveNet) where they allow. */
  facing?: 'camera' | 'away' | 'side';
  posture?: 'standing' | 'sitting';
  handRaised?: boolean;
  /** Human's gesture rules, e.g. "thumbs up", "waving". */
  gestures: string[];
  /** The facial expression of a visible face: happy, sad, angry, surprise, neutral, … */
  emotion?: string;
}

/** The whole frame. */
export interface SceneFacts {
  /** Dominant named colours, largest share first (shares of the frame, 0..1). */
  colours: { name: string; share: number }[];
  brightness: 'dark' | 'dim' | 'bright';
  /** Against the previous keyframe of the session, when there is one. */
  motion?: 'still' | 'moving';
}

/** What a keyframe showed. `skipped` names the facts the machine had no time for. */
export interface FrameFacts {
  ocr: OcrLine[];
  objects: ObjectCount[];
  embedding?: Float32Array;
  people?: PersonFacts[];
  scene?: SceneFacts;
  skipped: ('ocr' | 'objects' | 'embedding' | 'people')[];
}

/** Reads the facts of one image; which engines it has decides which facts there are. */
export interface FactsReader {
  readonly names: { ocr?: string; objects?: string; embedder?: string; people?: string };
  read(image: RgbImage): Promise<FrameFacts>;
  /** Image embedding alone, for scene comparison; absent without an embedding model. */
  embed?(image: RgbImage): Promise<Float32Array>;
  close(): Promise<void>;
}

/** Runs the engines in this process. Each engine's failure skips only its own fact. */
export class EngineFactsReader implements FactsReader {
  readonly names: FactsReader['names'];
  readonly embed?: (image: RgbImage) => Promise<Float32Array>;

  constructor(readonly engines: VisionEngines) {
    this.names = { ocr: engines.ocr?.name, objects: engines.objects?.name, embedder: engines.embedder?.name, people: engines.people?.name };
    const embedder = engines.embedder;
    if (embedder) this.embed = async (image) => (await embedder.embed([image]))[0]!;
  }

  async read(image: RgbImage): Promise<FrameFacts> {
    const { ocr, objects, embedder } = this.engines;
    const facts: FrameFacts = { ocr: [], objects: [], skipped: [] };
    if (ocr) {
      try {
        facts.ocr = await ocr.recognize(image);
      } catch {
        facts.skipped.push('ocr');
      }
    }
    if (objects) {
      try {
        facts.objects = describeObjects(countObjects(await objects.detect(image)), image);
      } catch {
        facts.skipped.push('objects');
      }
    }
    const personBoxes = facts.objects.find((o) => o.label === 'person')?.boxes ?? [];
    if (this.engines.people && personBoxes.length) {
      try {
        facts.people = await this.engines.people.describe(image, personBoxes);
      } catch {
        facts.skipped.push('people');
      }
    }
    facts.scene = sceneFacts(image); // motion needs the previous keyframe: the session adds it
    if (embedder) {
      try {
        facts.embedding = (await embedder.embed([image]))[0];
      } catch {
        facts.skipped.push('embedding');
      }
    }
    return facts;
  }

  async close(): Promise<void> {
    await Promise.allSettled([this.engines.ocr?.close(), this.engines.objects?.close(), this.engines.embedder?.close(), this.engines.people?.close()]);
  }
}

export interface FactsSchedulerOptions {
  /** Keyframes waiting at most; more are skipped (and counted) rather than queued. @defaultValue 4 */
  maxQueue: number;
  /** A keyframe that waited longer than this is skipped: stale facts help nobody. @defaultValue 20000 */
  maxWaitMs: number;
}

export const defaultFactsSchedulerOptions = {
  maxQueue: 4,
  maxWaitMs: 20_000,
} as const satisfies FactsSchedulerOptions;

interface Job {
  image: RgbImage;
  queuedAt: number;
  resolve: (facts: FrameFacts) => void;
}

export function countObjects(objects: DetectedObject[]): ObjectCount[] {
  const byLabel = new Map<string, ObjectCount>();
  for (const o of objects) {
    const entry = byLabel.get(o.label) ?? { label: o.label, count: 0, boxes: [] };
    entry.count++;
    entry.boxes.push(o.box);
    byLabel.set(o.label, entry);
  }
  return [...byLabel.values()].sort((a, b) => b.count - a.count || a.label.localeCompare(b.label));
}

/**
 * Asks a FactsReader for the facts of keyframes, one at a time for the whole process
 * (engines are shared, and one core stays free for audio). Off the hot path:
 * when keyframes come faster than they can be read, the excess is skipped and counted.
 */
export class FrameFactsScheduler {
  readonly options: FactsSchedulerOptions;
  readonly stats = { done: 0, skipped: 0 };
  readonly reader: FactsReader;
  readonly #queue: Job[] = [];
  #running = false;

  constructor(reader: FactsReader, options: Partial<FactsSchedulerOptions> = {}) {
    this.reader = reader;
    this.options = { ...defaultFactsSchedulerOptions, ...options };
  }

  /** Resolves with the facts of `image`, or with everything skipped when there was no time. */
  request(image: RgbImage): Promise<FrameFacts> {
    if (this.#queue.length >= this.options.maxQueue) {
      this.stats.skipped++;
      return Promise.resolve(this.#skippedAll());
    }
    return new Promise((resolve) => {
      this.#queue.push({ image, queuedAt: performance.now(), resolve });
      void this.#drain();
    });
  }

  #skippedAll(): FrameFacts {
    const skipped: FrameFacts['skipped'] = [];
    const { names } = this.reader;
    if (names.ocr) skipped.push('ocr');
    if (names.objects) skipped.push('objects');
    if (names.embedder) skipped.push('embedding');
    if (names.people) skipped.push('people');
    return { ocr: [], objects: [], skipped };
  }

  async #drain(): Promise<void> {
    if (this.#running) return;
    this.#running = true;
    try {
      for (let job = this.#queue.shift(); job; job = this.#queue.shift()) {
        if (performance.now() - job.queuedAt > this.options.maxWaitMs) {
          this.stats.skipped++;
          job.resolve(this.#skippedAll());
          continue;
        }
        try {
          job.resolve(await this.reader.read(job.image));
          this.stats.done++;
        } catch {
          this.stats.skipped++;
          job.resolve(this.#skippedAll());
        }
      }
    } finally {
      this.#running = false;
    }
  }
}

import { ClientError } from '../errors.ts';
import { mergeText, type MemoryStore, type TranscriptLog } from '../../memory/index.ts';
import type { FrameFactsScheduler } from '../perception/video/facts.ts';
import { motion } from '../perception/video/scene-facts.ts';
import { clipScene } from '../perception/video/clip-scene.ts';
import type { SceneView } from '../reasoning/llm/types.ts';
import { VideoPipeline, thumbnail, type Clip, type SceneComparer } from '../perception/video/pipeline.ts';
import type { ClipperOptions } from '../perception/video/clipper.ts';
import type { VideoFrame } from '../perception/video/types.ts';
import type { ServerEventBody } from '../protocol/server-events.ts';
import type { Observation } from '../reasoning/watch/types.ts';

type ClipObservation = Extract<Observation, { kind: 'clip' }>;

/** Clips kept in RAM with their keyframe and thumbnail: the short-term memory. */
const RECENT_CLIPS = 8;

export interface VisualMemoryOptions {
  vision: { comparer: SceneComparer; facts: FrameFactsScheduler };
  memory?: MemoryStore;
  sessionId: string;
  /** Whose long-term memory clips go to (read at each clip: the user may be named late). */
  memoryId: () => string;
  /** Wall ms of media time 0. */
  startWall: number;
  /** What was said while a clip was on screen goes into its record. */
  transcript: TranscriptLog;
  emit: (event: ServerEventBody) => void;
  fail: (code: string, error: unknown) => void;
  /** Sounds heard while a clip was on screen go into its record ("alarm (00:12–00:15)"). */
  soundsDuring?: (startMs: number, endMs: number) => string[];
  /** Each committed clip, as watches read it. */
  observed?: (clip: ClipObservation) => void;
  /** Whether something waits on the screen: then a new scene is reported after its first frames. */
  eager?: () => boolean;
}

/**
 * The session's eyes: frames → clips (VideoPipeline), each committed clip to long-term memory,
 * the last few kept as short-term memory, and announced to the client.
 */
export class VisualMemory {
  readonly #options: VisualMemoryOptions;
  #pipeline: VideoPipeline;
  #clipCounter = 0;
  #lastFrameMs = -1;
  readonly #recent: Clip[] = [];

  constructor(options: VisualMemoryOptions, settings: { fps: number; clipper: ClipperOptions }) {
    this.#options = options;
    this.#pipeline = this.#createPipeline(settings);
  }

  /** Whether any frame was appended: frame rate and clip thresholds are fixed from then on. */
  get started(): boolean {
    return this.#lastFrameMs >= 0;
  }

  /** The last few clips, newest last, with their keyframes. */
  get recentClips(): readonly Clip[] {
    return this.#recent;
  }

  /** New frame rate or clip thresholds: only before the first frame. */
  reconfigure(settings: { fps: number; clipper: ClipperOptions }): void {
    this.#pipeline.close();
    this.#pipeline = this.#createPipeline(settings);
  }

  push(frame: VideoFrame): void {
    if (!(frame.t >= 0) || frame.t < this.#lastFrameMs) {
      throw new ClientError('invalid_value', `frame time ${frame.t} ms is before the previous frame (${this.#lastFrameMs} ms)`, 't');
    }
    this.#lastFrameMs = frame.t;
    this.#pipeline.eager = this.#options.eager?.() ?? false;
    this.#pipeline.push(frame);
  }

  /** The input ended: the held frames become the last clip. */
  flush(): void {
    this.#pipeline.flush();
  }

  /** Cuts the open clip (a question is a scene boundary); resolves when it has its facts. */
  cut(): Promise<Clip | undefined> {
    return this.#pipeline.cut();
  }

  idle(): Promise<void> {
    return this.#pipeline.idle();
  }

  /** The latest keyframes, larger than thumbnails, for reasoners that look. */
  async currentImages(count: number): Promise<{ t: number; jpeg: Uint8Array }[]> {
    const latest = this.#recent.slice(-count);
    return Promise.all(latest.map(async (clip) => ({ t: clip.keyframe.t, jpeg: await thumbnail(clip.keyframe, 448) })));
  }

  /** The newest clip as watches read it (what is on screen when a watch is made). */
  currentClip(): ClipObservation | undefined {
    const clip = this.#recent.at(-1);
    return clip && clipObservation(clip);
  }

  /** The facts of the newest clip: the scene on screen once the open one was cut. */
  currentView(): SceneView | undefined {
    const clip = this.#recent.at(-1);
    return clip && sceneView(clip);
  }

  parentClosed(): void {
    this.#pipeline.close();
  }

  #createPipeline(settings: { fps: number; clipper: ClipperOptions }): VideoPipeline {
    const { vision, sessionId } = this.#options;
    return new VideoPipeline(
      { fps: settings.fps, clipper: settings.clipper },
      {
        comparer: vision.comparer,
        facts: vision.facts,
        newId: () => `clip_${sessionId.slice(5, 13)}_${++this.#clipCounter}`,
        onClip: (clip) => this.#committed(clip),
        onError: (error) => this.#options.fail('video_processing_failed', error),
      },
    );
  }

  #committed(clip: Clip): void {
    const { memory, transcript, sessionId, startWall } = this.#options;
    const heard = transcript
      .recent(50)
      .filter((u) => u.role === 'user' && u.endMs > clip.startMs && u.startMs < clip.endMs)
      .map((u) => u.text);
    const vector = clip.facts.embedding;
    const previous = this.#recent.at(-1);
    const scene = clipScene(clip.facts, previous ? motion(previous.keyframe, clip.keyframe) : undefined);
    clip.scene = scene;
    memory?.addClip({
      id: clip.id,
      memoryId: this.#options.memoryId(),
      sessionId,
      startMs: clip.startMs,
      endMs: clip.endMs,
      wallStartMs: startWall + clip.startMs,
      frameCount: clip.frameCount,
      thumbnail: clip.thumbnail,
      ocrText: mergeText(clip.facts.ocr.map((l) => l.text)),
      objects: clip.facts.objects.map((o) => ({ label: o.label, count: o.count })),
      transcript: heard.join(' '),
      soundEvents: this.#options.soundsDuring?.(clip.startMs, clip.endMs) ?? [],
      ...(scene ? { scene } : {}),
      ...(vector ? { frameVectors: [vector], globalVector: vector } : {}),
    });
    this.#recent.push(clip);
    if (this.#recent.length > RECENT_CLIPS) this.#recent.shift();
    this.#options.observed?.(clipObservation(clip));
    const { facts } = clip;
    this.#options.emit({
      type: 'omnilive.clip.committed',
      clip: {
        id: clip.id,
        start_ms: clip.startMs,
        end_ms: clip.endMs,
        frame_count: clip.frameCount,
        keyframe_ms: clip.keyframe.t,
        keyframe_jpeg: clip.thumbnail.toString('base64'),
        ocr_text: facts.ocr.map((l) => l.text).join('\n'),
        ocr: facts.ocr,
        objects: facts.objects,
        people: facts.people ?? [],
        scene: scene ?? null,
        has_embedding: facts.embedding !== undefined,
        skipped: facts.skipped,
        scene_comparer: clip.comparer,
      },
    });
  }
}

/** A clip's facts as a reasoner reads them ("what do you see now?"). */
export function sceneView(clip: Clip): SceneView {
  return { startMs: clip.startMs, endMs: clip.endMs, ocrText: mergeText(clip.facts.ocr.map((l) => l.text)), objects: clip.facts.objects.map((o) => ({ label: o.label, count: o.count })), ...(clip.scene ? { scene: clip.scene } : {}) };
}

/** A clip as watches read it. */
export function clipObservation(clip: Clip): ClipObservation {
  return {
    kind: 'clip',
    startMs: clip.startMs,
    endMs: clip.endMs,
    ocrText: clip.facts.ocr.map((l) => l.text).join('\n'),
    objects: clip.facts.objects.map((o) => ({ label: o.label, count: o.count })),
    ...(clip.scene ? { scene: clip.scene } : {}),
    sceneChange: clip.sceneCut,
    keyframeJpeg: () => thumbnail(clip.keyframe, 448),
  };
}

/** Without vision engines, frames are refused by name. */
export function videoUnavailable(): never {
  throw new ClientError('video_unavailable', 'this server has no video perception engines');
}

/**
 * One session's stream into the audio tagger: gathers 16 kHz audio into windows, sends each to
 * the model (off-thread) and turns the label scores that come back, in order, into events.
 */
import { EngineStream, fillFromPcm16 } from './engine-streams.ts';
import { EventSegment } from './event-segments.ts';
import type { SoundEvent, SoundEventSink, SoundEventStream } from './types.ts';

const SAMPLE_RATE = 16000;

export interface TaggerStreamOptions {
  windowSamples: number;
  hopSamples: number;
  threshold: number;
  maxEventMs: number;
  maxPendingWindows: number;
}

/** What the stream needs of its engine. */
export interface WindowClassifier {
  classify(window: Float32Array<ArrayBuffer>): Promise<Map<string, number>>;
}

export class AudioTaggerStream extends EngineStream implements SoundEventStream {
  readonly #classifier: WindowClassifier;
  readonly #sink: SoundEventSink;
  readonly #options: TaggerStreamOptions;
  /** Audio not yet dropped: the start of the next window onwards. */
  readonly #buffer: Float32Array;
  /** The last window sent (its audio), for the final window at flush; undefined before the first. */
  #lastWindow: Float32Array | undefined;
  #filled = 0;
  /** Samples at the buffer's start that an earlier window already covered. */
  #covered = 0;
  /** Media ms of #buffer[0]; NaN before the first push. */
  #bufferMs = NaN;
  #pending = 0;
  /** Results are handled strictly in window order. */
  #results: Promise<void> = Promise.resolve();
  readonly #segments = new Map<string, EventSegment>();
  #skipped = 0;
  #failed = false;

  constructor(classifier: WindowClassifier, sink: SoundEventSink, options: TaggerStreamOptions, onClose: () => void) {
    super(onClose);
    this.#classifier = classifier;
    this.#sink = sink;
    this.#options = options;
    this.#buffer = new Float32Array(options.windowSamples);
  }

  /** Windows skipped because the model was behind. */
  get skippedWindows(): number {
    return this.#skipped;
  }

  push(pcm16k: Int16Array, startMs: number): void {
    this.checkPush(pcm16k, startMs);
    if (this.#failed) return;
    const expectedMs = this.#bufferMs + (this.#filled * 1000) / SAMPLE_RATE;
    if (Number.isNaN(this.#bufferMs) || Math.abs(startMs - expectedMs) > 1000 / SAMPLE_RATE + 1) {
      // A gap or a jump back: a window must not join two moments, nor a segment span the hole.
      if (!Number.isNaN(this.#bufferMs)) this.#after(() => this.#closeSegments());
      this.#filled = 0;
      this.#covered = 0;
      this.#lastWindow = undefined;
      this.#bufferMs = startMs;
    }
    const { windowSamples, hopSamples } = this.#options;
    let i = 0;
    while (i < pcm16k.length) {
      const take = fillFromPcm16(this.#buffer, this.#filled, pcm16k, i);
      this.#filled += take;
      i += take;
      if (this.#filled === windowSamples) {
        this.#lastWindow = this.#buffer.slice();
        this.#send(this.#lastWindow.slice(), this.#bufferMs, this.#bufferMs + (windowSamples * 1000) / SAMPLE_RATE);
        this.#buffer.copyWithin(0, hopSamples);
        this.#filled -= hopSamples;
        this.#covered = this.#filled;
        this.#bufferMs += (hopSamples * 1000) / SAMPLE_RATE;
      }
    }
  }

  /**
   * Sends what no window covered yet — a last full window ending with the input, or when the
   * input was shorter than one window, what there is, zero-padded — waits for every result and
   * reports what is open.
   */
  async flush(): Promise<void> {
    if (this.closed) return;
    if (!this.#failed && this.#filled > this.#covered) {
      const { windowSamples } = this.#options;
      const window = new Float32Array(windowSamples);
      const endMs = this.#bufferMs + (this.#filled * 1000) / SAMPLE_RATE;
      const earlier = Math.min(windowSamples - this.#filled, this.#lastWindow?.length ?? 0);
      if (earlier > 0) window.set(this.#lastWindow!.subarray(this.#lastWindow!.length - earlier));
      window.set(this.#buffer.subarray(0, this.#filled), earlier);
      this.#send(window, this.#bufferMs - (earlier * 1000) / SAMPLE_RATE, endMs);
    }
    this.#lastWindow = undefined;
    this.#filled = 0;
    this.#covered = 0;
    this.#bufferMs = NaN;
    this.#after(() => this.#closeSegments());
    await this.#results;
  }

  #send(window: Float32Array<ArrayBuffer>, startMs: number, endMs: number): void {
    if (this.#pending >= this.#options.maxPendingWindows) {
      this.#skipped++;
      return;
    }
    this.#pending++;
    const scores = this.#classifier.classify(window);
    scores.catch(() => {}); // handled in order below
    this.#after(async () => {
      try {
        this.#heard(await scores, startMs, endMs);
      } catch (error) {
        if (this.#failed || this.closed) return;
        this.#failed = true;
        this.#sink.onError(error);
      } finally {
        this.#pending--;
      }
    });
  }

  /** Runs `step` after every result already queued. */
  #after(step: () => void | Promise<void>): void {
    this.#results = this.#results.then(step).catch((error) => {
      if (!this.closed) this.#sink.onError(error);
    });
  }

  /** One window's label scores: labels over the threshold go on (or start), the others stop. */
  #heard(scores: Map<string, number>, startMs: number, endMs: number): void {
    if (this.closed || this.#failed) return;
    const { threshold, maxEventMs } = this.#options;
    for (const [label, segment] of this.#segments) {
      if ((scores.get(label) ?? 0) < threshold) {
        segment.close();
        this.#segments.delete(label);
      }
    }
    for (const [label, score] of scores) {
      if (score < threshold) continue;
      let segment = this.#segments.get(label);
      if (!segment) this.#segments.set(label, (segment = new EventSegment(label, maxEventMs, (event) => this.#emit(event))));
      segment.extend(startMs, endMs, score);
    }
  }

  #closeSegments(): void {
    // After a failure the stream reports nothing more, not even what it had open.
    if (!this.#failed) for (const segment of this.#segments.values()) segment.close();
    this.#segments.clear();
  }

  #emit(event: SoundEvent): void {
    if (this.closed) return;
    try {
      this.#sink.onEvent(event);
    } catch (error) {
      this.#sink.onError(error); // a listener's bug must not stop the results that follow
    }
  }
}

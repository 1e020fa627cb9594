/**
 * Offline ASR with CMU pocketsphinx (Debian's en-us model) through the omnilive_native
 * addon. Weak accuracy, but tiny, CPU-only and streaming with partials.
 */
import { PocketsphinxDecoder, pocketsphinxDefaults } from '../../../native/index.ts';
import type { PocketsphinxOptions } from '../../../native/index.ts';
import { InvalidStateError } from '../../errors.ts';
import type { AsrEngine, AsrRecognizer, AsrResult } from './types.ts';

export class PocketsphinxAsrEngine implements AsrEngine {
  readonly name = 'pocketsphinx';
  readonly options: Required<PocketsphinxOptions>;
  readonly #recognizers = new Set<PocketsphinxRecognizer>();
  #closed = false;

  constructor(options: Partial<PocketsphinxOptions> = {}) {
    this.options = { ...pocketsphinxDefaults(), ...options };
  }

  /** Loads a decoder of its own (~0.3 s of model loading, off the main thread). */
  async createRecognizer(): Promise<AsrRecognizer> {
    if (this.#closed) throw new InvalidStateError('pocketsphinx engine is closed');
    const decoder = await PocketsphinxDecoder.create(this.options);
    if (this.#closed) {
      decoder.close();
      throw new InvalidStateError('pocketsphinx engine is closed');
    }
    const recognizer = new PocketsphinxRecognizer(decoder, () => this.#recognizers.delete(recognizer));
    this.#recognizers.add(recognizer);
    return recognizer;
  }

  async close(): Promise<void> {
    this.#closed = true;
    for (const recognizer of this.#recognizers) recognizer.close();
  }
}

/** One utterance as the caller sees it; `dropped` once start()/cancel()/close() abandons it. */
interface Utterance {
  dropped: boolean;
}

/**
 * The decoder takes one call at a time, so every decoder call goes through #queue.
 * Caller-side state (#current) changes synchronously; decoder-side state (#decoding,
 * the utterance the decoder has started) only inside queued tasks.
 */
class PocketsphinxRecognizer implements AsrRecognizer {
  #queue: Promise<unknown> = Promise.resolve();
  #current: Utterance | null = null;
  #decoding: Utterance | null = null;
  #closed = false;

  constructor(
    private readonly decoder: PocketsphinxDecoder,
    private readonly onClose: () => void,
  ) {}

  get closed(): boolean {
    return this.#closed;
  }

  start(): void {
    this.#assertOpen();
    if (this.#current) this.#current.dropped = true;
    // ps_start_utt happens lazily on the first accept(): an utterance without audio costs nothing.
    this.#current = { dropped: false };
  }

  accept(pcm: Int16Array): Promise<string> {
    if (this.#closed) return Promise.reject(new InvalidStateError('recognizer is closed'));
    const utt = this.#current;
    if (!utt) return Promise.reject(new InvalidStateError('accept() without start()'));
    const copy = pcm.slice(); // the caller may reuse its buffer before our turn comes
    return this.#enqueue(async () => {
      if (utt.dropped) return '';
      await this.#begin(utt);
      return (await this.decoder.process(copy)).hypothesis;
    });
  }

  finish(signal?: AbortSignal): Promise<AsrResult> {
    if (this.#closed) return Promise.reject(new InvalidStateError('recognizer is closed'));
    const utt = this.#current;
    if (!utt) return Promise.reject(new InvalidStateError('finish() without start()'));
    this.#current = null;
    const t0 = performance.now();
    // Runs to the end even if aborted, so the decoder is left between utterances.
    const result = this.#enqueue(async (): Promise<AsrResult> => {
      if (this.#closed) throw new InvalidStateError('recognizer was closed');
      if (this.#decoding !== utt) return { text: '', computeMs: performance.now() - t0 }; // no audio
      this.#decoding = null;
      const { hypothesis } = await this.decoder.end();
      return { text: hypothesis.trim(), computeMs: performance.now() - t0 };
    });
    if (!signal) return result;
    result.catch(() => {}); // the caller may be gone by the time it settles
    return new Promise((resolve, reject) => {
      const onAbort = () => reject(signal.reason);
      if (signal.aborted) return onAbort();
      signal.addEventListener('abort', onAbort, { once: true });
      result.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
    });
  }

  cancel(): void {
    if (this.#closed || !this.#current) return;
    this.#current.dropped = true;
    this.#current = null;
    this.#enqueue(() => this.#endDropped()).catch(() => {});
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    if (this.#current) this.#current.dropped = true;
    this.#current = null;
    this.decoder.close(); // safe mid-call: the addon frees it when the call returns
    this.onClose();
  }

  #assertOpen(): void {
    if (this.#closed) throw new InvalidStateError('recognizer is closed');
  }

  #enqueue<T>(task: () => Promise<T>): Promise<T> {
    const run = this.#queue.then(task);
    this.#queue = run.catch(() => {});
    return run;
  }

  /** Starts `utt` in the decoder, ending a dropped utterance still open there. */
  async #begin(utt: Utterance): Promise<void> {
    if (this.#decoding === utt) return;
    await this.#endDropped();
    await this.decoder.start();
    this.#decoding = utt;
  }

  async #endDropped(): Promise<void> {
    if (!this.#decoding?.dropped || this.decoder.closed) return;
    this.#decoding = null;
    await this.decoder.end();
  }
}

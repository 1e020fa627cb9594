/**
 * What every sound engine does with its streams, parent and children the mediasoup way: the
 * engine keeps its open streams in a set; a stream its user closes leaves the set, and when the
 * engine closes, every stream closes with it (engineClosed(): without reporting what it had
 * open, and without calling back into a set that is being cleared). Streams take their audio in
 * the same way too: pcm16 pushed into a float buffer that they analyse once full.
 */
import { InvalidStateError } from '../../errors.ts';
import type { SoundEventSink } from './types.ts';

/** The lifecycle and edge checks every engine's stream shares; the audio work is the subclass's. */
export abstract class EngineStream {
  readonly #onClose: () => void;
  #closed = false;

  constructor(onClose: () => void) {
    this.#onClose = onClose;
  }

  get closed(): boolean {
    return this.#closed;
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#onClose();
  }

  /** Called by the engine as it closes. */
  engineClosed(): void {
    this.#closed = true;
  }

  /** push()'s arguments, checked at the edge: the analysis after it trusts them. */
  protected checkPush(pcm16k: Int16Array, startMs: number): void {
    if (this.#closed) throw new InvalidStateError('push on a closed sound-event stream');
    if (!(pcm16k instanceof Int16Array)) throw new TypeError('pcm16k must be an Int16Array of 16 kHz mono samples');
    if (!Number.isFinite(startMs)) throw new TypeError(`startMs must be a finite media time in ms, got ${startMs}`);
  }
}

/**
 * Copies what fits of `pcm16k`, from sample `from`, into `buffer` after its first `filled`
 * samples, scaled to [-1, 1]; returns how many samples it took.
 */
export function fillFromPcm16(buffer: Float32Array, filled: number, pcm16k: Int16Array, from: number): number {
  const take = Math.min(pcm16k.length - from, buffer.length - filled);
  for (let k = 0; k < take; k++) buffer[filled + k] = pcm16k[from + k]! / 32768;
  return take;
}

/** An engine's open streams. */
export class EngineStreams<S extends EngineStream> {
  readonly #streams = new Set<S>();

  /** Checks `sink`, then keeps the stream `make` builds for it until that stream closes. */
  open(sink: SoundEventSink, make: (onClose: () => void) => S): S {
    if (typeof sink?.onEvent !== 'function' || typeof sink.onError !== 'function') throw new TypeError('sink must have onEvent and onError functions');
    const stream = make(() => this.#streams.delete(stream));
    this.#streams.add(stream);
    return stream;
  }

  /** The engine is closing: every stream closes with it. */
  engineClosed(): void {
    for (const stream of this.#streams) stream.engineClosed();
    this.#streams.clear();
  }
}

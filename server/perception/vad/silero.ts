import { createRequire } from 'node:module';
import path from 'node:path';
import * as ort from 'onnxruntime-node';
import type { VadEngine, VadStream } from './types.ts';

const require = createRequire(import.meta.url);

/** Silero VAD v5 as shipped inside the @ricky0123/vad-web npm package. */
export function defaultSileroModelPath(): string {
  const pkg = path.dirname(require.resolve('@ricky0123/vad-web/package.json'));
  return path.join(pkg, 'dist', 'silero_vad_v5.onnx');
}

export const SILERO_SAMPLE_RATE = 16000;
/** Samples per VAD frame at 16 kHz (32 ms), fixed by the model. */
export const SILERO_FRAME = 512;
/** Samples of the previous frame the v5 model expects in front of each frame. */
const CONTEXT = 64;

/**
 * Loads the model once; each session gets its own SileroStream (recurrent state).
 * onnxruntime runs inference on its own thread pool, so the event loop is not blocked.
 */
export class SileroVad implements VadEngine {
  readonly name = 'silero-v5';
  static async load(modelPath = defaultSileroModelPath()): Promise<SileroVad> {
    const session = await ort.InferenceSession.create(modelPath, {
      intraOpNumThreads: 1,
      interOpNumThreads: 1,
      executionMode: 'sequential',
    });
    return new SileroVad(session);
  }

  #closed = false;

  private constructor(readonly session: ort.InferenceSession) {}

  get closed(): boolean {
    return this.#closed;
  }

  createStream(): SileroStream {
    return new SileroStream(this);
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await this.session.release();
  }
}

export class SileroStream implements VadStream {
  #state: ort.Tensor = new ort.Tensor('float32', new Float32Array(2 * 128), [2, 1, 128]);
  #context = new Float32Array(CONTEXT);
  readonly #sr = new ort.Tensor('int64', BigInt64Array.from([BigInt(SILERO_SAMPLE_RATE)]), []);

  constructor(readonly vad: SileroVad) {}

  /** Speech probability of one 512-sample frame (float samples in [-1, 1]). */
  async probability(frame: Float32Array): Promise<number> {
    if (frame.length !== SILERO_FRAME) throw new TypeError(`VAD frame must be ${SILERO_FRAME} samples, got ${frame.length}`);
    const input = new Float32Array(CONTEXT + SILERO_FRAME);
    input.set(this.#context);
    input.set(frame, CONTEXT);
    this.#context = frame.slice(SILERO_FRAME - CONTEXT);
    const out = await this.vad.session.run({
      input: new ort.Tensor('float32', input, [1, input.length]),
      state: this.#state,
      sr: this.#sr,
    });
    this.#state = out.stateN as ort.Tensor;
    return (out.output as ort.Tensor).data[0] as number;
  }

  reset(): void {
    this.#state = new ort.Tensor('float32', new Float32Array(2 * 128), [2, 1, 128]);
    this.#context = new Float32Array(CONTEXT);
  }
}

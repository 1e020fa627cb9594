/**
 * An audio end-of-turn classifier (in the manner of Pipecat's smart-turn): the end of the user's
 * utterance in, the probability that they have finished their turn out. Loaded from the models
 * directory, run by onnxruntime on the CPU.
 *
 * Model contract — `<models>/turn-detector/*.onnx` (the first file by name is used):
 *
 * - Exactly one input, a float32 tensor `[1, samples]` (any name): 16 kHz mono audio scaled to
 *   [-1, 1] (pcm16 / 32768), the last `samples` of the utterance, zero-padded at the start when
 *   the utterance is shorter. `samples` is the input's last dimension when the model fixes it,
 *   else `windowMs` × 16 (default 8000 ms = 128000 samples, smart-turn's window).
 * - Exactly one output holding one number (shape `[1]` or `[1, 1]`): the probability that the
 *   turn is complete. A value outside [0, 1] is taken for a logit and passed through a sigmoid
 *   (so a logit that happens to fall inside [0, 1] is read as a probability: export the sigmoid).
 * - Raw audio only. Pipecat's published smart-turn v3 ONNX files take Whisper log-mel features
 *   (`input_features` `[1, 80, 800]`) instead; they need re-exporting with the feature extraction
 *   in the graph before they fit here, and are refused with that explanation.
 *
 * onnxruntime-node's `run` is a synchronous native call behind a promise: on the main thread it
 * would stall the event loop (and every audio stream) for the whole inference. The session
 * therefore lives in a worker thread (perception/onnx-worker.ts), which also serialises the
 * calls to it.
 */
import fs from 'node:fs';
import path from 'node:path';
import { InvalidStateError, UnsupportedError } from '../../errors.ts';
import { defaultModelsDir, findFirstModel } from '../../perception/embedding/index.ts';
import { OnnxWorker, type ValueInfo } from '../../perception/onnx-worker.ts';

export interface EndOfTurnModel {
  readonly name: string; // e.g. 'onnx:<file name>'
  /** Audio the model sees, ms: the model's fixed input length, else the `windowMs` it was loaded with. Older audio need not be kept. */
  readonly windowMs: number;
  /** Probability in [0,1] that the user has finished their turn, from the last `windowMs` of the utterance's 16 kHz audio (older audio dropped, shorter audio zero-padded at the START). */
  probability(pcm16k: Int16Array, signal?: AbortSignal): Promise<number>;
  close(): Promise<void>;
}

/** `<modelsDir>/turn-detector/*.onnx` */
export const END_OF_TURN_DIR = 'turn-detector';

export interface EndOfTurnModelOptions {
  /** Audio the model sees, ms, when its input length is not fixed. @defaultValue 8000 */
  windowMs?: number;
  /** onnxruntime threads for one inference. @defaultValue 1: it runs beside live audio work */
  threads?: number;
}

const SAMPLE_RATE = 16000;
const DEFAULT_WINDOW_MS = 8000;

/** The first `*.onnx` in `<modelsDir>/turn-detector`, by name; undefined when there is none. */
export function findEndOfTurnModel(modelsDir = defaultModelsDir()): string | undefined {
  return findFirstModel(modelsDir, END_OF_TURN_DIR);
}

/** Loads an end-of-turn model (see the contract above); fails early, naming the file, when the model does not fit it. */
export async function loadEndOfTurnModel(file: string, options: EndOfTurnModelOptions = {}): Promise<EndOfTurnModel> {
  if (typeof file !== 'string' || file === '') throw new TypeError('file must be a non-empty path to an .onnx model');
  const windowMs = options.windowMs ?? DEFAULT_WINDOW_MS;
  if (!Number.isFinite(windowMs) || windowMs < 1) throw new TypeError(`windowMs must be a positive number of ms, got ${windowMs}`);
  const threads = options.threads ?? 1;
  if (!Number.isInteger(threads) || threads < 1) throw new TypeError(`threads must be a positive integer, got ${threads}`);
  if (!fs.existsSync(file)) throw new UnsupportedError(`end-of-turn model ${file} does not exist`);

  const host = await OnnxWorker.start(file, threads, 'end-of-turn model');
  try {
    const { input, output, samples } = checkSignature(file, host.inputs, host.outputs, Math.round((windowMs * SAMPLE_RATE) / 1000));
    const model = new OnnxEndOfTurnModel(file, host, input, output, samples);
    // One run on silence now: a model whose output is not a single number fails here, not mid-call.
    await model.probability(new Int16Array(0));
    return model;
  } catch (error) {
    await host.close();
    throw error;
  }
}

/** The input and output to use, and the window length in samples, or an error saying what does not fit. */
function checkSignature(file: string, inputs: ValueInfo[], outputs: ValueInfo[], windowSamples: number): { input: string; output: string; samples: number } {
  const list = (values: ValueInfo[]) => values.map((v) => v.name).join(', ');
  if (inputs.length !== 1) {
    throw new UnsupportedError(`end-of-turn model ${file} has ${inputs.length} inputs (${list(inputs)}); it must take exactly one: float32 audio [1, samples]`);
  }
  const [input] = inputs;
  if (!input.isTensor || input.type !== 'float32') {
    throw new UnsupportedError(`end-of-turn model ${file}: input ${input.name} is ${input.isTensor ? input.type : 'not a tensor'}; it must be float32 audio [1, samples] in [-1, 1]`);
  }
  const shape = input.shape ?? [];
  let samples = windowSamples;
  if (shape.length > 0) {
    const [batch, last] = shape;
    if (shape.length !== 2 || (typeof batch === 'number' && batch !== 1 && batch > 0)) {
      const hint = shape.length === 3 ? ' (log-mel features, like smart-turn v3? export the feature extraction into the graph)' : '';
      throw new UnsupportedError(`end-of-turn model ${file}: input ${input.name} has shape ${JSON.stringify(shape)}; it must be raw 16 kHz audio [1, samples]${hint}`);
    }
    if (typeof last === 'number' && last > 0) samples = last; // the model's own window wins
  }
  if (outputs.length !== 1) {
    throw new UnsupportedError(`end-of-turn model ${file} has ${outputs.length} outputs (${list(outputs)}); it must have exactly one: the probability the turn is complete`);
  }
  const [output] = outputs;
  if (!output.isTensor || output.type !== 'float32') {
    throw new UnsupportedError(`end-of-turn model ${file}: output ${output.name} is ${output.isTensor ? output.type : 'not a tensor'}; it must be a float32 probability`);
  }
  const fixed = (output.shape ?? []).filter((d): d is number => typeof d === 'number' && d > 0);
  if (fixed.reduce((n, d) => n * d, 1) > 1) {
    throw new UnsupportedError(`end-of-turn model ${file}: output ${output.name} has shape ${JSON.stringify(output.shape)}; it must hold one number ([1] or [1, 1])`);
  }
  return { input: input.name, output: output.name, samples };
}

class OnnxEndOfTurnModel implements EndOfTurnModel {
  readonly name: string;
  readonly #file: string;
  readonly #host: OnnxWorker;
  readonly #input: string;
  readonly #output: string;
  readonly #samples: number;
  #closed = false;

  constructor(file: string, host: OnnxWorker, input: string, output: string, samples: number) {
    this.name = `onnx:${path.basename(file)}`;
    this.#file = file;
    this.#host = host;
    this.#input = input;
    this.#output = output;
    this.#samples = samples;
  }

  get windowMs(): number {
    return (this.#samples * 1000) / SAMPLE_RATE;
  }

  async probability(pcm16k: Int16Array, signal?: AbortSignal): Promise<number> {
    if (!(pcm16k instanceof Int16Array)) throw new TypeError('pcm16k must be an Int16Array of 16 kHz mono samples');
    if (this.#closed) throw new InvalidStateError(`end-of-turn model ${this.name} is closed`);
    signal?.throwIfAborted();
    // The last `samples` of the utterance, right-aligned: what is missing is silence before it.
    const audio = new Float32Array(this.#samples);
    const kept = Math.min(pcm16k.length, audio.length);
    const from = pcm16k.length - kept;
    const to = audio.length - kept;
    for (let i = 0; i < kept; i++) audio[to + i] = pcm16k[from + i] / 32768;
    const { data, dims } = await this.#host.run(this.#input, audio, [1, audio.length], this.#output, signal);
    if (data.length !== 1) {
      throw new UnsupportedError(`end-of-turn model ${this.#file}: output ${this.#output} has shape ${JSON.stringify(dims)}; it must hold one number ([1] or [1, 1])`);
    }
    const value = data[0];
    if (Number.isNaN(value)) throw new UnsupportedError(`end-of-turn model ${this.#file} returned NaN`);
    return value >= 0 && value <= 1 ? value : 1 / (1 + Math.exp(-value));
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await this.#host.close();
  }
}

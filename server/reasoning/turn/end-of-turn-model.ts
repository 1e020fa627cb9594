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
 * therefore lives in a worker thread, which also serialises the calls to it.
 */
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { Worker } from 'node:worker_threads';
import { InvalidStateError, UnsupportedError } from '../../errors.ts';
import { defaultModelsDir } from '../../perception/embedding/index.ts';

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
  const dir = path.join(modelsDir, END_OF_TURN_DIR);
  let names: string[];
  try {
    names = fs.readdirSync(dir);
  } catch {
    return undefined;
  }
  const name = names
    .filter((n) => n.toLowerCase().endsWith('.onnx'))
    .sort()
    .find((n) => fs.statSync(path.join(dir, n), { throwIfNoEntry: false })?.isFile());
  return name === undefined ? undefined : path.join(dir, name);
}

/** Loads an end-of-turn model (see the contract above); fails early, naming the file, when the model does not fit it. */
export async function loadEndOfTurnModel(file: string, options: EndOfTurnModelOptions = {}): Promise<EndOfTurnModel> {
  if (typeof file !== 'string' || file === '') throw new TypeError('file must be a non-empty path to an .onnx model');
  const windowMs = options.windowMs ?? DEFAULT_WINDOW_MS;
  if (!Number.isFinite(windowMs) || windowMs < 1) throw new TypeError(`windowMs must be a positive number of ms, got ${windowMs}`);
  const threads = options.threads ?? 1;
  if (!Number.isInteger(threads) || threads < 1) throw new TypeError(`threads must be a positive integer, got ${threads}`);
  if (!fs.existsSync(file)) throw new UnsupportedError(`end-of-turn model ${file} does not exist`);

  const host = await SessionHost.start(file, threads);
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

/** What the worker reports of a session's inputs and outputs (onnxruntime's ValueMetadata). */
interface ValueInfo {
  name: string;
  isTensor: boolean;
  type?: string;
  shape?: (number | string)[];
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
  readonly #host: SessionHost;
  readonly #input: string;
  readonly #output: string;
  readonly #samples: number;
  #closed = false;

  constructor(file: string, host: SessionHost, input: string, output: string, samples: number) {
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
    const { data, dims } = await this.#host.run(this.#input, audio, this.#output, signal);
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

/**
 * The worker's side, plain JavaScript evaluated in the thread: the TypeScript loader of the main
 * thread does not reach workers. Messages are handled strictly one after another, so runs on the
 * session never overlap and closing waits for the runs already sent.
 */
const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const ort = require(workerData.ort);
let session;
const describe = (m) => ({ name: m.name, isTensor: m.isTensor, type: m.type, shape: m.shape && Array.from(m.shape) });
ort.InferenceSession.create(workerData.file, {
  logSeverityLevel: 3, // its warnings (unused initializers, shape merges) are noise in a server log; failures still throw
  intraOpNumThreads: workerData.threads,
  interOpNumThreads: 1,
  graphOptimizationLevel: 'all',
  executionProviders: ['cpu'],
}).then(
  (s) => {
    session = s;
    parentPort.postMessage({ type: 'ready', inputs: s.inputMetadata.map(describe), outputs: s.outputMetadata.map(describe) });
  },
  (error) => parentPort.postMessage({ type: 'failed', message: String((error && error.message) || error) }),
);
// One message at a time: run() only schedules the native call, so without this chain a release
// could slip in between a run being scheduled and being done. A failed link must not stop the
// chain (run errors are answered inside handle; a failed release is answered with 'closed').
let queue = Promise.resolve();
parentPort.on('message', (message) => {
  queue = queue.then(() => handle(message)).catch(() => {});
});
async function handle(message) {
  if (message.type === 'close') {
    try {
      if (session) await session.release();
    } finally {
      parentPort.postMessage({ type: 'closed' });
    }
    return;
  }
  const { id, input, audio, output } = message;
  try {
    const result = await session.run({ [input]: new ort.Tensor('float32', audio, [1, audio.length]) }, [output]);
    const tensor = result[output];
    parentPort.postMessage({ type: 'result', id, data: Array.from(tensor.data, Number), dims: Array.from(tensor.dims), tensorType: tensor.type });
  } catch (error) {
    parentPort.postMessage({ type: 'result', id, error: String((error && error.message) || error) });
  }
}
`;

interface Pending {
  resolve: (value: { data: number[]; dims: number[] }) => void;
  reject: (error: Error) => void;
}

/** One onnxruntime session in its own worker thread. */
class SessionHost {
  static async start(file: string, threads: number): Promise<SessionHost> {
    const ort = createRequire(import.meta.url).resolve('onnxruntime-node');
    const worker = new Worker(WORKER_SOURCE, { eval: true, workerData: { ort, file, threads } });
    // Only our own listeners come off afterwards: Worker keeps hooks of its own on the emitter.
    let onError!: (error: Error) => void;
    let onExit!: (code: number) => void;
    let onMessage!: (m: { type: string; message?: string; inputs?: ValueInfo[]; outputs?: ValueInfo[] }) => void;
    const ready = await new Promise<{ inputs: ValueInfo[]; outputs: ValueInfo[] }>((resolve, reject) => {
      onError = (error) => reject(new UnsupportedError(`cannot load end-of-turn model ${file}: ${error.message}`));
      onExit = (code) => onError(new Error(`worker exited (${code})`));
      onMessage = (m) => (m.type === 'ready' ? resolve({ inputs: m.inputs!, outputs: m.outputs! }) : onError(new Error(m.message)));
      worker.once('error', onError).once('exit', onExit).once('message', onMessage);
    })
      .catch(async (error) => {
        await worker.terminate();
        throw error;
      })
      .finally(() => worker.off('error', onError).off('exit', onExit).off('message', onMessage));
    return new SessionHost(file, worker, ready.inputs, ready.outputs);
  }

  readonly inputs: ValueInfo[];
  readonly outputs: ValueInfo[];
  readonly #file: string;
  readonly #worker: Worker;
  readonly #pending = new Map<number, Pending>();
  #nextId = 0;
  #failure: Error | undefined;
  #closing: Promise<void> | undefined;

  private constructor(file: string, worker: Worker, inputs: ValueInfo[], outputs: ValueInfo[]) {
    this.#file = file;
    this.#worker = worker;
    this.inputs = inputs;
    this.outputs = outputs;
    worker.on('message', (m) => {
      if (m.type !== 'result') return;
      const call = this.#pending.get(m.id);
      if (!call) return; // its caller gave up (aborted)
      this.#settle(m.id);
      if (m.error) call.reject(new UnsupportedError(`end-of-turn model ${file} failed: ${m.error}`));
      else if (m.tensorType !== 'float32') call.reject(new UnsupportedError(`end-of-turn model ${file}: output is ${m.tensorType}, not float32`));
      else call.resolve({ data: m.data, dims: m.dims });
    });
    const fail = (error: Error) => {
      this.#failure ??= new InvalidStateError(`end-of-turn model ${file} stopped: ${error.message}`);
      for (const [id, call] of this.#pending) {
        this.#settle(id);
        call.reject(this.#failure);
      }
    };
    worker.on('error', fail);
    worker.on('exit', (code) => fail(new Error(`worker exited (${code})`)));
    worker.unref(); // an idle model must not keep the process alive
  }

  run(input: string, audio: Float32Array<ArrayBuffer>, output: string, signal?: AbortSignal): Promise<{ data: number[]; dims: number[] }> {
    if (this.#failure) return Promise.reject(this.#failure);
    if (this.#closing) return Promise.reject(new InvalidStateError(`end-of-turn model ${this.#file} is closed`));
    if (signal?.aborted) return Promise.reject(signal.reason);
    const id = this.#nextId++;
    return new Promise((resolve, reject) => {
      // A native run cannot be interrupted: an abort answers the caller now and drops the result.
      const onAbort = () => {
        this.#settle(id);
        reject(signal!.reason);
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      const done = () => signal?.removeEventListener('abort', onAbort);
      this.#pending.set(id, {
        resolve: (value) => (done(), resolve(value)),
        reject: (error) => (done(), reject(error)),
      });
      if (this.#pending.size === 1) this.#worker.ref(); // keep the process up until the answer comes
      this.#worker.postMessage({ type: 'run', id, input, audio, output }, [audio.buffer]);
    });
  }

  #settle(id: number): void {
    this.#pending.delete(id);
    if (this.#pending.size === 0 && !this.#closing) this.#worker.unref(); // closing keeps it referenced until the thread is gone
  }

  /** Waits for the runs already sent, releases the session and ends the thread. */
  close(): Promise<void> {
    this.#closing ??= (async () => {
      if (!this.#failure) {
        this.#worker.ref();
        const closed = new Promise<void>((resolve) => {
          const onMessage = (m: { type: string }) => m.type === 'closed' && resolve();
          this.#worker.on('message', onMessage);
          this.#worker.once('exit', () => resolve());
        });
        this.#worker.postMessage({ type: 'close' });
        await closed;
      }
      this.#failure ??= new InvalidStateError(`end-of-turn model ${this.#file} is closed`);
      await this.#worker.terminate();
    })();
    return this.#closing;
  }
}

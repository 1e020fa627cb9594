/**
 * One onnxruntime session in its own worker thread, for the models that run beside live audio
 * (the sound tagger, the end-of-turn detector). onnxruntime-node's `run` is a synchronous native
 * call behind a promise: on the main thread it would stall the event loop, and every session's
 * audio with it, for the whole inference. The worker also runs the calls one after another, in
 * the order they were sent.
 *
 * This moves float32 tensors in and out, nothing more: each model's contract (which input,
 * which output, what the numbers mean) stays with the model that loads it.
 */
import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';
import { InvalidStateError, UnsupportedError } from '../errors.ts';

/** What the worker reports of a session's inputs and outputs (onnxruntime's ValueMetadata). */
export interface ValueInfo {
  name: string;
  isTensor: boolean;
  type?: string;
  shape?: (number | string)[];
}

export interface RunResult {
  data: Float32Array;
  dims: number[];
}

/**
 * The worker's side, plain JavaScript evaluated in the thread: the main thread's TypeScript
 * loader does not reach workers.
 */
const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const ort = require(workerData.ort);
const meta = (m) => ({ name: m.name, isTensor: m.isTensor, type: m.type, shape: m.shape && Array.from(m.shape) });
const text = (error) => String((error && error.message) || error);
let session;
ort.InferenceSession.create(workerData.file, {
  logSeverityLevel: 3, // its warnings (unused initializers, shape merges) are noise in a server log; failures still throw
  intraOpNumThreads: workerData.threads,
  interOpNumThreads: 1,
  graphOptimizationLevel: 'all',
  executionProviders: ['cpu'],
}).then(
  (s) => {
    session = s;
    parentPort.postMessage({ type: 'ready', inputs: s.inputMetadata.map(meta), outputs: s.outputMetadata.map(meta) });
  },
  (error) => parentPort.postMessage({ type: 'failed', message: text(error) }),
);
// One message at a time: run() only schedules the native call, so without this chain a release
// could slip in between a run being scheduled and being done. A failed link must not stop the
// chain (run errors are answered inside handle; a failed release is answered with 'closed').
let chain = Promise.resolve();
parentPort.on('message', (message) => {
  chain = chain.then(() => handle(message)).catch(() => {});
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
  const { id, input, data, dims, output } = message;
  try {
    const result = await session.run({ [input]: new ort.Tensor('float32', data, dims) }, [output]);
    const tensor = result[output];
    if (tensor.type !== 'float32') throw new Error('output ' + output + ' is ' + tensor.type + ', not float32');
    const values = Float32Array.from(tensor.data);
    parentPort.postMessage({ type: 'result', id, data: values, dims: Array.from(tensor.dims, Number) }, [values.buffer]);
  } catch (error) {
    parentPort.postMessage({ type: 'result', id, error: text(error) });
  }
}
`;

interface Pending {
  resolve: (result: RunResult) => void;
  reject: (error: Error) => void;
}

export class OnnxWorker {
  /**
   * Starts the worker and loads `file` on `threads` threads. `what` names the model in every
   * error (e.g. 'sound model'); an UnsupportedError naming it and the file when onnxruntime
   * refuses the file.
   */
  static async start(file: string, threads: number, what: string): Promise<OnnxWorker> {
    const ort = createRequire(import.meta.url).resolve('onnxruntime-node');
    const worker = new Worker(WORKER_SOURCE, { eval: true, workerData: { ort, file, threads } });
    // Only these come off afterwards: Worker keeps listeners of its own on the emitter.
    let onError!: (error: Error) => void;
    let onExit!: (code: number) => void;
    let onMessage!: (m: { type: string; message?: string; inputs?: ValueInfo[]; outputs?: ValueInfo[] }) => void;
    try {
      const ready = await new Promise<{ inputs: ValueInfo[]; outputs: ValueInfo[] }>((resolve, reject) => {
        const fail = (why: string) => reject(new UnsupportedError(`cannot load ${what} ${file}: ${why}`));
        onError = (error) => fail(error.message);
        onExit = (code) => fail(`its worker exited (${code})`);
        onMessage = (m) => (m.type === 'ready' ? resolve({ inputs: m.inputs!, outputs: m.outputs! }) : fail(m.message ?? 'unknown failure'));
        worker.once('error', onError).once('exit', onExit).once('message', onMessage);
      });
      return new OnnxWorker(file, what, worker, ready.inputs, ready.outputs);
    } catch (error) {
      await worker.terminate();
      throw error;
    } finally {
      worker.off('error', onError).off('exit', onExit).off('message', onMessage);
    }
  }

  readonly inputs: ValueInfo[];
  readonly outputs: ValueInfo[];
  /** e.g. 'sound model <file>': how errors name this model. */
  readonly #model: string;
  readonly #worker: Worker;
  readonly #pending = new Map<number, Pending>();
  #nextId = 0;
  #failure: Error | undefined;
  #closing: Promise<void> | undefined;

  private constructor(file: string, what: string, worker: Worker, inputs: ValueInfo[], outputs: ValueInfo[]) {
    this.#model = `${what} ${file}`;
    this.#worker = worker;
    this.inputs = inputs;
    this.outputs = outputs;
    worker.on('message', (m: { type: string; id: number; error?: string; data?: Float32Array; dims?: number[] }) => {
      if (m.type !== 'result') return;
      const call = this.#pending.get(m.id);
      if (!call) return; // its caller gave up (aborted)
      this.#settle(m.id);
      if (m.error !== undefined) call.reject(new UnsupportedError(`${this.#model} failed: ${m.error}`));
      else call.resolve({ data: m.data!, dims: m.dims! });
    });
    const fail = (error: Error) => {
      this.#failure ??= new InvalidStateError(`${this.#model} stopped: ${error.message}`);
      for (const [id, call] of this.#pending) {
        this.#settle(id);
        call.reject(this.#failure);
      }
    };
    worker.on('error', fail);
    worker.on('exit', (code) => fail(new Error(`its worker exited (${code})`)));
    worker.unref(); // an idle model must not keep the process alive
  }

  /**
   * Runs the model on `data` shaped `dims` as `input`, answering `output`; the buffer is handed
   * over to the worker. A native run cannot be interrupted: an abort answers the caller at once
   * and drops the result when it comes.
   */
  run(input: string, data: Float32Array<ArrayBuffer>, dims: number[], output: string, signal?: AbortSignal): Promise<RunResult> {
    if (this.#failure) return Promise.reject(this.#failure);
    if (this.#closing) return Promise.reject(new InvalidStateError(`${this.#model} is closed`));
    if (signal?.aborted) return Promise.reject(signal.reason);
    const id = this.#nextId++;
    return new Promise((resolve, reject) => {
      const onAbort = () => {
        this.#settle(id);
        reject(signal!.reason);
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      const done = () => signal?.removeEventListener('abort', onAbort);
      this.#pending.set(id, {
        resolve: (result) => (done(), resolve(result)),
        reject: (error) => (done(), reject(error)),
      });
      if (this.#pending.size === 1) this.#worker.ref(); // keep the process up until the answer comes
      this.#worker.postMessage({ type: 'run', id, input, data, dims, output }, [data.buffer]);
    });
  }

  #settle(id: number): void {
    this.#pending.delete(id);
    if (this.#pending.size === 0 && !this.#closing) this.#worker.unref(); // closing keeps it referenced until the thread is gone
  }

  /** Waits for the runs already sent, releases the session and ends the thread. Idempotent. */
  close(): Promise<void> {
    this.#closing ??= (async () => {
      if (!this.#failure) {
        this.#worker.ref();
        const closed = new Promise<void>((resolve) => {
          this.#worker.on('message', (m: { type: string }) => m.type === 'closed' && resolve());
          this.#worker.once('exit', () => resolve());
        });
        this.#worker.postMessage({ type: 'close' });
        await closed;
      }
      this.#failure ??= new InvalidStateError(`${this.#model} is closed`);
      await this.#worker.terminate();
    })();
    return this.#closing;
  }
}

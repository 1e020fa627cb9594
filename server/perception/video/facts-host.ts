import { fork, type ChildProcess } from 'node:child_process';
import { InvalidStateError } from '../../errors.ts';
import type { FactsReader, FrameFacts } from './facts.ts';
import type { RgbImage } from './types.ts';
import type { EmbeddingModelConfig } from '../embedding/index.ts';

export interface FactsHostOptions {
  ocr: boolean;
  objects: boolean;
  /** An image embedding model found in the models directory. */
  embedding?: EmbeddingModelConfig;
}

interface Reply {
  id?: number;
  ready?: boolean;
  names?: FactsReader['names'];
  facts?: FrameFacts;
  embedding?: Float32Array;
  error?: string;
}

/**
 * The keyframe engines in a child process. onnxruntime-node and tfjs run inference on the
 * calling thread (30–100 ms a frame here), which in the server process would stall VAD,
 * barge-in and every other session. The child has its own tsx loader: it is a process,
 * not a worker, because Node 20 shares the module-hooks thread with workers.
 */
export class FactsHost implements FactsReader {
  readonly #child: ChildProcess;
  readonly #pending = new Map<number, { resolve: (r: Reply) => void; reject: (e: Error) => void }>();
  #nextId = 1;
  #closed = false;

  private constructor(
    child: ChildProcess,
    readonly names: FactsReader['names'],
  ) {
    this.#child = child;
    child.on('message', (reply: Reply) => {
      if (reply.id === undefined) return;
      const pending = this.#pending.get(reply.id);
      this.#settle(reply.id);
      if (!pending) return;
      if (reply.error !== undefined) pending.reject(new Error(reply.error));
      else pending.resolve(reply);
    });
    // With the handles unref'd, 'exit' may come too late: 'disconnect' fails waiting work at once.
    child.on('disconnect', () => this.#failAll(new Error('the facts process exited')));
    if (!names.embedder) this.embed = undefined;
  }

  static async start(options: FactsHostOptions): Promise<FactsHost> {
    const child = fork(new URL('./facts-process.ts', import.meta.url), [JSON.stringify(options)], {
      execArgv: ['--import', 'tsx'],
      serialization: 'advanced',
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    const ready = await new Promise<Reply>((resolve, reject) => {
      child.once('message', (reply: Reply) => (reply.ready ? resolve(reply) : reject(new Error(`vision engines failed to load: ${reply.error}`))));
      child.once('error', reject);
      child.once('exit', (code) => reject(new Error(`the facts process exited while loading (code ${code})`)));
    }).catch((error) => {
      child.kill('SIGKILL');
      throw error;
    });
    child.unref();
    child.channel?.unref();
    return new FactsHost(child, ready.names ?? {});
  }

  read(image: RgbImage): Promise<FrameFacts> {
    return this.#call({ image, op: 'read' }).then((r) => r.facts!);
  }

  embed?: (image: RgbImage) => Promise<Float32Array> = (image) => this.#call({ image, op: 'embed' }).then((r) => r.embedding!);

  #call(message: { image: RgbImage; op: 'read' | 'embed' }): Promise<Reply> {
    if (this.#closed || !this.#child.connected) return Promise.reject(new InvalidStateError('the facts process is not running'));
    const id = this.#nextId++;
    return new Promise((resolve, reject) => {
      // Waiting work keeps the parent alive; idle, the child does not.
      if (this.#pending.size === 0) this.#child.channel?.ref();
      this.#pending.set(id, { resolve, reject });
      const { image } = message;
      this.#child.send({ id, op: message.op, image: { width: image.width, height: image.height, data: image.data } });
    });
  }

  #settle(id: number): void {
    this.#pending.delete(id);
    if (this.#pending.size === 0) this.#child.channel?.unref();
  }

  #failAll(error: Error): void {
    for (const p of this.#pending.values()) p.reject(error);
    this.#pending.clear();
    this.#child.channel?.unref();
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#failAll(new InvalidStateError('the facts process was closed'));
    if (this.#child.exitCode !== null || this.#child.signalCode !== null) return;
    const exited = new Promise((resolve) => this.#child.once('exit', resolve));
    if (this.#child.connected) this.#child.send({ op: 'close' });
    const timer = setTimeout(() => this.#child.kill('SIGKILL'), 5000);
    await exited;
    clearTimeout(timer);
  }
}

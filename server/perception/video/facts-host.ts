import { SupervisedChild, type ChildReply, type RestartPolicy } from '../../child-rpc.ts';
import type { EngineStatusSink } from '../../ops/engine-health.ts';
import type { FactsReader, FrameFacts } from './facts.ts';
import type { RgbImage } from './types.ts';
import type { EmbeddingModelConfig } from '../embedding/index.ts';

export interface FactsHostOptions {
  ocr: boolean;
  objects: boolean;
  /** Describe the people the object detector found (Human's face, body and gesture models). */
  people?: boolean;
  /** An image embedding model found in the models directory. */
  embedding?: EmbeddingModelConfig;
  /** How the engine processes (this one and the models' own) restart after crashes. */
  restart?: Partial<RestartPolicy>;
}

interface Reply extends ChildReply {
  names?: FactsReader['names'];
  facts?: FrameFacts;
  embedding?: Float32Array;
}

/**
 * The keyframe engines in a child process. onnxruntime-node and tfjs run inference on the
 * calling thread (30–100 ms a frame here), which in the server process would stall VAD,
 * barge-in and every other session. The child has its own tsx loader: it is a process,
 * not a worker, because Node 20 shares the module-hooks thread with workers.
 */
export class FactsHost implements FactsReader {
  readonly #rpc: SupervisedChild<Reply>;

  private constructor(
    rpc: SupervisedChild<Reply>,
    readonly names: FactsReader['names'],
  ) {
    this.#rpc = rpc;
    if (!names.embedder) this.embed = undefined;
  }

  /**
   * Its process restarts after a crash (with growing waits while it keeps crashing), and so do
   * the models' own processes inside it; `health` hears of both.
   */
  static async start(options: FactsHostOptions, health?: EngineStatusSink): Promise<FactsHost> {
    const { child, ready } = await SupervisedChild.start<Reply>(new URL('./facts-process.ts', import.meta.url), [JSON.stringify(options)], {
      label: 'the vision engines',
      typescript: true,
      engine: 'vision',
      what: 'reading video keyframes (text, objects, people)',
      restart: options.restart,
      health,
      relaysHealth: true,
    });
    return new FactsHost(child, ready.names ?? {});
  }

  /** Of the child process that runs the engines (diagnostics, tests). */
  get pid(): number | undefined {
    return this.#rpc.pid;
  }

  read(image: RgbImage): Promise<FrameFacts> {
    return this.#call('read', image).then((r) => r.facts!);
  }

  embed?: (image: RgbImage) => Promise<Float32Array> = (image) => this.#call('embed', image).then((r) => r.embedding!);

  #call(op: 'read' | 'embed', image: RgbImage): Promise<Reply> {
    return this.#rpc.call({ op, image: { width: image.width, height: image.height, data: image.data } });
  }

  close(): Promise<void> {
    return this.#rpc.close();
  }
}

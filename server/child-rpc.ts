import { fork, type ChildProcess } from 'node:child_process';
import { InvalidStateError } from './errors.ts';

/**
 * What an engine child sends: first `{ ready: true, … }` (or `{ error }` / `{ fatal }` when it
 * cannot load), then one reply per call carrying the call's `id`, with `error` when it failed.
 * It takes `{ close: true }` to finish and exit.
 */
export interface ChildReply {
  id?: number;
  ready?: boolean;
  error?: string;
  fatal?: string;
}

export interface ChildRpcOptions {
  /** Names the child in errors: "<label> failed to load", "<label> process exited (…)". */
  label: string;
  /** Prefix of a failed call's error message (e.g. "CenterNet failed: "). @defaultValue '' */
  errorPrefix?: string;
  /** The script is TypeScript: the child loads tsx. Plain JavaScript children get no loader flags (the parent's tsx hooks stay out). */
  typescript?: boolean;
  /** Called once when the child dies on its own (not after close()). */
  onExit?: (why: string) => void;
}

const CLOSE_GRACE_MS = 5000;
/** tsx's loader by absolute URL: a bare `--import tsx` resolves from the working directory, which may be anywhere. */
const TSX_LOADER = import.meta.resolve('tsx');

/**
 * An engine in a child process, called like a function: the engines that compute on the
 * calling thread (onnxruntime-node, tfjs, Flite's WASI) run here so the server's thread stays
 * free for audio, and a crash costs only the calls it held. Idle, neither the child nor its
 * channel keeps the parent alive; a call in flight does.
 */
export class ChildRpc<Reply extends ChildReply> {
  readonly #child: ChildProcess;
  readonly #options: ChildRpcOptions;
  readonly #pending = new Map<number, { resolve: (r: Reply) => void; reject: (e: Error) => void }>();
  #nextId = 1;
  #exited: string | undefined;
  #closed = false;

  private constructor(child: ChildProcess, options: ChildRpcOptions) {
    this.#child = child;
    this.#options = options;
    child.on('message', (reply: Reply) => {
      if (reply.id === undefined) return;
      const pending = this.#pending.get(reply.id);
      this.#forget(reply.id);
      if (!pending) return;
      if (reply.error !== undefined) pending.reject(new Error(`${options.errorPrefix ?? ''}${reply.error}`));
      else pending.resolve(reply);
    });
    // 'disconnect' comes at once when the child dies; with its handles unref'd, 'exit' may not
    // come before the event loop runs dry, and a waiting call would hang the process.
    child.on('disconnect', () => this.#died('disconnected'));
    child.on('exit', (code, signal) => this.#died(`exit code ${code}, signal ${signal}`));
    child.on('error', (error) => this.#died(error.message));
    this.#hold(false);
  }

  /** Forks `script` and resolves once it says it is ready, with that message. */
  static async start<Reply extends ChildReply>(script: URL, args: string[], options: ChildRpcOptions): Promise<{ rpc: ChildRpc<Reply>; ready: Reply }> {
    const child = fork(script, args, { execArgv: options.typescript ? ['--import', TSX_LOADER] : [], serialization: 'advanced', stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    try {
      const ready = await new Promise<Reply>((resolve, reject) => {
        child.once('message', (reply: Reply) =>
          reply.ready ? resolve(reply) : reject(new Error(`${options.label} failed to load: ${reply.error ?? reply.fatal}`)),
        );
        child.once('error', reject);
        child.once('exit', (code) => reject(new Error(`${options.label} process exited while loading (code ${code})`)));
      });
      return { rpc: new ChildRpc<Reply>(child, options), ready };
    } catch (error) {
      child.kill('SIGKILL');
      throw error;
    }
  }

  /** False once the child has died or been closed. */
  get alive(): boolean {
    return !this.#closed && this.#exited === undefined && this.#child.connected;
  }

  get pid(): number | undefined {
    return this.#child.pid;
  }

  /**
   * Sends `message` with a fresh id and resolves with the child's reply. An aborted call
   * rejects at once; the child's answer, when it comes, is dropped.
   */
  call(message: Record<string, unknown>, signal?: AbortSignal): Promise<Reply> {
    if (this.#closed) return Promise.reject(new InvalidStateError(`${this.#options.label} was closed`));
    if (!this.alive) return Promise.reject(new InvalidStateError(`${this.#options.label} process is gone (${this.#exited ?? 'disconnected'})`));
    if (signal?.aborted) return Promise.reject(signal.reason ?? new DOMException('aborted', 'AbortError'));
    const id = this.#nextId++;
    return new Promise<Reply>((resolve, reject) => {
      const onAbort = () => {
        this.#forget(id);
        reject(signal!.reason ?? new DOMException('aborted', 'AbortError'));
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      if (this.#pending.size === 0) this.#hold(true);
      this.#pending.set(id, {
        resolve: (r) => (signal?.removeEventListener('abort', onAbort), resolve(r)),
        reject: (e) => (signal?.removeEventListener('abort', onAbort), reject(e)),
      });
      this.#child.send({ ...message, id });
    });
  }

  /** Idempotent: fails waiting calls, asks the child to finish, and kills it if it will not. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#failAll(new InvalidStateError(`${this.#options.label} was closed`));
    if (this.#child.exitCode !== null || this.#child.signalCode !== null) return;
    this.#hold(true); // until it has exited
    const exited = new Promise((resolve) => this.#child.once('exit', resolve));
    if (this.#child.connected) this.#child.send({ close: true });
    else this.#child.kill('SIGKILL');
    // A child stuck in a long computation is stopped the hard way.
    const timer = setTimeout(() => this.#child.kill('SIGKILL'), CLOSE_GRACE_MS);
    await exited;
    clearTimeout(timer);
    this.#hold(false);
  }

  #died(why: string): void {
    if (this.#exited !== undefined) return;
    this.#exited = why;
    this.#failAll(new Error(`${this.#options.label} process exited (${why})`));
    if (!this.#closed) this.#options.onExit?.(why);
  }

  #forget(id: number): void {
    this.#pending.delete(id);
    if (this.#pending.size === 0) this.#hold(false);
  }

  #failAll(error: Error): void {
    const waiting = [...this.#pending.values()];
    this.#pending.clear();
    this.#hold(false);
    for (const p of waiting) p.reject(error);
  }

  /** While a call waits, the child and its channel keep the event loop alive (ingest has nothing else). */
  #hold(on: boolean): void {
    if (on) {
      this.#child.ref();
      this.#child.channel?.ref();
    } else {
      this.#child.unref();
      this.#child.channel?.unref();
    }
  }
}

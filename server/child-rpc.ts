import { fork, type ChildProcess } from 'node:child_process';
import { InvalidStateError } from './errors.ts';
import type { EngineStatusSink } from './ops/engine-health.ts';
import { opsMetrics } from './ops/metrics.ts';

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
  /** A notice (no `id`) from a child that supervises engine children of its own. */
  health?: HealthNotice;
}

/** How a child tells its parent about the engines it runs in children of its own. */
export type HealthNotice =
  | { op: 'restarted'; engine: string; why: string }
  | { op: 'unavailable'; engine: string; message: string; code?: string }
  | { op: 'available'; engine: string };

export interface ChildRpcOptions<Reply extends ChildReply = ChildReply> {
  /** Names the child in errors: "<label> failed to load", "<label> process exited (…)". */
  label: string;
  /** Prefix of a failed call's error message (e.g. "CenterNet failed: "). @defaultValue '' */
  errorPrefix?: string;
  /** The script is TypeScript: the child loads tsx. Plain JavaScript children get no loader flags (the parent's tsx hooks stay out). */
  typescript?: boolean;
  /** Called once when the child dies on its own (not after close()). */
  onExit?: (why: string) => void;
  /** Messages the child sends on its own, without a call's `id` (e.g. its engines' health). */
  onNotice?: (message: Reply) => void;
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
  readonly #options: ChildRpcOptions<Reply>;
  readonly #pending = new Map<number, { resolve: (r: Reply) => void; reject: (e: Error) => void }>();
  #nextId = 1;
  #exited: string | undefined;
  #closed = false;

  private constructor(child: ChildProcess, options: ChildRpcOptions<Reply>) {
    this.#child = child;
    this.#options = options;
    child.on('message', (reply: Reply) => {
      if (reply.id === undefined) {
        if (!reply.ready) options.onNotice?.(reply);
        return;
      }
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
  static async start<Reply extends ChildReply>(script: URL, args: string[], options: ChildRpcOptions<Reply>): Promise<{ rpc: ChildRpc<Reply>; ready: Reply }> {
    const child = fork(script, args, { execArgv: options.typescript ? ['--import', TSX_LOADER] : [], serialization: 'advanced', stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    try {
      const ready = await new Promise<Reply>((resolve, reject) => {
        const onMessage = (reply: Reply) => {
          if (reply.ready) resolve(reply);
          else if (reply.error !== undefined || reply.fatal !== undefined) reject(new Error(`${options.label} failed to load: ${reply.error ?? reply.fatal}`));
          else return; // a notice sent while loading
          child.off('message', onMessage);
        };
        child.on('message', onMessage);
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

/** How an engine child that keeps dying is started again. */
export interface RestartPolicy {
  /** The wait before the second restart in a row; the first restart after a crash is immediate. @defaultValue 1000 */
  initialDelayMs: number;
  /** Each further crash in a row multiplies the wait by this. @defaultValue 2 */
  factor: number;
  /** The wait never grows past this. @defaultValue 30000 */
  maxDelayMs: number;
  /**
   * A child that ran this long is healthy: its next crash starts a fresh count. A child restarted
   * after an outage is back once a call succeeds, or once it has run this long. @defaultValue 60000
   */
  stableMs: number;
}

export const defaultRestartPolicy = {
  initialDelayMs: 1000,
  factor: 2,
  maxDelayMs: 30_000,
  stableMs: 60_000,
} as const satisfies RestartPolicy;

/** The wait before restarting after the `crashes`-th crash in a row: 0, then initial × factor^(n−2), capped. */
export function restartDelay(crashes: number, policy: RestartPolicy): number {
  if (crashes <= 1) return 0;
  return Math.min(policy.maxDelayMs, policy.initialDelayMs * policy.factor ** (crashes - 2));
}

/** An engine whose process is down (waiting to be restarted): the call was not even tried. */
export class EngineUnavailableError extends Error {
  override name = 'EngineUnavailableError';
  constructor(
    readonly engine: string,
    message: string,
  ) {
    super(message);
  }
}

export interface SupervisedChildOptions extends Omit<ChildRpcOptions, 'onExit' | 'onNotice'> {
  /** Short name: the metrics' `engine` label and the health key ('vision', 'objects', 'tts', …). */
  engine: string;
  /** What is lost while it is down, as users would say it: "object detection". */
  what: string;
  restart?: Partial<RestartPolicy>;
  /** Told of restarts and outages; absent: restarts are counted in this process's metrics only. */
  health?: EngineStatusSink;
  /** The child supervises engine children of its own and reports them (`{ health }` notices): pass those on. */
  relaysHealth?: boolean;
}

/** What an engine's owner passes on to its child's supervisor. */
export type Supervision = Pick<SupervisedChildOptions, 'health' | 'restart'>;

/**
 * An engine child that is started again when it dies: at once after a first crash, then after
 * waits that double (1 s, 2 s, 4 s … 30 s by default) while it keeps crashing. During a wait the
 * engine is down: calls fail at once with EngineUnavailableError, and `health` hears what is off
 * (once per outage); the first call that succeeds after the restart ends the outage.
 */
export class SupervisedChild<Reply extends ChildReply> {
  readonly #script: URL;
  readonly #args: string[];
  readonly #options: SupervisedChildOptions;
  readonly #policy: RestartPolicy;
  #rpc: ChildRpc<Reply> | undefined;
  #starting: Promise<ChildRpc<Reply> | undefined> | undefined;
  #generation = 0;
  #restartTimer: NodeJS.Timeout | undefined;
  #stableTimer: NodeJS.Timeout | undefined;
  /** Deaths in a row, with no call answered and no stable run between them. */
  #crashes = 0;
  #startedAt = 0;
  /** While down: what the engine's callers and health are told. */
  #down: string | undefined;
  /** Restarted after a crash, not yet seen working. */
  #probation = false;
  /** Engines the child reported down (relaysHealth): a new child starts them afresh. */
  readonly #childDown = new Set<string>();
  #closed = false;

  private constructor(script: URL, args: string[], options: SupervisedChildOptions) {
    this.#script = script;
    this.#args = args;
    this.#options = options;
    this.#policy = { ...defaultRestartPolicy, ...options.restart };
  }

  /** Forks `script`; a child that cannot load the first time fails here, as ChildRpc.start does. */
  static async start<Reply extends ChildReply>(script: URL, args: string[], options: SupervisedChildOptions): Promise<{ child: SupervisedChild<Reply>; ready: Reply }> {
    const child = new SupervisedChild<Reply>(script, args, options);
    const ready = await child.#spawn();
    return { child, ready };
  }

  /** A child process is up (it may be on trial after a crash). */
  get alive(): boolean {
    return this.#rpc?.alive ?? false;
  }

  get pid(): number | undefined {
    return this.#rpc?.pid;
  }

  /** Crashes in a row so far (0 when healthy). */
  get crashes(): number {
    return this.#crashes;
  }

  /** What is off while the engine is down; undefined when it works. */
  get down(): string | undefined {
    return this.#down;
  }

  /** As ChildRpc.call; waits for a restart under way, fails at once while waiting to restart. */
  async call(message: Record<string, unknown>, signal?: AbortSignal): Promise<Reply> {
    if (this.#closed) throw new InvalidStateError(`${this.#options.label} was closed`);
    const rpc = this.#rpc?.alive ? this.#rpc : await this.#starting;
    if (!rpc) throw new EngineUnavailableError(this.#options.engine, this.#down ?? `${this.#options.what} is unavailable: its process is restarting`);
    const reply = await rpc.call(message, signal);
    this.#working();
    return reply;
  }

  /** Idempotent: stops restarting and closes the child. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    clearTimeout(this.#restartTimer);
    clearTimeout(this.#stableTimer);
    const rpc = this.#rpc ?? (await this.#starting);
    await rpc?.close();
  }

  /** Starts a child; `#starting` is set before the first await, so a call right after a crash waits for it. */
  async #spawn(): Promise<Reply> {
    const generation = ++this.#generation;
    const { engine, what, restart, health, relaysHealth, ...rpcOptions } = this.#options;
    const started = ChildRpc.start<Reply>(this.#script, this.#args, {
      ...rpcOptions,
      onExit: (why) => this.#died(generation, why),
      onNotice: relaysHealth ? (message) => this.#relay(message.health) : undefined,
    });
    const starting = started.then(({ rpc }) => rpc, () => undefined);
    this.#starting = starting;
    try {
      const { rpc, ready } = await started;
      if (this.#closed) {
        await rpc.close();
        throw new InvalidStateError(`${this.#options.label} was closed`);
      }
      if (generation === this.#generation && rpc.alive) {
        this.#rpc = rpc;
        this.#startedAt = performance.now();
        // A new child loads its own engines afresh: what the old one reported down is moot.
        for (const e of this.#childDown) this.#options.health?.available(e);
        this.#childDown.clear();
        if (this.#probation) {
          this.#stableTimer = setTimeout(() => this.#working(), this.#policy.stableMs);
          this.#stableTimer.unref();
        }
      }
      return ready;
    } finally {
      if (this.#starting === starting) this.#starting = undefined;
    }
  }

  #died(generation: number, why: string): void {
    if (this.#closed || generation !== this.#generation) return;
    this.#rpc = undefined;
    clearTimeout(this.#stableTimer);
    if (this.#crashes > 0 && performance.now() - this.#startedAt >= this.#policy.stableMs) this.#crashes = 0;
    this.#crashes++;
    this.#scheduleRestart(why);
  }

  #scheduleRestart(why: string): void {
    const delay = restartDelay(this.#crashes, this.#policy);
    this.#probation = true;
    if (delay === 0) {
      // At once and synchronously: a caller retrying right after the crash finds the restart under way.
      void this.#restart(why);
      return;
    }
    const { engine, what, health } = this.#options;
    this.#down = `${what} is unavailable: its process crashed ${this.#crashes} times in a row; retrying in ${formatDelay(delay)}`;
    health?.unavailable(engine, this.#down);
    this.#restartTimer = setTimeout(() => void this.#restart(why), delay);
    this.#restartTimer.unref(); // a waiting restart never keeps the process alive
  }

  async #restart(why: string): Promise<void> {
    this.#restartTimer = undefined;
    if (this.#closed) return;
    const { engine, health } = this.#options;
    if (health) health.restarted(engine, why);
    else opsMetrics.childRestarts.inc({ engine });
    try {
      await this.#spawn();
    } catch (error) {
      if (this.#closed) return;
      // It could not even load: one more crash in a row.
      this.#crashes++;
      this.#scheduleRestart(`it failed to start: ${(error as Error).message}`);
    }
  }

  /** A call succeeded (or the restarted child ran stableMs): an outage is over. */
  #working(): void {
    // A child that answered is not crashing in a loop: a later death starts the count afresh
    // (restarted at once), instead of joining deaths minutes apart into an outage.
    this.#crashes = 0;
    if (!this.#probation) return;
    this.#probation = false;
    clearTimeout(this.#stableTimer);
    if (this.#down === undefined) return;
    this.#down = undefined;
    this.#options.health?.available(this.#options.engine);
  }

  #relay(notice: HealthNotice | undefined): void {
    const health = this.#options.health;
    if (!notice) return;
    if (notice.op === 'restarted') {
      if (health) health.restarted(notice.engine, notice.why);
      else opsMetrics.childRestarts.inc({ engine: notice.engine });
    } else if (notice.op === 'unavailable') {
      this.#childDown.add(notice.engine);
      health?.unavailable(notice.engine, notice.message, notice.code);
    } else {
      this.#childDown.delete(notice.engine);
      health?.available(notice.engine);
    }
  }
}

function formatDelay(ms: number): string {
  return ms >= 1000 ? `${Math.round(ms / 1000)} s` : `${Math.round(ms)} ms`;
}

/** Inside an engine child that supervises children of its own: tells the parent (SupervisedChild with `relaysHealth`). */
export function parentHealthSink(): EngineStatusSink {
  const send = (health: HealthNotice) => process.connected && process.send!({ health });
  return {
    restarted: (engine, why) => send({ op: 'restarted', engine, why }),
    unavailable: (engine, message, code) => send({ op: 'unavailable', engine, message, code }),
    available: (engine) => send({ op: 'available', engine }),
  };
}

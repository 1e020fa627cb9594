/**
 * Readiness (`GET /readyz`): whether this process should be sent new clients now. Liveness
 * (`/healthz`) says the process answers; readiness adds that the engines are loaded, memory
 * can be written, and the server is not draining for a shutdown.
 */
import fs from 'node:fs';
import type { MemoryStore } from '../../memory/index.ts';

/** One condition of readiness: resolves undefined when it holds, else why not (one line). */
export type ReadinessProbe = () => Promise<string | undefined> | string | undefined;

export interface ReadinessReport {
  ready: boolean;
  /** Why not, when not: the first failing check, or what turned readiness off. */
  reason?: string;
  /** Each probe: 'ok' or why not. */
  checks: Record<string, string>;
}

/** A probe that hangs (a stuck remote store) must not hang the load balancer's check. */
const PROBE_TIMEOUT_MS = 2000;

export class Readiness {
  readonly #probes = new Map<string, ReadinessProbe>();
  #offReason: string | undefined;

  /** Adds (or replaces) a named condition of readiness. */
  add(name: string, probe: ReadinessProbe): this {
    this.#probes.set(name, probe);
    return this;
  }

  /**
   * Readiness off: `/readyz` answers 503 with `reason` from now on, so a load balancer stops
   * sending new clients while the sessions already here drain. The shutdown's first step.
   */
  off(reason = 'draining'): void {
    this.#offReason = reason;
  }

  /** Readiness back on (a drain that was called off). */
  on(): void {
    this.#offReason = undefined;
  }

  /** Why readiness was turned off, or undefined while it is on. */
  get offReason(): string | undefined {
    return this.#offReason;
  }

  /** Runs every probe (at once, each bounded in time). */
  async check(): Promise<ReadinessReport> {
    const names = [...this.#probes.keys()];
    const results = await Promise.all(names.map((name) => runProbe(this.#probes.get(name)!)));
    const checks = Object.fromEntries(names.map((name, i) => [name, results[i] ?? 'ok']));
    const failing = names.findIndex((_, i) => results[i] !== undefined);
    const reason = this.#offReason ?? (failing >= 0 ? `${names[failing]}: ${results[failing]}` : undefined);
    return reason === undefined ? { ready: true, checks } : { ready: false, reason, checks };
  }
}

async function runProbe(probe: ReadinessProbe): Promise<string | undefined> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<string>((resolve) => {
    timer = setTimeout(() => resolve(`no answer within ${PROBE_TIMEOUT_MS} ms`), PROBE_TIMEOUT_MS);
  });
  try {
    return await Promise.race([Promise.resolve().then(probe), timeout]);
  } catch (error) {
    return `check failed: ${(error as Error)?.message ?? String(error)}`;
  } finally {
    clearTimeout(timer);
  }
}

/** A LanceDB URI with a scheme (s3://, gs://, db://…) is not a local directory to probe. */
function isLocalPath(uri: string): boolean {
  return !/^[a-z][a-z0-9+.-]*:\/\//i.test(uri);
}

/**
 * Memory is writable while the store is open, its last flush did not fail (a full disk, a
 * revoked bucket: the rows stay queued, and new sessions would only add to them), and a local
 * store's directory may be written. Subscribes to the store's flush events at once.
 */
export function memoryWritable(store: MemoryStore): ReadinessProbe {
  let failing: Error | undefined;
  store.on('flusherror', (error) => (failing = error));
  store.on('flush', () => (failing = undefined));
  return async () => {
    if (store.closed) return 'the memory store is closed';
    if (failing) return `memory writes are failing (${(failing as NodeJS.ErrnoException).code ?? failing.message}); ${store.pending} rows wait`;
    if (!isLocalPath(store.uri)) return undefined;
    try {
      await fs.promises.access(store.uri, fs.constants.W_OK);
      return undefined;
    } catch (error) {
      return `the memory directory cannot be written (${(error as NodeJS.ErrnoException).code ?? 'error'})`;
    }
  };
}

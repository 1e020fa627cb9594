/**
 * The memory's named error, the argument checks its public methods run at the edge, and the
 * one way its async work gives up when an `AbortSignal` fires.
 */

export class MemoryStoreClosedError extends Error {
  override name = 'MemoryStoreClosedError';
  constructor() {
    super('MemoryStore is closed');
  }
}

export function assertString(name: string, v: unknown): asserts v is string {
  if (typeof v !== 'string' || v.length === 0) throw new TypeError(`${name} must be a non-empty string`);
}

export function assertFinite(name: string, v: unknown): asserts v is number {
  if (typeof v !== 'number' || !Number.isFinite(v)) throw new TypeError(`${name} must be a finite number`);
}

/**
 * Waits for `work` unless `signal` aborts first, then rejects with the signal's reason (an
 * AbortError unless the caller gave another). LanceDB cannot cancel a query or a commit, so
 * the work itself runs on; only the wait ends, and its outcome is dropped.
 */
export function untilAborted<T>(work: Promise<T>, signal: AbortSignal | undefined): Promise<T> {
  if (!signal) return work;
  if (signal.aborted) {
    work.catch(() => {});
    return Promise.reject(signal.reason);
  }
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    work.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
  });
}

import { EventEmitter } from 'node:events';

/** Maps each event name to its argument tuple. */
export type EventMap = Record<string, unknown[]>;

/**
 * A typed EventEmitter. `safeEmit()` never throws: a failing listener is reported on
 * 'listenererror' (or logged) so it cannot abort the emitter's own work or teardown.
 */
export class TypedEmitter<E extends EventMap> extends EventEmitter {
  override on<K extends keyof E & string>(event: K, listener: (...args: E[K]) => void): this {
    return super.on(event, listener as (...args: unknown[]) => void);
  }

  override once<K extends keyof E & string>(event: K, listener: (...args: E[K]) => void): this {
    return super.once(event, listener as (...args: unknown[]) => void);
  }

  override off<K extends keyof E & string>(event: K, listener: (...args: E[K]) => void): this {
    return super.off(event, listener as (...args: unknown[]) => void);
  }

  safeEmit<K extends keyof E & string>(event: K, ...args: E[K]): boolean {
    try {
      return super.emit(event, ...args);
    } catch (error) {
      if (event !== 'listenererror' && this.listenerCount('listenererror') > 0) {
        super.emit('listenererror', event, error);
      } else {
        console.error(`omnilive: listener for '${event}' threw:`, error);
      }
      return true;
    }
  }
}

import { EventEmitter } from 'node:events';
import { createLogger, type Logger } from '../logger.ts';

/** Maps each event name to its argument tuple. */
export type EventMap = Record<string, unknown[]>;

/**
 * A typed EventEmitter. `safeEmit()` never throws: a failing listener is reported on
 * 'listenererror' (or logged) so it cannot abort the emitter's own work or teardown.
 */
export class TypedEmitter<E extends EventMap> extends EventEmitter {
  /**
   * Where a throwing listener is logged when nobody listens to 'listenererror'. An owner that
   * has the process's logger sets it; unset, the failure still reaches stderr (a logger made
   * for that line), never silence.
   */
  protected logger: Logger | undefined;

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
        (this.logger ?? createLogger()).error({ err: error, event }, `listener for '${event}' threw`);
      }
      return true;
    }
  }
}

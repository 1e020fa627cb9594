/**
 * Which shared engines are off right now, and telling the sessions' clients once per outage.
 * Engines report here (an engine child in a crash loop, memory that cannot write); each session
 * attaches and gets one `error` event per engine that goes off, and, on attaching, one per
 * engine that is off already. Coming back is logged, not sent: an `error` is for bad news.
 */
import client from 'prom-client';
import type { MemoryStore, MemoryWriteError } from '../../memory/index.ts';
import { TypedEmitter } from '../events/typed-emitter.ts';
import { silentLogger, type Logger } from '../logger.ts';
import type { ServerEventBody } from '../protocol/server-events.ts';
import { opsMetrics } from './metrics.ts';

/** What an engine reports about itself. Implemented by EngineHealth, and by a forwarder inside engine children. */
export interface EngineStatusSink {
  /** Its process died and is being started again (counted in `omnilive_engine_child_restarts_total`). */
  restarted(engine: string, why: string): void;
  /** It cannot serve for now; `message` says what is off and what happens next. Repeats update the message only. */
  unavailable(engine: string, message: string, code?: string): void;
  /** It works again. */
  available(engine: string): void;
}

export interface EngineNotice {
  /** 'vision', 'objects', 'people', 'tts', 'memory', … (the metrics' `engine` label). */
  engine: string;
  /** The client-visible error code: 'engine_unavailable', 'memory_write_failed'. */
  code: string;
  message: string;
  /** When it went off (epoch ms). */
  since: number;
}

export type EngineHealthEvents = {
  unavailable: [EngineNotice];
  available: [engine: string, downMs: number];
};

/** Rows of long-term memory dropped because the write queue was full while writes failed. */
export const memoryRowsDropped = new client.Counter({
  name: 'omnilive_memory_rows_dropped_total',
  help: 'Memory rows dropped (oldest first) because the write queue was full while the disk refused writes.',
  registers: [opsMetrics.registry],
});

/** One per process, made with the engines and passed to them (never a module singleton). */
export class EngineHealth extends TypedEmitter<EngineHealthEvents> implements EngineStatusSink {
  readonly #down = new Map<string, EngineNotice>();
  readonly #log: Logger;

  constructor(options: { logger?: Logger } = {}) {
    super();
    this.#log = (options.logger ?? silentLogger).child({ component: 'engine-health' });
    this.logger = this.#log;
  }

  /** The engines that are off now. */
  get problems(): EngineNotice[] {
    return [...this.#down.values()];
  }

  restarted(engine: string, why: string): void {
    opsMetrics.childRestarts.inc({ engine });
    this.#log.warn({ engine, why }, `the ${engine} engine's process stopped (${why}); starting it again`);
  }

  unavailable(engine: string, message: string, code = 'engine_unavailable'): void {
    const known = this.#down.get(engine);
    if (known) {
      // Still off: the newest wording (crash count, next retry) is what a session attaching later reads.
      known.message = message;
      return;
    }
    const notice: EngineNotice = { engine, code, message, since: Date.now() };
    this.#down.set(engine, notice);
    opsMetrics.errors.inc({ code });
    this.#log.error({ engine, code }, message);
    this.safeEmit('unavailable', { ...notice });
  }

  available(engine: string): void {
    const notice = this.#down.get(engine);
    if (!notice) return;
    this.#down.delete(engine);
    const downMs = Date.now() - notice.since;
    this.#log.info({ engine, downMs }, `the ${engine} engine works again after ${Math.round(downMs / 1000)} s`);
    this.safeEmit('available', engine, downMs);
  }

  /**
   * A session's client hears of every engine that is off now and each that goes off later, as
   * `error` events (`server_error`, code, `param` naming the engine). Returns the detach.
   */
  attach(emit: (event: ServerEventBody) => void): () => void {
    const send = (n: EngineNotice) => emit({ type: 'error', error: { type: 'server_error', code: n.code, message: n.message, param: n.engine } });
    for (const notice of this.#down.values()) send(notice);
    this.on('unavailable', send);
    return () => this.off('unavailable', send);
  }
}

/** The part of a session the relay needs: its event stream and its end. */
interface RelayedSession {
  readonly id: string;
  readonly closed: boolean;
  safeEmit(event: 'event', body: ServerEventBody & { event_id: string }): boolean;
  once(event: 'close', listener: () => void): unknown;
}

/**
 * Attaches every session a server opens to `health` (the server emits `sessionopen`): the
 * wiring `serve` does once. Returns the detach for the server's own end.
 */
export function relayEngineHealth(
  server: { on(event: 'sessionopen', listener: (session: RelayedSession) => void): unknown; off(event: 'sessionopen', listener: (session: RelayedSession) => void): unknown },
  health: EngineHealth,
): () => void {
  let n = 0;
  const onOpen = (session: RelayedSession) => {
    if (session.closed) return;
    const detach = health.attach((body) => session.safeEmit('event', { event_id: `event_health_${session.id.slice(5, 13)}_${++n}`, ...body }));
    session.once('close', detach);
  };
  server.on('sessionopen', onOpen);
  return () => server.off('sessionopen', onOpen);
}

const WRITE_FAILURES: Record<string, string> = {
  ENOSPC: 'the disk is full (ENOSPC)',
  EDQUOT: 'the disk quota is used up (EDQUOT)',
  EROFS: 'its disk is read-only (EROFS)',
  EACCES: 'it may not write its files (EACCES)',
  EIO: 'the disk reports input/output errors (EIO)',
};

/**
 * Memory that cannot write is an engine that is off: each failed flush is counted
 * (`omnilive_memory_write_failures_total` by code), the sessions hear of it once per outage,
 * and writes working again end it. Returns the detach.
 */
export function watchMemoryHealth(store: MemoryStore, health: EngineStatusSink): () => void {
  const failed = (error: MemoryWriteError) => {
    opsMetrics.memoryWriteFailures.inc({ code: error.code });
    const why = WRITE_FAILURES[error.code] ?? `writing failed (${error.code}: ${error.message.split('\n')[0]!.slice(0, 200)})`;
    health.unavailable('memory', `long-term memory cannot save right now: ${why}. What you say and show waits in RAM (the oldest is dropped if it waits too long) and is saved once writing works again; searching memory still works.`, 'memory_write_failed');
  };
  const resumed = () => health.available('memory');
  const dropped = (counts: { clips: number; utterances: number }) => memoryRowsDropped.inc(counts.clips + counts.utterances);
  store.on('flusherror', failed);
  store.on('writeresume', resumed);
  store.on('drop', dropped);
  return () => {
    store.off('flusherror', failed);
    store.off('writeresume', resumed);
    store.off('drop', dropped);
  };
}

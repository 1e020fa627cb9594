/**
 * The process's operational metrics, in the Prometheus text format (`GET /metrics`), with
 * prom-client. One registry per process, as Prometheus clients keep it: any module counts
 * what it sees by importing `opsMetrics`; the HTTP server renders the registry.
 */
import client from 'prom-client';

export class OpsMetrics {
  readonly registry = new client.Registry();

  /** Failures reported to clients or the log, by error code. */
  readonly errors = new client.Counter({ name: 'omnilive_errors_total', help: 'Errors by code (client-visible error events and server failures).', labelNames: ['code'] as const, registers: [this.registry] });
  /** An engine's child process (OCR/objects facts, people, TTS…) died and was started again. */
  readonly childRestarts = new client.Counter({ name: 'omnilive_engine_child_restarts_total', help: 'Engine child processes restarted after they died.', labelNames: ['engine'] as const, registers: [this.registry] });
  /** The language model refused, timed out or stalled mid-stream. */
  readonly llmFailures = new client.Counter({ name: 'omnilive_llm_failures_total', help: 'Language-model requests that failed, by kind (refused, timeout, stalled, error).', labelNames: ['kind'] as const, registers: [this.registry] });
  /** Server events not sent to a client that reads too slowly. */
  readonly droppedEvents = new client.Counter({ name: 'omnilive_client_events_dropped_total', help: 'Server events dropped for a slow client, by event type.', labelNames: ['type'] as const, registers: [this.registry] });
  /** Connections closed because the client stopped reading. */
  readonly slowClientCloses = new client.Counter({ name: 'omnilive_slow_client_closes_total', help: 'Connections closed because their send buffer passed its limit.', registers: [this.registry] });
  /** Memory writes that failed (and were kept to retry), by error code (ENOSPC…). */
  readonly memoryWriteFailures = new client.Counter({ name: 'omnilive_memory_write_failures_total', help: 'Memory flushes that failed, by error code; the rows stay queued.', labelNames: ['code'] as const, registers: [this.registry] });
}

/** The process's metrics. */
export const opsMetrics = new OpsMetrics();

/**
 * What a running server tells Prometheus: sessions, turns, latencies, memory, WebRTC and the
 * process, all watched from here. It listens to what the parts already announce — the
 * server's `sessionopen`, each session's events and `observer`, the memory store's `flush` and
 * `optimize`, mediasoup's observer — so no part carries metrics code of its own.
 *
 * Latencies are in seconds and sizes in bytes, as Prometheus names them (`_seconds`,
 * `_bytes`); the wire events keep their milliseconds.
 */
import client from 'prom-client';
import * as mediasoup from 'mediasoup';
import type { types as ms } from 'mediasoup';
import type { MemoryStore, MemoryStoreStats } from '../../memory/index.ts';
import type { Session } from '../session/session.ts';
import type { ServerEvent } from '../protocol/server-events.ts';
import type { OmniLiveServer } from '../http/server.ts';
import { opsMetrics, type OpsMetrics } from './metrics.ts';

/** Stages of a spoken turn, from the end of the user's speech (the keys of `omnilive.metrics`' latency_ms). */
const TURN_STAGES = ['end_of_turn', 'asr_final', 'retrieval', 'first_llm_token', 'first_tts_audio', 'first_audio_delta'] as const;

/** Voice turns live between ~100 ms and a few seconds; the tail up to 10 s shows a stalled engine. */
const TURN_BUCKETS = [0.05, 0.1, 0.15, 0.2, 0.3, 0.4, 0.5, 0.75, 1, 1.5, 2, 3, 5, 10];
/** The answer should stop within a few hundred ms of the user talking over it. */
const BARGE_IN_BUCKETS = [0.025, 0.05, 0.1, 0.15, 0.2, 0.3, 0.5, 0.75, 1, 2, 5];
/** One LanceDB append per table: milliseconds on a local disk, seconds on an object store. */
const WRITE_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];
const OPTIMIZE_BUCKETS = [0.1, 0.5, 1, 2.5, 5, 10, 30, 60, 300];
const SESSION_BUCKETS = [10, 60, 300, 900, 1800, 3600, 4 * 3600, 12 * 3600];

/** Memory row counts and bytes cost a LanceDB count and a directory walk: at most this often. */
const MEMORY_STATS_MAX_AGE_MS = 15_000;
/** A scrape waits this long for fresh memory stats or WebRTC stats, then reports what it has. */
const SCRAPE_WAIT_MS = 1000;

/** Error codes are constants of the code base; anything else would only grow the label set. */
function codeLabel(code: unknown): string {
  return typeof code === 'string' && /^[a-z0-9_.]{1,64}$/.test(code) ? code : 'other';
}

function within<T>(work: Promise<T>, ms: number): Promise<T | undefined> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<undefined>((resolve) => (timer = setTimeout(() => resolve(undefined), ms)));
  return Promise.race([work, late]).finally(() => clearTimeout(timer));
}

/**
 * How long the answer's audio went on after the user started talking over it, per session:
 * from the start of their speech (`speech_started.audio_start_ms`) to the audio pausing at the
 * onset, or, unpaused, to the cancel. In input media ms (the wall clock for live sessions).
 */
class BargeInClock {
  #responding = false;
  #speechStartMs: number | undefined;
  #pausedAtMs: number | undefined;

  responseStarted(): void {
    this.#responding = true;
    this.#speechStartMs = undefined;
    this.#pausedAtMs = undefined;
  }

  paused(nowMs: number): void {
    if (this.#responding) this.#pausedAtMs ??= nowMs;
  }

  /** A cough, not a barge-in: the answer goes on. */
  resumed(): void {
    this.#pausedAtMs = undefined;
  }

  speechStarted(startMs: number): void {
    if (this.#responding) this.#speechStartMs = startMs;
  }

  /** Returns the barge-in's latency in seconds when the user's speech is what ended the answer. */
  responseEnded(bargedIn: boolean, nowMs: number): number | undefined {
    const start = this.#speechStartMs;
    const stop = this.#pausedAtMs ?? nowMs;
    this.#responding = false;
    this.#speechStartMs = this.#pausedAtMs = undefined;
    return bargedIn && start !== undefined ? Math.max(0, stop - start) / 1000 : undefined;
  }
}

export interface WatchOptions {
  /** The server's memory store, when it has one. */
  memory?: MemoryStore;
  /** Open WebSocket connections (a connection has a session once it opened). */
  connections: () => number;
}

interface Watched {
  server: Pick<OmniLiveServer, 'sessions' | 'closed'>;
  connections: () => number;
}

/**
 * The server metrics, on the registry of `OpsMetrics` (`errors` is counted here too, by code,
 * for every `error` event a session sends). Metrics of what several servers in one process
 * have open are sums over the servers being watched.
 */
export class ServerMetrics {
  readonly registry: client.Registry;
  readonly #ops: OpsMetrics;
  readonly #servers = new Set<Watched>();
  readonly #stores = new Map<MemoryStore, { at: number; stats?: MemoryStoreStats; refresh?: Promise<void> }>();
  #processMetrics = false;
  #mediaTracked = false;
  readonly #media = {
    workers: new Set<ms.Worker>(),
    transports: new Set<ms.Transport>(),
    producers: new Set<ms.Producer>(),
    consumers: new Set<ms.Consumer>(),
  };

  readonly sessions: client.Gauge;
  readonly connections: client.Gauge;
  readonly sessionsOpened: client.Counter;
  readonly sessionDuration: client.Histogram;
  readonly connectionsRefused: client.Counter<'code'>;
  readonly userTurns: client.Counter<'input'>;
  readonly responses: client.Counter<'status'>;
  readonly responsesCancelled: client.Counter<'reason'>;
  readonly responsesDiscarded: client.Counter;
  readonly responsesSpeculative: client.Counter;
  readonly llmTokens: client.Counter<'direction'>;
  readonly turnLatency: client.Histogram<'stage'>;
  readonly turnOverhead: client.Histogram;
  readonly bargeIn: client.Histogram;
  readonly clips: client.Counter;
  readonly keyframesSkipped: client.Counter<'fact'>;
  readonly memoryRowsWritten: client.Counter<'table'>;
  readonly memoryWrite: client.Histogram;
  readonly memoryOptimize: client.Histogram;
  readonly memoryRows: client.Gauge<'table'>;
  readonly memoryBytes: client.Gauge;
  readonly memoryPending: client.Gauge;
  readonly memoryCache: client.Gauge;
  readonly webrtcWorkers: client.Gauge;
  readonly webrtcTransports: client.Gauge<'type'>;
  readonly webrtcProducers: client.Gauge<'kind'>;
  readonly webrtcConsumers: client.Gauge<'kind'>;
  readonly webrtcBitrate: client.Gauge<'direction'>;

  constructor(ops: OpsMetrics) {
    this.#ops = ops;
    this.registry = ops.registry;
    const registers = [this.registry];
    const self = this;
    const live = () => {
      for (const w of this.#servers) if (w.server.closed) this.#servers.delete(w); // a closed server is forgotten
      return [...this.#servers];
    };

    this.sessions = new client.Gauge({
      name: 'omnilive_sessions',
      help: 'Sessions open now.',
      registers,
      collect() {
        this.set(live().reduce((n, w) => n + w.server.sessions.size, 0));
      },
    });
    this.connections = new client.Gauge({
      name: 'omnilive_connections',
      help: 'Realtime WebSocket connections open now.',
      registers,
      collect() {
        this.set(live().reduce((n, w) => n + w.connections(), 0));
      },
    });
    this.sessionsOpened = new client.Counter({ name: 'omnilive_sessions_opened_total', help: 'Sessions opened.', registers });
    this.sessionDuration = new client.Histogram({ name: 'omnilive_session_duration_seconds', help: 'How long sessions lasted, from open to close.', buckets: SESSION_BUCKETS, registers });
    this.connectionsRefused = new client.Counter({ name: 'omnilive_connections_refused_total', help: 'Realtime connections refused before a session opened, by code (missing_credential, origin_not_allowed, rate_limited, too_many_sessions…).', labelNames: ['code'] as const, registers });

    this.userTurns = new client.Counter({ name: 'omnilive_user_turns_total', help: 'User turns, by input: audio (an input audio buffer committed) or text (a typed user message).', labelNames: ['input'] as const, registers });
    this.responses = new client.Counter({ name: 'omnilive_responses_total', help: 'Responses that ended, by status (completed, cancelled, failed, incomplete).', labelNames: ['status'] as const, registers });
    this.responsesCancelled = new client.Counter({ name: 'omnilive_responses_cancelled_total', help: 'Cancelled responses, by reason (turn_detected: the user talked; client_cancelled; session_closed).', labelNames: ['reason'] as const, registers });
    this.responsesDiscarded = new client.Counter({ name: 'omnilive_responses_discarded_total', help: 'Answers prepared during a pause of the user and thrown away unheard because they went on.', registers });
    this.responsesSpeculative = new client.Counter({ name: 'omnilive_responses_speculative_total', help: 'Spoken turns answered by an answer prepared during the pause (speculation that paid off).', registers });
    this.llmTokens = new client.Counter({ name: 'omnilive_llm_tokens_total', help: 'Language-model tokens of responses, when the model server reports usage.', labelNames: ['direction'] as const, registers });

    this.turnLatency = new client.Histogram({
      name: 'omnilive_turn_latency_seconds',
      help: 'Spoken turns: time from the end of the user speech to each stage (end_of_turn, asr_final, retrieval, first_llm_token, first_tts_audio, first_audio_delta).',
      labelNames: ['stage'] as const,
      buckets: TURN_BUCKETS,
      registers,
    });
    this.turnOverhead = new client.Histogram({ name: 'omnilive_turn_overhead_seconds', help: "Spoken turns: end of turn to first audio, minus the engines' own compute (the pipeline's overhead).", buckets: TURN_BUCKETS, registers });
    this.bargeIn = new client.Histogram({ name: 'omnilive_barge_in_seconds', help: "How long the answer's audio went on after the user started talking over it (until it paused or was cancelled).", buckets: BARGE_IN_BUCKETS, registers });

    this.clips = new client.Counter({ name: 'omnilive_clips_total', help: 'Video clips committed (one keyframe each).', registers });
    this.keyframesSkipped = new client.Counter({ name: 'omnilive_keyframes_skipped_total', help: 'Keyframes whose facts of this kind (ocr, objects, people, embedding) were skipped because the facts queue was full.', labelNames: ['fact'] as const, registers });

    this.memoryRowsWritten = new client.Counter({ name: 'omnilive_memory_rows_written_total', help: 'Memory rows made durable, by table (clips, utterances).', labelNames: ['table'] as const, registers });
    this.memoryWrite = new client.Histogram({ name: 'omnilive_memory_write_seconds', help: 'Duration of memory flushes (one append per table).', buckets: WRITE_BUCKETS, registers });
    this.memoryOptimize = new client.Histogram({ name: 'omnilive_memory_optimize_seconds', help: 'Duration of memory compactions and index refreshes.', buckets: OPTIMIZE_BUCKETS, registers });
    this.memoryRows = new client.Gauge({
      name: 'omnilive_memory_rows',
      help: 'Rows in memory, by table (clips, utterances, episodes); refreshed at most every 15 s.',
      labelNames: ['table'] as const,
      registers,
      async collect() {
        this.reset();
        for (const stats of await self.#memoryStats()) {
          this.inc({ table: 'clips' }, stats.clips);
          this.inc({ table: 'utterances' }, stats.utterances);
          this.inc({ table: 'episodes' }, stats.episodes);
        }
      },
    });
    this.memoryBytes = new client.Gauge({
      name: 'omnilive_memory_bytes',
      help: 'Bytes of memory on disk (local) or in its tables (remote); refreshed at most every 15 s.',
      registers,
      async collect() {
        this.set((await self.#memoryStats()).reduce((n, s) => n + s.bytes, 0));
      },
    });
    this.memoryPending = new client.Gauge({
      name: 'omnilive_memory_pending_rows',
      help: 'Memory rows queued and not yet durable (a crash loses them).',
      registers,
      collect() {
        this.set(self.#sumOpenStores((s) => s.pending));
      },
    });

    this.memoryCache = new client.Gauge({
      name: 'omnilive_memory_cache_bytes',
      help: "Bytes in LanceDB's index and metadata caches (bounded by --memory-cache-mb).",
      registers,
      collect() {
        this.set(self.#sumOpenStores((s) => s.cacheBytes));
      },
    });

    const media = this.#media;
    this.webrtcWorkers = new client.Gauge({
      name: 'omnilive_webrtc_workers',
      help: 'mediasoup worker processes running.',
      registers,
      collect() {
        this.set(media.workers.size);
      },
    });
    this.webrtcTransports = new client.Gauge({
      name: 'omnilive_webrtc_transports',
      help: 'mediasoup transports open, by type (webrtc: a browser; plain: RTP to a decoder).',
      labelNames: ['type'] as const,
      registers,
      collect() {
        this.reset();
        for (const t of media.transports) this.inc({ type: t.type });
      },
    });
    this.webrtcProducers = new client.Gauge({
      name: 'omnilive_webrtc_producers',
      help: 'Media tracks received (browser camera and microphone), by kind.',
      labelNames: ['kind'] as const,
      registers,
      collect() {
        this.reset();
        for (const p of media.producers) this.inc({ kind: p.kind });
      },
    });
    this.webrtcConsumers = new client.Gauge({
      name: 'omnilive_webrtc_consumers',
      help: 'Media tracks forwarded (to decoders or browsers), by kind.',
      labelNames: ['kind'] as const,
      registers,
      collect() {
        this.reset();
        for (const c of media.consumers) this.inc({ kind: c.kind });
      },
    });
    this.webrtcBitrate = new client.Gauge({
      name: 'omnilive_webrtc_bitrate_bps',
      help: "Bits per second over browsers' WebRTC transports, summed: recv (from browsers), send (to them).",
      labelNames: ['direction'] as const,
      registers,
      async collect() {
        const browsers = [...media.transports].filter((t) => t.type === 'webrtc' && !t.closed);
        type Rates = { recvBitrate?: number; sendBitrate?: number };
        const stats = (await within(Promise.all(browsers.map((t) => (t.getStats() as Promise<Rates[]>).catch((): Rates[] => []))), SCRAPE_WAIT_MS)) ?? [];
        let recv = 0;
        let send = 0;
        for (const s of stats.flat()) {
          recv += s.recvBitrate ?? 0;
          send += s.sendBitrate ?? 0;
        }
        this.set({ direction: 'recv' }, recv);
        this.set({ direction: 'send' }, send);
      },
    });
  }

  /**
   * Watches a server from its construction on: its sessions, its memory store, the mediasoup
   * workers of the process. Also starts the process metrics (event-loop lag, CPU, heap…).
   */
  watch(server: OmniLiveServer, options: WatchOptions): void {
    this.#startProcessMetrics();
    this.#trackMedia();
    this.#servers.add({ server, connections: options.connections });
    server.on('sessionopen', (session) => this.#watchSession(session));
    if (options.memory) this.#watchMemory(options.memory);
  }

  /** prom-client's default metrics, once per registry: `omnilive_nodejs_eventloop_lag_seconds`, `omnilive_process_*`… */
  #startProcessMetrics(): void {
    if (this.#processMetrics) return;
    this.#processMetrics = true;
    client.collectDefaultMetrics({ register: this.registry, prefix: 'omnilive_' });
  }

  #watchSession(session: Session): void {
    const opened = performance.now();
    this.sessionsOpened.inc();
    const bargeIn = new BargeInClock();
    session.on('event', (event) => this.#onEvent(session, event, bargeIn));
    session.observer.on('turnmetrics', (metrics) => {
      for (const stage of TURN_STAGES) {
        const ms = metrics.latency_ms[stage];
        if (ms !== null) this.turnLatency.observe({ stage }, ms / 1000);
      }
      if (metrics.pipeline_overhead_ms !== null) this.turnOverhead.observe(Math.max(0, metrics.pipeline_overhead_ms) / 1000);
      if (metrics.speculation_discarded > 0) this.responsesDiscarded.inc(metrics.speculation_discarded);
      if (metrics.speculative) this.responsesSpeculative.inc();
    });
    session.once('close', () => this.sessionDuration.observe((performance.now() - opened) / 1000));
  }

  #onEvent(session: Session, event: ServerEvent, bargeIn: BargeInClock): void {
    switch (event.type) {
      case 'error':
        this.#ops.errors.inc({ code: codeLabel(event.error.code) });
        break;
      case 'input_audio_buffer.committed':
        this.userTurns.inc({ input: 'audio' });
        break;
      case 'conversation.item.added': {
        const item = event.item;
        // Spoken turns are counted at their commit; their items carry input_audio.
        if (item.type === 'message' && item.role === 'user' && !item.content.some((part) => part.type === 'input_audio')) this.userTurns.inc({ input: 'text' });
        break;
      }
      case 'response.created':
        bargeIn.responseStarted();
        break;
      case 'omnilive.output_audio.paused':
        bargeIn.paused(session.mediaMs);
        break;
      case 'omnilive.output_audio.resumed':
        bargeIn.resumed();
        break;
      case 'input_audio_buffer.speech_started':
        bargeIn.speechStarted(event.audio_start_ms);
        break;
      case 'response.done': {
        const { status, status_details: details, usage } = event.response;
        this.responses.inc({ status });
        const reason = details?.type === 'cancelled' ? details.reason : undefined;
        if (reason !== undefined) this.responsesCancelled.inc({ reason: codeLabel(reason) });
        const latency = bargeIn.responseEnded(reason === 'turn_detected', session.mediaMs);
        if (latency !== undefined) this.bargeIn.observe(latency);
        if (usage) {
          this.llmTokens.inc({ direction: 'input' }, usage.input_tokens);
          this.llmTokens.inc({ direction: 'output' }, usage.output_tokens);
        }
        break;
      }
      case 'omnilive.clip.committed':
        this.clips.inc();
        for (const fact of event.clip.skipped) this.keyframesSkipped.inc({ fact: codeLabel(fact) });
        break;
    }
  }

  #watchMemory(store: MemoryStore): void {
    if (this.#stores.has(store)) return;
    this.#stores.set(store, { at: 0 });
    store.on('flush', (report) => {
      if (report.clips.length) this.memoryRowsWritten.inc({ table: 'clips' }, report.clips.length);
      if (report.utterances.length) this.memoryRowsWritten.inc({ table: 'utterances' }, report.utterances.length);
      this.memoryWrite.observe(report.ms / 1000);
    });
    store.on('optimize', (report) => this.memoryOptimize.observe(report.ms / 1000));
    store.once('close', () => this.#stores.delete(store));
  }

  /** A sum over the memory stores still open (a closing one reads nothing). */
  #sumOpenStores(of: (store: MemoryStore) => number): number {
    let n = 0;
    for (const store of this.#stores.keys()) if (!store.closed) n += of(store);
    return n;
  }

  /** The open stores' stats, refreshed when stale; a slow refresh leaves the last known ones. */
  async #memoryStats(): Promise<MemoryStoreStats[]> {
    const now = Date.now();
    const entries = [...this.#stores].filter(([store]) => !store.closed);
    await within(
      Promise.all(
        entries.map(([store, entry]) => {
          if (now - entry.at < MEMORY_STATS_MAX_AGE_MS) return undefined;
          entry.refresh ??= store
            .stats()
            .then((stats) => {
              entry.stats = stats;
              entry.at = Date.now();
            })
            .catch(() => undefined) // closed meanwhile, or a remote store not answering: keep the last
            .finally(() => (entry.refresh = undefined));
          return entry.refresh;
        }),
      ),
      SCRAPE_WAIT_MS,
    );
    return entries.flatMap(([, entry]) => (entry.stats ? [entry.stats] : []));
  }

  /** mediasoup's own observer: every worker of the process, and what its routers open. */
  #trackMedia(): void {
    if (this.#mediaTracked) return;
    this.#mediaTracked = true;
    const media = this.#media;
    const keep = <T extends { observer: { once(event: 'close', listener: () => void): unknown } }>(set: Set<T>, item: T) => {
      set.add(item);
      item.observer.once('close', () => set.delete(item));
    };
    mediasoup.observer.on('newworker', (worker) => {
      keep(media.workers, worker);
      worker.observer.on('newrouter', (router) =>
        router.observer.on('newtransport', (transport) => {
          keep(media.transports, transport);
          transport.observer.on('newproducer', (producer) => keep(media.producers, producer));
          transport.observer.on('newconsumer', (consumer) => keep(media.consumers, consumer));
        }),
      );
    });
  }
}

/** The process's server metrics, on `opsMetrics`' registry. */
export const serverMetrics = new ServerMetrics(opsMetrics);

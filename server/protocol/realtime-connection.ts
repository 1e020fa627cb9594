import type { WebSocket, RawData } from 'ws';
import { isBase64 } from '../audio/pcm.ts';
import { decodeAudio } from '../audio/g711.ts';
import { parseSessionPatch } from './session-patch.ts';
import { ClientError } from '../errors.ts';
import { decodeImage } from '../perception/video/pipeline.ts';
import type { Session } from '../session/session.ts';
import type { ResponseRequest } from '../session/responder.ts';
import { clientError, type ServerEvent, type ServerEventBody } from './server-events.ts';
import type { MediaServer } from '../webrtc/media-server.ts';
import { SessionLock } from '../access/session-lock.ts';
import { WebRtcPeer } from '../webrtc/webrtc-peer.ts';
import { CLIENT_EVENT_TYPES, MAX_EVENT_DEPTH, clientEventSchema, describeIssue, tooDeepField, type ClientEvent, type WebRtcEvent } from './client-events.ts';
import { opsMetrics } from '../ops/metrics.ts';
import { silentLogger, type Logger } from '../logger.ts';

export interface ConnectionLimits {
  /** Largest client message accepted, in bytes. @defaultValue 1 MiB */
  maxMessageBytes: number;
  /** Sustained client messages per second (burst: twice that). @defaultValue 100 */
  maxMessagesPerSecond: number;
  /** Bytes waiting to go out to the client past which its low-value events (`DROPPABLE_EVENTS`) are dropped. @defaultValue 1 MiB */
  sendBufferSoftBytes: number;
  /** Bytes waiting to go out past which the client is too slow: the connection closes (1008). @defaultValue 8 MiB */
  sendBufferMaxBytes: number;
}

/**
 * What a client that reads too slowly does without: operator figures and the pictures of what
 * was seen (the clip is in memory either way). Answers, their audio and transcripts (deltas
 * too), errors and replies to requests are never dropped: a client that cannot take those is
 * closed once its buffer passes `sendBufferMaxBytes`.
 */
export const DROPPABLE_EVENTS: ReadonlySet<ServerEvent['type']> = new Set(['omnilive.metrics', 'omnilive.media.stats', 'omnilive.clip.committed']);

/** How the connection reaches the SFU: a running media server, or why there is none. */
export type WebRtcAccess = { media: MediaServer } | { unavailable: string };

/** What the credential of this connection allows (see server/access). */
export interface ConnectionAccess {
  /** Fields a client secret pinned. */
  lock: SessionLock;
  /** Names the session's user (`session.update` `omnilive.user`); throws ClientError when it may not. */
  assignUser(user: string): void;
}

export interface RealtimeConnectionOptions {
  limits?: Partial<ConnectionLimits>;
  webrtc?: WebRtcAccess;
  access?: ConnectionAccess;
  /** Slow clients closed are logged here. @defaultValue silentLogger */
  logger?: Logger;
}

export const defaultConnectionLimits = {
  maxMessageBytes: 1024 * 1024,
  maxMessagesPerSecond: 100,
  sendBufferSoftBytes: 1024 * 1024,
  sendBufferMaxBytes: 8 * 1024 * 1024,
} as const satisfies ConnectionLimits;

/** response.create's options as the session takes them. */
function responseRequest(options: Extract<ClientEvent, { type: 'response.create' }>['response'], session: Session): ResponseRequest {
  if (!options) return {};
  return {
    input: options.input && session.resolveInput(options.input),
    instructions: options.instructions,
    modalities: options.output_modalities,
    tools: options.tools,
    toolChoice: options.tool_choice,
    maxOutputTokens: options.max_output_tokens,
    metadata: options.metadata,
    conversation: options.conversation,
  };
}

/**
 * Binds one WebSocket to one Session: validates every client event at the edge, turns
 * failures into `error` events (never a closed socket), and writes session events out.
 */
export class RealtimeConnection {
  readonly #socket: WebSocket;
  readonly #session: Session;
  readonly #limits: ConnectionLimits;
  #tokens: number;
  #refillAt = performance.now();
  /** Client messages that arrive before the session is open wait here, so session.created goes first. */
  #early: [RawData, boolean][] | undefined = [];
  #frames: Promise<void> = Promise.resolve();
  readonly #webrtc: WebRtcAccess;
  #peer: WebRtcPeer | undefined;
  #ownEvents = 0;
  readonly #access: ConnectionAccess;
  readonly #log: Logger;
  #closed = false;
  /** The server is stopping: no new answers are started. */
  #draining = false;

  constructor(socket: WebSocket, session: Session, options: RealtimeConnectionOptions = {}) {
    this.#socket = socket;
    this.#session = session;
    this.#limits = { ...defaultConnectionLimits, ...options.limits };
    this.#webrtc = options.webrtc ?? { unavailable: 'WebRTC is not enabled on this server' };
    this.#access = options.access ?? { lock: new SessionLock(), assignUser: (user) => session.assignUser(user) };
    this.#log = (options.logger ?? silentLogger).child({ session: session.id });
    this.#tokens = this.#limits.maxMessagesPerSecond * 2;
    session.on('event', (event) => this.#send(event));
    socket.on('message', (data, isBinary) => (this.#early ? this.#early.push([data, isBinary]) : this.#onMessage(data, isBinary)));
    socket.on('close', () => this.close());
    socket.on('error', () => this.close());
  }

  /** Idempotent: leaves the SFU and closes the session (the socket is closing or closed). */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#early = undefined;
    this.#peer?.close();
    this.#session.close();
  }

  /** Call once the session is open: handles the messages that came early, then the rest live. */
  start(): void {
    const early = this.#early ?? [];
    this.#early = undefined;
    if (this.#closed) return;
    for (const [data, isBinary] of early) this.#onMessage(data, isBinary);
  }

  /**
   * The server is stopping: new input and new answers are refused (the client is told why), what
   * was heard and the answer in flight get up to `timeoutMs` to finish (then are cancelled), the
   * memory is flushed, and the client gets an error event and a close frame saying why.
   * Resolves whether everything fit in the time.
   */
  async drain(timeoutMs: number, closeCode = 1001): Promise<boolean> {
    if (this.#closed) return true;
    this.#draining = true;
    // A failed last flush (a full disk) must not stop the shutdown: its rows stay queued for close().
    const finished = await this.#session.drain(timeoutMs).catch((error) => {
      this.#log.error({ err: error }, `the session's drain failed: ${(error as Error)?.message ?? String(error)}`);
      return false;
    });
    const why = finished ? 'the server is shutting down; reconnect to continue' : 'the server is shutting down; what was in flight was cancelled';
    this.end('server_shutting_down', why, closeCode);
    this.close(); // leaves the SFU now (its decoders are child processes), not when the client answers
    return finished;
  }

  /**
   * Sends never wait for the client (ws queues what the socket cannot take yet), so a client
   * that stops reading cannot block its session or any other; the queue is bounded instead.
   */
  #send(event: ServerEvent): void {
    const socket = this.#socket;
    if (socket.readyState !== socket.OPEN) return;
    const queued = socket.bufferedAmount ?? 0;
    if (queued > this.#limits.sendBufferSoftBytes && DROPPABLE_EVENTS.has(event.type)) {
      opsMetrics.droppedEvents.inc({ type: event.type });
      return;
    }
    const shown = (event.type === 'session.created' || event.type === 'session.updated') && event.session
      ? { ...event, session: this.#access.lock.redact(event.session) }
      : event;
    const data = JSON.stringify(shown);
    if (queued + data.length > this.#limits.sendBufferMaxBytes) return this.#tooSlow(queued);
    socket.send(data);
  }

  /**
   * Past the hard limit: the session closes at once (its work stops), the client's queue gets an
   * error event and a close frame it will read if it ever catches up; ws cuts the socket when
   * the close handshake does not finish (30 s), so the queue's memory is freed either way.
   */
  #tooSlow(queued: number): void {
    if (this.#closed) return;
    opsMetrics.slowClientCloses.inc();
    this.#log.warn({ queuedBytes: queued, limitBytes: this.#limits.sendBufferMaxBytes }, 'closed a client that reads too slowly');
    const message = `the client read too slowly: ${queued} bytes were waiting to be sent (limit ${this.#limits.sendBufferMaxBytes})`;
    this.#socket.send(JSON.stringify({ ...clientError('client_too_slow', message), event_id: `event_err_${Date.now().toString(36)}` }));
    this.#socket.close(1008, 'client too slow: send buffer full');
    this.close();
  }

  /** Ends the connection on the server's terms: an error event saying why, then a close frame. */
  end(code: string, message: string, closeCode = 1008): void {
    this.#error(code, message);
    if (this.#socket.readyState === this.#socket.OPEN) this.#socket.close(closeCode, message.slice(0, 120));
  }

  /** Events of the connection itself (WebRTC signalling), stamped like the session's. */
  #sendOwn(body: ServerEventBody): void {
    this.#send({ ...body, event_id: `event_rtc_${(++this.#ownEvents).toString(36)}` });
  }

  #error(code: string, message: string, param?: string, eventId?: string): void {
    this.#send({ ...clientError(code, message, param, eventId), event_id: `event_err_${Date.now().toString(36)}` });
  }

  /** A watch request runs against the user's stored watches; its failure is answered like a bad event. */
  #watchReply(eventId: string | undefined, param: string | undefined, work: () => Promise<unknown>): void {
    work().catch((error) => {
      if (error instanceof ClientError) return this.#error(error.code, error.message, error.param, eventId);
      this.#error('watch_failed', `the watch could not be read or saved: ${(error as Error).message}`, param, eventId);
    });
  }

  #takeToken(): boolean {
    const now = performance.now();
    const rate = this.#limits.maxMessagesPerSecond;
    this.#tokens = Math.min(rate * 2, this.#tokens + ((now - this.#refillAt) / 1000) * rate);
    this.#refillAt = now;
    if (this.#tokens < 1) return false;
    this.#tokens -= 1;
    return true;
  }

  #onMessage(data: RawData, isBinary: boolean): void {
    if (this.#closed) return;
    const size = Array.isArray(data) ? data.reduce((n, b) => n + b.length, 0) : (data as Buffer).byteLength;
    if (!this.#takeToken()) return this.#error('rate_limited', `more than ${this.#limits.maxMessagesPerSecond} messages per second; message dropped`);
    if (size > this.#limits.maxMessageBytes) {
      return this.#error('message_too_large', `message of ${size} bytes exceeds the limit of ${this.#limits.maxMessageBytes} bytes`);
    }
    if (isBinary) return this.#error('invalid_json', 'binary messages are not supported: send JSON text events');
    let raw: unknown;
    try {
      raw = JSON.parse(data.toString());
    } catch (error) {
      return this.#error('invalid_json', `message is not valid JSON: ${(error as Error).message}`);
    }
    const eventId = typeof raw === 'object' && raw && typeof (raw as { event_id?: unknown }).event_id === 'string' ? (raw as { event_id: string }).event_id : undefined;
    const type = typeof raw === 'object' && raw ? (raw as { type?: unknown }).type : undefined;
    if (typeof type !== 'string') return this.#error('missing_type', 'event has no string "type" field', 'type', eventId);
    if (!CLIENT_EVENT_TYPES.includes(type as ClientEvent['type'])) {
      return this.#error('unknown_event_type', `unknown event type '${type.slice(0, 100)}'`, 'type', eventId);
    }
    const deep = tooDeepField(raw as object);
    if (deep !== undefined) return this.#error('invalid_value', `${type}: ${deep.slice(0, 64)} is nested deeper than ${MAX_EVENT_DEPTH} levels`, deep.slice(0, 64), eventId);
    const parsed = clientEventSchema.safeParse(raw);
    if (!parsed.success) {
      const { message, param } = describeIssue(parsed.error);
      return this.#error('invalid_value', `${type}: ${message}`, param, eventId);
    }
    try {
      this.#dispatch(parsed.data);
    } catch (error) {
      if (error instanceof ClientError) return this.#error(error.code, error.message, error.param, eventId);
      const message = error instanceof Error ? error.message : String(error);
      this.#error('server_error', message, undefined, eventId);
    }
  }

  #dispatch(event: ClientEvent): void {
    const session = this.#session;
    switch (event.type) {
      case 'session.update':
        return this.#update(event.session, event.event_id);
      case 'input_audio_buffer.append': {
        if (!isBase64(event.audio)) throw new ClientError('invalid_base64', 'audio is not valid base64', 'audio');
        const bytes = Buffer.from(event.audio, 'base64');
        const encoding = session.settings.inputEncoding;
        if (encoding === 'pcm16' && bytes.length % 2 !== 0) throw new ClientError('invalid_audio', 'pcm16 audio must have an even number of bytes', 'audio');
        return session.appendAudio(decodeAudio(bytes, encoding));
      }
      case 'input_audio_buffer.commit':
        return session.commitAudio(event.event_id);
      case 'input_audio_buffer.clear':
        return session.clearAudio();
      case 'conversation.item.create':
        session.addItem(event.item, event.previous_item_id);
        return;
      case 'conversation.item.retrieve':
        return session.retrieveItem(event.item_id);
      case 'conversation.item.truncate':
        return session.truncateItem(event.item_id, event.content_index, event.audio_end_ms);
      case 'conversation.item.delete':
        return session.deleteItem(event.item_id);
      case 'output_audio_buffer.clear':
        return this.#peer?.clearVoice();
      case 'response.create':
        if (this.#draining) throw new ClientError('session_draining', 'the server is shutting down: no new answers are started');
        session.createResponse(responseRequest(event.response, session));
        return;
      case 'omnilive.memory.search': {
        session
          .searchMemory(event.query, event.limit ?? 8)
          .then((hits) => session.reportMemoryResults(event.query, hits))
          .catch((error) => {
            // A refusal (no memory on this server) keeps its own code.
            if (error instanceof ClientError) return this.#error(error.code, error.message, error.param, event.event_id);
            this.#error('memory_search_failed', (error as Error).message, 'query', event.event_id);
          });
        return;
      }
      case 'omnilive.watch.create':
        return this.#watchReply(event.event_id, 'condition', () => session.watches.create({ condition: event.condition, mode: event.mode, cooldownMs: event.cooldown_ms, expiresInMs: event.expires_in_ms }, event.event_id));
      case 'omnilive.watch.list':
        return this.#watchReply(event.event_id, undefined, () => session.watches.list(event.event_id));
      case 'omnilive.watch.delete':
        return this.#watchReply(event.event_id, 'watch_id', () => session.watches.delete(event.watch_id, event.event_id));
      case 'omnilive.video_frame.append': {
        if (!isBase64(event.image)) throw new ClientError('invalid_base64', 'image is not valid base64', 'image');
        const t = event.t ?? session.mediaMs;
        // Decoding runs on libuv's pool; frames are appended in the order they were sent.
        const decoded = decodeImage(Buffer.from(event.image, 'base64'), t);
        // It may fail before the frames ahead of it are done: handled here, reported in its turn below.
        decoded.catch(() => {});
        this.#frames = this.#frames.then(async () => {
          let frame;
          try {
            frame = await decoded;
          } catch (error) {
            return this.#error('invalid_image', `image could not be decoded: ${(error as Error).message}`, 'image', event.event_id);
          }
          try {
            if (!session.closed) session.appendVideoFrame(frame);
          } catch (error) {
            if (error instanceof ClientError) return this.#error(error.code, error.message, error.param, event.event_id);
            this.#error('server_error', (error as Error).message, undefined, event.event_id);
          }
        });
        return;
      }
      case 'omnilive.webrtc.join':
      case 'omnilive.webrtc.transport.create':
      case 'omnilive.webrtc.transport.connect':
      case 'omnilive.webrtc.produce':
      case 'omnilive.webrtc.consume':
      case 'omnilive.webrtc.leave':
        return this.#signal(event);
      case 'response.cancel': {
        const active = session.activeResponse;
        if (!active || (event.response_id && event.response_id !== active.id)) {
          throw new ClientError('response_cancel_not_active', 'there is no active response to cancel', 'response_id');
        }
        session.cancelResponse('client_cancelled');
        return;
      }
    }
  }

  /** Malformed, unsupported and pinned fields are refused by name; the rest of the update applies. */
  #update(raw: unknown, eventId: string | undefined): void {
    const { patch, problems } = parseSessionPatch(raw);
    for (const problem of problems) this.#error(problem.code, problem.message, problem.param, eventId);
    const { allowed, refused } = this.#access.lock.filter(patch);
    for (const path of refused) {
      this.#error('field_locked', `session.${path} is set by the client secret this session was opened with and cannot be changed`, `session.${path}`, eventId);
    }
    const user = allowed.omnilive?.user;
    try {
      if (user !== undefined) this.#access.assignUser(user);
    } catch (error) {
      if (!(error instanceof ClientError)) throw error;
      this.#error(error.code, error.message, error.param, eventId);
    }
    for (const problem of this.#session.update(allowed)) this.#error(problem.code, problem.message, problem.param, eventId);
  }

  /** WebRTC signalling: answered asynchronously, failures as error events naming the request. */
  #signal(event: WebRtcEvent): void {
    if ('unavailable' in this.#webrtc) throw new ClientError('webrtc_unavailable', `WebRTC is unavailable: ${this.#webrtc.unavailable}; send media over this WebSocket instead`);
    this.#peer ??= new WebRtcPeer(this.#session, this.#webrtc.media, (body) => this.#sendOwn(body));
    this.#peer.handle(event).catch((error) => {
      if (error instanceof ClientError) return this.#error(error.code, error.message, error.param, event.event_id);
      this.#error('webrtc_failed', (error as Error).message, undefined, event.event_id);
    });
  }
}

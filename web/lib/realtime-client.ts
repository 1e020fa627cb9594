// The /v1/realtime WebSocket: server events in, client events out, and request/reply
// correlation for the omnilive.webrtc.* signalling (reply.request_id === request.event_id).

// Declared once, on the server; type-only, so nothing of server/ ends up in the bundle.
import type { EventOf, ServerEvent, ServerEventType, WireSession } from '../../server/protocol/server-events';

export type CloseInfo = { code: number; reason: string };

/** The server answered a request with an `error` event, or did not answer in time. */
export class RequestError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = 'RequestError';
  }
}

/** The WebSocket did not open, or closed before session.created. */
export class ConnectError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ConnectError';
  }
}

type Pending = { replyType: string; resolve: (event: ServerEvent) => void; reject: (error: Error) => void; timer: ReturnType<typeof setTimeout> };

/** The Realtime WebSocket of the server at `origin` (default: this page's). */
export function realtimeUrl(origin = location.origin): string {
  const url = new URL('/v1/realtime', origin);
  url.protocol = url.protocol === 'https:' ? 'wss:' : 'ws:';
  return url.toString();
}

let counter = 0;
function newEventId(): string {
  return `evt_web_${Date.now().toString(36)}_${++counter}`;
}

export class RealtimeClient {
  readonly #ws: WebSocket;
  readonly #listeners = new Set<(event: ServerEvent) => void>();
  readonly #pending = new Map<string, Pending>();
  #onClose: ((info: CloseInfo) => void) | undefined;
  #closedByUs = false;
  /** Set before connect() resolves (from session.created). */
  session!: WireSession;

  private constructor(ws: WebSocket) {
    this.#ws = ws;
  }

  /** Opens the socket (with a client secret among `protocols` when the server needs one); resolves once session.created arrived. */
  static connect(url: string, protocols?: string[], timeoutMs = 10_000): Promise<RealtimeClient> {
    return new Promise((resolve, reject) => {
      let ws: WebSocket;
      try {
        ws = new WebSocket(url, protocols);
      } catch (error) {
        reject(new ConnectError(String((error as Error).message ?? error)));
        return;
      }
      const client = new RealtimeClient(ws);
      let settled = false;
      const fail = (message: string) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        ws.close();
        reject(new ConnectError(message));
      };
      const timer = setTimeout(() => fail(`no session from ${url} within ${timeoutMs / 1000} s`), timeoutMs);
      ws.onmessage = (message) => {
        if (typeof message.data !== 'string') return;
        let event: ServerEvent;
        try {
          event = JSON.parse(message.data);
        } catch {
          return;
        }
        if (!settled && event.type === 'session.created') {
          settled = true;
          clearTimeout(timer);
          client.session = event.session;
          resolve(client);
        }
        client.#dispatch(event);
      };
      ws.onclose = (e) => {
        if (!settled) return fail(`could not connect to ${url}${e.code && e.code !== 1006 ? ` (code ${e.code})` : ''}`);
        client.#closed({ code: e.code, reason: e.reason });
      };
    });
  }

  get open(): boolean {
    return this.#ws.readyState === WebSocket.OPEN;
  }

  /** Bytes queued but not yet sent: a stalled network shows here first. */
  get bufferedAmount(): number {
    return this.#ws.bufferedAmount;
  }

  /** Every server event, in order. Returns the unsubscribe function. */
  on(listener: (event: ServerEvent) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** Called once when the socket closes without close() having been called. */
  onUnexpectedClose(listener: (info: CloseInfo) => void): void {
    this.#onClose = listener;
  }

  send(event: Record<string, unknown>): boolean {
    if (!this.open) return false;
    this.#ws.send(JSON.stringify(event));
    return true;
  }

  /** Sends `event` with a fresh event_id; resolves with the reply of `replyType` carrying it as request_id. */
  request<T extends ServerEventType>(event: Record<string, unknown>, replyType: T, timeoutMs = 5000): Promise<EventOf<T>> {
    const eventId = newEventId();
    return new Promise<EventOf<T>>((res, reject) => {
      // #dispatch resolves only with an event whose type is replyType.
      const resolve = res as (event: ServerEvent) => void;
      const timer = setTimeout(() => {
        this.#pending.delete(eventId);
        reject(new RequestError('timeout', `no ${replyType} within ${timeoutMs / 1000} s`));
      }, timeoutMs);
      this.#pending.set(eventId, { replyType, resolve, reject, timer });
      if (!this.send({ ...event, event_id: eventId })) {
        this.#settle(eventId)?.reject(new RequestError('not_connected', 'the connection to the server is closed'));
      }
    });
  }

  close(): void {
    this.#closedByUs = true;
    this.#ws.close(1000, 'client stopped');
    this.#rejectAll('the connection was closed');
  }

  #dispatch(event: ServerEvent): void {
    if (event.type === 'error' && event.error?.event_id) {
      const { code, message } = event.error;
      this.#settle(event.error.event_id)?.reject(new RequestError(code ?? 'error', message ?? 'request failed'));
    } else if ('request_id' in event && typeof event.request_id === 'string') {
      const pending = this.#pending.get(event.request_id);
      if (pending?.replyType === event.type) this.#settle(event.request_id)!.resolve(event);
    }
    for (const listener of this.#listeners) listener(event);
  }

  #settle(eventId: string): Pending | undefined {
    const pending = this.#pending.get(eventId);
    if (!pending) return undefined;
    this.#pending.delete(eventId);
    clearTimeout(pending.timer);
    return pending;
  }

  #rejectAll(message: string): void {
    for (const id of [...this.#pending.keys()]) this.#settle(id)!.reject(new RequestError('not_connected', message));
  }

  #closed(info: CloseInfo): void {
    this.#rejectAll('the connection was closed');
    if (!this.#closedByUs) this.#onClose?.(info);
  }
}

/**
 * The part of a ws WebSocket a RealtimeConnection uses, for unit tests of the protocol layer:
 * messages in through message(), JSON text out in `sent`, and the unsent bytes
 * (`bufferedAmount`) a test sets to play a slow client.
 */
import { EventEmitter } from 'node:events';

export interface SocketStandInOptions {
  /**
   * close() finishes at once (CLOSED, and 'close' emitted) as if the peer answered the
   * handshake; otherwise the socket stays CLOSING, as ws leaves it until the peer answers.
   * @defaultValue false
   */
  closeAtOnce?: boolean;
}

export class SocketStandIn extends EventEmitter {
  readonly OPEN = 1;
  readyState = 1;
  bufferedAmount = 0;
  readonly sent: any[] = [];
  closedWith: [number, string] | undefined;
  readonly #closeAtOnce: boolean;

  constructor({ closeAtOnce = false }: SocketStandInOptions = {}) {
    super();
    this.#closeAtOnce = closeAtOnce;
  }

  send(data: string): void {
    this.sent.push(JSON.parse(data));
  }

  close(code: number, reason: string): void {
    this.closedWith = [code, reason];
    if (!this.#closeAtOnce) {
      this.readyState = 2; // CLOSING
      return;
    }
    this.readyState = 3; // CLOSED
    this.emit('close');
  }

  /** A client message: an event (sent as JSON) or raw text. */
  message(event: unknown): void {
    this.emit('message', Buffer.from(typeof event === 'string' ? event : JSON.stringify(event)), false);
  }
}

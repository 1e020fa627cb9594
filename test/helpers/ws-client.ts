import WebSocket from 'ws';
import { pcm16ToBase64 } from '../../server/audio/pcm.ts';
import { EventLog, type TestServer } from './server.ts';

/** A bare WebSocket Realtime client, for sending what the SDK would never send. */
export class RawClient {
  readonly log = new EventLog();
  readonly ws: WebSocket;
  readonly opened: Promise<void>;

  constructor(t: TestServer, options: { headers?: Record<string, string>; protocols?: string[] } = {}) {
    this.ws = new WebSocket(`ws://127.0.0.1:${t.port}/v1/realtime`, options.protocols ?? [], { headers: options.headers });
    this.ws.on('message', (data) => this.log.push(JSON.parse(data.toString())));
    this.opened = this.log.waitFor('session.created').then(() => undefined);
  }

  send(event: object | string): void {
    this.ws.send(typeof event === 'string' ? event : JSON.stringify(event));
  }

  /** Appends pcm16 in 100 ms events at `rate`; with `realTime`, paced like a microphone. */
  async stream(pcm: Int16Array, rate: number, realTime = false): Promise<void> {
    const step = rate / 10;
    for (let i = 0; i < pcm.length; i += step) {
      this.send({ type: 'input_audio_buffer.append', audio: pcm16ToBase64(pcm.subarray(i, i + step)) });
      if (realTime) await new Promise((r) => setTimeout(r, 100));
    }
  }

  close(): void {
    this.ws.close();
  }
}

/** How the server answered a WebSocket upgrade: opened (with its subprotocol), or refused over HTTP. */
export type UpgradeResult =
  | { opened: true; protocol: string; ws: WebSocket }
  | { opened: false; status: number; headers: Record<string, string | string[] | undefined>; body: string };

export function tryUpgrade(url: string, options: { headers?: Record<string, string>; protocols?: string[] } = {}): Promise<UpgradeResult> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, options.protocols ?? [], { headers: options.headers });
    ws.once('open', () => resolve({ opened: true, protocol: ws.protocol, ws }));
    ws.once('unexpected-response', (_req, res) => {
      let body = '';
      res.on('data', (d: Buffer) => (body += d));
      res.on('end', () => resolve({ opened: false, status: res.statusCode ?? 0, headers: res.headers, body }));
    });
    ws.once('error', (error) => reject(error));
  });
}

import WebSocket from 'ws';
import { pcm16ToBase64 } from '../../server/audio/pcm.ts';
import { EventLog, type TestServer } from './server.ts';

/** A bare WebSocket Realtime client, for sending what the SDK would never send. */
export class RawClient {
  readonly log = new EventLog();
  readonly ws: WebSocket;
  readonly opened: Promise<void>;

  constructor(t: TestServer) {
    this.ws = new WebSocket(`ws://127.0.0.1:${t.port}/v1/realtime`);
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

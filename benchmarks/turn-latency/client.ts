/**
 * The turn-latency benchmark's client side: one WebSocket session with every server event
 * logged (arrival time, order), waits on the log, and the audio bookkeeping a player would do.
 */
import WebSocket from 'ws';
import { pcm16FromBase64 } from '../../server/audio/pcm.ts';
import { EventLog } from '../../test/helpers/server.ts';
import { OUTPUT_RATE } from './mic.ts';

export type Event = { type: string; seq: number; recvAt: number } & Record<string, any>;

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
export const round1 = (x: number) => Math.round(x * 10) / 10;
export const progress = (line: string) => process.stderr.write(`${line}\n`);
export const words = (s: string) => s.toLowerCase().replace(/[^a-z' ]+/g, ' ').trim().split(/\s+/).filter(Boolean);

/** Promise.race whose losers cannot end up as unhandled rejections (their timeouts still fire). */
export function firstOf<T>(...promises: Promise<T>[]): Promise<T> {
  for (const p of promises) p.catch(() => {});
  return Promise.race(promises);
}

export const audioMs = (e: Event) => (pcm16FromBase64(e.delta).length * 1000) / OUTPUT_RATE;

/** Audio gaps a client would hear: a delta arriving after everything before it has played. */
export function playbackGaps(deltas: Event[]): number[] {
  const gaps: number[] = [];
  let playedUntil = 0;
  for (const d of deltas) {
    if (playedUntil && d.recvAt > playedUntil) gaps.push(d.recvAt - playedUntil);
    playedUntil = Math.max(playedUntil, d.recvAt) + audioMs(d);
  }
  return gaps;
}

/** Lets the client play what it has buffered, so the next step starts in quiet. */
export async function drain(deltas: Event[]): Promise<void> {
  let playedUntil = 0;
  for (const d of deltas) playedUntil = Math.max(playedUntil, d.recvAt) + audioMs(d);
  await sleep(Math.max(0, playedUntil - performance.now()) + 200);
}

export class Client {
  readonly log = new EventLog();
  readonly ws: WebSocket;
  /** Sequence number of the last event received. */
  seq = 0;
  readonly problems: string[] = [];

  private constructor(url: string) {
    this.ws = new WebSocket(url);
    this.ws.on('message', (data) => {
      const recvAt = performance.now();
      this.log.push({ ...JSON.parse(data.toString()), seq: ++this.seq, recvAt });
    });
  }

  static async connect(url: string): Promise<{ client: Client; created: Event }> {
    const client = new Client(url);
    await new Promise<void>((resolve, reject) => (client.ws.once('open', resolve), client.ws.once('error', reject)));
    const created = (await client.log.waitFor('session.created')) as Event;
    return { client, created };
  }

  get events(): Event[] {
    return this.log.events as unknown as Event[];
  }

  send(event: Record<string, unknown>): void {
    this.ws.send(JSON.stringify(event));
  }

  problem(text: string): void {
    this.problems.push(text);
    progress(`  ! ${text}`);
  }

  /** The next event of a type after a point in the log (seq), optionally matching. */
  next(type: string, after: number, match: (e: Event) => boolean = () => true, timeoutMs = 30_000): Promise<Event> {
    return this.log.waitFor(type, (e) => (e as Event).seq > after && match(e as Event), timeoutMs) as Promise<Event>;
  }

  /** Events of a type after a point in the log, up to an optional end (exclusive). */
  between(type: string, after: number, before = Infinity, match: (e: Event) => boolean = () => true): Event[] {
    return this.events.filter((e) => e.type === type && e.seq > after && e.seq < before && match(e));
  }

  deltasOf(responseId: string): Event[] {
    return this.events.filter((e) => e.type === 'response.output_audio.delta' && e.response_id === responseId);
  }

  /**
   * Switches turn detection with session.update and waits for session.updated; returns the
   * turn_detection the server reports.
   */
  async setTurnDetection(turnDetection: Record<string, unknown>): Promise<Record<string, any> | null> {
    const mark = this.seq;
    this.send({ type: 'session.update', session: { type: 'realtime', audio: { input: { turn_detection: turnDetection } } } });
    const outcome = await firstOf(this.next('session.updated', mark, () => true, 10_000), this.next('error', mark, () => true, 10_000));
    if (outcome.type === 'error') throw new Error(`session.update ${JSON.stringify(turnDetection)} failed: ${outcome.error?.code}: ${outcome.error?.message}`);
    return outcome.session?.audio?.input?.turn_detection ?? null;
  }
}

/**
 * One live benchmark session over the Realtime WebSocket, as a person at a camera would use
 * it: a microphone that streams pcm16 in real time for the whole session (silence between
 * sentences), a camera that sends a JPEG every second and changes scene every so often, and a
 * conversation — say a sentence, wait for the answer and listen to it (played out at real
 * time), pause, say the next one. Each turn is measured from the event stream:
 *   - audio lag: how far behind real time the server processed the audio at the VAD's two
 *     decisions of the turn (speech_started, speech_stopped), from when the chunk completing
 *     each deciding frame was sent to when the event arrived;
 *   - the server's `omnilive.metrics` (pipeline overhead, stage latencies, engine compute);
 *   - first answer audio after the last speech sample was sent (the client's view).
 * Built for long runs: events are kept in a bounded window and audio payloads are dropped
 * once measured.
 */
import WebSocket from 'ws';
import { pcm16FromBase64 } from '../../server/audio/pcm.ts';
import { Mic, OUTPUT_RATE, type Utterance } from '../turn-latency/mic.ts';
import type { Scene } from './media.ts';

export type Event = { type: string; seq: number; recvAt: number } & Record<string, any>;

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
const round1 = (x: number) => Math.round(x * 10) / 10;

/** Silero's frame on the 16 kHz media clock: every VAD decision falls at a frame's end. */
const VAD_FRAME_MS = 32;
/** server_vad's minimum run of speech frames before speech_started (segmenter.ts, not configurable over the wire). */
const MIN_SPEECH_MS = 64;
/** The 24 → 16 kHz resampler needs this much input past a sample before it emits it. */
const RESAMPLER_LOOKAHEAD_MS = 26 / 24;
/** Events kept for lookups; older ones are dropped (a turn needs a few hundred at most). */
const EVENT_WINDOW = 4000;

export interface TurnRecord {
  session: number;
  /** performance.now() when the chunk holding the last speech sample was sent. */
  at: number;
  said: string;
  heard: string | null;
  /** answered (completed), cancelled, ignored:<reason>, not_detected, no_end_of_turn, no_transcript, no_response, error, stopped. */
  status: string;
  /** speech_started arrival − send time of the chunk completing the VAD's minimum speech run. */
  startLagMs: number | null;
  /** speech_stopped arrival − send time of the chunk completing the silence that ended the turn. */
  stopLagMs: number | null;
  /** The server's own view of the same: omnilive.metrics end_of_turn minus the silence it waits for. */
  serverStopLagMs: number | null;
  /** omnilive.metrics pipeline_overhead_ms. */
  overheadMs: number | null;
  latency: Record<string, number | null> | null;
  compute: Record<string, number | null> | null;
  /** First answer audio delta − send time of the chunk holding the last speech sample. */
  clientFirstAudioMs: number | null;
  answerAudioMs: number;
  /** What the answer said (its audio transcript), for reading a run's failures. */
  answer?: string;
}

export interface LiveSessionOptions {
  url: string;
  /** Names the session in records and messages. */
  index: number;
  lines: readonly Utterance[];
  scenes: readonly Scene[];
  random: () => number;
  /** Quiet after an answer has played out (or a turn was ignored), before the next sentence. @defaultValue [2000, 5000] */
  pauseMs?: [number, number];
  /** How long a scene stays on camera. @defaultValue [8000, 20000] */
  sceneMs?: [number, number];
  /** Send camera frames at 1 fps. @defaultValue true */
  video?: boolean;
  /** Mic chunk length. @defaultValue 20 */
  chunkMs?: number;
  onTurn?: (turn: TurnRecord) => void;
  onProblem?: (text: string) => void;
}

/** Bounded event log with waits: the few lookups a turn needs, without keeping a whole run. */
class EventWindow {
  seq = 0;
  readonly #events: Event[] = [];
  readonly #waiters = new Set<{ match: (e: Event) => boolean; resolve: (e: Event) => void }>();

  push(e: Event): void {
    this.#events.push(e);
    if (this.#events.length > EVENT_WINDOW) this.#events.splice(0, EVENT_WINDOW / 2);
    for (const w of this.#waiters) {
      if (w.match(e)) {
        this.#waiters.delete(w);
        w.resolve(e);
      }
    }
  }

  between(type: string, after: number, match: (e: Event) => boolean = () => true): Event[] {
    return this.#events.filter((e) => e.type === type && e.seq > after && match(e));
  }

  /** The first event of `type` after `after` that matches, seen or to come. */
  next(type: string, after: number, match: (e: Event) => boolean, timeoutMs: number): Promise<Event> {
    const seen = this.#events.find((e) => e.type === type && e.seq > after && match(e));
    if (seen) return Promise.resolve(seen);
    return new Promise((resolve, reject) => {
      const waiter = {
        match: (e: Event) => e.type === type && match(e),
        resolve: (e: Event) => {
          clearTimeout(timer);
          resolve(e);
        },
      };
      const timer = setTimeout(() => {
        this.#waiters.delete(waiter);
        reject(new Error(`no ${type} within ${timeoutMs} ms`));
      }, timeoutMs);
      this.#waiters.add(waiter);
    });
  }

  /** Fails every wait at once (the connection closed). */
  abort(why: string): void {
    for (const w of this.#waiters) w.resolve({ type: 'closed', seq: Infinity, recvAt: performance.now(), why });
    this.#waiters.clear();
  }
}

/** The answer as a player hears it: first audio, and when what arrived has played out. */
interface Playback {
  firstAt: number;
  playedUntil: number;
  audioMs: number;
}

export class LiveSession {
  readonly index: number;
  readonly #o: Required<Omit<LiveSessionOptions, 'onTurn' | 'onProblem'>> & Pick<LiveSessionOptions, 'onTurn' | 'onProblem'>;
  readonly #ws: WebSocket;
  readonly #events = new EventWindow();
  readonly #playback = new Map<string, Playback>();
  readonly #transcripts = new Map<string, string>();
  readonly #mic: Mic;
  #videoTimer: NodeJS.Timeout | undefined;
  #running: Promise<void> | undefined;
  #stopping = false;
  #closed = false;
  #silenceMs = 500;
  #turnStartedAt: number | undefined;
  /** Error events by code. */
  readonly errors: Record<string, number> = {};
  readonly turns: TurnRecord[] = [];
  framesSent = 0;

  private constructor(ws: WebSocket, options: LiveSessionOptions) {
    this.index = options.index;
    this.#o = { pauseMs: [2000, 5000], sceneMs: [8000, 20000], video: true, chunkMs: 20, ...options };
    this.#ws = ws;
    this.#mic = new Mic(ws, this.#o.chunkMs);
    ws.on('message', (data) => this.#onMessage(data.toString()));
    ws.on('close', () => this.#events.abort('closed'));
  }

  /** Connects, sets server_vad turn detection, and starts the mic, the camera and the conversation. */
  static async open(options: LiveSessionOptions): Promise<LiveSession> {
    const ws = new WebSocket(options.url);
    await new Promise<void>((resolve, reject) => {
      ws.once('open', resolve);
      ws.once('error', reject);
    });
    const s = new LiveSession(ws, options);
    try {
      const created = await s.#events.next('session.created', 0, () => true, 15_000);
      if (created.type === 'closed') throw new Error('the server closed the connection before session.created');
      const mark = s.#events.seq;
      s.send({ type: 'session.update', session: { type: 'realtime', audio: { input: { turn_detection: { type: 'server_vad' } } } } });
      const updated = await s.#events.next('session.updated', mark, () => true, 10_000);
      s.#silenceMs = updated.session?.audio?.input?.turn_detection?.silence_duration_ms ?? 500;
    } catch (error) {
      ws.terminate();
      throw error;
    }
    s.#mic.start();
    if (s.#o.video && s.#o.scenes.length) s.#startCamera();
    s.#running = s.#converse();
    return s;
  }

  get open(): boolean {
    return this.#ws.readyState === WebSocket.OPEN;
  }

  /** performance.now() when the turn in progress began (its sentence started), if one is. */
  get turnStartedAt(): number | undefined {
    return this.#turnStartedAt;
  }

  /** The mic's send lateness so far (ms): how late this process got chunks out. */
  get micLateness(): readonly number[] {
    return this.#mic.lateness;
  }

  send(event: Record<string, unknown>): void {
    if (this.#ws.readyState === WebSocket.OPEN) this.#ws.send(JSON.stringify(event));
  }

  /**
   * Drain: lets the turn in progress finish (bounded by `timeoutMs`), then stops the camera and
   * the mic and closes the socket. Idempotent.
   */
  async close(timeoutMs = 30_000): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#stopping = true;
    await Promise.race([this.#running, sleep(timeoutMs)]);
    clearInterval(this.#videoTimer);
    this.#mic.stop();
    if (this.#ws.readyState === WebSocket.OPEN || this.#ws.readyState === WebSocket.CONNECTING) {
      const closed = new Promise<void>((resolve) => this.#ws.once('close', () => resolve()));
      this.#ws.close(1000, 'benchmark done');
      await Promise.race([closed, sleep(5000)]);
    }
    this.#events.abort('closed');
  }

  #problem(text: string): void {
    this.#o.onProblem?.(`session ${this.index}: ${text}`);
  }

  #onMessage(text: string): void {
    const recvAt = performance.now();
    let e: Event;
    try {
      e = { ...JSON.parse(text), seq: ++this.#events.seq, recvAt };
    } catch {
      return this.#problem('a server message that is not JSON');
    }
    if (e.type === 'response.output_audio.delta') {
      // Play it as a client would: it starts when it arrives or when the audio before it ends.
      const ms = (pcm16FromBase64(e.delta).length * 1000) / OUTPUT_RATE;
      e.delta = '';
      const p = this.#playback.get(e.response_id) ?? { firstAt: recvAt, playedUntil: recvAt, audioMs: 0 };
      p.playedUntil = Math.max(p.playedUntil, recvAt) + ms;
      p.audioMs += ms;
      this.#playback.set(e.response_id, p);
    } else if (e.type === 'response.output_audio_transcript.delta') {
      this.#transcripts.set(e.response_id, (this.#transcripts.get(e.response_id) ?? '') + e.delta);
    } else if (e.type === 'error') {
      const code = e.error?.code ?? 'unknown';
      this.errors[code] = (this.errors[code] ?? 0) + 1;
      if (this.errors[code] <= 3) this.#problem(`server error ${code}: ${e.error?.message}`);
    }
    this.#events.push(e);
  }

  #startCamera(): void {
    const { scenes, sceneMs, random } = this.#o;
    let scene = Math.floor(random() * scenes.length);
    let sceneEnds = performance.now() + sceneMs[0] + random() * (sceneMs[1] - sceneMs[0]);
    this.#videoTimer = setInterval(() => {
      if (performance.now() >= sceneEnds) {
        scene = (scene + 1 + Math.floor(random() * (scenes.length - 1))) % scenes.length;
        sceneEnds = performance.now() + sceneMs[0] + random() * (sceneMs[1] - sceneMs[0]);
      }
      this.send({ type: 'omnilive.video_frame.append', image: scenes[scene]!.jpeg });
      this.framesSent++;
    }, 1000);
  }

  async #converse(): Promise<void> {
    const { lines, random, pauseMs } = this.#o;
    // Sessions start at different moments, as people do.
    await sleep(random() * 3000);
    let next = Math.floor(random() * lines.length);
    while (!this.#stopping && this.open) {
      this.#turnStartedAt = performance.now();
      const turn = await this.#turn(lines[next % lines.length]!);
      this.#turnStartedAt = undefined;
      next++;
      this.turns.push(turn);
      this.#o.onTurn?.(turn);
      if (this.#stopping) break;
      await sleep(pauseMs[0] + random() * (pauseMs[1] - pauseMs[0]));
    }
  }

  /** Says one sentence and follows its turn to the end of the answer's playback. */
  async #turn(u: Utterance): Promise<TurnRecord> {
    const ev = this.#events;
    const mic = this.#mic;
    const r: TurnRecord = {
      session: this.index,
      at: 0,
      said: u.text,
      heard: null,
      status: 'no_response',
      startLagMs: null,
      stopLagMs: null,
      serverStopLagMs: null,
      overheadMs: null,
      latency: null,
      compute: null,
      clientFirstAudioMs: null,
      answerAudioMs: 0,
    };
    const mark = ev.seq;
    const fail = (status: string, why?: string) => {
      r.status = status;
      if (why && !this.#stopping) this.#problem(`"${u.text}": ${why}`);
      return r;
    };
    try {
      const said = await mic.say(u);
      r.at = said.offsetAt;
      // Flite's trailing quiet is out; the VAD's decisions on it may still be on their way.
      await sleep(300);
      const started = ev.between('input_audio_buffer.speech_started', mark).at(-1) ?? (await ev.next('input_audio_buffer.speech_started', mark, () => true, 3000).catch(() => undefined));
      if (!started || started.type === 'closed') return fail('not_detected', 'never detected as speech');
      const startChunk = mic.sentAtMedia(started.audio_start_ms + MIN_SPEECH_MS + RESAMPLER_LOOKAHEAD_MS);
      if (startChunk !== undefined) r.startLagMs = round1(started.recvAt - startChunk);
      const stopped = await ev.next('input_audio_buffer.speech_stopped', mark, (e) => e.item_id === started.item_id, 10_000).catch(() => undefined);
      if (!stopped || stopped.type === 'closed') return fail('no_end_of_turn', 'no speech_stopped within 10 s');
      const waitedMs = Math.ceil(this.#silenceMs / VAD_FRAME_MS) * VAD_FRAME_MS;
      const stopChunk = mic.sentAtMedia(stopped.audio_end_ms + waitedMs + RESAMPLER_LOOKAHEAD_MS);
      if (stopChunk !== undefined) r.stopLagMs = round1(stopped.recvAt - stopChunk);
      const heard = await ev.next('conversation.item.input_audio_transcription.completed', mark, (e) => e.item_id === started.item_id, 30_000).catch(() => undefined);
      if (!heard || heard.type === 'closed') return fail('no_transcript', 'no transcript within 30 s');
      r.heard = heard.transcript;
      const outcome = await Promise.race([
        ev.next('response.created', started.seq, () => true, 30_000),
        ev.next('omnilive.turn.ignored', mark, (e) => e.item_id === started.item_id, 30_000),
      ]).catch(() => undefined);
      if (!outcome || outcome.type === 'closed') return fail('no_response', `heard "${heard.transcript}" but no answer nor turn.ignored within 30 s`);
      if (outcome.type === 'omnilive.turn.ignored') return fail(`ignored:${outcome.reason}`);
      const id = outcome.response.id as string;
      const done = await ev.next('response.done', outcome.seq, (e) => e.response?.id === id, 120_000).catch(() => undefined);
      if (!done || done.type === 'closed') return fail('no_response', 'the answer did not finish within 120 s');
      r.status = done.response.status === 'completed' ? 'answered' : done.response.status;
      const metrics = await ev.next('omnilive.metrics', outcome.seq, (e) => e.response_id === id, 5000).catch(() => undefined);
      if (metrics && metrics.type !== 'closed') {
        r.overheadMs = metrics.pipeline_overhead_ms ?? null;
        r.latency = metrics.latency_ms ?? null;
        r.compute = metrics.compute_ms ?? null;
        const eot = metrics.latency_ms?.end_of_turn;
        if (typeof eot === 'number') r.serverStopLagMs = round1(eot - waitedMs);
      } else if (r.status === 'answered') {
        this.#problem(`no omnilive.metrics for answer ${id}`);
      }
      const playback = this.#playback.get(id);
      this.#playback.delete(id);
      r.answer = this.#transcripts.get(id);
      // Transcripts of other answers (none expected) go with this turn's.
      this.#transcripts.clear();
      if (playback) {
        r.clientFirstAudioMs = round1(playback.firstAt - said.offsetAt);
        r.answerAudioMs = round1(playback.audioMs);
        // Listen to the rest of the answer before talking again.
        await sleep(Math.max(0, playback.playedUntil - performance.now()) + 200);
      }
      // Answers other than this turn's (none expected) must not pile up.
      for (const [other, p] of this.#playback) if (performance.now() - p.playedUntil > 60_000) this.#playback.delete(other);
      return r;
    } catch (error) {
      return fail('error', (error as Error).message);
    }
  }
}

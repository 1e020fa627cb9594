/**
 * Turn-latency benchmark: a real OmniLive server with its default engines, driven over
 * ws:// by a client that behaves like a live microphone (pcm16 chunks at real time — 20 ms
 * by default, as WebRTC frames its audio — silence when nobody talks). Measures spoken turns (speech end → first answer
 * audio) and barge-ins (speech onset → answer cancelled), prints one JSON document and a
 * table to stdout, progress to stderr.
 *
 *   node --import tsx benchmarks/turn-latency/index.ts [--turns N] [--barge-ins M] [--seed S] [--chunk-ms MS]
 */
import os from 'node:os';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import WebSocket from 'ws';
import { pcm16ToBase64, pcm16FromBase64 } from '../../server/audio/pcm.ts';
import { Resampler } from '../../server/audio/resampler.ts';
import { EventLog, startServer } from '../../test/helpers/server.ts';
import { closeSpeech, speak } from '../../test/helpers/speech.ts';
import { describeMachine } from '../../server/eval/machine.ts';
import { seededRandom } from '../seeded-random.ts';

// ---- arguments ----

const { values: args } = parseArgs({
  options: { turns: { type: 'string', default: '10' }, 'barge-ins': { type: 'string', default: '10' }, seed: { type: 'string', default: '1' }, 'chunk-ms': { type: 'string', default: '20' } },
});

const INPUT_RATE = 24000; // the default session's input format
const OUTPUT_RATE = 24000;
const CHUNK_MS = Number(args['chunk-ms']);
const CHUNK = (INPUT_RATE * CHUNK_MS) / 1000;
/** |sample| at or above this (−40 dBFS) counts as speech: Flite pads with ~−55 dBFS noise. */
const SPEECH_LEVEL = 328;
/** Half the server's 24→16 kHz filter (26 input samples): the last ~1 ms of a chunk waits for the next. */
const RESAMPLER_LOOKAHEAD_MS = 26 / 24;

// Sentences pocketsphinx transcribes well from Flite's slt voice.
const QUESTIONS = ['what is the weather like today', 'tell me a long story about the sea', 'what is the color of the car'];
const INTERRUPTIONS = ['stop please I have another question', 'wait a moment please', 'tell me about the car instead'];
const TYPED_QUESTION = 'what did I say about the weather';

const GOALS = { overheadP50: 30, overheadP95: 60, bargeInP95: 150 };

type Event = { type: string; seq: number; recvAt: number } & Record<string, any>;


const TURNS = count('turns', args.turns);
const BARGE_INS = count('barge-ins', args['barge-ins']);
const random = seededRandom(Number(args.seed) || 1);

function count(name: string, value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0) throw new TypeError(`--${name} must be a non-negative integer, got '${value}'`);
  return n;
}

// ---- helpers ----


const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
const round1 = (x: number) => Math.round(x * 10) / 10;
const progress = (line: string) => process.stderr.write(`${line}\n`);
const roundAll = (o: Record<string, number | null>) => Object.fromEntries(Object.entries(o).map(([k, v]) => [k, v === null ? null : round1(v)]));
const words = (s: string) => s.toLowerCase().replace(/[^a-z' ]+/g, ' ').trim().split(/\s+/).filter(Boolean);

interface Summary {
  n: number;
  median: number | null;
  p95: number | null;
  min: number | null;
  max: number | null;
}

/** Median (mean of the middle two when even) and nearest-rank p95. */
function summarize(values: (number | null | undefined)[]): Summary {
  const v = values.filter((x): x is number => typeof x === 'number' && Number.isFinite(x)).sort((a, b) => a - b);
  if (v.length === 0) return { n: 0, median: null, p95: null, min: null, max: null };
  const mid = v.length >> 1;
  const median = v.length % 2 ? v[mid]! : (v[mid - 1]! + v[mid]!) / 2;
  const p95 = v[Math.min(v.length - 1, Math.ceil(0.95 * v.length) - 1)]!;
  return { n: v.length, median: round1(median), p95: round1(p95), min: round1(v[0]!), max: round1(v[v.length - 1]!) };
}

/** Flite speech at the session's input rate, with where the speech itself starts and ends. */
async function utterance(text: string) {
  const pcm = Resampler.convert(await speak(text), 16000, INPUT_RATE);
  let onset = -1;
  let offset = -1;
  for (let i = 0; i < pcm.length; i++) {
    if (Math.abs(pcm[i]!) < SPEECH_LEVEL) continue;
    if (onset < 0) onset = i;
    offset = i;
  }
  return { text, pcm, onset, offset };
}
type Utterance = Awaited<ReturnType<typeof utterance>>;
interface Speaking {
  u: Utterance;
  firstChunk: number; // index of the chunk holding the utterance's first sample
  pos: number; // next sample to send
  onsetAt?: number;
  offsetAt?: number;
  done: () => void;
}

/**
 * A live microphone: sends one chunk every CHUNK_MS for the whole run (silence unless
 * something is being said), because a live session's clock only moves with input audio.
 */
class Mic {
  readonly #ws: WebSocket;
  #t0 = 0;
  #sent = 0;
  #timer: NodeJS.Timeout | undefined;
  #speech: Speaking | undefined;
  /** Wall time each chunk left, by chunk index: chunk k holds media ms [k·CHUNK_MS, (k+1)·CHUNK_MS). */
  readonly sentAt: number[] = [];
  /** How late each chunk left versus its schedule: shows event-loop stalls (the server shares this process). */
  readonly lateness: number[] = [];

  constructor(ws: WebSocket) {
    this.#ws = ws;
  }

  start(): void {
    this.#t0 = performance.now();
    this.#tick();
  }

  stop(): void {
    clearTimeout(this.#timer);
  }

  /**
   * Queues speech; resolves with the wall times the chunks holding its onset and offset
   * left, and where onset and offset fall on the session's media clock.
   */
  say(u: Utterance): Promise<{ onsetAt: number; offsetAt: number; onsetMs: number; offsetMs: number }> {
    if (this.#speech) throw new Error('the mic is already playing speech');
    return new Promise((resolve) => {
      const speech: Speaking = {
        u,
        firstChunk: -1,
        pos: 0,
        done: () => {
          const mediaMs = (sample: number) => ((speech.firstChunk * CHUNK + sample) * 1000) / INPUT_RATE;
          resolve({ onsetAt: speech.onsetAt!, offsetAt: speech.offsetAt!, onsetMs: mediaMs(u.onset), offsetMs: mediaMs(u.offset) });
        },
      };
      this.#speech = speech;
    });
  }

  /** When the chunk holding a media time left (undefined: not sent yet). */
  sentAtMedia(ms: number): number | undefined {
    return this.sentAt[Math.floor(ms / CHUNK_MS)];
  }

  #tick = (): void => {
    const now = performance.now();
    // Catch up after a stall, like a buffered mic would, rather than skip audio.
    while (this.#t0 + this.#sent * CHUNK_MS <= now) {
      this.lateness.push(now - (this.#t0 + this.#sent * CHUNK_MS));
      this.#send();
    }
    this.#timer = setTimeout(this.#tick, this.#t0 + this.#sent * CHUNK_MS - performance.now());
  };

  #send(): void {
    const chunk = new Int16Array(CHUNK);
    const s = this.#speech;
    if (s) chunk.set(s.u.pcm.subarray(s.pos, s.pos + CHUNK));
    if (this.#ws.readyState === WebSocket.OPEN) this.#ws.send(JSON.stringify({ type: 'input_audio_buffer.append', audio: pcm16ToBase64(chunk) }));
    const sentAt = performance.now();
    this.sentAt.push(sentAt);
    this.#sent++;
    if (!s) return;
    if (s.firstChunk < 0) s.firstChunk = this.#sent - 1;
    const end = s.pos + CHUNK;
    if (s.u.onset >= s.pos && s.u.onset < end) s.onsetAt = sentAt;
    if (s.u.offset >= s.pos && s.u.offset < end) s.offsetAt = sentAt;
    s.pos = end;
    if (s.pos >= s.u.pcm.length) {
      this.#speech = undefined;
      s.done();
    }
  }
}

// ---- setup ----

const loadAtStart = os.loadavg().map(round1);
progress(`starting OmniLive (default engines)…`);
const server = await startServer();
const [questions, interruptions] = await Promise.all([Promise.all(QUESTIONS.map(utterance)), Promise.all(INTERRUPTIONS.map(utterance))]);

const log = new EventLog();
let seq = 0;
const ws = new WebSocket(`ws://127.0.0.1:${server.port}/v1/realtime`);
ws.on('message', (data) => {
  const recvAt = performance.now();
  log.push({ ...JSON.parse(data.toString()), seq: ++seq, recvAt });
});
await new Promise<void>((resolve, reject) => (ws.once('open', resolve), ws.once('error', reject)));
const created = (await log.waitFor('session.created')) as Event;
const send = (event: Record<string, unknown>) => ws.send(JSON.stringify(event));
const mic = new Mic(ws);
mic.start();
// Stalls of the shared event loop delay VAD and audio for every session: watch them during the run only.
const EVENT_LOOP_RESOLUTION_MS = 10;
const eventLoop = monitorEventLoopDelay({ resolution: EVENT_LOOP_RESOLUTION_MS });
eventLoop.enable();

/** The next event of a type after a point in the log (seq), optionally matching. */
const next = (type: string, after: number, match: (e: Event) => boolean = () => true, timeoutMs = 30_000) =>
  log.waitFor(type, (e) => (e as Event).seq > after && match(e as Event), timeoutMs) as Promise<Event>;
/** Promise.race whose losers cannot end up as unhandled rejections (their timeouts still fire). */
function firstOf<T>(...promises: Promise<T>[]): Promise<T> {
  for (const p of promises) p.catch(() => {});
  return Promise.race(promises);
}
const deltasOf = (responseId: string) => log.events.filter((e) => e.type === 'response.output_audio.delta' && e.response_id === responseId) as unknown as Event[];
const audioMs = (e: Event) => (pcm16FromBase64(e.delta).length * 1000) / OUTPUT_RATE;

/** Audio gaps a client would hear: a delta arriving after everything before it has played. */
function playbackGaps(deltas: Event[]): number[] {
  const gaps: number[] = [];
  let playedUntil = 0;
  for (const d of deltas) {
    if (playedUntil && d.recvAt > playedUntil) gaps.push(d.recvAt - playedUntil);
    playedUntil = Math.max(playedUntil, d.recvAt) + audioMs(d);
  }
  return gaps;
}

/** Lets the client play what it has buffered, so the next step starts in quiet. */
async function drain(deltas: Event[]): Promise<void> {
  let playedUntil = 0;
  for (const d of deltas) playedUntil = Math.max(playedUntil, d.recvAt) + audioMs(d);
  await sleep(Math.max(0, playedUntil - performance.now()) + 200);
}

const problems: string[] = [];
const problem = (text: string) => (problems.push(text), progress(`  ! ${text}`));

// ---- spoken turns ----

interface TurnResult {
  said: string;
  heard: string | null;
  status: string;
  clientFirstAudioMs: number | null;
  /** Where the VAD put the end of speech, after the last speech sample (media ms). */
  vadEndLagMs: number | null;
  /** The server's speech-end mark minus when the chunk holding audio_end_ms left: should be ~0. */
  speechEndSkewMs: number | null;
  metrics: Event | null;
  gaps: number[];
}
const turns: TurnResult[] = [];

for (let i = 0; i < TURNS; i++) {
  const u = questions[i % questions.length]!;
  const mark = seq;
  const sent = mic.say(u);
  const result: TurnResult = { said: u.text, heard: null, status: 'no_response', clientFirstAudioMs: null, vadEndLagMs: null, speechEndSkewMs: null, metrics: null, gaps: [] };
  turns.push(result);
  try {
    const stopped = await next('input_audio_buffer.speech_stopped', mark);
    const heard = await next('conversation.item.input_audio_transcription.completed', mark, (e) => e.item_id === stopped.item_id);
    result.heard = heard.transcript;
    // The turn either gets an answer or is filtered out (empty or filler transcript).
    const outcome = await firstOf(
      next('response.created', mark),
      next('omnilive.turn.ignored', mark, (e) => e.item_id === stopped.item_id),
    );
    if (outcome.type === 'omnilive.turn.ignored') {
      result.status = `ignored:${outcome.reason}`;
      problem(`turn ${i + 1}: "${u.text}" heard as "${heard.transcript}" was ignored (${outcome.reason})`);
    } else {
      const id = outcome.response.id as string;
      const done = await next('response.done', outcome.seq, (e) => e.response.id === id, 60_000);
      const metrics = await next('omnilive.metrics', outcome.seq, (e) => e.response_id === id, 5_000).catch(() => null);
      const { offsetAt, offsetMs } = await sent;
      const deltas = deltasOf(id);
      result.vadEndLagMs = round1(stopped.audio_end_ms - offsetMs);
      result.status = done.response.status;
      result.metrics = metrics;
      result.clientFirstAudioMs = deltas[0] ? round1(deltas[0].recvAt - offsetAt) : null;
      // The server's latencies count from its own speech-end mark; recover it from the first
      // delta (same clock, same process) and compare with when that audio was really sent.
      const endChunkAt = mic.sentAtMedia(stopped.audio_end_ms);
      if (deltas[0] && metrics?.latency_ms.first_audio_delta != null && endChunkAt !== undefined) {
        result.speechEndSkewMs = round1(deltas[0].recvAt - metrics.latency_ms.first_audio_delta - endChunkAt);
        if (Math.abs(result.speechEndSkewMs) > CHUNK_MS / 2) {
          problem(`turn ${i + 1}: the server dated the end of speech (audio_end_ms ${stopped.audio_end_ms}) ${result.speechEndSkewMs} ms after the chunk holding it was sent, so its latencies read short`);
        }
      }
      result.gaps = playbackGaps(deltas);
      checkTurnOrder(i + 1, [stopped, heard, outcome, deltas[0], done, metrics]);
      await drain(deltas);
    }
  } catch (error) {
    problem(`turn ${i + 1}: "${u.text}": ${(error as Error).message}`);
  }
  await sent;
  const m = result.metrics;
  progress(
    `turn ${i + 1}/${TURNS}: said "${u.text}" heard "${result.heard ?? '—'}" ${result.status}` +
      (m ? `; first audio ${m.latency_ms.first_audio_delta} ms after speech end (client ${result.clientFirstAudioMs} ms), overhead ${m.pipeline_overhead_ms} ms` : ''),
  );
}

/** Events of one turn must arrive in pipeline order. */
function checkTurnOrder(turn: number, chain: (Event | null | undefined)[]): void {
  const names = ['speech_stopped', 'transcription.completed', 'response.created', 'first audio delta', 'response.done', 'omnilive.metrics'];
  let last: Event | undefined;
  chain.forEach((e, k) => {
    if (!e) return problem(`turn ${turn}: no ${names[k]}`);
    if (last && e.seq < last.seq) problem(`turn ${turn}: ${names[k]} (#${e.seq}) arrived before ${names[chain.indexOf(last)]} (#${last.seq})`);
    last = e;
  });
}

// ---- barge-ins ----

interface BargeInResult {
  said: string;
  status: string;
  speechStartedMs: number | null;
  /** Where the VAD put the start of speech, after the first speech sample (media ms). */
  vadOnsetLagMs: number | null;
  /** speech_started after the chunk completing the VAD's minimum speech run left: the server's own share. */
  serverReactionMs: number | null;
  cancelledMs: number | null;
  lastDeltaMs: number | null;
  lateDeltas: number;
  audioSentMs: number | null;
  audioHeardMs: number | null;
  heard: string | null;
  followUp: string;
  clientCancelMs: number | null;
}
const bargeIns: BargeInResult[] = [];

for (let i = 0; i < BARGE_INS; i++) {
  const u = interruptions[i % interruptions.length]!;
  const r: BargeInResult = { said: u.text, status: 'no_response', speechStartedMs: null, vadOnsetLagMs: null, serverReactionMs: null, cancelledMs: null, lastDeltaMs: null, lateDeltas: 0, audioSentMs: null, audioHeardMs: null, heard: null, followUp: 'none', clientCancelMs: null };
  bargeIns.push(r);
  let sent: Promise<unknown> = Promise.resolve();
  try {
    const mark = seq;
    send({ type: 'conversation.item.create', item: { type: 'message', role: 'user', content: [{ type: 'input_text', text: TYPED_QUESTION }] } });
    send({ type: 'response.create' });
    const answer = await next('response.created', mark);
    const id = answer.response.id as string;
    await next('response.output_audio.delta', answer.seq, (e) => e.response_id === id);
    await sleep(300 + random() * 1200);
    const talk = seq;
    const said = mic.say(u);
    sent = said;
    const started = await next('input_audio_buffer.speech_started', talk, () => true, 10_000);
    const done = await next('response.done', answer.seq, (e) => e.response.id === id, 15_000);
    const { onsetAt, onsetMs } = await said;
    // speech_started is due once minSpeechMs (64 ms) of speech frames from audio_start_ms
    // arrived, plus the 24→16 kHz resampler's ~1.1 ms look-ahead.
    const decidingChunkAt = mic.sentAtMedia(started.audio_start_ms + 64 + RESAMPLER_LOOKAHEAD_MS);
    // Anything of the cancelled answer still on the wire would arrive within a few ms.
    await sleep(300);
    const deltas = deltasOf(id);
    const last = deltas.filter((d) => d.seq < done.seq).at(-1);
    r.status = done.response.status;
    r.speechStartedMs = round1(started.recvAt - onsetAt);
    r.vadOnsetLagMs = round1(started.audio_start_ms - onsetMs);
    r.serverReactionMs = decidingChunkAt === undefined ? null : round1(started.recvAt - decidingChunkAt);
    r.cancelledMs = round1(done.recvAt - onsetAt);
    r.lastDeltaMs = last ? round1(last.recvAt - onsetAt) : null;
    r.lateDeltas = deltas.filter((d) => d.seq > done.seq).length;
    r.audioSentMs = done.response.metadata?.audio_sent_ms ?? null;
    r.audioHeardMs = done.response.metadata?.audio_heard_ms ?? null;
    if (r.status !== 'cancelled') problem(`barge-in ${i + 1}: answer ended '${r.status}' (${done.response.status_details?.reason ?? 'no reason'}) instead of cancelled`);
    if (started.seq > done.seq) problem(`barge-in ${i + 1}: response.done (#${done.seq}) before speech_started (#${started.seq})`);
    if (r.lateDeltas) problem(`barge-in ${i + 1}: ${r.lateDeltas} audio deltas after response.done`);

    // The interruption is a turn of its own: wait for it, and cancel its answer to keep the run short.
    const heard = await next('conversation.item.input_audio_transcription.completed', talk, (e) => e.item_id === started.item_id, 20_000);
    r.heard = heard.transcript;
    const outcome = await firstOf(
      next('response.created', talk, () => true, 5_000),
      next('omnilive.turn.ignored', talk, (e) => e.item_id === started.item_id, 5_000),
    );
    if (outcome.type === 'omnilive.turn.ignored') {
      r.followUp = `ignored:${outcome.reason}`;
    } else {
      const followId = outcome.response.id as string;
      const cancelAt = performance.now();
      send({ type: 'response.cancel', response_id: followId });
      const followDone = await next('response.done', outcome.seq, (e) => e.response.id === followId, 10_000);
      r.clientCancelMs = round1(followDone.recvAt - cancelAt);
      r.followUp = followDone.response.status;
    }
  } catch (error) {
    problem(`barge-in ${i + 1}: "${u.text}": ${(error as Error).message}`);
  }
  await sent;
  await sleep(300);
  progress(
    `barge-in ${i + 1}/${BARGE_INS}: ${r.status}; speech_started ${r.speechStartedMs} ms, response.done ${r.cancelledMs} ms, last delta ${r.lastDeltaMs} ms after onset ` +
      `(VAD onset lag ${r.vadOnsetLagMs} ms, server reaction ${r.serverReactionMs} ms); ` +
      `heard "${r.heard ?? '—'}", follow-up ${r.followUp}`,
  );
}

// ---- whole-run checks ----

mic.stop();
await sleep(200);
eventLoop.disable();
const errors = log.of('error').map((e) => `${e.error?.code}: ${e.error?.message}`);
for (const e of errors) problem(`server error event: ${e}`);
// No event of any response may follow its response.done.
const doneSeq = new Map<string, number>();
for (const e of log.events as unknown as Event[]) if (e.type === 'response.done') doneSeq.set(e.response.id, e.seq);
const afterDone = (log.events as unknown as Event[]).filter((e) => e.response_id && e.type !== 'omnilive.metrics' && e.seq > (doneSeq.get(e.response_id) ?? Infinity));
if (afterDone.length) problem(`${afterDone.length} response events after their response.done: ${[...new Set(afterDone.map((e) => e.type))].join(', ')}`);

// ---- report ----

const metric = (pick: (m: Event) => number | null) => summarize(turns.map((t) => (t.metrics ? pick(t.metrics) : null)));
const turnSteps = {
  end_of_turn: metric((m) => m.latency_ms.end_of_turn),
  asr_final: metric((m) => m.latency_ms.asr_final),
  first_llm_token: metric((m) => m.latency_ms.first_llm_token),
  first_tts_audio: metric((m) => m.latency_ms.first_tts_audio),
  first_audio_delta: metric((m) => m.latency_ms.first_audio_delta),
  client_first_audio: summarize(turns.map((t) => t.clientFirstAudioMs)),
  vad_end_lag_media: summarize(turns.map((t) => t.vadEndLagMs)),
  server_speech_end_skew: summarize(turns.map((t) => t.speechEndSkewMs)),
  compute_asr_finish: metric((m) => m.compute_ms.asr_finish),
  compute_llm_first_token: metric((m) => m.compute_ms.llm_first_token),
  compute_tts_first_sentence: metric((m) => m.compute_ms.tts_first_sentence),
  pipeline_overhead: metric((m) => m.pipeline_overhead_ms),
};
const bargeSteps = {
  speech_started: summarize(bargeIns.map((b) => b.speechStartedMs)),
  vad_onset_lag_media: summarize(bargeIns.map((b) => b.vadOnsetLagMs)),
  server_reaction: summarize(bargeIns.map((b) => b.serverReactionMs)),
  response_cancelled: summarize(bargeIns.map((b) => b.cancelledMs)),
  last_audio_delta: summarize(bargeIns.map((b) => b.lastDeltaMs)),
  client_response_cancel: summarize(bargeIns.map((b) => b.clientCancelMs)),
};
const pass = (value: number | null, goal: number) => ({ goal_ms: goal, value_ms: value, pass: value !== null && value <= goal });
const gaps = turns.flatMap((t) => t.gaps);

const report = {
  benchmark: 'turn-latency',
  date: new Date().toISOString(),
  options: { turns: TURNS, barge_ins: BARGE_INS, seed: Number(args.seed), chunk_ms: CHUNK_MS, input_rate: INPUT_RATE },
  engines: created.session?.omnilive?.engines ?? null,
  machine: describeMachine(loadAtStart),
  definitions: {
    latency: 'ms from the arrival of the audio where speech ended (server) / from sending the chunk holding the last speech sample (client_first_audio)',
    barge_in: 'ms from sending the chunk holding the first speech sample (|x| >= -40 dBFS) of the interruption',
    vad_lag_media: 'media ms between the first/last speech sample and the VAD start/end of speech (acoustics, not compute)',
    server_reaction: 'ms from sending the chunk that completed the VAD minimum speech run to speech_started',
    server_speech_end_skew: "server's speech-end mark minus the send time of the chunk holding audio_end_ms (expected ~0)",
    p95: 'nearest rank',
  },
  turns: {
    count: TURNS,
    answered: turns.filter((t) => t.status === 'completed').length,
    transcribed_exactly: turns.filter((t) => t.heard !== null && words(t.heard).join(' ') === words(t.said).join(' ')).length,
    steps_ms: turnSteps,
    playback_gaps: { count: gaps.length, total_ms: round1(gaps.reduce((a, b) => a + b, 0)), max_ms: gaps.length ? round1(Math.max(...gaps)) : 0 },
    detail: turns.map((t) => ({ said: t.said, heard: t.heard, status: t.status, client_first_audio_ms: t.clientFirstAudioMs, vad_end_lag_ms: t.vadEndLagMs, speech_end_skew_ms: t.speechEndSkewMs, latency_ms: t.metrics?.latency_ms ?? null, compute_ms: t.metrics ? roundAll(t.metrics.compute_ms) : null, pipeline_overhead_ms: t.metrics?.pipeline_overhead_ms ?? null })),
  },
  barge_ins: {
    count: BARGE_INS,
    cancelled: bargeIns.filter((b) => b.status === 'cancelled').length,
    audio_deltas_after_cancel: bargeIns.reduce((n, b) => n + b.lateDeltas, 0),
    steps_ms: bargeSteps,
    detail: bargeIns.map((b) => ({ said: b.said, status: b.status, speech_started_ms: b.speechStartedMs, vad_onset_lag_ms: b.vadOnsetLagMs, server_reaction_ms: b.serverReactionMs, response_cancelled_ms: b.cancelledMs, last_audio_delta_ms: b.lastDeltaMs, late_deltas: b.lateDeltas, audio_sent_ms: b.audioSentMs, audio_heard_ms: b.audioHeardMs, heard: b.heard, follow_up: b.followUp })),
  },
  goals: {
    pipeline_overhead_p50: pass(turnSteps.pipeline_overhead.median, GOALS.overheadP50),
    pipeline_overhead_p95: pass(turnSteps.pipeline_overhead.p95, GOALS.overheadP95),
    barge_in_p95: pass(bargeSteps.response_cancelled.p95, GOALS.bargeInP95),
  },
  health: {
    server_errors: errors.length,
    events_after_response_done: afterDone.length,
    mic_send_lateness_ms: summarize(mic.lateness),
    // The histogram records whole sampling intervals: subtract the interval to get the stall.
    event_loop_stall_ms: Object.fromEntries(
      (
        [
          ['p50', eventLoop.percentile(50)],
          ['p99', eventLoop.percentile(99)],
          ['max', eventLoop.max],
        ] as const
      ).map(([k, ns]) => [k, round1(Math.max(0, ns / 1e6 - EVENT_LOOP_RESOLUTION_MS))]),
    ),
    problems,
  },
};

console.log(JSON.stringify(report, null, 2));
console.log(table(report));

function table(r: typeof report): string {
  const cell = (x: number | null) => (x === null ? '—' : String(x)).padStart(8);
  const row = (name: string, s: Summary) => `${name.padEnd(30)}${cell(s.n)}${cell(s.median)}${cell(s.p95)}${cell(s.min)}${cell(s.max)}`;
  const head = `${'step (ms)'.padEnd(30)}${['n', 'median', 'p95', 'min', 'max'].map((h) => h.padStart(8)).join('')}`;
  const goal = (name: string, g: { goal_ms: number; value_ms: number | null; pass: boolean }) => `  ${name.padEnd(28)} ${String(g.value_ms ?? '—').padStart(7)} ≤ ${g.goal_ms}  ${g.pass ? 'PASS' : 'FAIL'}`;
  return [
    '',
    `turns: ${r.turns.answered}/${r.turns.count} answered, ${r.turns.transcribed_exactly} transcribed exactly`,
    head,
    ...Object.entries(r.turns.steps_ms).map(([k, s]) => row(k, s)),
    '',
    `barge-ins: ${r.barge_ins.cancelled}/${r.barge_ins.count} cancelled, ${r.barge_ins.audio_deltas_after_cancel} audio deltas after cancel`,
    head,
    ...Object.entries(r.barge_ins.steps_ms).map(([k, s]) => row(k, s)),
    '',
    'goals:',
    goal('pipeline overhead p50', r.goals.pipeline_overhead_p50),
    goal('pipeline overhead p95', r.goals.pipeline_overhead_p95),
    goal('barge-in (cancel) p95', r.goals.barge_in_p95),
    `health: ${r.health.server_errors} server errors, ${r.health.problems.length} problems, event-loop stall p99 ${r.health.event_loop_stall_ms.p99} ms, max ${r.health.event_loop_stall_ms.max} ms`,
  ].join('\n');
}

// ---- teardown ----

ws.close();
await server.close();
await closeSpeech();
// The report is out: a stray handle must not keep the process alive.
setTimeout(() => process.exit(0), 2000).unref();

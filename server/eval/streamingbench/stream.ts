/**
 * Stream mode: the live system itself. A video plays into one Session on the media clock, as
 * fast as the machine allows (ingest --speed max): its audio through VAD and ASR, its frames
 * through scene cuts and keyframe facts, all of it into long-term memory. At each question's
 * time the world pauses and the question is asked through the session — typed, or spoken
 * (a `*_stream` file's `audio_path` decoded and appended as pcm16, so VAD and ASR make the
 * turn) — and the session's answer is the response. Every question of a video shares its
 * session: later questions see earlier ones and the system's own answers, as a user's would.
 * Proactive questions become a watch made at their time, its firing the answer time (`watch`),
 * or are polled once a second from t + 1 to the ground truth + 4 s, as the official script
 * does, each poll through the session (`poll`); see proactive.ts.
 *
 * The video's own speech is heard and remembered but not answered (turn_detection
 * create_response off): the benchmark's videos are the world, not the user. A spoken question
 * turns it on for its turn, with the official prompt (options included) as the session's
 * instructions, which is how the official streaming script gives a model both.
 */
import { randomUUID } from 'node:crypto';
import { setTimeout as delay } from 'node:timers/promises';
import { concatPcm, samplesToMs } from '../../audio/pcm.ts';
import { ClientError } from '../../errors.ts';
import { decodeAudio } from '../../ingest/decode.ts';
import { defaultClipperOptions } from '../../perception/video/clipper.ts';
import type { Watch } from '../../reasoning/watch/types.ts';
import { describeWatch } from '../../reasoning/watch/watch-request.ts';
import { CHUNK_MS, PLAY_RATE as RATE, pcmChunks, playMedia, settle } from '../../ingest/play.ts';
import { defaultServerVadOptions } from '../../perception/vad/index.ts';
import { Session, type SessionEngines } from '../../session/session.ts';
import type { SessionSettings } from '../../session/types.ts';
import { wireItemText, type ServerEvent } from '../../protocol/server-events.ts';
import { OptionScorer, hitsToEvidence } from './option-scorer.ts';
import { proactivePrompt, proactiveQuery } from './prompts.ts';
import { meteredReasoner, watchCondition, type ProactiveMode, type ReasonerCall } from './proactive.ts';
import type { BenchQuestion } from './questions.ts';
import type { DialogTurn, ProactiveResponse } from './scoring.ts';

/** Audio is appended in pieces of this length, as ingest does. */
const CHUNK = (RATE * CHUNK_MS) / 1000;
/** Silence after a spoken question: the VAD's end of turn (500 ms) with room to spare. */
const TRAILING_SILENCE_MS = 1200;

/** A whole audio file as 16 kHz mono pcm16 (a spoken question). */
export async function decodeSpeech(file: string): Promise<Int16Array> {
  const decoded = decodeAudio(file, RATE);
  const parts: Int16Array[] = [];
  for await (const chunk of pcmChunks(decoded.stream)) parts.push(chunk);
  await decoded.done;
  return concatPcm(parts);
}

export interface Answer {
  text: string;
  status: string;
  error?: string;
  /** Spoken questions: what ASR heard. */
  transcript?: string;
  /** Spoken questions the instruction filter dropped: why. */
  ignored?: string;
}

/**
 * One video playing into one session. Time is the video's: `videoMs` is how much of it has
 * been played; spoken questions add their audio to the session's clock (the video waits),
 * so video frames are appended `offsetMs` later on the session's timeline.
 */
export class StreamDriver {
  readonly session: Session;
  /** Memory rows the evaluation itself made (its prompts, spoken questions, answers): not evidence. */
  readonly promptIds = new Set<string>();
  readonly #file: string;
  readonly #sees: boolean;
  #videoMs = 0;
  #offsetMs = 0;
  readonly #responses: { itemId: string; status: string; text: string }[] = [];
  readonly #transcripts: { itemId: string; text: string }[] = [];
  readonly #ignored: string[] = [];
  readonly #errors: string[] = [];
  readonly #onPlayed: (ms: number) => void;

  /**
   * `onPlayed` hears of every piece of video played (ms), for progress; `onReasonerCall` of
   * every call the session makes to its reasoner (returning what to call when it ends), for cost.
   */
  constructor(
    file: string,
    engines: SessionEngines,
    settings: Partial<SessionSettings>,
    onPlayed: (ms: number) => void = () => {},
    onReasonerCall?: (call: ReasonerCall, args: readonly unknown[]) => () => void,
  ) {
    this.#file = file;
    this.#sees = engines.vision !== undefined;
    this.#onPlayed = onPlayed;
    const memoryId = `eval_${randomUUID()}`;
    const memory = engines.memory;
    const answerer = engines.reasoner.usesLanguageModel
      ? engines.reasoner
      : new OptionScorer({
          exclude: this.promptIds,
          retrieve: async (text, limit) => {
            if (!memory) return [];
            await memory.flush();
            const hits = await memory.search({ memoryId, text, nowMs: this.session.mediaMs, nowWallMs: Date.now(), limit, excludeIds: [...this.promptIds] });
            return hitsToEvidence(hits, this.promptIds);
          },
        });
    const reasoner = onReasonerCall ? meteredReasoner(answerer, onReasonerCall) : answerer;
    this.session = new Session({
      engines: { ...engines, reasoner },
      memoryId,
      settings: {
        ...settings,
        inputRate: RATE,
        clock: 'media',
        modalities: ['text'],
        turnDetection: { ...defaultServerVadOptions, type: 'server_vad', eagerness: 'auto', createResponse: false, interruptResponse: false },
      },
    });
    this.session.on('event', (e) => this.#onEvent(e));
  }

  /** How much of the video has played, ms. */
  get videoMs(): number {
    return this.#videoMs;
  }

  /** How far the session's clock runs ahead of the video's (spoken questions' audio), ms. */
  get offsetMs(): number {
    return this.#offsetMs;
  }

  async open(): Promise<void> {
    await this.session.open();
  }

  #onEvent(e: ServerEvent): void {
    const ev = e as ServerEvent & Record<string, any>;
    if (ev.type === 'response.done') {
      const item = ev.response.output?.[0];
      this.#responses.push({ itemId: item?.id ?? '', status: ev.response.status, text: item ? wireItemText(item) : '' });
    } else if (ev.type === 'conversation.item.input_audio_transcription.completed') {
      this.#transcripts.push({ itemId: ev.item_id, text: ev.transcript });
    } else if (ev.type === 'omnilive.turn.ignored') {
      this.#ignored.push(ev.reason);
    } else if (ev.type === 'error') {
      this.#errors.push(`${ev.error.code}: ${ev.error.message}`);
    }
  }

  /**
   * Plays the video on the media clock (ingest --speed max), awaiting `at` with the video time
   * before each piece, as ingest does for its questions; 'stop' ends it there. Resolves true
   * when the video ended: then the held frames are the last clip and speech in progress its
   * last turn, as at the end of an ingest.
   */
  async play(at: (videoMs: number) => Promise<void | 'stop'>, signal?: AbortSignal): Promise<boolean> {
    const { ended } = await playMedia({
      session: this.session,
      file: this.#file,
      speed: 'max',
      video: this.#sees,
      // Spoken questions add their audio to the session's clock while the video waits.
      frameTime: (t) => t + this.#offsetMs,
      at,
      onProgress: (ms) => {
        this.#onPlayed(ms - this.#videoMs);
        this.#videoMs = ms;
      },
      signal,
    });
    if (!ended) return false;
    if (this.session.utteranceOpen) this.session.commitAudio();
    await settle(this.session);
    return true;
  }

  /** A typed question (conversation.item.create + response.create); the answer when it is done. */
  async ask(text: string): Promise<Answer> {
    await settle(this.session);
    const errors = this.#errors.length;
    this.promptIds.add(this.session.addMessage('user', text));
    const response = this.session.createResponse();
    await response.start();
    if (response.itemId) this.promptIds.add(response.itemId);
    await settle(this.session);
    const error = this.#errors.slice(errors).join('; ');
    return { text: response.text, status: response.status, ...(error ? { error } : {}) };
  }

  /**
   * A spoken question: the audio (16 kHz pcm16) and a little silence go into the session
   * while the video waits; VAD ends the turn and the session answers it, with `instructions`
   * (the prompt with the options) as its session instructions for that turn.
   */
  async askSpoken(pcm: Int16Array, instructions: string): Promise<Answer> {
    await settle(this.session);
    // The video's own speech in progress ends here, unanswered, rather than merging with the question.
    if (this.session.utteranceOpen) {
      this.session.commitAudio();
      await settle(this.session);
    }
    const marks = { responses: this.#responses.length, transcripts: this.#transcripts.length, ignored: this.#ignored.length, errors: this.#errors.length };
    this.session.update({ instructions, audio: { input: { turn_detection: { type: 'server_vad', create_response: true } } } });
    const audio = concatPcm([pcm, new Int16Array((RATE * TRAILING_SILENCE_MS) / 1000)]);
    for (let i = 0; i < audio.length; i += CHUNK) {
      this.session.appendAudio(audio.subarray(i, i + CHUNK));
      await settle(this.session);
    }
    this.#offsetMs += samplesToMs(audio.length, RATE);
    if (this.session.utteranceOpen) {
      this.session.commitAudio(); // speech that never paused long enough still makes its turn
      await settle(this.session);
    }
    this.session.update({ instructions: '', audio: { input: { turn_detection: { type: 'server_vad', create_response: false } } } });
    const heard = this.#transcripts.slice(marks.transcripts);
    for (const t of heard) this.promptIds.add(t.itemId);
    const responses = this.#responses.slice(marks.responses);
    for (const r of responses) this.promptIds.add(r.itemId);
    const last = responses.filter((r) => r.status === 'completed').at(-1) ?? responses.at(-1);
    const error = this.#errors.slice(marks.errors).join('; ');
    const ignored = this.#ignored.slice(marks.ignored).join(', ');
    return {
      text: last?.text ?? '',
      status: last?.status ?? 'no_response',
      transcript: heard.map((t) => t.text).filter(Boolean).join(' '),
      ...(ignored ? { ignored } : {}),
      ...(error ? { error } : {}),
    };
  }

  close(): void {
    this.session.close();
  }
}

export interface StreamVideoOptions {
  file: string;
  engines: SessionEngines;
  settings: Partial<SessionSettings>;
  /** The video's questions, in file order. */
  questions: BenchQuestion[];
  /** Official prompt of each multiple-choice question, by key. */
  prompts: Map<string, string>;
  /** Resolved `audio_path` files, by the path as written. */
  audio: Map<string, string>;
  /** How proactive questions are answered (proactive.ts). @defaultValue 'watch' */
  proactive?: ProactiveMode;
  onAnswer: (q: BenchQuestion, response: string | ProactiveResponse, details: Record<string, unknown>) => void;
  /** Video played, ms at a time. */
  onMedia?: (ms: number) => void;
  signal?: AbortSignal;
}

interface Scheduled {
  atMs: number;
  order: number;
  run: () => Promise<void>;
}

/** A proactive question waiting on its watch. */
interface Watching {
  q: BenchQuestion;
  order: number;
  watch: Watch;
  dialog: DialogTurn[];
  wallMs: number;
  /** When the watch is given up unfired. */
  expiry: Scheduled;
  fired?: { mediaMs: number; evidence: { kind: string; text: string }; noticedMs: number };
}

/**
 * The session says a firing in a gap of speech — at least 400 ms of quiet on the wall clock —
 * so the answer waits for it this long at most (the media clock is paused meanwhile).
 */
const ANNOUNCE_WAIT_MS = 3000;

const roundMs = (ms: number) => Math.round(ms);

/** Plays one video into a session and asks its questions at their times. */
export async function runStreamVideo(o: StreamVideoOptions): Promise<void> {
  const proactive = o.proactive ?? 'watch';
  /** Reasoner calls by the question they were made for. */
  const calls = new Map<string, { calls: number; ms: number }>();
  /** The question whose prompt is in the session now. */
  let asking: string | undefined;
  const watching = new Map<string, Watching>();
  const onReasonerCall = (call: ReasonerCall, args: readonly unknown[]) => {
    // A judgement is made for one watch: its condition is the question.
    const judged = call === 'judgeWatch' ? [...watching.values()].find((w) => String(args[0]).includes(w.watch.condition)) : undefined;
    const key = call === 'isInstruction' ? undefined : (judged?.q.key ?? asking);
    const started = performance.now();
    return () => {
      if (key === undefined) return;
      const c = calls.get(key) ?? { calls: 0, ms: 0 };
      c.calls++;
      c.ms += performance.now() - started;
      calls.set(key, c);
    };
  };
  const callsOf = (q: BenchQuestion) => ({ reasoner_calls: calls.get(q.key)?.calls ?? 0, reasoner_ms: roundMs(calls.get(q.key)?.ms ?? 0) });

  const driver = new StreamDriver(o.file, o.engines, o.settings, o.onMedia, onReasonerCall);
  const speech = new Map<string, Int16Array>();
  for (const q of o.questions) if (q.audioPath && !speech.has(q.audioPath)) speech.set(q.audioPath, await decodeSpeech(o.audio.get(q.audioPath)!));
  const queue: Scheduled[] = [];

  /** A typed prompt for question `q`; its reasoner calls are counted to it. */
  async function ask(q: BenchQuestion, text: string): Promise<{ reply: Answer; wallMs: number }> {
    const started = performance.now();
    asking = q.key;
    try {
      return { reply: await driver.ask(text), wallMs: performance.now() - started };
    } finally {
      asking = undefined;
    }
  }

  o.questions.forEach((q, order) => {
    if (q.groundTruthOutput === undefined) queue.push({ atMs: q.timeS * 1000, order, run: () => choice(q) });
    else if (proactive === 'poll') poll(q, order);
    else queue.push({ atMs: q.timeS * 1000, order, run: () => makeWatch(q, order) });
  });

  async function choice(q: BenchQuestion): Promise<void> {
    const started = performance.now();
    const prompt = o.prompts.get(q.key)!;
    const answer = q.audioPath ? await driver.askSpoken(speech.get(q.audioPath)!, prompt) : await driver.ask(prompt);
    o.onAnswer(q, answer.text, {
      asked: q.audioPath ? 'spoken' : 'typed',
      asked_at_video_ms: driver.videoMs,
      media_ms: driver.session.mediaMs,
      status: answer.status,
      ...(answer.transcript !== undefined ? { transcript: answer.transcript } : {}),
      ...(answer.ignored ? { ignored: answer.ignored } : {}),
      ...(answer.error ? { error: answer.error } : {}),
      wall_ms: Math.round(performance.now() - started),
    });
  }

  /** The official loop: "is it the right time?" once a second, the question itself after a yes. */
  function poll(q: BenchQuestion, order: number): void {
    const dialog: DialogTurn[] = [];
    const query = proactiveQuery(q);
    let responses = 0;
    let wallMs = 0;
    const step = async (now: number): Promise<void> => {
      let { reply, wallMs: took } = await ask(q, proactivePrompt(query));
      responses++;
      wallMs += took;
      dialog.push({ role: 'user', content: query, time: now, cost: took / 1000 }, { role: 'assistant', content: reply.text, time: now, cost: took / 1000 });
      let answered: number | false = false;
      if (reply.text.trim().toLowerCase().includes('yes')) {
        ({ reply, wallMs: took } = await ask(q, proactivePrompt(q.question)));
        responses++;
        wallMs += took;
        dialog.push({ role: 'user', content: q.question, time: now, cost: took / 1000 }, { role: 'assistant', content: reply.text, time: now, cost: took / 1000 });
        answered = now;
      }
      if (answered === false && now + 1 <= q.groundTruthTimeS! + 4) {
        queue.push({ atMs: (now + 1) * 1000, order, run: () => step(now + 1) });
        return;
      }
      const polls = dialog.filter((d) => d.role === 'user' && d.content === query).length;
      o.onAnswer(q, { answered, dialog_history: dialog }, {
        polls,
        media_ms: driver.session.mediaMs,
        responses,
        ...callsOf(q),
        wall_ms: roundMs(wallMs),
        latency_ms: answered === false ? null : roundMs((answered - q.groundTruthTimeS!) * 1000),
      });
    };
    if (q.timeS + 1 <= q.groundTruthTimeS! + 4) queue.push({ atMs: (q.timeS + 1) * 1000, order, run: () => step(q.timeS + 1) });
    else o.onAnswer(q, { answered: false, dialog_history: [] }, { polls: 0, responses: 0, reasoner_calls: 0, reasoner_ms: 0, wall_ms: 0, latency_ms: null });
  }

  /**
   * A firing is known when its clip closes: a scene change, the clip's length limit (16 frames)
   * or the end. So the watch is kept one clip longer than the polls run (ground truth + 4 s),
   * and a clip that starts by then is still seen.
   */
  const clipSpanMs = ((o.settings.clipper?.maxFrames ?? defaultClipperOptions.maxFrames) * 1000) / (o.settings.videoFps ?? 1);

  /** At the question's time: a watch on its condition, the ask stripped off. */
  async function makeWatch(q: BenchQuestion, order: number): Promise<void> {
    const condition = watchCondition(q.question);
    const started = performance.now();
    let watch: Watch;
    try {
      watch = await driver.session.watches.create({ condition, mode: 'once' });
    } catch (error) {
      if (!(error instanceof ClientError)) throw error;
      // No rule reads it and no language model can judge it: the system says so at once.
      const took = performance.now() - started;
      const dialog: DialogTurn[] = [{ role: 'user', content: q.question, time: q.timeS, cost: took / 1000 }, { role: 'assistant', content: error.message, time: q.timeS, cost: took / 1000 }];
      o.onAnswer(q, { answered: false, dialog_history: dialog }, { condition, refused: error.message, responses: 0, reasoner_calls: 0, reasoner_ms: 0, wall_ms: roundMs(took), latency_ms: null });
      return;
    }
    const took = performance.now() - started;
    const expiry: Scheduled = { atMs: (q.groundTruthTimeS! + 4) * 1000 + clipSpanMs, order, run: () => expire(w) };
    const w: Watching = {
      q,
      order,
      watch,
      wallMs: took,
      expiry,
      dialog: [{ role: 'user', content: q.question, time: q.timeS, cost: took / 1000 }, { role: 'assistant', content: describeWatch(watch), time: q.timeS, cost: took / 1000 }],
    };
    watching.set(watch.id, w);
    queue.push(expiry);
  }

  /** The watch fired: the answer is due at once (the video is paused at its next piece). */
  function fired(e: { watch_id: string; media_ms: number; evidence: { kind: string; text: string } }): void {
    const w = watching.get(e.watch_id);
    if (!w) return;
    watching.delete(e.watch_id);
    const at = queue.indexOf(w.expiry);
    if (at >= 0) queue.splice(at, 1);
    w.fired = { mediaMs: e.media_ms, evidence: e.evidence, noticedMs: driver.session.mediaMs };
    queue.push({ atMs: 0, order: w.order, run: () => answerFired(w) });
  }

  const announcements = new Map<string, string>();
  const announced = new Map<string, () => void>();
  driver.session.on('event', (e) => {
    const ev = e as ServerEvent & Record<string, any>;
    if (ev.type === 'omnilive.watch.fired') fired(ev);
    else if (ev.type === 'response.done' && ev.response.metadata?.proactive === 'true' && typeof ev.response.metadata.watch_id === 'string') {
      const item = ev.response.output?.[0];
      if (item?.id) driver.promptIds.add(item.id);
      announcements.set(ev.response.metadata.watch_id, item ? wireItemText(item) : '');
      announced.get(ev.response.metadata.watch_id)?.();
    }
  });

  /** The session's own announcement of a firing, once it has said it (or '' after the wait). */
  async function announcement(watchId: string): Promise<string | undefined> {
    if (!announcements.has(watchId)) {
      const said = new Promise<void>((resolve) => announced.set(watchId, resolve));
      await Promise.race([said, delay(ANNOUNCE_WAIT_MS)]);
      announced.delete(watchId);
    }
    return announcements.get(watchId);
  }

  /** After the firing, the question itself, as the official loop asks it after its yes: the output. */
  async function answerFired(w: Watching): Promise<void> {
    const { q, dialog } = w;
    const fire = w.fired!;
    const waited = performance.now();
    const said = await announcement(w.watch.id);
    const waitMs = performance.now() - waited;
    // Video time; never before the watch was made (a clip may have begun before the question).
    const firedVideoMs = fire.mediaMs - driver.offsetMs;
    const answeredS = Math.max(firedVideoMs, q.timeS * 1000) / 1000;
    const noticedMs = fire.noticedMs - driver.offsetMs;
    dialog.push({ role: 'assistant', content: said || fire.evidence.text, time: answeredS, cost: 0 });
    const { reply, wallMs } = await ask(q, proactivePrompt(q.question));
    dialog.push({ role: 'user', content: q.question, time: answeredS, cost: wallMs / 1000 }, { role: 'assistant', content: reply.text, time: answeredS, cost: wallMs / 1000 });
    o.onAnswer(q, { answered: answeredS, dialog_history: dialog }, {
      condition: w.watch.condition,
      rule: w.watch.rule.kind,
      fired_media_ms: fire.mediaMs,
      evidence: fire.evidence.text,
      ...(said !== undefined ? { announcement: said } : {}),
      noticed_ms: roundMs(noticedMs),
      notice_lag_ms: roundMs(noticedMs - firedVideoMs),
      announce_wait_ms: roundMs(waitMs),
      media_ms: driver.session.mediaMs,
      responses: (said !== undefined ? 1 : 0) + 1,
      ...callsOf(q),
      wall_ms: roundMs(w.wallMs + wallMs),
      latency_ms: roundMs(answeredS * 1000 - q.groundTruthTimeS! * 1000),
    });
  }

  /** Past the last time the firing could still count: the watch ends unfired. */
  async function expire(w: Watching): Promise<void> {
    watching.delete(w.watch.id);
    await driver.session.watches.delete(w.watch.id).catch(() => {});
    const endS = w.expiry.atMs / 1000;
    w.dialog.push({ role: 'assistant', content: `The watch had not fired by ${endS} s.`, time: endS, cost: 0 });
    o.onAnswer(w.q, { answered: false, dialog_history: w.dialog }, { condition: w.watch.condition, rule: w.watch.rule.kind, responses: 0, ...callsOf(w.q), wall_ms: roundMs(w.wallMs), latency_ms: null });
  }

  /** Asks what is due by `videoMs` (polls may queue more); 'stop' once nothing is left to ask. */
  async function due(videoMs: number): Promise<void | 'stop'> {
    for (;;) {
      if (!queue.length) return 'stop';
      queue.sort((a, b) => a.atMs - b.atMs || a.order - b.order);
      if (queue[0]!.atMs > videoMs) return;
      await queue.shift()!.run();
    }
  }

  try {
    await driver.open();
    // Questions past the end of the video are asked at its end.
    if (await driver.play(due, o.signal)) await due(Infinity);
  } finally {
    // Watches live in the user's memory: an interrupted run leaves none behind.
    for (const w of watching.values()) await driver.session.watches.delete(w.watch.id).catch(() => {});
    driver.close();
  }
}

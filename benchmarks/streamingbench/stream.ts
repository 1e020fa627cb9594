/**
 * Stream mode: the live system itself. A video plays into one Session on the media clock, as
 * fast as the machine allows (ingest --speed max): its audio through VAD and ASR, its frames
 * through scene cuts and keyframe facts, all of it into long-term memory. At each question's
 * time the world pauses and the question is asked through the session — typed, or spoken
 * (a `*_stream` file's `audio_path` decoded and appended as pcm16, so VAD and ASR make the
 * turn) — and the session's answer is the response. Every question of a video shares its
 * session: later questions see earlier ones and the system's own answers, as a user's would.
 * Proactive questions are polled once a second from t + 1 to the ground truth + 4 s, as the
 * official script does, each poll through the session.
 *
 * The video's own speech is heard and remembered but not answered (turn_detection
 * create_response off): the benchmark's videos are the world, not the user. A spoken question
 * turns it on for its turn, with the official prompt (options included) as the session's
 * instructions, which is how the official streaming script gives a model both.
 */
import { randomUUID } from 'node:crypto';
import type { Readable } from 'node:stream';
import { concatPcm, pcm16FromBytes, samplesToMs } from '../../server/audio/pcm.ts';
import { decodeAudio, decodeVideo } from '../../server/ingest/decode.ts';
import { defaultServerVadOptions } from '../../server/perception/vad/index.ts';
import type { VideoFrame } from '../../server/perception/video/types.ts';
import { Session, type SessionEngines } from '../../server/session/session.ts';
import type { ServerEvent, SessionSettings } from '../../server/session/types.ts';
import { OptionScorer, hitsToEvidence } from './option-scorer.ts';
import { proactivePrompt, proactiveQuery } from './prompts.ts';
import type { BenchQuestion } from './questions.ts';
import type { DialogTurn, ProactiveResponse } from './scoring.ts';

const RATE = 16000;
/** Audio is appended in pieces of this length, as ingest does. */
const CHUNK_MS = 100;
const CHUNK = (RATE * CHUNK_MS) / 1000;
/** Silence after a spoken question: the VAD's end of turn (500 ms) with room to spare. */
const TRAILING_SILENCE_MS = 1200;

async function* pcmChunks(stream: Readable): AsyncGenerator<Int16Array> {
  let pending: Buffer = Buffer.alloc(0);
  for await (const data of stream as AsyncIterable<Buffer>) {
    pending = pending.length ? Buffer.concat([pending, data]) : data;
    while (pending.length >= CHUNK * 2) {
      yield pcm16FromBytes(pending.subarray(0, CHUNK * 2));
      pending = pending.subarray(CHUNK * 2);
    }
  }
  if (pending.length >= 2) yield pcm16FromBytes(pending);
}

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
  #videoMs = 0;
  #offsetMs = 0;
  readonly #audio: AsyncIterator<Int16Array>;
  readonly #audioDone: Promise<void>;
  #audioBytes = 0;
  #audioEnded = false;
  readonly #frames: AsyncIterator<VideoFrame> | undefined;
  #nextFrame: VideoFrame | null | undefined;
  #over = false;
  readonly #kill: () => void;
  readonly #responses: { itemId: string; status: string; text: string }[] = [];
  readonly #transcripts: { itemId: string; text: string }[] = [];
  readonly #ignored: string[] = [];
  readonly #errors: string[] = [];
  readonly #onPlayed: (ms: number) => void;

  /** `onPlayed` hears of every piece of video played (ms), for progress. */
  constructor(file: string, engines: SessionEngines, settings: Partial<SessionSettings>, onPlayed: (ms: number) => void = () => {}) {
    this.#onPlayed = onPlayed;
    const memoryId = `eval_${randomUUID()}`;
    const memory = engines.memory;
    const reasoner = engines.reasoner.usesLanguageModel
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
    this.session = new Session({
      engines: { ...engines, reasoner },
      memoryId,
      settings: {
        ...settings,
        inputRate: RATE,
        clock: 'media',
        modalities: ['text'],
        turnDetection: { ...defaultServerVadOptions, createResponse: false, interruptResponse: false },
      },
    });
    this.session.on('event', (e) => this.#onEvent(e));
    const decoded = decodeAudio(file, RATE);
    this.#audio = pcmChunks(decoded.stream)[Symbol.asyncIterator]();
    this.#audioDone = decoded.done;
    this.#audioDone.catch(() => {});
    const video = engines.vision ? decodeVideo(file, { fps: this.session.settings.videoFps }) : undefined;
    this.#frames = video?.frames[Symbol.asyncIterator]();
    this.#kill = () => {
      decoded.kill();
      video?.kill();
    };
  }

  /** How much of the video has played, ms. */
  get videoMs(): number {
    return this.#videoMs;
  }

  async open(): Promise<void> {
    await this.session.open();
  }

  #onEvent(e: ServerEvent): void {
    const ev = e as ServerEvent & Record<string, any>;
    if (ev.type === 'response.done') {
      const item = ev.response.output?.[0];
      this.#responses.push({ itemId: item?.id ?? '', status: ev.response.status, text: item?.content?.[0]?.text ?? item?.content?.[0]?.transcript ?? '' });
    } else if (ev.type === 'conversation.item.input_audio_transcription.completed') {
      this.#transcripts.push({ itemId: ev.item_id, text: ev.transcript });
    } else if (ev.type === 'omnilive.turn.ignored') {
      this.#ignored.push(ev.reason);
    } else if (ev.type === 'error') {
      this.#errors.push(`${ev.error.code}: ${ev.error.message}`);
    }
  }

  /** Waits until audio, video, turns and any response have settled (the media clock's rule). */
  async #settle(): Promise<void> {
    await this.session.idle();
    for (let r = this.session.activeResponse; r; r = this.session.activeResponse) {
      await r.start();
      await this.session.idle();
    }
  }

  async #nextAudio(): Promise<Int16Array | null> {
    if (this.#audioEnded) return null;
    const r = await this.#audio.next();
    if (!r.done) {
      this.#audioBytes += r.value.byteLength;
      return r.value;
    }
    this.#audioEnded = true;
    // A file without an audio track plays silence under its frames; any other failure is an error.
    try {
      await this.#audioDone;
    } catch (error) {
      if (this.#audioBytes > 0 || !this.#frames) throw error;
    }
    return null;
  }

  async #peekFrame(): Promise<VideoFrame | null> {
    while (this.#frames && this.#nextFrame === undefined) {
      const r = await this.#frames.next();
      this.#nextFrame = r.done ? null : r.value;
    }
    return this.#nextFrame ?? null;
  }

  async #feedFrames(upToMs: number): Promise<void> {
    for (let f = await this.#peekFrame(); f && f.t <= upToMs; f = await this.#peekFrame()) {
      this.session.appendVideoFrame({ ...f, t: f.t + this.#offsetMs });
      this.#nextFrame = undefined;
      // On the media clock every keyframe gets its facts: nothing is skipped for lack of time.
      await this.session.videoIdle();
    }
  }

  /** Plays the video up to `ms`; false when it ended first (questions past the end are asked at the end). */
  async advanceTo(ms: number, signal?: AbortSignal): Promise<boolean> {
    while (this.#videoMs < ms) {
      if (signal?.aborted) throw signal.reason;
      let chunk = await this.#nextAudio();
      if (!chunk) {
        const frame = await this.#peekFrame();
        if (!frame) {
          await this.#ended();
          return false;
        }
        chunk = new Int16Array(CHUNK); // no audio track: time passes in silence while frames last
      }
      this.session.appendAudio(chunk);
      const ms = samplesToMs(chunk.length, RATE);
      this.#videoMs += ms;
      this.#onPlayed(ms);
      await this.#feedFrames(this.#videoMs);
      await this.#settle();
    }
    return true;
  }

  /** The media is over: the held frames become the last clip and speech in progress its last turn, as at the end of an ingest. */
  async #ended(): Promise<void> {
    if (this.#over) return;
    this.#over = true;
    this.session.endVideo();
    await this.session.drained();
    if (this.session.utteranceOpen) this.session.commitAudio();
    await this.#settle();
  }

  /** A typed question (conversation.item.create + response.create); the answer when it is done. */
  async ask(text: string): Promise<Answer> {
    await this.#settle();
    const errors = this.#errors.length;
    this.promptIds.add(this.session.addItem({ role: 'user', text }));
    const response = this.session.createResponse();
    await response.start();
    this.promptIds.add(response.itemId);
    await this.#settle();
    const error = this.#errors.slice(errors).join('; ');
    return { text: response.text, status: response.status, ...(error ? { error } : {}) };
  }

  /**
   * A spoken question: the audio (16 kHz pcm16) and a little silence go into the session
   * while the video waits; VAD ends the turn and the session answers it, with `instructions`
   * (the prompt with the options) as its session instructions for that turn.
   */
  async askSpoken(pcm: Int16Array, instructions: string): Promise<Answer> {
    await this.#settle();
    // The video's own speech in progress ends here, unanswered, rather than merging with the question.
    if (this.session.utteranceOpen) {
      this.session.commitAudio();
      await this.#settle();
    }
    const marks = { responses: this.#responses.length, transcripts: this.#transcripts.length, ignored: this.#ignored.length, errors: this.#errors.length };
    this.session.update({ instructions, audio: { input: { turn_detection: { type: 'server_vad', create_response: true } } } });
    const audio = concatPcm([pcm, new Int16Array((RATE * TRAILING_SILENCE_MS) / 1000)]);
    for (let i = 0; i < audio.length; i += CHUNK) {
      this.session.appendAudio(audio.subarray(i, i + CHUNK));
      await this.#settle();
    }
    this.#offsetMs += samplesToMs(audio.length, RATE);
    if (this.session.utteranceOpen) {
      this.session.commitAudio(); // speech that never paused long enough still makes its turn
      await this.#settle();
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
    this.#kill();
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

/** Plays one video into a session and asks its questions at their times. */
export async function runStreamVideo(o: StreamVideoOptions): Promise<void> {
  const driver = new StreamDriver(o.file, o.engines, o.settings, o.onMedia);
  const speech = new Map<string, Int16Array>();
  for (const q of o.questions) if (q.audioPath && !speech.has(q.audioPath)) speech.set(q.audioPath, await decodeSpeech(o.audio.get(q.audioPath)!));
  const queue: Scheduled[] = [];
  o.questions.forEach((q, order) => {
    if (q.groundTruthOutput === undefined) {
      queue.push({ atMs: q.timeS * 1000, order, run: () => choice(q) });
    } else {
      const dialog: DialogTurn[] = [];
      const query = proactiveQuery(q);
      const poll = async (now: number): Promise<void> => {
        let t0 = performance.now();
        const reply = await driver.ask(proactivePrompt(query));
        let cost = (performance.now() - t0) / 1000;
        dialog.push({ role: 'user', content: query, time: now, cost }, { role: 'assistant', content: reply.text, time: now, cost });
        let answered: number | false = false;
        if (reply.text.trim().toLowerCase().includes('yes')) {
          t0 = performance.now();
          const output = await driver.ask(proactivePrompt(q.question));
          cost = (performance.now() - t0) / 1000;
          dialog.push({ role: 'user', content: q.question, time: now, cost }, { role: 'assistant', content: output.text, time: now, cost });
          answered = now;
        }
        if (answered === false && now + 1 <= q.groundTruthTimeS! + 4) {
          queue.push({ atMs: (now + 1) * 1000, order, run: () => poll(now + 1) });
          return;
        }
        const polls = dialog.filter((d) => d.role === 'user' && d.content === query).length;
        o.onAnswer(q, { answered, dialog_history: dialog }, { polls, media_ms: driver.session.mediaMs });
      };
      if (q.timeS + 1 <= q.groundTruthTimeS! + 4) queue.push({ atMs: (q.timeS + 1) * 1000, order, run: () => poll(q.timeS + 1) });
      else o.onAnswer(q, { answered: false, dialog_history: [] }, { polls: 0 });
    }
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

  try {
    await driver.open();
    while (queue.length) {
      queue.sort((a, b) => a.atMs - b.atMs || a.order - b.order);
      const next = queue.shift()!;
      await driver.advanceTo(next.atMs, o.signal);
      await next.run();
    }
  } finally {
    driver.close();
  }
}

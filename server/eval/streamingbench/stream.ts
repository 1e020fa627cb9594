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
import { concatPcm, samplesToMs } from '../../audio/pcm.ts';
import { decodeAudio } from '../../ingest/decode.ts';
import { CHUNK_MS, PLAY_RATE as RATE, pcmChunks, playMedia, settle } from '../../ingest/play.ts';
import { defaultServerVadOptions } from '../../perception/vad/index.ts';
import { Session, type SessionEngines } from '../../session/session.ts';
import type { SessionSettings } from '../../session/types.ts';
import { wireItemText, type ServerEvent } from '../../protocol/server-events.ts';
import { OptionScorer, hitsToEvidence } from './option-scorer.ts';
import { proactivePrompt, proactiveQuery } from './prompts.ts';
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

  /** `onPlayed` hears of every piece of video played (ms), for progress. */
  constructor(file: string, engines: SessionEngines, settings: Partial<SessionSettings>, onPlayed: (ms: number) => void = () => {}) {
    this.#file = file;
    this.#sees = engines.vision !== undefined;
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
        turnDetection: { ...defaultServerVadOptions, type: 'server_vad', eagerness: 'auto', createResponse: false, interruptResponse: false },
      },
    });
    this.session.on('event', (e) => this.#onEvent(e));
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
    driver.close();
  }
}

import { setTimeout as delay } from 'node:timers/promises';
import { ClientError, InvalidStateError } from '../errors.ts';
import { TypedEmitter } from '../events/typed-emitter.ts';
import { silentLogger, type Logger } from '../logger.ts';
import { AudioInput } from '../perception/audio/audio-input.ts';
import { TranscriptLog, type Utterance } from '../../memory/index.ts';
import type { MemoryHit } from '../../memory/types.ts';
import { defaultInstructionFilterOptions } from '../reasoning/index.ts';
import { AudioRecognition } from '../reasoning/turn/audio-recognition.ts';
import { createEndpointing, turnCues } from '../reasoning/turn/endpointing.ts';
import { newId } from './ids.ts';
import { Conversation, itemText, type ConversationItem } from './conversation.ts';
import { newConversationItem, resolveInput, type NewItem } from './new-item.ts';
import type { CancelReason, Response, TurnTimings } from './response.ts';
import { Responder, type ResponderHost, type ResponseRequest } from './responder.ts';
import { ItemTranscripts } from './item-transcripts.ts';
import { TurnController, type TurnHost } from './turn-controller.ts';
import type { turnMetrics } from './turn-metrics.ts';
import { VisualMemory, videoUnavailable } from './visual-memory.ts';
import { SessionWatches, type WatchHost } from './session-watches.ts';
import { SessionSounds, soundRecord, type SoundHost } from './session-sounds.ts';
import { WatchBook } from '../reasoning/watch/watch-book.ts';
import { reasonerJudge } from '../reasoning/watch/judge.ts';
import { defaultSessionLimits } from './types.ts';
import type { SessionLimits, SessionSettings } from './types.ts';
import type { SessionPatch } from '../protocol/session-patch.ts';
import { describeEngines, type SessionEngines } from './engines.ts';
import { applySessionPatch, defaultSessionSettings, describeSession } from '../protocol/session-config.ts';
import { clientError, serverError, type ServerEvent, type ServerEventBody, type WireSession, type WireTool } from '../protocol/server-events.ts';
import { SessionKnowledge } from './session-knowledge.ts';
import type { Clip } from '../perception/video/pipeline.ts';
import { defaultClipperOptions } from '../perception/video/clipper.ts';
import type { VideoFrame } from '../perception/video/types.ts';

export type { SessionEngines } from './engines.ts';

export interface SessionOptions {
  engines: SessionEngines;
  limits?: Partial<SessionLimits>;
  settings?: Partial<SessionSettings>;
  /** Share long-term memory with other sessions of this id. @defaultValue the session id */
  memoryId?: string;
  /** The process's logger: server-side failures of this session are logged with its id. */
  logger?: Logger;
}

export type SessionEvents = {
  event: [ServerEvent];
  close: [];
  listenererror: [string, unknown];
};

/** What a session reports to operators (metrics), apart from what it tells its client. */
export type SessionObserverEvents = {
  /** A spoken turn's answer ended: its latency breakdown. */
  turnmetrics: [NonNullable<ReturnType<typeof turnMetrics>>];
  responseended: [Response];
};

/** A part of the session with a lifetime of its own: told when the session closes (mediasoup's pattern). */
interface SessionChild {
  parentClosed(): void;
}

/**
 * The orchestrator of one conversation. It builds its parts and wires them: the audio front
 * end (AudioInput), recognition and endpointing (AudioRecognition), turn-taking
 * (TurnController), the conversation, vision (VisualMemory) and answers (Response), and
 * emits Realtime server events. Transport-agnostic: the WebSocket connection, file ingest
 * and the eval harness drive it alike.
 */
export class Session extends TypedEmitter<SessionEvents> {
  readonly id = newId('sess');
  readonly transcript = new TranscriptLog();
  readonly observer = new TypedEmitter<SessionObserverEvents>();
  readonly #startWall = Date.now();
  readonly #engines: SessionEngines;
  readonly #limits: SessionLimits;
  #memoryId: string;
  #settings: SessionSettings;
  #closed = false;
  #draining = false;
  #eventCounter = 0;
  readonly #children = new Set<SessionChild>();
  readonly #log: Logger;

  readonly #input: AudioInput;
  readonly #recognition: AudioRecognition;
  readonly #turns: TurnController;
  readonly #conversation = new Conversation();
  readonly #visual: VisualMemory | undefined;
  /** Audio processing, in order: framing, VAD and endpointing of each appended chunk. */
  #work: Promise<void> = Promise.resolve();
  readonly #responder: Responder;
  readonly #itemTranscripts: ItemTranscripts;
  /** The user's watches as this session checks and announces them. */
  readonly watches: SessionWatches;
  readonly #sounds: SessionSounds | undefined;
  readonly #knowledge: SessionKnowledge;

  constructor(options: SessionOptions) {
    super();
    this.#engines = options.engines;
    // Every line names the session and its user; the user is read when the line is written (assignUser may change it).
    this.#log = (options.logger ?? silentLogger).child({ session: this.id }, { formatters: { log: (fields) => ({ user: this.#memoryId, ...fields }) } });
    if (options.logger) this.logger = this.#log;
    this.#memoryId = options.memoryId ?? this.id;
    this.#limits = { ...defaultSessionLimits, ...options.limits };
    this.#settings = { ...defaultSessionSettings(defaultClipperOptions, defaultInstructionFilterOptions), ...options.settings };
    const s = this.#settings;
    this.#input = new AudioInput({ inputRate: s.inputRate, clock: s.clock, maxLeadMs: this.#limits.maxAudioLeadMs });
    this.#responder = new Responder(this.#responderHost());
    const session = this;
    this.#itemTranscripts = new ItemTranscripts(this.#engines.asr, {
      get closed() {
        return session.#closed;
      },
      get inputFormat() {
        return { encoding: session.#settings.inputEncoding, rate: session.#settings.inputRate };
      },
      conversation: this.#conversation,
      emit: (event) => this.#emit(event),
      remember: (utterance) => this.#remember(utterance),
    });
    this.#turns = new TurnController(this.#turnHost());
    this.#turns.configure(s.turnDetection, s.filter);
    this.#recognition = new AudioRecognition({
      vad: this.#engines.vad,
      asr: this.#engines.asr,
      input: this.#input,
      endpointing: createEndpointing(s.turnDetection),
      hooks: this.#turns,
      awaitWords: () => this.#settings.clock === 'media',
      pauseCues: (pcm, signal) => turnCues(pcm, this.#engines.turnDetector, signal),
    });
    const vision = this.#engines.vision;
    this.#visual = vision && new VisualMemory(
      {
        vision,
        memory: this.#engines.memory,
        sessionId: this.id,
        memoryId: () => this.#memoryId,
        startWall: this.#startWall,
        transcript: this.transcript,
        emit: (event) => this.#emit(event),
        fail: (code, error) => this.#fail(code, error),
        soundsDuring: (start, end) => this.#sounds?.during(start, end) ?? [],
        observed: (clip) => this.watches.observe(clip),
        eager: () => this.watches.watchingScreen,
      },
      { fps: s.videoFps, clipper: s.clipper },
    );
    this.#knowledge = new SessionKnowledge(this.#engines, this.#visual, {
      get memoryId() {
        return session.#memoryId;
      },
      get mediaMs() {
        return session.mediaMs;
      },
      get settings() {
        return session.#settings;
      },
      emit: (event) => this.#emit(event),
    });
    this.watches = new SessionWatches(this.#watchHost(), { book: this.#engines.watches ?? new WatchBook(), judge: reasonerJudge(this.#engines.reasoner), logger: this.#log });
    this.#sounds = this.#engines.sounds && new SessionSounds(this.#engines.sounds, this.#soundHost());
    for (const child of [this.#recognition, this.#turns, this.#visual, this.watches, this.#sounds]) if (child) this.#children.add(child);
  }

  /** Creates the per-session decoder and announces the session. */
  async open(): Promise<void> {
    await this.#recognition.open();
    this.watches.refresh().catch((error) => this.#fail('watches_unavailable', error));
    this.#emit({ type: 'session.created', session: this.describe() });
    this.#log.info('session opened');
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** Whose long-term memory this session reads and writes (its user): its own unless shared on purpose. */
  get memoryId(): string {
    return this.#memoryId;
  }

  /**
   * Names the session's user before anything was heard, seen or said: memory written so far
   * would otherwise belong to someone else.
   */
  assignUser(user: string): void {
    this.#assertOpen();
    if (user === this.#memoryId) return;
    if (this.#input.started || this.#visual?.started || this.#conversation.length > 0) {
      throw new ClientError('user_locked', 'the user cannot change once the session has audio, video or conversation items; name it in the first session.update', 'session.omnilive.user');
    }
    this.#memoryId = user;
    this.watches.refresh().catch((error) => this.#fail('watches_unavailable', error));
  }

  get settings(): Readonly<SessionSettings> {
    return this.#settings;
  }

  /** Media time in ms: how much input audio the session has processed. */
  get mediaMs(): number {
    return this.#input.mediaMs;
  }

  /** Whether heard audio awaits its end of turn (exact once drained()). */
  get utteranceOpen(): boolean {
    return this.#recognition.utteranceOpen;
  }

  /** The last few clips, newest last, with their keyframes: short-term visual memory. */
  get recentClips(): readonly Clip[] {
    return this.#visual?.recentClips ?? [];
  }

  get activeResponse(): Response | undefined {
    return this.#responder.active;
  }

  get conversation(): Conversation {
    return this.#conversation;
  }

  describe(): WireSession {
    const builtinTools = this.#knowledge.serverTools().map((t): WireTool => ({ type: 'function', ...t.spec }));
    return describeSession(this.#settings, { id: this.id, user: this.#memoryId, asrName: this.#engines.asr.name, engines: describeEngines(this.#engines), builtinTools });
  }

  /**
   * session.update, parsed by the caller: applies what can apply and returns, naming each field,
   * what could not (the caller reports those); then announces the session as it now stands.
   */
  update(patch: SessionPatch): ClientError[] {
    this.#assertOpen();
    const { tts } = this.#engines;
    const prev = this.#settings;
    const { settings: next, problems } = applySessionPatch(prev, patch, { audioStarted: this.#input.started, videoStarted: this.#visual?.started ?? false, voices: tts.voices, ttsName: tts.name });
    this.#input.setInputRate(next.inputRate);
    this.#input.setClock(next.clock);
    if (next.turnDetection !== prev.turnDetection) this.#recognition.endpointing = createEndpointing(next.turnDetection, this.#recognition.endpointing);
    this.#turns.configure(next.turnDetection, next.filter);
    if (next.videoFps !== prev.videoFps || next.clipper !== prev.clipper) this.#visual?.reconfigure({ fps: next.videoFps, clipper: next.clipper });
    this.#settings = next;
    this.#emit({ type: 'session.updated', session: this.describe() });
    return problems;
  }

  /**
   * input_audio_buffer.append: pcm16 at the session's input rate. Returns at once; the audio
   * is processed in order on the session's work queue. A live session refuses audio that
   * arrives much faster than real time.
   */
  appendAudio(pcm: Int16Array): void {
    this.#assertAccepting();
    if (pcm.length === 0) return;
    const now = performance.now();
    const pcm16k = this.#input.accept(pcm, now);
    this.#turns.hear(pcm16k); // ahead of the queue: a possible barge-in pauses the answer at once
    this.#work = this.#work.then(() => this.#processAudio(pcm16k, now)).catch((error) => this.#fail('audio_processing_failed', error));
  }

  async #processAudio(pcm: Int16Array, arrivedWall: number): Promise<void> {
    if (this.#closed) return;
    for (const frame of this.#input.frames(pcm, arrivedWall)) {
      if (this.#closed) return;
      this.#sounds?.push(frame.pcm, frame.startMs);
      await this.#recognition.push(frame);
    }
  }

  /**
   * input_audio_buffer.commit: ends the current utterance now (manual turns or push-to-talk).
   * `eventId` is the client event's, named by the error when there is nothing to commit.
   */
  commitAudio(eventId?: string): void {
    this.#assertAccepting();
    this.#work = this.#work.then(() => {
      if (this.#recognition.commit(this.mediaMs)) return;
      this.#emit(clientError('input_audio_buffer_commit_empty', 'the input audio buffer has no uncommitted audio', undefined, eventId));
    });
  }

  /** input_audio_buffer.clear: drops audio not yet committed. */
  clearAudio(): void {
    this.#assertOpen();
    this.#work = this.#work.then(() => {
      // Forget the cleared audio entirely: no prefix padding from it, no VAD state carried over.
      this.#recognition.clear();
      this.#input.clear();
      this.#emit({ type: 'input_audio_buffer.cleared' });
    });
  }

  /**
   * omnilive.video_frame.append and file frames: an RGB frame at media time `frame.t`.
   * Frames must come in time order; the pipeline keeps `videoFps` of them.
   */
  appendVideoFrame(frame: VideoFrame): void {
    this.#assertAccepting();
    if (!this.#visual) videoUnavailable();
    this.#visual.push(frame);
  }

  /** The input has ended (a file, an evaluation video): the held frames become the last clip. */
  endVideo(): void {
    this.#visual?.flush();
  }

  /** The audio input has ended (a file): sounds still going on are reported and kept. */
  async endAudio(): Promise<void> {
    await this.#work;
    await this.#sounds?.flush();
  }

  /** conversation.item.create: a message, a tool's output or a tool call; returns the item's id. */
  addItem(item: NewItem, previousItemId?: string | null): string {
    this.#assertAccepting();
    const at = this.mediaMs;
    const entry = newConversationItem(item, at, this.#conversation);
    const previous = this.#conversation.insert(entry, previousItemId);
    const wire = this.#conversation.wire(entry);
    this.#emit({ type: 'conversation.item.added', previous_item_id: previous, item: wire });
    this.#emit({ type: 'conversation.item.done', previous_item_id: previous, item: wire });
    const text = itemText(entry);
    if (entry.type === 'message' && entry.role !== 'system' && text) this.#remember({ id: entry.id, role: entry.role, text, startMs: at, endMs: at });
    this.#itemTranscripts.start(entry.id, item, at);
    return entry.id;
  }

  /** A typed message (ingest questions, the eval harness, tests): addItem for plain text. */
  addMessage(role: 'user' | 'assistant' | 'system', text: string, options: { id?: string; previousItemId?: string | null } = {}): string {
    const type = role === 'assistant' ? ('output_text' as const) : ('input_text' as const);
    return this.addItem({ type: 'message', id: options.id, role, content: [{ type, text }] }, options.previousItemId);
  }

  /** response.create's `input`: new items as they would be kept (not added), references looked up. */
  resolveInput(input: (NewItem | { type: 'item_reference'; id: string })[]): ConversationItem[] {
    return resolveInput(input, this.#conversation, this.mediaMs);
  }

  /** conversation.item.retrieve: the item as it stands now. */
  retrieveItem(itemId: string): void {
    const item = this.#responder.owner(itemId)?.wireItem(itemId) ?? this.#conversation.wire(this.#conversation.require(itemId));
    this.#emit({ type: 'conversation.item.retrieved', item });
  }

  /** conversation.item.truncate: the client played only `audioEndMs` of an answer. */
  truncateItem(itemId: string, contentIndex: number, audioEndMs: number): void {
    this.#assertOpen();
    this.#responder.truncate(itemId, contentIndex, audioEndMs);
  }

  /** conversation.item.delete. An item of the answer in flight stays until the answer ends. */
  deleteItem(itemId: string): void {
    this.#assertOpen();
    this.#conversation.require(itemId);
    if (this.#responder.active?.wireItem(itemId)) throw new ClientError('invalid_value', `item '${itemId}' belongs to the response in progress; cancel it first`, 'item_id');
    this.#conversation.remove(itemId);
    this.#emit({ type: 'conversation.item.deleted', item_id: itemId });
  }

  /** response.create, or a finished user turn: answers the conversation as it stands. */
  createResponse(options: ResponseRequest = {}): Response {
    this.#assertOpen();
    return this.#responder.create(this.#watchRequestAnswer(options) ?? options);
  }

  /** A turn that asks for a watch ("tell me when …") is answered by making it, in one sentence. */
  #watchRequestAnswer(options: ResponseRequest): ResponseRequest | undefined {
    if (options.input || options.held || options.script !== undefined || options.conversation === 'none') return undefined;
    const question = this.#conversation.responseInput(options.questionId).question;
    const made = question?.text ? this.watches.fromRequest(question.text) : undefined;
    return made && { ...options, script: made.script, metadata: { ...options.metadata, ...made.metadata } };
  }

  /** omnilive.memory.search, and retrieval for answers: this session's memory id only. */
  searchMemory(text: string, limit: number, signal?: AbortSignal): Promise<MemoryHit[]> {
    return this.#knowledge.searchMemory(text, limit, signal);
  }

  reportMemoryResults(query: string, hits: MemoryHit[]): void {
    this.#knowledge.reportMemoryResults(query, hits);
  }

  /** response.cancel, or barge-in. Returns whether a response was cancelled. */
  cancelResponse(reason: CancelReason): boolean {
    return this.#responder.cancel(reason);
  }

  /** Resolves when every frame appended so far is clipped and its clip has its facts. */
  async videoIdle(): Promise<void> {
    await this.#visual?.idle();
  }

  /** Resolves when all appended audio has been processed (and its ASR work queued). */
  async drained(): Promise<void> {
    await this.#work;
  }

  /** Resolves when audio, transcription and turn handling have settled (not responses). */
  async idle(): Promise<void> {
    await this.#visual?.idle();
    await this.#work;
    await this.#recognition.idle();
    await this.watches.idle();
  }

  /**
   * Ends the session gently: no new input is accepted, what was already heard is transcribed
   * and handled, the answer in flight finishes, memory is flushed; then close(). Resolves true
   * when all of it fit in `timeoutMs` (Infinity: no deadline), false when the deadline cut it short.
   */
  async drain(timeoutMs: number): Promise<boolean> {
    if (this.#closed) return true;
    this.#draining = true;
    const settle = async () => {
      await this.idle();
      await this.#responder.settled();
      await this.#engines.memory?.flush();
    };
    const deadline = new AbortController();
    const cut = Number.isFinite(timeoutMs) ? delay(timeoutMs, false, { signal: deadline.signal }).catch(() => false) : new Promise<boolean>(() => {});
    // A failed flush (a full disk) must not leave the session open: it is logged, and the session closes.
    const settled = settle().then(
      () => true,
      (error) => (this.#log.warn({ err: error }, 'draining the session failed'), false),
    );
    const finished = await Promise.race([settled, cut]);
    deadline.abort();
    this.close();
    return finished;
  }

  /** Idempotent. Cancels the response in flight at once and frees the decoder; queued work is dropped. */
  close(): void {
    if (this.#closed) return;
    this.cancelResponse('session_closed');
    this.#responder.discardHeld();
    this.#closed = true;
    for (const child of this.#children) child.parentClosed();
    this.#children.clear();
    this.#log.info({ mediaMs: Math.round(this.mediaMs) }, 'session closed');
    this.safeEmit('close');
    this.removeAllListeners('event');
  }

  /** The narrow view the responder has of this session. */
  #responderHost(): ResponderHost {
    const session = this;
    return {
      get settings() {
        return session.#settings;
      },
      get mediaMs() {
        return session.mediaMs;
      },
      limits: this.#limits,
      transcript: this.transcript,
      conversation: this.#conversation,
      reasoner: this.#engines.reasoner,
      tts: this.#engines.tts,
      serverTools: () => this.#knowledge.serverTools(),
      contextSources: () => this.#knowledge.contextSources(),
      itemTranscriptsSettled: () => this.#itemTranscripts.settled(),
      emit: (event) => this.#emit(event),
      remember: (utterance) => this.#remember(utterance),
      ended: (response, metrics) => {
        this.observer.safeEmit('responseended', response);
        if (metrics) this.observer.safeEmit('turnmetrics', metrics);
      },
    };
  }

  /** The narrow view the turn controller has of this session. */
  #turnHost(): TurnHost {
    const session = this;
    const reasoner = this.#engines.reasoner;
    return {
      get closed() {
        return session.#closed;
      },
      get responding() {
        return session.#responder.active !== undefined;
      },
      get userSpeaking() {
        return session.#recognition.userSpeaking;
      },
      conversation: this.#conversation,
      emit: (event) => this.#emit(event),
      fail: (code, error) => this.#fail(code, error),
      remember: (utterance) => this.#remember(utterance),
      respond: (timings: TurnTimings, questionId: string) => void this.createResponse({ timings, questionId }),
      cancelResponse: (reason) => this.cancelResponse(reason),
      pauseResponse: () => this.#responder.active?.pauseAudio() ?? false,
      resumeResponse: () => this.#responder.active?.resumeAudio(),
      // A request for a watch is answered once the turn is confirmed: making it is not speculative work.
      prepareResponse: (question, timings) => !this.watches.isRequest(itemText(question)) && this.#responder.prepare(question, timings),
      releaseResponse: (timings) => this.#responder.release(timings) !== undefined,
      discardResponse: () => this.#responder.discardHeld(),
      isInstruction: reasoner.isInstruction && ((text, signal) => reasoner.isInstruction!(text, signal)),
    };
  }

  /** The narrow view the watches have of this session. */
  #watchHost(): WatchHost {
    const session = this;
    return {
      get memoryId() {
        return session.#memoryId;
      },
      get clock() {
        return session.#settings.clock;
      },
      get mediaMs() {
        return session.mediaMs;
      },
      quiet: () => !this.#recognition.userSpeaking && !this.#recognition.utteranceOpen && !this.#responder.active && !this.#responder.held,
      speakUp: (script, metadata) => !this.#closed && !this.#responder.active && (this.#responder.create({ script, metadata }), true),
      emit: (event) => this.#emit(event),
      fail: (code, error) => this.#fail(code, error),
      currentClip: () => this.#visual?.currentClip(),
    };
  }

  /** The narrow view the sound events have of this session. */
  #soundHost(): SoundHost {
    const session = this;
    return {
      get seeing() {
        return session.#visual?.started ?? false;
      },
      emit: (event) => this.#emit(event),
      fail: (code, error) => this.#fail(code, error),
      heard: (event) => this.watches.observe({ kind: 'sound', event }),
      keep: (sound) => this.#engines.memory?.addClip(soundRecord(sound, { memoryId: this.#memoryId, sessionId: this.id, startWall: this.#startWall })),
    };
  }

  /** Every utterance goes to the session transcript and, when there is one, long-term memory. */
  #remember(utterance: Utterance): void {
    this.transcript.add(utterance);
    if (utterance.role === 'user' && !this.watches.isRequest(utterance.text)) this.watches.observe({ kind: 'utterance', role: 'user', text: utterance.text, startMs: utterance.startMs, endMs: utterance.endMs });
    this.#engines.memory?.addUtterance({ ...utterance, memoryId: this.memoryId, sessionId: this.id, wallStartMs: this.#startWall + utterance.startMs });
  }

  #emit(body: ServerEventBody): void {
    if (this.#closed) return;
    this.safeEmit('event', { event_id: `event_${this.id.slice(5, 13)}_${++this.#eventCounter}`, ...body });
  }

  /** A server-side failure: the client gets an error event, the operator a log line. */
  #fail(code: string, error: unknown): void {
    this.#log.error({ err: error, code }, 'session work failed');
    this.#emit(serverError(code, error));
  }

  #assertOpen(): void {
    if (this.#closed) throw new InvalidStateError('session is closed');
  }

  /** New input is refused once the session drains (the server is shutting down). */
  #assertAccepting(): void {
    this.#assertOpen();
    if (this.#draining) throw new ClientError('session_draining', 'the server is shutting down: this session takes no new input');
  }
}

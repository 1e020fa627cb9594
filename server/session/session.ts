import { concatPcm, int16ToFloat32, samplesToMs } from '../audio/pcm.ts';
import { Resampler } from '../audio/resampler.ts';
import { ClientError, InvalidStateError } from '../errors.ts';
import { TypedEmitter } from '../../common/typed-emitter.ts';
import type { AsrEngine, AsrRecognizer } from '../perception/asr/types.ts';
import { SILERO_FRAME, SILERO_SAMPLE_RATE, SpeechSegmenter, defaultServerVadOptions } from '../perception/vad/index.ts';
import type { SegmenterEvent, SileroStream, SileroVad } from '../perception/vad/index.ts';
import { MemoryStore, TranscriptLog, mergeText, type Utterance } from '../../memory/index.ts';
import type { MemoryHit } from '../../memory/types.ts';
import { thumbnail } from '../perception/video/pipeline.ts';
import { checkInstruction, defaultInstructionFilterOptions } from '../reasoning/index.ts';
import type { ChatMessage, Reasoner } from '../reasoning/index.ts';
import type { TtsEngine } from '../speech/index.ts';
import { newId } from './ids.ts';
import { Response, type CancelReason, type TurnTimings } from './response.ts';
import { defaultSessionLimits } from './types.ts';
import type { ServerEvent, ServerEventBody, SessionLimits, SessionSettings } from './types.ts';
import type { SessionPatch } from '../protocol/client-events.ts';
import { memoryHitToWire } from '../protocol/memory-wire.ts';
import type { FrameFactsScheduler } from '../perception/video/facts.ts';
import { VideoPipeline, type Clip, type SceneComparer } from '../perception/video/pipeline.ts';
import { defaultClipperOptions } from '../perception/video/clipper.ts';
import type { VideoFrame } from '../perception/video/types.ts';

/** The models a session uses; shared by all sessions of a server, never owned by one. */
export interface SessionEngines {
  vad: SileroVad;
  asr: AsrEngine;
  reasoner: Reasoner;
  tts: TtsEngine;
  /** Absent: the session hears but does not see. */
  vision?: { comparer: SceneComparer; facts: FrameFactsScheduler };
  /** Absent: nothing outlives the session. */
  memory?: MemoryStore;
}

/** Which engine plays each role, as clients and reports show it. */
export function describeEngines(engines: SessionEngines): Record<string, unknown> {
  return {
    vad: 'silero-v5',
    asr: engines.asr.name,
    reasoner: engines.reasoner.name,
    language_model: engines.reasoner.usesLanguageModel,
    tts: engines.tts.name,
    scene: engines.vision?.comparer.name ?? null,
    ocr: engines.vision?.facts.reader.names.ocr ?? null,
    objects: engines.vision?.facts.reader.names.objects ?? null,
    image_embedding: engines.vision?.facts.reader.names.embedder ?? null,
  };
}

export interface SessionOptions {
  engines: SessionEngines;
  limits?: Partial<SessionLimits>;
  settings?: Partial<SessionSettings>;
  /** Share long-term memory with other sessions of this id. @defaultValue the session id */
  memoryId?: string;
}

export type SessionEvents = {
  event: [ServerEvent];
  close: [];
  listenererror: [string, unknown];
};

const FRAME_MS = samplesToMs(SILERO_FRAME, SILERO_SAMPLE_RATE);
/** Audio kept before an utterance: prefix padding, and context for later stages (IXC keeps ~3.8 s). */
const HISTORY_MS = 4000;
/** Frames handed to ASR per call: fewer native round trips, partials still every 128 ms. */
const ASR_BATCH_FRAMES = 4;
/** Clips kept in RAM with their keyframe and thumbnail: the short-term memory. */
const RECENT_CLIPS = 8;
/** Keyframes shown to a language model as "now" (IXC falls back to the last 3 frames). */
const CURRENT_FRAMES = 3;
/** How long a live answer waits for the facts of the scene on screen (the open clip, cut at the question). */
const QUESTION_CLIP_WAIT_MS = 400;

/** One user utterance while it is being heard. */
interface OpenUtterance {
  itemId: string;
  /** Where its audio starts: the detected start of speech less the prefix padding. */
  startMs: number;
  /** Where the speech itself starts: what "at 13:00 you said" refers to. */
  speechStartMs: number;
  pending: Int16Array[];
  partial: string;
}

/**
 * The orchestrator of one conversation: owns the media clock, the audio path
 * (resample → VAD → ASR), turns, responses and barge-in, and emits Realtime server events.
 * Transport-agnostic: the WebSocket connection, file ingest and the eval harness drive it alike.
 */
export class Session extends TypedEmitter<SessionEvents> {
  readonly id = newId('sess');
  readonly transcript = new TranscriptLog();
  #memoryId: string;
  readonly #startWall = Date.now();
  readonly #engines: SessionEngines;
  readonly #limits: SessionLimits;
  #settings: SessionSettings;
  #closed = false;
  #eventCounter = 0;

  // Audio path state.
  #resampler: Resampler;
  #vadStream: SileroStream;
  #segmenter: SpeechSegmenter;
  #recognizer: AsrRecognizer | undefined;
  #frameRest = new Int16Array(0);
  #frameRestArrived = 0; // when the samples in #frameRest arrived: a frame straddling two appends is as old as its first part
  #history: { startMs: number; pcm: Int16Array; arrivedWall: number }[] = [];
  #mediaSamples = 0; // 16 kHz samples processed: the media clock
  #acceptedMs = 0; // media ms of input accepted (queued), for the live rate check
  #firstAppendWall = 0;
  #work: Promise<void> = Promise.resolve();
  #asrChain: Promise<unknown> = Promise.resolve();
  #utterance: OpenUtterance | undefined;
  #turns = new Set<Promise<void>>();

  // Video path state.
  #video: VideoPipeline | undefined;
  #clipCounter = 0;
  #lastFrameMs = -1;
  readonly #recentClips: Clip[] = [];

  // Conversation state.
  #conversation: ChatMessage[] = [];
  #lastUserItem: { id: string; text: string; endMs: number } | undefined;
  #response: Response | undefined;

  constructor(options: SessionOptions) {
    super();
    this.#engines = options.engines;
    this.#memoryId = options.memoryId ?? this.id;
    this.#limits = { ...defaultSessionLimits, ...options.limits };
    this.#settings = {
      instructions: '',
      modalities: ['audio'],
      inputRate: 24000,
      outputRate: 24000,
      voice: 'slt',
      turnDetection: { ...defaultServerVadOptions, createResponse: true, interruptResponse: true },
      clock: 'live',
      videoFps: 1,
      clipper: { ...defaultClipperOptions },
      filter: { ...defaultInstructionFilterOptions },
      ...options.settings,
    };
    this.#resampler = new Resampler(this.#settings.inputRate, SILERO_SAMPLE_RATE);
    this.#vadStream = this.#engines.vad.createStream();
    this.#segmenter = new SpeechSegmenter(this.#settings.turnDetection ?? {});
    this.#video = this.#createVideoPipeline();
  }

  #createVideoPipeline(): VideoPipeline | undefined {
    const vision = this.#engines.vision;
    if (!vision) return undefined;
    return new VideoPipeline(
      { fps: this.#settings.videoFps, clipper: this.#settings.clipper },
      {
        comparer: vision.comparer,
        facts: vision.facts,
        newId: () => `clip_${this.id.slice(5, 13)}_${++this.#clipCounter}`,
        onClip: (clip) => this.#clipCommitted(clip),
        onError: (error) => this.#fail('video_processing_failed', error),
      },
    );
  }

  /** Creates the per-session decoder and announces the session. */
  async open(): Promise<void> {
    this.#recognizer = await this.#engines.asr.createRecognizer();
    this.#emit({ type: 'session.created', session: this.describe() });
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
    if (this.#acceptedMs > 0 || this.#lastFrameMs >= 0 || this.#conversation.length > 0) {
      throw new ClientError('user_locked', 'the user cannot change once the session has audio, video or conversation items; name it in the first session.update', 'session.omnilive.user');
    }
    this.#memoryId = user;
  }

  get settings(): Readonly<SessionSettings> {
    return this.#settings;
  }

  /** Media time in ms: how much input audio the session has processed. */
  get mediaMs(): number {
    return samplesToMs(this.#mediaSamples, SILERO_SAMPLE_RATE);
  }

  /** Whether heard audio awaits its end of turn (exact once drained()). */
  get utteranceOpen(): boolean {
    return this.#utterance !== undefined;
  }

  /** The last few clips, newest last, with their keyframes: short-term visual memory. */
  get recentClips(): readonly Clip[] {
    return this.#recentClips;
  }

  get activeResponse(): Response | undefined {
    return this.#response;
  }

  describe(): Record<string, unknown> {
    const s = this.#settings;
    const td = s.turnDetection;
    return {
      type: 'realtime',
      object: 'realtime.session',
      id: this.id,
      model: 'omnilive',
      instructions: s.instructions,
      output_modalities: s.modalities,
      audio: {
        input: {
          format: { type: 'audio/pcm', rate: s.inputRate },
          transcription: { model: this.#engines.asr.name },
          turn_detection: td && {
            type: 'server_vad',
            threshold: td.threshold,
            prefix_padding_ms: td.prefixPaddingMs,
            silence_duration_ms: td.silenceDurationMs,
            create_response: td.createResponse,
            interrupt_response: td.interruptResponse,
          },
        },
        output: { format: { type: 'audio/pcm', rate: s.outputRate }, voice: s.voice },
      },
      omnilive: {
        user: this.#memoryId,
        clock: s.clock,
        video_fps: s.videoFps,
        clipper: { min_frames: s.clipper.minFrames, max_frames: s.clipper.maxFrames, cut_similarity: s.clipper.cutSimilarity },
        instruction_filter: s.filter.mode,
        engines: describeEngines(this.#engines),
      },
    };
  }

  /** session.update: validated by the caller; rejects settings that cannot apply now. */
  update(patch: SessionPatch): void {
    this.#assertOpen();
    const s = { ...this.#settings };
    if (patch.instructions !== undefined) s.instructions = patch.instructions;
    if (patch.output_modalities) s.modalities = [...new Set(patch.output_modalities)];
    const input = patch.audio?.input;
    if (input?.format?.rate && input.format.rate !== s.inputRate) {
      if (this.#acceptedMs > 0) throw new ClientError('invalid_value', 'the input audio rate cannot change after audio was appended', 'session.audio.input.format.rate');
      s.inputRate = input.format.rate;
      this.#resampler = new Resampler(s.inputRate, SILERO_SAMPLE_RATE);
    }
    if (input?.turn_detection === null) {
      s.turnDetection = null;
    } else if (input?.turn_detection) {
      const td = input.turn_detection;
      const prev = s.turnDetection ?? { ...defaultServerVadOptions, createResponse: true, interruptResponse: true };
      s.turnDetection = {
        ...prev,
        threshold: td.threshold ?? prev.threshold,
        prefixPaddingMs: td.prefix_padding_ms ?? prev.prefixPaddingMs,
        silenceDurationMs: td.silence_duration_ms ?? prev.silenceDurationMs,
        createResponse: td.create_response ?? prev.createResponse,
        interruptResponse: td.interrupt_response ?? prev.interruptResponse,
      };
      this.#segmenter.configure(s.turnDetection);
    }
    const output = patch.audio?.output;
    if (output?.format?.rate) s.outputRate = output.format.rate;
    if (output?.voice) {
      const voices = this.#engines.tts.voices;
      if (voices && !voices.includes(output.voice)) throw new ClientError('invalid_value', `unknown voice '${output.voice}' for ${this.#engines.tts.name}: use one of ${voices.join(', ')}`, 'session.audio.output.voice');
      s.voice = output.voice;
    }
    if (patch.omnilive?.clock) s.clock = patch.omnilive.clock;
    if (patch.omnilive?.video_fps !== undefined && patch.omnilive.video_fps !== s.videoFps) {
      if (this.#lastFrameMs >= 0) throw new ClientError('invalid_value', 'the video frame rate cannot change after frames were appended', 'session.omnilive.video_fps');
      s.videoFps = patch.omnilive.video_fps;
    }
    if (patch.omnilive?.instruction_filter) s.filter = { ...s.filter, mode: patch.omnilive.instruction_filter };
    const clipper = patch.omnilive?.clipper;
    if (clipper) {
      if (this.#lastFrameMs >= 0) throw new ClientError('invalid_value', 'clip thresholds cannot change after frames were appended', 'session.omnilive.clipper');
      const next = {
        minFrames: clipper.min_frames ?? s.clipper.minFrames,
        maxFrames: clipper.max_frames ?? s.clipper.maxFrames,
        cutSimilarity: clipper.cut_similarity ?? s.clipper.cutSimilarity,
      };
      if (next.maxFrames < next.minFrames) throw new ClientError('invalid_value', 'clipper.max_frames must be at least min_frames', 'session.omnilive.clipper');
      s.clipper = next;
    }
    const videoChanged = s.videoFps !== this.#settings.videoFps || s.clipper !== this.#settings.clipper;
    this.#settings = s;
    if (videoChanged) this.#video = this.#createVideoPipeline();
    this.#emit({ type: 'session.updated', session: this.describe() });
  }

  /**
   * input_audio_buffer.append: pcm16 at the session's input rate. Returns at once; the audio
   * is processed in order on the session's work queue. A live session refuses audio that
   * arrives much faster than real time.
   */
  appendAudio(pcm: Int16Array): void {
    this.#assertOpen();
    if (pcm.length === 0) return;
    const now = performance.now();
    const ms = samplesToMs(pcm.length, this.#settings.inputRate);
    if (this.#settings.clock === 'live') {
      if (!this.#firstAppendWall) this.#firstAppendWall = now;
      const lead = this.#acceptedMs + ms - (now - this.#firstAppendWall);
      if (lead > this.#limits.maxAudioLeadMs) {
        throw new ClientError(
          'input_audio_rate_exceeded',
          `audio is arriving faster than real time (${Math.round(lead)} ms ahead of the clock; limit ${this.#limits.maxAudioLeadMs} ms); this chunk was dropped. Set session.omnilive.clock to "media" to stream files.`,
        );
      }
    }
    this.#acceptedMs += ms;
    const pcm16k = this.#resampler.process(pcm);
    this.#work = this.#work.then(() => this.#processAudio(pcm16k, now)).catch((error) => this.#fail('audio_processing_failed', error));
  }

  /**
   * omnilive.video_frame.append and file frames: an RGB frame at media time `frame.t`.
   * Frames must come in time order; the pipeline keeps `videoFps` of them.
   */
  appendVideoFrame(frame: VideoFrame): void {
    this.#assertOpen();
    if (!this.#video) throw new ClientError('video_unavailable', 'this server has no video perception engines');
    if (!(frame.t >= 0) || frame.t < this.#lastFrameMs) {
      throw new ClientError('invalid_value', `frame time ${frame.t} ms is before the previous frame (${this.#lastFrameMs} ms)`, 't');
    }
    this.#lastFrameMs = frame.t;
    this.#video.push(frame);
  }

  /** The input has ended (a file, an evaluation video): the held frames become the last clip. */
  endVideo(): void {
    this.#video?.flush();
  }

  /** Every utterance goes to the session transcript and, when there is one, long-term memory. */
  #remember(utterance: Utterance): void {
    this.transcript.add(utterance);
    this.#engines.memory?.addUtterance({ ...utterance, memoryId: this.memoryId, sessionId: this.id, wallStartMs: this.#startWall + utterance.startMs });
  }

  #clipCommitted(clip: Clip): void {
    const heard = this.transcript
      .recent(50)
      .filter((u) => u.role === 'user' && u.endMs > clip.startMs && u.startMs < clip.endMs)
      .map((u) => u.text);
    const vector = clip.facts.embedding;
    this.#engines.memory?.addClip({
      id: clip.id,
      memoryId: this.memoryId,
      sessionId: this.id,
      startMs: clip.startMs,
      endMs: clip.endMs,
      wallStartMs: this.#startWall + clip.startMs,
      frameCount: clip.frameCount,
      thumbnail: clip.thumbnail,
      ocrText: mergeText(clip.facts.ocr.map((l) => l.text)),
      objects: clip.facts.objects.map((o) => ({ label: o.label, count: o.count })),
      transcript: heard.join(' '),
      soundEvents: [],
      ...(vector ? { frameVectors: [vector], globalVector: vector } : {}),
    });
    this.#recentClips.push(clip);
    if (this.#recentClips.length > RECENT_CLIPS) this.#recentClips.shift();
    const { facts } = clip;
    this.#emit({
      type: 'omnilive.clip.committed',
      clip: {
        id: clip.id,
        start_ms: clip.startMs,
        end_ms: clip.endMs,
        frame_count: clip.frameCount,
        keyframe_ms: clip.keyframe.t,
        keyframe_jpeg: clip.thumbnail.toString('base64'),
        ocr_text: facts.ocr.map((l) => l.text).join('\n'),
        ocr: facts.ocr,
        objects: facts.objects,
        has_embedding: facts.embedding !== undefined,
        skipped: facts.skipped,
        scene_comparer: clip.comparer,
      },
    });
  }

  /** Resolves when every frame appended so far is clipped and its clip has its facts. */
  async videoIdle(): Promise<void> {
    await this.#video?.idle();
  }

  /** Resolves when all appended audio has been processed (and its ASR work queued). */
  async drained(): Promise<void> {
    await this.#work;
  }

  /** Resolves when audio, transcription and turn handling have settled (not responses). */
  async idle(): Promise<void> {
    await this.#video?.idle();
    await this.#work;
    await this.#asrChain;
    while (this.#turns.size) await Promise.all(this.#turns);
  }

  /** input_audio_buffer.commit: ends the current utterance now (manual turns or push-to-talk). */
  commitAudio(): void {
    this.#assertOpen();
    this.#work = this.#work.then(() => {
      if (!this.#utterance) {
        this.#emit({ type: 'error', error: { type: 'invalid_request_error', code: 'input_audio_buffer_commit_empty', message: 'the input audio buffer has no uncommitted audio' } });
        return;
      }
      this.#segmenter.reset();
      this.#endUtterance(this.mediaMs, performance.now());
    });
  }

  /** input_audio_buffer.clear: drops audio not yet committed. */
  clearAudio(): void {
    this.#assertOpen();
    this.#work = this.#work.then(() => {
      if (this.#utterance) this.#asrChain = this.#asrChain.then(() => this.#recognizer?.cancel());
      this.#utterance = undefined;
      // Forget the cleared audio entirely: no prefix padding from it, no VAD state carried over.
      this.#history = [];
      this.#frameRest = new Int16Array(0);
      this.#segmenter.reset();
      this.#vadStream.reset();
      this.#emit({ type: 'input_audio_buffer.cleared' });
    });
  }

  /** conversation.item.create with text content. */
  addItem(item: { id?: string; role: 'user' | 'assistant' | 'system'; text: string }): string {
    this.#assertOpen();
    const id = item.id ?? newId('item');
    const at = this.mediaMs;
    const contentType = item.role === 'assistant' ? 'output_text' : 'input_text';
    const body = { id, object: 'realtime.item', type: 'message', role: item.role, status: 'completed', content: [{ type: contentType, text: item.text }] };
    this.#emit({ type: 'conversation.item.added', previous_item_id: null, item: body });
    this.#emit({ type: 'conversation.item.done', previous_item_id: null, item: body });
    if (item.role === 'system') {
      this.#conversation.push({ role: 'system', content: item.text });
      return id;
    }
    this.#conversation.push({ role: item.role, content: item.text });
    this.#remember({ id, role: item.role, text: item.text, startMs: at, endMs: at });
    if (item.role === 'user') this.#lastUserItem = { id, text: item.text, endMs: at };
    return id;
  }

  /** response.create, or a finished user turn. */
  createResponse(options: { instructions?: string; modalities?: ('text' | 'audio')[]; timings?: TurnTimings } = {}): Response {
    this.#assertOpen();
    if (this.#response) throw new ClientError('conversation_already_has_active_response', `response ${this.#response.id} is still in progress; cancel it first`);
    const question = this.#lastUserItem;
    const settings = this.#settings;
    const response = new Response({
      reasoner: this.#engines.reasoner,
      tts: this.#engines.tts,
      voice: settings.voice,
      modalities: options.modalities ?? settings.modalities,
      outputRate: settings.outputRate,
      audioLeadMs: settings.clock === 'live' ? this.#limits.outputAudioLeadMs : 0,
      timings: options.timings ?? {},
      emit: (event) => this.#emit(event),
      request: {
        question: question?.text ?? '',
        questionId: question?.id,
        conversation: this.#conversation.slice(0, question ? -1 : undefined),
        transcript: this.transcript,
        instructions: options.instructions ?? (settings.instructions || undefined),
        nowMs: question?.endMs ?? this.mediaMs,
        evidence: [],
        images: [],
      },
      prepare: async () => {
        await this.#sceneAtQuestion();
        return { evidence: await this.#retrieve(question?.text ?? ''), images: await this.#currentImages() };
      },
    });
    this.#response = response;
    response.start().finally(() => this.#responseEnded(response));
    return response;
  }

  /**
   * What is on screen when a question is answered is evidence too: the clip still open in the
   * clipper is cut here (a question is a scene boundary for the asker) and goes to memory and
   * the recent clips like any other. On the media clock the answer waits for its facts; on the
   * live clock at most QUESTION_CLIP_WAIT_MS, after which it goes on without them (the clip
   * still reaches memory when its facts come, for later questions).
   */
  async #sceneAtQuestion(): Promise<void> {
    const cut = this.#video?.cut();
    if (!cut) return;
    if (this.#settings.clock === 'media') {
      await cut;
      return;
    }
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<void>((resolve) => {
      timer = setTimeout(resolve, QUESTION_CLIP_WAIT_MS);
    });
    await Promise.race([cut, late]);
    clearTimeout(timer);
  }

  /** Long-term memory for a question: by words and time (and meaning, with embeddings). */
  async #retrieve(text: string): Promise<MemoryHit[]> {
    if (!this.#engines.memory || !text) return [];
    return this.searchMemory(text, 8);
  }

  /** omnilive.memory.search, and retrieval for answers: this session's memory id only. */
  async searchMemory(text: string, limit: number): Promise<MemoryHit[]> {
    const memory = this.#engines.memory;
    if (!memory) throw new ClientError('memory_unavailable', 'long-term memory is off on this server');
    await memory.flush(); // what was just said or seen counts too
    return memory.search({ memoryId: this.memoryId, text, nowMs: this.mediaMs, nowWallMs: Date.now(), limit });
  }

  reportMemoryResults(query: string, hits: MemoryHit[]): void {
    this.#emit({ type: 'omnilive.memory.results', query, results: hits.map(memoryHitToWire) });
  }

  /** The latest keyframes, larger than thumbnails, for reasoners that look. */
  async #currentImages(): Promise<{ t: number; jpeg: Uint8Array }[]> {
    if (!this.#engines.reasoner.usesLanguageModel) return [];
    const latest = this.#recentClips.slice(-CURRENT_FRAMES);
    return Promise.all(latest.map(async (clip) => ({ t: clip.keyframe.t, jpeg: await thumbnail(clip.keyframe, 448) })));
  }

  /** response.cancel, or barge-in. Returns whether a response was cancelled. */
  cancelResponse(reason: CancelReason): boolean {
    const response = this.#response;
    if (!response) return false;
    response.cancel(reason);
    this.#responseEnded(response);
    return true;
  }

  #responseEnded(response: Response): void {
    if (this.#response !== response) return;
    this.#response = undefined;
    const spoken = response.spokenText.trim();
    if (spoken) {
      this.#conversation.push({ role: 'assistant', content: spoken });
      const at = this.mediaMs;
      this.#remember({ id: response.itemId, role: 'assistant', text: spoken, startMs: at, endMs: at });
    }
    if (response.status === 'completed' || response.status === 'cancelled') this.#emitMetrics(response);
  }

  /** Idempotent. Cancels the response in flight and frees the decoder; queued work is dropped. */
  close(): void {
    if (this.#closed) return;
    this.cancelResponse('session_closed');
    this.#closed = true;
    this.#video?.close();
    this.#utterance = undefined;
    this.#asrChain = this.#asrChain.then(() => this.#recognizer?.close());
    this.safeEmit('close');
    this.removeAllListeners('event');
  }

  // ---- audio path ----

  async #processAudio(pcm: Int16Array, arrivedWall: number): Promise<void> {
    if (this.#closed) return;
    let data = pcm;
    const restLength = this.#frameRest.length;
    const restArrived = this.#frameRestArrived;
    if (restLength) data = concatPcm([this.#frameRest, pcm]);
    const whole = data.length - (data.length % SILERO_FRAME);
    this.#frameRest = data.slice(whole);
    this.#frameRestArrived = this.#frameRest.length > pcm.length ? restArrived : arrivedWall;
    const float = new Float32Array(SILERO_FRAME);
    for (let off = 0; off < whole; off += SILERO_FRAME) {
      if (this.#closed) return;
      const frame = data.subarray(off, off + SILERO_FRAME);
      const startMs = this.mediaMs;
      this.#mediaSamples += SILERO_FRAME;
      this.#keepAudio(startMs, frame, off < restLength ? restArrived : arrivedWall);
      let event: SegmenterEvent | undefined;
      let begun = false;
      if (this.#settings.turnDetection) {
        const p = await this.#vadStream.probability(int16ToFloat32(frame, float));
        if (this.#closed) return;
        event = this.#segmenter.push(startMs, FRAME_MS, p);
        if (event?.type === 'speech_started') begun = this.#beginUtterance(event.audioStartMs, true);
      } else if (!this.#utterance) {
        begun = this.#beginUtterance(startMs, false);
      }
      const u = this.#utterance;
      if (u) {
        if (!begun) u.pending.push(frame.slice()); // a new utterance took it from the history
        if (u.pending.length >= ASR_BATCH_FRAMES) this.#feedAsr(u);
      }
      if (event?.type === 'speech_stopped') {
        // Latency counts from when the audio where speech ended reached us.
        const endFrame = this.#history.find((h) => h.startMs >= event.audioEndMs);
        this.#endUtterance(event.audioEndMs, endFrame?.arrivedWall ?? arrivedWall);
      }
    }
  }

  #keepAudio(startMs: number, frame: Int16Array, arrivedWall: number): void {
    this.#history.push({ startMs, pcm: frame.slice(), arrivedWall });
    while (this.#history.length && this.#history[0]!.startMs < startMs - HISTORY_MS) this.#history.shift();
  }

  /** Opens an utterance with the history from its padded start, the current frame included. */
  #beginUtterance(audioStartMs: number, detected: boolean): true {
    const itemId = newId('item');
    const padding = this.#settings.turnDetection?.prefixPaddingMs ?? 0;
    const startMs = Math.max(0, audioStartMs - padding);
    // The speech itself and its prefix padding are already in the history.
    const pending = this.#history.filter((h) => h.startMs >= startMs).map((h) => h.pcm);
    this.#utterance = { itemId, startMs, speechStartMs: audioStartMs, pending, partial: '' };
    this.#asrChain = this.#asrChain.then(() => this.#recognizer?.start());
    if (detected) {
      this.#emit({ type: 'input_audio_buffer.speech_started', audio_start_ms: Math.round(audioStartMs), item_id: itemId });
      // Barge-in: the user talks over the answer. Cancel before anything else is sent.
      if (this.#response && this.#settings.turnDetection?.interruptResponse) this.cancelResponse('turn_detected');
    }
    return true;
  }

  #feedAsr(u: OpenUtterance): void {
    const audio = concatPcm(u.pending);
    u.pending = [];
    this.#asrChain = this.#asrChain
      .then(async () => {
        const partial = (await this.#recognizer?.accept(audio)) ?? '';
        if (this.#closed || this.#utterance !== u || !partial) return;
        // Realtime deltas only append: send the new words when the hypothesis extends what was sent.
        if (partial.startsWith(u.partial) && partial.length > u.partial.length) {
          const delta = partial.slice(u.partial.length);
          u.partial = partial;
          this.#emit({ type: 'conversation.item.input_audio_transcription.delta', item_id: u.itemId, content_index: 0, delta });
        }
      })
      .catch((error) => this.#fail('transcription_failed', error));
  }

  #endUtterance(audioEndMs: number, speechEndWall: number): void {
    const u = this.#utterance;
    if (!u) return;
    const timings: TurnTimings = { speechEnd: speechEndWall, endOfTurn: performance.now() };
    if (u.pending.length) this.#feedAsr(u);
    this.#utterance = undefined;
    const previous = this.#lastUserItem?.id ?? null;
    if (this.#settings.turnDetection) {
      this.#emit({ type: 'input_audio_buffer.speech_stopped', audio_end_ms: Math.round(audioEndMs), item_id: u.itemId });
    }
    this.#emit({ type: 'input_audio_buffer.committed', previous_item_id: previous, item_id: u.itemId });
    const item = { id: u.itemId, object: 'realtime.item', type: 'message', role: 'user', status: 'completed', content: [{ type: 'input_audio', transcript: null as string | null }] };
    this.#emit({ type: 'conversation.item.added', previous_item_id: previous, item });
    const finished = this.#asrChain.then(() => this.#recognizer!.finish());
    this.#asrChain = finished.catch(() => {});
    const turn = finished
      .then((result) => {
        if (this.#closed) return;
        timings.asrFinal = performance.now();
        // ASR's share after the end of turn, backlog included: decoding queued audio is ASR work too.
        timings.asrComputeMs = Math.max(result.computeMs, timings.asrFinal - timings.endOfTurn!);
        const text = result.text.trim();
        this.#emit({ type: 'conversation.item.input_audio_transcription.completed', item_id: u.itemId, content_index: 0, transcript: text, usage: { type: 'duration', seconds: (audioEndMs - u.startMs) / 1000 } });
        item.content[0]!.transcript = text;
        this.#emit({ type: 'conversation.item.done', previous_item_id: previous, item });
        this.#finishTurn(u, text, audioEndMs, timings);
      })
      .catch((error) => this.#fail('transcription_failed', error));
    this.#turns.add(turn);
    turn.finally(() => this.#turns.delete(turn));
  }

  /** A user turn has its transcript: remember it, then decide whether to answer. */
  #finishTurn(u: OpenUtterance, text: string, endMs: number, timings: TurnTimings): void {
    if (text) {
      this.#remember({ id: u.itemId, role: 'user', text, startMs: u.speechStartMs, endMs });
      this.#conversation.push({ role: 'user', content: text });
      this.#lastUserItem = { id: u.itemId, text, endMs };
    }
    const td = this.#settings.turnDetection;
    if (!td?.createResponse) return;
    const verdict = checkInstruction(text, this.#settings.filter);
    if (!verdict.accept) {
      this.#emit({ type: 'omnilive.turn.ignored', item_id: u.itemId, reason: verdict.reason });
      return;
    }
    // The user already speaks again: their next turn gets the answer.
    if (this.#segmenter.speaking) {
      this.#emit({ type: 'omnilive.turn.ignored', item_id: u.itemId, reason: 'user_continued' });
      return;
    }
    if (this.#response) this.cancelResponse('turn_detected');
    if (this.#settings.filter.mode === 'llm' && this.#engines.reasoner.isInstruction) {
      const abort = new AbortController();
      this.#engines.reasoner
        .isInstruction(text, abort.signal)
        .then((yes) => {
          if (this.#closed) return;
          if (!yes) return this.#emit({ type: 'omnilive.turn.ignored', item_id: u.itemId, reason: 'not_addressed' });
          if (!this.#response) this.createResponse({ timings });
        })
        .catch((error) => this.#fail('instruction_check_failed', error));
      return;
    }
    this.createResponse({ timings });
  }

  #emitMetrics(response: Response): void {
    const t = response.timings;
    if (t.speechEnd === undefined) return; // typed questions have no speech timings
    const round = (ms: number | null | undefined) => (ms === null || ms === undefined ? null : Math.round(ms * 10) / 10);
    const since = (mark: number | undefined) => (mark === undefined ? null : round(mark - t.speechEnd!));
    const llmStart = t.retrieved ?? t.responseStart;
    const llmFirstTokenMs = t.firstLlmToken !== undefined && llmStart !== undefined ? t.firstLlmToken - llmStart : null;
    const retrievalMs = t.retrieved !== undefined && t.responseStart !== undefined ? t.retrieved - t.responseStart : 0;
    const total = t.firstAudioDelta !== undefined && t.endOfTurn !== undefined ? t.firstAudioDelta - t.endOfTurn : null;
    const compute = (t.asrComputeMs ?? 0) + retrievalMs + (llmFirstTokenMs ?? 0) + (t.firstTtsComputeMs ?? 0);
    this.#emit({
      type: 'omnilive.metrics',
      response_id: response.id,
      status: response.status,
      // ms since the wall-clock arrival of the audio where speech ended
      latency_ms: {
        end_of_turn: since(t.endOfTurn),
        asr_final: since(t.asrFinal),
        retrieval: since(t.retrieved),
        first_llm_token: since(t.firstLlmToken),
        first_tts_audio: since(t.firstTtsAudio),
        first_audio_delta: since(t.firstAudioDelta),
      },
      compute_ms: {
        asr_finish: round(t.asrComputeMs),
        retrieval: round(retrievalMs),
        llm_first_token: round(llmFirstTokenMs),
        tts_first_sentence: round(t.firstTtsComputeMs),
      },
      // end-of-turn decision → first audio delta, minus the engines' own compute
      pipeline_overhead_ms: total === null ? null : round(total - compute),
    });
  }

  #emit(body: ServerEventBody): void {
    if (this.#closed) return;
    this.safeEmit('event', { event_id: `event_${this.id.slice(5, 13)}_${++this.#eventCounter}`, ...body } as ServerEvent);
  }

  #fail(code: string, error: unknown): void {
    const message = error instanceof Error ? error.message : String(error);
    this.#emit({ type: 'error', error: { type: 'server_error', code, message } });
  }

  #assertOpen(): void {
    if (this.#closed) throw new InvalidStateError('session is closed');
  }
}

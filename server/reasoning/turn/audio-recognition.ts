import { concatPcm, int16ToFloat32 } from '../../audio/pcm.ts';
import type { AsrEngine, AsrRecognizer, AsrResult } from '../../perception/asr/types.ts';
import { FRAME_MS, type AudioFrame, type AudioInput } from '../../perception/audio/audio-input.ts';
import { SILERO_FRAME } from '../../perception/vad/index.ts';
import type { VadEngine, VadStream } from '../../perception/vad/index.ts';
import { newId } from '../../session/ids.ts';
import type { Endpointing, TurnCues } from './endpointing.ts';

/** Frames handed to ASR per call: fewer native round trips, partials still every 128 ms. */
const ASR_BATCH_FRAMES = 4;

/** A user utterance while it is heard and after it ends. */
export interface HeardUtterance {
  itemId: string;
  /** Where its audio starts: the detected start of speech less the prefix padding. */
  startMs: number;
  /** Where the speech itself starts: what "at 13:00 you said" refers to. */
  speechStartMs: number;
  /** Found by VAD (server_vad), not opened by appended audio under manual turns. */
  detected: boolean;
  /** The ASR hypothesis so far (what deltas have been sent). */
  partial: string;
}

/** How a turn ended, as measured: for the end-of-turn event and the latency metrics. */
export interface EndOfTurn {
  audioEndMs: number;
  /** performance.now() when the audio where speech ended reached the server. */
  speechEndWall: number;
  /** performance.now() of the end-of-turn decision. */
  decidedWall: number;
}

/**
 * What recognition tells its owner (the turn controller), in LiveKit's RecognitionHooks style:
 * recognition decides nothing about answers, the owner decides nothing about audio.
 */
export interface RecognitionHooks {
  onStartOfSpeech(utterance: HeardUtterance): void;
  onTranscriptDelta(utterance: HeardUtterance, delta: string): void;
  /** The turn is over (endpointing or a commit); its final transcript follows. */
  onEndOfTurn(utterance: HeardUtterance, end: EndOfTurn): void;
  onFinalTranscript(utterance: HeardUtterance, end: EndOfTurn, result: AsrResult, finalWall: number): void;
  /**
   * The user paused long enough to prepare an answer (semantic_vad): first with the decoder's
   * latest hypothesis (`final` false), then with the words transcribed as if the turn ended at
   * `end` (`final` true). Nothing may be heard until onEndOfTurn.
   */
  onTurnPaused?(utterance: HeardUtterance, end: EndOfTurn, result: AsrResult, final: boolean): void;
  /** The user went on after such a pause: what was prepared for it is void. */
  onTurnResumed?(utterance: HeardUtterance): void;
  /** Every VAD frame: the barge-in policy waits on it to confirm or dismiss an onset. */
  onVadFrame?(frameEndMs: number, probability: number): void;
  /** The turn ended but its final transcript could not be made. */
  onTranscriptionFailed(utterance: HeardUtterance, error: unknown): void;
  onError(code: string, error: unknown): void;
}

export interface AudioRecognitionOptions {
  vad: VadEngine;
  /**
   * Media-clock sessions (files, evaluation) run faster than real time: the words must reach
   * endpointing before the next frame does, or where a turn ends would depend on CPU speed.
   */
  awaitWords?: () => boolean;
  /** Cues beyond the words, read at a pause (prosody, an end-of-turn model). */
  pauseCues?: (pcm: Int16Array, signal: AbortSignal) => Promise<Omit<TurnCues, 'words'>>;
  asr: AsrEngine;
  input: AudioInput;
  endpointing: Endpointing;
  hooks: RecognitionHooks;
}

/** A pause's transcript, made by finishing the decoder early; void once the user goes on. */
interface Pause {
  end: EndOfTurn;
  /** The decoder was finished for it: going on means decoding the utterance again. */
  finished: boolean;
  result?: AsrResult;
  error?: unknown;
  /** Settles when the pause's transcript is in (or it was dropped). */
  done: Promise<void>;
  abort: AbortController;
}

interface OpenUtterance extends HeardUtterance {
  /** The decoder's latest hypothesis, whether or not it extends what was sent. */
  hypothesis: string;
  pending: Int16Array[];
  /** All audio given to the decoder, to give again when the user goes on after a pause. */
  fed: Int16Array[];
  pause?: Pause;
}

/**
 * VAD → endpointing → ASR for one session. Frames come in media order; ASR calls run on one
 * chain so the decoder sees one utterance at a time; partials reach endpointing as well as the
 * owner. Engines stay behind their interfaces, so tests drive it with stand-ins.
 */
export class AudioRecognition {
  readonly #options: AudioRecognitionOptions;
  readonly #vad: VadStream;
  #endpointing: Endpointing;
  #recognizer: AsrRecognizer | undefined;
  #asr: Promise<unknown> = Promise.resolve();
  #utterance: OpenUtterance | undefined;
  /** Finals not yet handed to the owner: idle() waits for them. */
  readonly #finals = new Set<Promise<void>>();
  readonly #float = new Float32Array(SILERO_FRAME);
  #closed = false;

  constructor(options: AudioRecognitionOptions) {
    this.#options = options;
    this.#vad = options.vad.createStream();
    this.#endpointing = options.endpointing;
  }

  async open(): Promise<void> {
    this.#recognizer = await this.#options.asr.createRecognizer();
  }

  get endpointing(): Endpointing {
    return this.#endpointing;
  }

  /** Swaps the end-of-turn policy (a session.update of turn_detection). */
  set endpointing(policy: Endpointing) {
    this.#endpointing = policy;
  }

  /** Whether heard audio awaits its end of turn. */
  get utteranceOpen(): boolean {
    return this.#utterance !== undefined;
  }

  /** Whether the user is speaking now, as endpointing sees it. */
  get userSpeaking(): boolean {
    return this.#endpointing.speaking;
  }

  /** One frame, in media order. Resolves once endpointing has seen it (ASR may still run). */
  async push(frame: AudioFrame): Promise<void> {
    if (this.#closed) return;
    const policy = this.#endpointing;
    let event;
    let begun = false;
    if (policy.usesVad) {
      const p = await this.#vad.probability(int16ToFloat32(frame.pcm, this.#float));
      if (this.#closed) return;
      event = policy.push(frame.startMs, FRAME_MS, p);
      this.#options.hooks.onVadFrame?.(frame.startMs + FRAME_MS, p);
      if (event?.type === 'speech_started') begun = this.#begin(event.audioStartMs, true);
    } else if (!this.#utterance) {
      begun = this.#begin(frame.startMs, false);
    }
    const u = this.#utterance;
    if (u && event?.type === 'speech_resumed') this.#resume(u);
    if (u) {
      if (!begun) u.pending.push(frame.pcm); // a new utterance took it from the history
      if (u.pending.length >= ASR_BATCH_FRAMES && !u.pause) this.#feed(u);
    }
    if (u && event?.type === 'speech_paused') this.#pause(u, event.audioEndMs, this.#options.input.arrivalOf(event.audioEndMs) ?? frame.arrivedWall);
    if (u && policy.readsWords && this.#options.awaitWords?.()) {
      await this.#asr;
      await u.pause?.done;
    }
    if (event?.type === 'speech_stopped') {
      // Latency counts from when the audio where speech ended reached us.
      this.#end(event.audioEndMs, this.#options.input.arrivalOf(event.audioEndMs) ?? frame.arrivedWall);
    }
  }

  /** input_audio_buffer.commit: ends the open utterance now. Returns false when there is none. */
  commit(atMs: number): boolean {
    if (!this.#utterance) return false;
    this.#endpointing.reset();
    this.#end(atMs, performance.now());
    return true;
  }

  /** input_audio_buffer.clear: drops the open utterance and all VAD state built on that audio. */
  clear(): void {
    const u = this.#utterance;
    const pause = u?.pause;
    pause?.abort.abort();
    // A decoder finished for a pause is idle already; otherwise the utterance is cancelled.
    if (u) this.#asr = this.#asr.then(() => (pause?.finished ? undefined : this.#recognizer?.cancel()));
    this.#utterance = undefined;
    this.#endpointing.reset();
    this.#vad.reset();
  }

  /** Resolves when every ASR call and every final transcript queued so far is handled. */
  async idle(): Promise<void> {
    await this.#asr;
    while (this.#finals.size) await Promise.all(this.#finals);
  }

  /** The session closed: drop the open utterance, then free the decoder after queued calls. */
  parentClosed(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#utterance?.pause?.abort.abort();
    this.#utterance = undefined;
    this.#asr = this.#asr.then(() => this.#recognizer?.close());
  }

  /** Opens an utterance with the history from its padded start, the current frame included. */
  #begin(audioStartMs: number, detected: boolean): true {
    const startMs = Math.max(0, audioStartMs - this.#endpointing.prefixPaddingMs);
    const pending = this.#options.input.historyFrom(startMs).map((h) => h.pcm);
    const u: OpenUtterance = { itemId: newId('item'), startMs, speechStartMs: audioStartMs, detected, partial: '', hypothesis: '', pending, fed: [] };
    this.#utterance = u;
    this.#asr = this.#asr.then(() => this.#recognizer?.start());
    if (detected) this.#options.hooks.onStartOfSpeech(u);
    return true;
  }

  #feed(u: OpenUtterance): void {
    const audio = concatPcm(u.pending);
    u.pending = [];
    u.fed.push(audio);
    this.#asr = this.#asr
      .then(async () => {
        const partial = (await this.#recognizer?.accept(audio)) ?? '';
        if (this.#closed || this.#utterance !== u || !partial) return;
        u.hypothesis = partial;
        this.#endpointing.onTranscript({ words: partial });
        // Realtime deltas only append: send the new words when the hypothesis extends what was sent.
        if (partial.startsWith(u.partial) && partial.length > u.partial.length) {
          const delta = partial.slice(u.partial.length);
          u.partial = partial;
          this.#options.hooks.onTranscriptDelta(u, delta);
        }
      })
      .catch((error) => this.#options.hooks.onError('transcription_failed', error));
  }

  /**
   * A pause long enough to prepare an answer: the decoder finishes on the words so far, the
   * owner hears them (with the other cues, which also set the endpointing's wait), and frames
   * after it wait unfed until the turn ends or the user goes on.
   */
  #pause(u: OpenUtterance, audioEndMs: number, speechEndWall: number): void {
    if (u.pending.length) this.#feed(u);
    const abort = new AbortController();
    const pause: Pause = { end: { audioEndMs, speechEndWall, decidedWall: performance.now() }, finished: false, abort, done: Promise.resolve() };
    u.pause = pause;
    const cues = this.#options.pauseCues?.(concatPcm(u.fed), abort.signal).catch(() => ({}));
    const finished = this.#asr.then(async () => {
      if (abort.signal.aborted) return;
      // The final takes the decoder's second pass (~100 ms or more): the answer starts from the
      // hypothesis meanwhile, and starts again if the final's words differ.
      if (u.hypothesis) this.#options.hooks.onTurnPaused?.(u, pause.end, { text: u.hypothesis, computeMs: 0 }, false);
      pause.finished = true;
      pause.result = await this.#recognizer!.finish();
    });
    this.#asr = finished.catch(() => {});
    pause.done = finished
      .then(async () => {
        const more = (await cues) ?? {};
        if (abort.signal.aborted || this.#closed || !pause.result) return;
        this.#endpointing.onTranscript({ ...more, words: pause.result.text });
        this.#options.hooks.onTurnPaused?.(u, pause.end, pause.result, true);
      })
      .catch((error) => {
        pause.error = error; // the end of the turn reports it, as a failed transcription
      });
  }

  /** The user went on: drop the pause and give the decoder the whole utterance again. */
  #resume(u: OpenUtterance): void {
    if (!u.pause) return;
    this.#dropPause(u);
    this.#options.hooks.onTurnResumed?.(u);
  }

  #dropPause(u: OpenUtterance): void {
    const pause = u.pause!;
    u.pause = undefined;
    pause.abort.abort();
    const heard = concatPcm(u.fed); // now: audio fed after this point is queued after the replay
    this.#asr = this.#asr.then(async () => {
      if (!pause.finished || this.#closed) return;
      await this.#recognizer?.start();
      if (this.#utterance !== u) return;
      const partial = await this.#recognizer?.accept(heard);
      if (partial && this.#utterance === u) {
        u.hypothesis = partial;
        this.#endpointing.onTranscript({ words: partial });
      }
    });
  }

  #end(audioEndMs: number, speechEndWall: number): void {
    const u = this.#utterance;
    if (!u) return;
    const pause = u.pause;
    const end: EndOfTurn = pause ? { ...pause.end, decidedWall: performance.now() } : { audioEndMs, speechEndWall, decidedWall: performance.now() };
    if (u.pending.length && !pause) this.#feed(u);
    this.#utterance = undefined;
    const hooks = this.#options.hooks;
    hooks.onEndOfTurn(u, end);
    // After a pause the turn's words are the pause's: the silence since then adds none.
    let result: Promise<AsrResult>;
    if (pause) {
      result = pause.done.then(() => {
        if (!pause.result) throw pause.error ?? new Error('the transcript of the pause was not made');
        return pause.result;
      });
    } else {
      const finished = this.#asr.then(() => this.#recognizer!.finish());
      this.#asr = finished.catch(() => {});
      result = finished;
    }
    const final = result
      .then((r) => {
        if (!this.#closed) hooks.onFinalTranscript(u, end, r, performance.now());
      })
      .catch((error) => {
        if (!this.#closed) hooks.onTranscriptionFailed(u, error);
      });
    this.#finals.add(final);
    final.finally(() => this.#finals.delete(final));
  }
}

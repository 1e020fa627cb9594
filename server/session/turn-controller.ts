import type { Utterance } from '../../memory/index.ts';
import type { AsrResult } from '../perception/asr/types.ts';
import type { EndOfTurn, HeardUtterance, RecognitionHooks } from '../reasoning/turn/audio-recognition.ts';
import { InterruptionPolicy, type InterruptionAction } from '../reasoning/turn/interruption.ts';
import { SpeechOnsetDetector } from '../reasoning/turn/speech-onset.ts';
import { decideTurn, defaultTurnHandlingOptions, type TurnHandlingOptions } from '../reasoning/turn/turn-handling.ts';
import { serverFailure, type ServerEventBody } from '../protocol/server-events.ts';
import type { Conversation, ConversationItem } from './conversation.ts';
import type { CancelReason, TurnTimings } from './response.ts';

/** What the turn controller needs of its session: narrow, so tests can stand in for it. */
export interface TurnHost {
  readonly closed: boolean;
  readonly conversation: Conversation;
  emit(event: ServerEventBody): void;
  fail(code: string, error: unknown): void;
  /** Every finished utterance goes to the transcript and long-term memory. */
  remember(utterance: Utterance): void;
  /** Whether an answer is in flight. */
  readonly responding: boolean;
  /** Starts an answer to the user turn `questionId`. */
  respond(timings: TurnTimings, questionId: string): void;
  cancelResponse(reason: CancelReason): boolean;
  /** Pauses / resumes the audio of the answer in flight (a possible barge-in). */
  pauseResponse(): boolean;
  resumeResponse(): void;
  /** Prepares, unheard, an answer to `question` (a turn not confirmed yet). Returns false when it cannot now. */
  prepareResponse(question: ConversationItem, timings: TurnTimings): boolean;
  /** The prepared answer becomes the answer. Returns false when there is none. */
  releaseResponse(timings: TurnTimings): boolean;
  /** Drops the prepared answer unheard. Returns false when there was none. */
  discardResponse(): boolean;
  /** Whether the user already speaks again (endpointing's view). */
  readonly userSpeaking: boolean;
  /** The reasoner's own check whether words were meant for the assistant, when it has one. */
  isInstruction?: (text: string, signal: AbortSignal) => Promise<boolean>;
}

/** Wall-clock bound on a paused answer, for when the client stops sending audio while it is paused. */
const MAX_PAUSE_WALL_MS = 1500;

/**
 * Turn-taking for one session: implements recognition's hooks, reports the user's turn on the
 * wire, applies the barge-in and turn-handling policies, prepares answers during the user's
 * pauses and starts answers.
 */
export class TurnController implements RecognitionHooks {
  readonly #host: TurnHost;
  readonly #interruption = new InterruptionPolicy();
  readonly #onsets = new SpeechOnsetDetector();
  #handling: TurnHandlingOptions = { ...defaultTurnHandlingOptions };
  readonly #checks = new Set<AbortController>();
  /** The user item an answer is prepared for, and the words it answers, while one is held. */
  #prepared: { itemId: string; text: string } | undefined;
  /** Prepared answers dropped in the open turn, by its item: reported with the turn's answer. */
  readonly #discarded = new Map<string, number>();
  #pauseTimer: NodeJS.Timeout | undefined;

  constructor(host: TurnHost) {
    this.#host = host;
  }

  /** From the session's settings: turn_detection (null: manual turns) and the instruction filter. */
  configure(turnDetection: { createResponse: boolean; interruptResponse: boolean; threshold?: number } | null, filter: TurnHandlingOptions['filter']): void {
    this.#interruption.configure({ interruptResponse: turnDetection?.interruptResponse ?? false, ...(turnDetection?.threshold !== undefined ? { threshold: turnDetection.threshold } : {}) });
    this.#handling = { createResponse: turnDetection?.createResponse ?? false, filter };
  }

  /**
   * Input audio (16 kHz) as it arrives, ahead of the VAD: a possible start of speech pauses the
   * answer's audio at once. Returns the media ms of that onset, if there was one.
   */
  hear(pcm16k: Int16Array): number | undefined {
    const onset = this.#onsets.push(pcm16k);
    if (onset !== undefined) this.#act(this.#interruption.onOnset(onset, { responseActive: this.#host.responding }));
    return onset;
  }

  onVadFrame(frameEndMs: number, probability: number): void {
    this.#act(this.#interruption.onVadFrame(frameEndMs, probability, { responseActive: this.#host.responding }));
  }

  onStartOfSpeech(u: HeardUtterance): void {
    const host = this.#host;
    host.emit({ type: 'input_audio_buffer.speech_started', audio_start_ms: Math.round(u.speechStartMs), item_id: u.itemId });
    // Barge-in: the user talks over the answer. Cancel before anything else is sent.
    const wasPaused = this.#interruption.paused;
    const action = this.#interruption.onStartOfSpeech({ responseActive: host.responding, detected: u.detected });
    this.#act(action ?? (wasPaused ? 'resume' : undefined));
  }

  /**
   * The user paused: if the words so far would be answered, prepare that answer, unheard. The
   * hypothesis comes first, then the final: an answer to other words is dropped and made again.
   */
  onTurnPaused(u: HeardUtterance, end: EndOfTurn, result: AsrResult): void {
    const host = this.#host;
    const text = result.text.trim();
    if (host.closed || (this.#prepared?.itemId === u.itemId && this.#prepared.text === text)) return;
    this.onTurnResumed(u);
    if (host.responding || this.#prepared) return;
    const verdict = decideTurn(this.#handling, { text, userSpeaking: false, reasonerJudges: host.isInstruction !== undefined });
    if (verdict.kind !== 'answer') return;
    const question: ConversationItem = { type: 'message', id: u.itemId, role: 'user', content: [{ type: 'input_audio', transcript: text }], endMs: end.audioEndMs };
    if (host.prepareResponse(question, { speechEnd: end.speechEndWall })) this.#prepared = { itemId: u.itemId, text };
  }

  /** The user went on (or the words changed): the answer prepared for the pause is dropped, and counted. */
  onTurnResumed(u: HeardUtterance): void {
    if (this.#prepared?.itemId !== u.itemId) return;
    this.#prepared = undefined;
    if (this.#host.discardResponse()) this.#discarded.set(u.itemId, (this.#discarded.get(u.itemId) ?? 0) + 1);
  }

  onTranscriptDelta(u: HeardUtterance, delta: string): void {
    this.#host.emit({ type: 'conversation.item.input_audio_transcription.delta', item_id: u.itemId, content_index: 0, delta });
  }

  onEndOfTurn(u: HeardUtterance, end: EndOfTurn): void {
    const host = this.#host;
    if (u.detected) host.emit({ type: 'input_audio_buffer.speech_stopped', audio_end_ms: Math.round(end.audioEndMs), item_id: u.itemId });
    const item: ConversationItem = { type: 'message', id: u.itemId, role: 'user', content: [{ type: 'input_audio', transcript: null }], endMs: end.audioEndMs };
    const previous = host.conversation.insert(item);
    host.emit({ type: 'input_audio_buffer.committed', previous_item_id: previous, item_id: u.itemId });
    host.emit({ type: 'conversation.item.added', previous_item_id: previous, item: host.conversation.wire(item) });
  }

  onFinalTranscript(u: HeardUtterance, end: EndOfTurn, result: AsrResult, finalWall: number): void {
    const host = this.#host;
    if (host.closed) return;
    const timings: TurnTimings = { speechEnd: end.speechEndWall, endOfTurn: end.decidedWall, asrFinal: finalWall };
    // ASR's share after the end of turn, backlog included: decoding queued audio is ASR work too.
    timings.asrComputeMs = Math.max(result.computeMs, finalWall - end.decidedWall);
    const text = result.text.trim();
    host.emit({ type: 'conversation.item.input_audio_transcription.completed', item_id: u.itemId, content_index: 0, transcript: text, usage: { type: 'duration', seconds: (end.audioEndMs - u.startMs) / 1000 } });
    const conversation = host.conversation;
    conversation.setContent(u.itemId, [{ type: 'input_audio', transcript: text }]);
    const item = conversation.get(u.itemId) ?? { type: 'message', id: u.itemId, role: 'user', content: [{ type: 'input_audio', transcript: text }], endMs: end.audioEndMs };
    host.emit({ type: 'conversation.item.done', previous_item_id: conversation.previousOf(u.itemId), item: conversation.wire(item) });
    if (text) host.remember({ id: u.itemId, role: 'user', text, startMs: u.speechStartMs, endMs: end.audioEndMs });
    this.#decide(u.itemId, text, timings);
  }

  onTranscriptionFailed(u: HeardUtterance, error: unknown): void {
    this.#host.emit({ type: 'conversation.item.input_audio_transcription.failed', item_id: u.itemId, content_index: 0, error: serverFailure('transcription_failed', error) });
  }

  onError(code: string, error: unknown): void {
    this.#host.fail(code, error);
  }

  /** The session closed: pending instruction checks are dropped. */
  parentClosed(): void {
    clearTimeout(this.#pauseTimer);
    for (const check of this.#checks) check.abort();
    this.#checks.clear();
  }

  /** Carries out what the barge-in policy asked of the answer in flight. */
  #act(action: InterruptionAction): void {
    if (!action) return; // most VAD frames ask nothing: the pause's wall-clock bound must stand
    const host = this.#host;
    clearTimeout(this.#pauseTimer);
    if (action === 'cancel') host.cancelResponse('turn_detected');
    else if (action === 'resume') host.resumeResponse();
    else if (action === 'pause' && host.pauseResponse()) {
      this.#pauseTimer = setTimeout(() => {
        this.#interruption.reset();
        host.resumeResponse();
      }, MAX_PAUSE_WALL_MS);
      this.#pauseTimer.unref?.();
    }
  }

  /** A user turn has its transcript: decide whether to answer. */
  #decide(itemId: string, text: string, timings: TurnTimings): void {
    const host = this.#host;
    const verdict = decideTurn(this.#handling, { text, userSpeaking: host.userSpeaking, reasonerJudges: host.isInstruction !== undefined });
    const prepared = this.#prepared?.itemId === itemId && this.#prepared.text === text;
    if (this.#prepared && !prepared) host.discardResponse();
    this.#prepared = undefined;
    timings.speculationDiscarded = this.#discarded.get(itemId) ?? 0;
    this.#discarded.delete(itemId);
    if (prepared) {
      if (verdict.kind === 'answer' && host.releaseResponse(timings)) return;
      host.discardResponse(); // not answered after all (a filler, a check), or it cannot be now
    }
    if (verdict.kind === 'silent') return;
    if (verdict.kind === 'ignore') return host.emit({ type: 'omnilive.turn.ignored', item_id: itemId, reason: verdict.reason });
    if (host.responding) host.cancelResponse('turn_detected');
    if (verdict.kind === 'answer') return host.respond(timings, itemId);
    const check = new AbortController();
    this.#checks.add(check);
    host.isInstruction!(text, check.signal)
      .then((yes) => {
        if (host.closed) return;
        if (!yes) return host.emit({ type: 'omnilive.turn.ignored', item_id: itemId, reason: 'not_addressed' });
        if (!host.responding) host.respond(timings, itemId);
      })
      .catch((error) => {
        if (!check.signal.aborted) host.fail('instruction_check_failed', error);
      })
      .finally(() => this.#checks.delete(check));
  }
}

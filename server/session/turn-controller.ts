import type { Utterance } from '../../memory/index.ts';
import type { AsrResult } from '../perception/asr/types.ts';
import type { EndOfTurn, HeardUtterance, RecognitionHooks } from '../reasoning/turn/audio-recognition.ts';
import { InterruptionPolicy } from '../reasoning/turn/interruption.ts';
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
  /** Whether the user already speaks again (endpointing's view). */
  readonly userSpeaking: boolean;
  /** The reasoner's own check whether words were meant for the assistant, when it has one. */
  isInstruction?: (text: string, signal: AbortSignal) => Promise<boolean>;
}

/**
 * Turn-taking for one session: implements recognition's hooks, reports the user's turn on the
 * wire, applies the barge-in and turn-handling policies, and starts answers.
 */
export class TurnController implements RecognitionHooks {
  readonly #host: TurnHost;
  readonly #interruption = new InterruptionPolicy();
  #handling: TurnHandlingOptions = { ...defaultTurnHandlingOptions };
  readonly #checks = new Set<AbortController>();

  constructor(host: TurnHost) {
    this.#host = host;
  }

  /** From the session's settings: turn_detection (null: manual turns) and the instruction filter. */
  configure(turnDetection: { createResponse: boolean; interruptResponse: boolean } | null, filter: TurnHandlingOptions['filter']): void {
    this.#interruption.configure({ interruptResponse: turnDetection?.interruptResponse ?? false });
    this.#handling = { createResponse: turnDetection?.createResponse ?? false, filter };
  }

  onStartOfSpeech(u: HeardUtterance): void {
    const host = this.#host;
    host.emit({ type: 'input_audio_buffer.speech_started', audio_start_ms: Math.round(u.speechStartMs), item_id: u.itemId });
    // Barge-in: the user talks over the answer. Cancel before anything else is sent.
    if (this.#interruption.onStartOfSpeech({ responseActive: host.responding, detected: u.detected })) host.cancelResponse('turn_detected');
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
    for (const check of this.#checks) check.abort();
    this.#checks.clear();
  }

  /** A user turn has its transcript: decide whether to answer. */
  #decide(itemId: string, text: string, timings: TurnTimings): void {
    const host = this.#host;
    const verdict = decideTurn(this.#handling, { text, userSpeaking: host.userSpeaking, reasonerJudges: host.isInstruction !== undefined });
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

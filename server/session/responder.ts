import { ClientError } from '../errors.ts';
import type { TranscriptLog, Utterance } from '../../memory/index.ts';
import { gatherContext, type ContextSources, type Reasoner } from '../reasoning/index.ts';
import { scriptedReasoner } from '../reasoning/llm/scripted.ts';
import type { ServerTool } from '../reasoning/tools/server-tools.ts';
import type { TtsEngine } from '../speech/index.ts';
import type { FunctionTool, ToolChoice } from '../protocol/session-patch.ts';
import type { ServerEventBody, WireItem } from '../protocol/server-events.ts';
import { responseInputOf, type Conversation, type ConversationItem } from './conversation.ts';
import { Response, type CancelReason, type TurnTimings } from './response.ts';
import { turnMetrics } from './turn-metrics.ts';
import type { SessionLimits, SessionSettings } from './types.ts';

/** Responses kept after they end, so a client can still truncate or retrieve their items. */
const KEPT_RESPONSES = 8;

/** What a response may ask for beyond the session's settings (`response.create`'s `response`). */
export interface ResponseRequest {
  instructions?: string;
  modalities?: ('text' | 'audio')[];
  /** Wall-clock marks of the spoken turn it answers. */
  timings?: TurnTimings;
  /** The user item it answers (a finished turn); otherwise read from the conversation. */
  questionId?: string;
  tools?: FunctionTool[];
  toolChoice?: ToolChoice;
  maxOutputTokens?: number | 'inf';
  /** 'none': an out-of-band answer whose items stay outside the conversation. */
  conversation?: 'auto' | 'none';
  /** The items to answer instead of the conversation (new ones, or references to the conversation's). */
  input?: ConversationItem[];
  metadata?: Record<string, string>;
  /** Prepare it without a word to the client until release() (an answer made during the user's pause). */
  held?: boolean;
  /** A held answer's question: the user's item as it will be once the turn is confirmed (not in the conversation yet). */
  pendingQuestion?: ConversationItem;
  /** Words to say as they are (a watch's confirmation or announcement): no retrieval, no model. */
  script?: string;
}

export interface ResponderHost {
  readonly settings: SessionSettings;
  readonly limits: SessionLimits;
  readonly mediaMs: number;
  readonly transcript: TranscriptLog;
  readonly conversation: Conversation;
  readonly reasoner: Reasoner;
  readonly tts: TtsEngine;
  /** The server's own tools for this response (empty when off or without a language model). */
  serverTools(): ServerTool[];
  contextSources(): ContextSources;
  /** Resolves once audio the client put in items has its transcripts. */
  itemTranscriptsSettled(): Promise<void>;
  emit(event: ServerEventBody): void;
  remember(utterance: Utterance): void;
  /** A response ended (completed, cancelled or failed), with the latency of a spoken turn's answer. */
  ended(response: Response, metrics: ReturnType<typeof turnMetrics>): void;
}

/** A wire item as the conversation keeps it. */
function conversationItem(item: WireItem, endMs: number): ConversationItem {
  if (item.type === 'function_call') return { type: 'function_call', id: item.id, callId: item.call_id, name: item.name, arguments: item.arguments, status: item.status, endMs };
  if (item.type === 'function_call_output') return { type: 'function_call_output', id: item.id, callId: item.call_id, output: item.output, endMs };
  return { type: 'message', id: item.id, role: item.role, content: item.content, status: item.status, endMs };
}

/**
 * The session's answers: builds each Response from the conversation and the options, places its
 * items in the conversation as they appear, keeps the one in flight and a few past ones (for
 * truncate and retrieve), and settles what an ended answer leaves (memory, metrics).
 */
export class Responder {
  readonly #host: ResponderHost;
  #active: Response | undefined;
  /** An answer prepared during the user's pause, not yet released. */
  #held: Response | undefined;
  #settled: Promise<void> = Promise.resolve();
  readonly #recent: Response[] = [];

  constructor(host: ResponderHost) {
    this.#host = host;
  }

  get active(): Response | undefined {
    return this.#active;
  }

  /** The held answer, while there is one. */
  get held(): Response | undefined {
    return this.#held;
  }

  create(options: ResponseRequest = {}): Response {
    this.discardHeld(); // a new answer supersedes one prepared for a pause
    if (this.#active) throw new ClientError('conversation_already_has_active_response', `response ${this.#active.id} is still in progress; cancel it first`);
    const host = this.#host;
    const settings = host.settings;
    const context = host.contextSources();
    const clientTools = (options.tools ?? settings.tools).map(({ name, description, parameters }) => ({ name, description, parameters }));
    const serverTools = host.serverTools();
    const tools = [...clientTools, ...serverTools.map((t) => t.spec)];
    const choice = options.toolChoice ?? settings.toolChoice;
    const maxTokens = options.maxOutputTokens ?? settings.maxOutputTokens;
    const outOfBand = options.conversation === 'none';
    const script = options.script;
    const response = new Response({
      reasoner: script === undefined ? host.reasoner : scriptedReasoner(script),
      tts: host.tts,
      voice: settings.voice,
      modalities: options.modalities ?? settings.modalities,
      outputRate: settings.outputRate,
      outputEncoding: settings.outputEncoding,
      audioLeadMs: settings.clock === 'live' ? host.limits.outputAudioLeadMs : 0,
      timings: options.timings ?? {},
      emit: (event) => host.emit(event),
      metadata: options.metadata,
      serverTools: new Map(serverTools.map((t) => [t.spec.name, t])),
      held: options.held,
      conversation: outOfBand
        ? undefined
        : {
            add: (item) => host.conversation.insert(conversationItem(item, host.mediaMs)),
            done: (item) => host.conversation.update(item.id, conversationItem(item, host.mediaMs)),
          },
      // The question and history are read in prepare, just before the reasoner runs.
      request: {
        question: '',
        conversation: [],
        transcript: host.transcript,
        instructions: options.instructions ?? (settings.instructions || undefined),
        nowMs: host.mediaMs,
        evidence: [],
        images: [],
        ...(tools.length ? { tools, toolChoice: typeof choice === 'string' ? choice : { name: choice.name }, parallelToolCalls: settings.parallelToolCalls } : {}),
        ...(maxTokens === 'inf' ? {} : { maxOutputTokens: maxTokens }),
      },
      prepare: async (signal) => {
        if (script !== undefined) return {};
        // Audio inside items is transcribed in the background: read the conversation once it has words.
        await host.itemTranscriptsSettled();
        const pending = options.pendingQuestion;
        const latest = options.input
          ? responseInputOf(options.input)
          : pending
            ? responseInputOf([...host.conversation.items, pending], pending.id)
            : host.conversation.responseInput(options.questionId);
        const asked = latest.question?.text ?? '';
        return {
          question: asked,
          questionId: latest.question?.id,
          questionImageUrls: latest.question?.imageUrls.length ? latest.question.imageUrls : undefined,
          conversation: latest.before,
          followUp: latest.after,
          nowMs: latest.question?.endMs ?? host.mediaMs,
          ...(await gatherContext(context, asked, signal)),
        };
      },
    });
    if (options.held) this.#held = response;
    else this.#active = response;
    this.#recent.push(response);
    if (this.#recent.length > KEPT_RESPONSES) this.#recent.shift();
    this.#settled = response.start().finally(() => this.#ended(response));
    return response;
  }

  /** Prepares, held, the answer to a user turn not yet confirmed. Returns false while another answer is in flight. */
  prepare(question: ConversationItem, timings: TurnTimings): boolean {
    if (this.#active) return false;
    this.create({ held: true, pendingQuestion: question, questionId: question.id, timings });
    return true;
  }

  /** The turn the held answer was prepared for is confirmed: it becomes the answer in flight. */
  release(timings: TurnTimings): Response | undefined {
    const response = this.#held;
    if (!response || this.#active) return undefined;
    this.#held = undefined;
    this.#active = response;
    response.release(timings);
    // It may have ended while held (a failure): it ends now that the client can see it.
    if (response.status !== 'in_progress') this.#ended(response);
    else this.#settled = response.start().finally(() => this.#ended(response));
    return response;
  }

  /** Drops the held answer unseen. Returns whether there was one. */
  discardHeld(): boolean {
    const response = this.#held;
    if (!response) return false;
    this.#held = undefined;
    response.cancel('turn_detected');
    const at = this.#recent.indexOf(response);
    if (at >= 0) this.#recent.splice(at, 1);
    return true;
  }

  /** response.cancel, barge-in, close. Returns whether a response was cancelled. */
  cancel(reason: CancelReason): boolean {
    const response = this.#active;
    if (!response) return false;
    response.cancel(reason);
    this.#ended(response);
    return true;
  }

  /** Resolves once no response is in flight (one that a finished turn starts meanwhile included). */
  async settled(): Promise<void> {
    while (this.#active) await this.#settled;
  }

  /** The response an output item belongs to, while it is kept. */
  owner(itemId: string): Response | undefined {
    return this.#recent.find((r) => r.wireItem(itemId));
  }

  /** conversation.item.truncate: the client played `audioEndMs` of an answer's audio. */
  truncate(itemId: string, contentIndex: number, audioEndMs: number): void {
    const host = this.#host;
    const item = host.conversation.require(itemId);
    if (item.type !== 'message' || item.role !== 'assistant') throw new ClientError('invalid_value', `item '${itemId}' is not an assistant message: only answers can be truncated`, 'item_id');
    if (contentIndex !== 0) throw new ClientError('invalid_value', `item '${itemId}' has one content part: content_index must be 0`, 'content_index');
    const response = this.owner(itemId);
    if (!response) throw new ClientError('invalid_value', `the audio of item '${itemId}' is no longer held: only the last ${KEPT_RESPONSES} answers can be truncated`, 'item_id');
    if (!response.speaks) throw new ClientError('invalid_value', `item '${itemId}' has no audio to truncate`, 'item_id');
    const sent = Math.round(response.audioSentMs);
    if (audioEndMs > sent) throw new ClientError('invalid_value', `audio_end_ms ${audioEndMs} is past the end of the item's audio (${sent} ms)`, 'audio_end_ms');
    const wire = response.truncate(itemId, audioEndMs)!;
    if (wire.type === 'message') host.conversation.setContent(itemId, wire.content);
    host.emit({ type: 'conversation.item.truncated', item_id: itemId, content_index: 0, audio_end_ms: audioEndMs });
  }

  /** What was said of the answer stays in the conversation and memory; an answer never heard leaves. */
  #ended(response: Response): void {
    if (this.#active !== response) return;
    this.#active = undefined;
    const host = this.#host;
    const itemId = response.itemId;
    const spoken = response.spokenText.trim();
    if (itemId && spoken) {
      const at = host.mediaMs;
      host.remember({ id: itemId, role: 'assistant', text: spoken, startMs: at, endMs: at });
    } else if (itemId && host.conversation.remove(itemId)) {
      host.emit({ type: 'conversation.item.deleted', item_id: itemId });
    }
    const metrics = response.status === 'completed' || response.status === 'cancelled' ? turnMetrics(response) : undefined;
    if (metrics) host.emit(metrics);
    host.ended(response, metrics);
  }
}

import type { TranscriptLog } from '../../../memory/index.ts';
import type { ClipScene, MemoryHit } from '../../../memory/types.ts';

/** A frame the reasoner may look at: the latest keyframes ("what do you see now?"). */
export interface FrameImage {
  /** Media ms. */
  t: number;
  jpeg: Uint8Array;
}

/** A call of a client tool the model made earlier in the conversation. */
export interface ToolCall {
  callId: string;
  name: string;
  /** JSON text. */
  arguments: string;
}

/** A conversation message as a reasoner reads it: words, a tool call, or a tool's output. */
export type ChatMessage =
  | { role: 'system' | 'user' | 'assistant'; content: string; toolCalls?: ToolCall[]; /** Images the user sent, as data URLs. */ imageUrls?: string[] }
  | { role: 'tool'; callId: string; content: string };

/** A function tool the model may call (the client runs it). */
export interface ToolSpec {
  name: string;
  description?: string;
  parameters?: Record<string, unknown>;
}

export type ToolChoiceSpec = 'auto' | 'none' | 'required' | { name: string };

/** What a reasoner gets for one turn. */
/** A clip's facts as a reasoner reads them. */
export interface SceneView {
  startMs: number;
  endMs: number;
  ocrText: string;
  objects: { label: string; count: number }[];
  scene?: ClipScene;
}

export interface ReasonerRequest {
  question: string;
  /** The question's own utterance id, so memory search can leave it out. */
  questionId?: string;
  /** Images the user sent with the question, as data URLs. */
  questionImageUrls?: string[];
  /** Earlier turns of this session, oldest first (all of them when `question` is empty). */
  conversation: ChatMessage[];
  /** Messages added after the question (system notes; later, tool calls and their outputs). */
  followUp?: ChatMessage[];
  /** Everything heard and said so far in this session. */
  transcript: TranscriptLog;
  /** Session instructions (session.update `instructions`), if any. */
  instructions?: string;
  /** Media time of the question, ms. */
  nowMs: number;
  /** Long-term memory retrieved for the question, best first (empty without a memory store). */
  evidence: MemoryHit[];
  /** The current frames, oldest first (empty when the session does not see). */
  images: FrameImage[];
  /**
   * The scene on screen at the question (the open clip, cut there), as facts: what "now",
   * "right now", "can you see" questions are about. Absent when the session does not see.
   */
  view?: SceneView;
  /** Tools the model may call, and how it should choose (absent: none). */
  tools?: ToolSpec[];
  toolChoice?: ToolChoiceSpec;
  parallelToolCalls?: boolean;
  /** Most tokens the answer may have (absent: the reasoner's own limit). */
  maxOutputTokens?: number;
}

/**
 * What a reasoner streams: text now; tool calls join this union next, so `Response` can turn
 * each kind into its own output item.
 */
export type ReasonerDelta =
  | { type: 'text'; text: string }
  /** A piece of a tool call: the first of a call carries its id and name, later ones more arguments. */
  | { type: 'tool_call'; index: number; callId?: string; name?: string; arguments: string }
  /** Tokens the model read and wrote for this answer, when the server reports them. */
  | { type: 'usage'; inputTokens: number; outputTokens: number };

export interface Reasoner {
  readonly name: string;
  /** False for the embedded answerer: it never pretends a language model answered. */
  readonly usesLanguageModel: boolean;
  /** A standing note about this reasoner's limits that clients show (response metadata, the UI). */
  readonly notice?: string;
  /** Streams the answer as typed deltas. Stops promptly when `signal` aborts. */
  respond(request: ReasonerRequest, signal: AbortSignal): AsyncIterable<ReasonerDelta>;
  /** Whether the utterance is addressed to the assistant (LLM instruction check). */
  isInstruction?(text: string, signal: AbortSignal): Promise<boolean>;
  /**
   * Whether a watch's condition holds in a clip: `question` asks it, `facts` are the clip's
   * text, objects and scene in words, `keyframeJpeg` the frame when there is one. A short yes/no.
   */
  judgeWatch?(question: string, facts: string, keyframeJpeg: Uint8Array | undefined, signal: AbortSignal): Promise<boolean>;
  close(): Promise<void>;
}

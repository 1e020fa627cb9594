import type { ClipScene } from '../../memory/types.ts';
/**
 * Every event the server sends, declared once: the Realtime GA events OmniLive emits and its own
 * `omnilive.*` events. The session, responses and the WebRTC peer build events only through
 * these types, and the web app and widget import them (type-only) instead of reading `any`.
 * Self-contained on purpose (no imports): the browser bundle's type check reads this file too.
 */

export type ItemStatus = 'in_progress' | 'completed' | 'incomplete';

export type ContentPart =
  | { type: 'input_text'; text: string }
  | { type: 'input_audio'; transcript: string | null }
  | { type: 'output_text'; text: string }
  | { type: 'output_audio'; transcript: string }
  /** An image the user sent, as a data URL. */
  | { type: 'input_image'; image_url: string; detail?: 'auto' | 'low' | 'high' };

/** A conversation item as the wire shows it (`realtime.item`). */
export type WireItem = WireMessageItem | WireFunctionCallItem | WireFunctionCallOutputItem;

export interface WireMessageItem {
  id: string;
  object: 'realtime.item';
  type: 'message';
  role: 'user' | 'assistant' | 'system';
  status: ItemStatus;
  content: ContentPart[];
}

/** A call of a client tool the model made; the client runs it and answers with an output item. */
export interface WireFunctionCallItem {
  id: string;
  object: 'realtime.item';
  type: 'function_call';
  status: ItemStatus;
  call_id: string;
  name: string;
  /** JSON text, as the model wrote it. */
  arguments: string;
}

export interface WireFunctionCallOutputItem {
  id: string;
  object: 'realtime.item';
  type: 'function_call_output';
  status: 'completed';
  call_id: string;
  output: string;
}

/** The content part a response streams into (`response.content_part.*`). */
export type ResponsePart = { type: 'audio'; transcript: string } | { type: 'text'; text: string };

export type ResponseStatus = 'in_progress' | 'completed' | 'cancelled' | 'failed';

export interface WireResponse {
  object: 'realtime.response';
  id: string;
  status: ResponseStatus;
  status_details: { type: 'cancelled'; reason: string } | { type: 'failed'; error: { type: string; code?: string; message: string } } | null;
  output: WireItem[];
  output_modalities: ('text' | 'audio')[];
  audio: { output: { format: WireAudioFormat } };
  /** The client's own metadata (response.create), with what OmniLive adds about the answer. */
  metadata: { reasoner: string; language_model: boolean; audio_sent_ms: number; audio_heard_ms?: number } & Record<string, unknown>;
  /** Token counts of the language model, when its server reports them (null for the embedded answerer). */
  usage: {
    total_tokens: number;
    input_tokens: number;
    output_tokens: number;
    input_token_details: { text_tokens: number; audio_tokens: number; image_tokens: number; cached_tokens: number };
    output_token_details: { text_tokens: number; audio_tokens: number };
  } | null;
}

/** A function tool as the session lists it (the client's, and the server's own built-in ones). */
export interface WireTool {
  type: 'function';
  name: string;
  description?: string;
  parameters?: Record<string, unknown>;
}

export type WireAudioFormat = { type: 'audio/pcm'; rate: number } | { type: 'audio/pcmu' } | { type: 'audio/pcma' };

export type WireTurnDetection =
  | { type: 'server_vad'; threshold: number; prefix_padding_ms: number; silence_duration_ms: number; create_response: boolean; interrupt_response: boolean }
  | { type: 'semantic_vad'; eagerness: 'low' | 'medium' | 'high' | 'auto'; create_response: boolean; interrupt_response: boolean };

/** The session object of `session.created`/`session.updated` (built by protocol/session-config.ts). */
export interface WireSession {
  type: 'realtime';
  object: 'realtime.session';
  id: string;
  model: string;
  instructions: string;
  output_modalities: ('text' | 'audio')[];
  audio: {
    input: {
      format: WireAudioFormat;
      transcription: { model: string };
      noise_reduction: { type: 'near_field' | 'far_field' } | null;
      turn_detection: WireTurnDetection | null;
    };
    output: { format: WireAudioFormat; voice: string; speed: number };
  };
  tools: WireTool[];
  tool_choice: 'auto' | 'none' | 'required' | { type: 'function'; name: string };
  parallel_tool_calls: boolean;
  max_output_tokens: number | 'inf';
  omnilive: {
    user: string;
    clock: 'live' | 'media';
    video_fps: number;
    clipper: { min_frames: number; max_frames: number; cut_similarity: number };
    instruction_filter: string;
    builtin_tools: boolean;
    /** Which engine plays each role. */
    engines: Record<string, unknown>;
  };
}

export interface WireError {
  type: 'invalid_request_error' | 'server_error';
  code: string;
  message: string;
  param?: string | null;
  event_id?: string | null;
}

/** Addresses a piece of a response's output. */
interface OutputRef {
  response_id: string;
  item_id: string;
  output_index: number;
  content_index: number;
}


export interface WireClip {
  id: string;
  start_ms: number;
  end_ms: number;
  frame_count: number;
  keyframe_ms: number;
  keyframe_jpeg: string;
  ocr_text: string;
  /** The OCR lines with their boxes and confidence. */
  ocr: { text: string }[];
  objects: { label: string; count: number; supercategory?: string; positions?: string[]; colours?: string[]; sizes?: number[] }[];
  /** The people seen (only looked at when a person was detected). */
  people: { box: [number, number, number, number]; position: string; distance: string; facing?: string; posture?: string; handRaised?: boolean; gestures: string[]; emotion?: string }[];
  /** What memory keeps beyond text and labels: colours, light, motion against the previous clip, objects and people described. */
  scene: ClipScene | null;
  has_embedding: boolean;
  /** Which facts were skipped for this keyframe (the facts queue was full). */
  skipped: string[];
  scene_comparer: string;
}

/** A memory hit (built by protocol/memory-wire.ts). */
export type WireMemoryHit = Record<string, unknown>;

type Nullable = number | null;

/** A watch as clients see it (`omnilive.watch.*`). */
export interface WireWatch {
  id: string;
  condition: string;
  /** How it is checked: a rule kind ('text', 'object_appears', …) or 'judged' (a language model). */
  rule: { kind: string } & Record<string, unknown>;
  mode: 'once' | 'every';
  cooldown_ms: number;
  /** Wall-clock ms (epoch), or null: never expires. */
  expires_at: number | null;
  created_at: number;
  fired_count: number;
  last_fired_at: number | null;
}

export interface WireSoundEvent {
  label: string;
  start_ms: number;
  end_ms: number;
  score: number;
}

export type ServerEventBody =
  | { type: 'session.created' | 'session.updated'; session: WireSession }
  | { type: 'error'; error: WireError }
  | { type: 'input_audio_buffer.speech_started'; audio_start_ms: number; item_id: string }
  | { type: 'input_audio_buffer.speech_stopped'; audio_end_ms: number; item_id: string }
  | { type: 'input_audio_buffer.committed'; previous_item_id: string | null; item_id: string }
  | { type: 'input_audio_buffer.cleared' }
  | { type: 'conversation.item.added' | 'conversation.item.done'; previous_item_id: string | null; item: WireItem }
  | { type: 'conversation.item.input_audio_transcription.delta'; item_id: string; content_index: number; delta: string }
  | { type: 'conversation.item.input_audio_transcription.failed'; item_id: string; content_index: number; error: WireError }
  | { type: 'conversation.item.input_audio_transcription.completed'; item_id: string; content_index: number; transcript: string; usage: { type: 'duration'; seconds: number } }
  | { type: 'response.created' | 'response.done'; response: WireResponse }
  | { type: 'response.output_item.added' | 'response.output_item.done'; response_id: string; output_index: number; item: WireItem }
  | ({ type: 'response.content_part.added' | 'response.content_part.done'; part: ResponsePart } & OutputRef)
  | ({ type: 'response.output_text.delta' | 'response.output_audio.delta' | 'response.output_audio_transcript.delta'; delta: string } & OutputRef)
  | ({ type: 'response.output_text.done'; text: string } & OutputRef)
  | ({ type: 'response.output_audio_transcript.done'; transcript: string } & OutputRef)
  | ({ type: 'response.output_audio.done' } & OutputRef)
  | { type: 'response.function_call_arguments.delta'; response_id: string; item_id: string; output_index: number; call_id: string; delta: string }
  | { type: 'response.function_call_arguments.done'; response_id: string; item_id: string; output_index: number; call_id: string; name: string; arguments: string }
  | { type: 'conversation.item.retrieved'; item: WireItem }
  | { type: 'conversation.item.truncated'; item_id: string; content_index: number; audio_end_ms: number }
  | { type: 'conversation.item.deleted'; item_id: string }
  | { type: 'omnilive.turn.ignored'; item_id: string; reason: string }
  | {
      type: 'omnilive.metrics';
      response_id: string;
      status: ResponseStatus;
      latency_ms: { end_of_turn: Nullable; asr_final: Nullable; retrieval: Nullable; first_llm_token: Nullable; first_tts_audio: Nullable; first_audio_delta: Nullable };
      compute_ms: { asr_finish: Nullable; retrieval: Nullable; llm_first_token: Nullable; tts_first_sentence: Nullable };
      pipeline_overhead_ms: Nullable;
      /** The answer was prepared during the pause before the turn was confirmed (semantic_vad). */
      speculative: boolean;
      /** Answers prepared during earlier pauses of this turn and thrown away when the user went on. */
      speculation_discarded: number;
    }
  /** A sound that may be the user starting to talk: the answer's audio stops here until it is confirmed (cancel) or not (resume). */
  | { type: 'omnilive.output_audio.paused'; response_id: string; item_id: string | null; audio_ms: number; reason: 'speech_onset' }
  /** Nobody was talking after all (a cough, a door): the answer goes on from where it paused. */
  | { type: 'omnilive.output_audio.resumed'; response_id: string; item_id: string | null; paused_ms: number }
  | { type: 'omnilive.memory.results'; query: string; results: WireMemoryHit[] }
  | { type: 'omnilive.clip.committed'; clip: WireClip }
  | { type: 'omnilive.watch.created'; request_id?: string | null; watch: WireWatch; confirmation: string }
  | { type: 'omnilive.watch.listed'; request_id?: string | null; watches: WireWatch[] }
  | { type: 'omnilive.watch.deleted'; request_id?: string | null; watch_id: string }
  | { type: 'omnilive.watch.fired'; watch_id: string; media_ms: number; evidence: { kind: string; text: string }; watch: WireWatch }
  | ({ type: 'omnilive.sound_event' } & WireSoundEvent)
  | { type: 'omnilive.webrtc.joined'; request_id?: string | null; router_rtp_capabilities: unknown }
  | { type: 'omnilive.webrtc.transport.created'; request_id?: string | null; transport: { id: string; iceParameters: unknown; iceCandidates: unknown; dtlsParameters: unknown } }
  | { type: 'omnilive.webrtc.transport.connected'; request_id?: string | null; transport_id: string }
  | { type: 'omnilive.webrtc.produced'; request_id?: string | null; producer_id: string; kind: 'audio' | 'video' }
  | { type: 'omnilive.webrtc.consumed'; request_id?: string | null; consumer: { id: string; producer_id: string; kind: 'audio' | 'video'; rtp_parameters: unknown } }
  | { type: 'omnilive.webrtc.left'; request_id?: string | null }
  | { type: 'omnilive.webrtc.state'; transport_id: string; ice_state: string; dtls_state: string }
  | { type: 'omnilive.media.stats'; audio_ms: number; video_frames: number; rtp_audio_packets: number; rtp_video_packets: number; keyframe_requests: number; answer_rtp_ms: number };

/** A server event as sent: every one carries an `event_id`. */
export type ServerEvent = ServerEventBody & { event_id: string };

export type ServerEventType = ServerEventBody['type'];

/** The event of one type, for handlers: `EventOf<'response.done'>`. */
export type EventOf<T extends ServerEventType> = ServerEvent extends infer E ? (E extends { type: infer U } ? (T extends U ? E & { type: T } : never) : never) : never;

/** Narrows an event by type (for `events.find(isEvent('response.done'))`). */
export function isEvent<T extends ServerEventType>(type: T): (event: ServerEvent) => event is EventOf<T> {
  return (event): event is EventOf<T> => event.type === type;
}

// Encoders of the shapes several events share.

/** An encoding and rate as the wire names it (G.711 is 8 kHz by definition). */
export function wireFormat(encoding: 'pcm16' | 'pcmu' | 'pcma', rate: number): WireAudioFormat {
  if (encoding === 'pcmu') return { type: 'audio/pcmu' };
  if (encoding === 'pcma') return { type: 'audio/pcma' };
  return { type: 'audio/pcm', rate };
}

/** The words of an item: a message's parts, a tool's output (a tool call has none). */
export function wireItemText(item: WireItem): string {
  if (item.type === 'function_call_output') return item.output;
  if (item.type === 'function_call') return '';
  return item.content.map(partText).filter(Boolean).join(' ');
}

/** The words of a content part, whichever kind it is (text, or an audio part's transcript). */
export function partText(part: ContentPart): string {
  if (part.type === 'input_image') return '';
  return 'text' in part ? part.text : (part.transcript ?? '');
}

export function wireItem(id: string, role: WireMessageItem['role'], status: ItemStatus, content: ContentPart[]): WireMessageItem {
  return { id, object: 'realtime.item', type: 'message', role, status, content };
}

/** A failure on the server's side, as `error` events and failed transcriptions carry it. */
export function serverFailure(code: string, error: unknown): WireError {
  return { type: 'server_error', code, message: error instanceof Error ? error.message : String(error) };
}

export function serverError(code: string, error: unknown): ServerEventBody {
  return { type: 'error', error: serverFailure(code, error) };
}

/** A client's mistake, naming the field (`param`) and the client event (`eventId`) it was in. */
export function clientError(code: string, message: string, param?: string, eventId?: string): ServerEventBody {
  return { type: 'error', error: { type: 'invalid_request_error', code, message, param: param ?? null, event_id: eventId ?? null } };
}

import type { ServerVadOptions } from '../perception/vad/index.ts';
import type { InstructionFilterOptions } from '../reasoning/index.ts';
import type { ClipperOptions } from '../perception/video/clipper.ts';
import type { AudioEncoding } from '../audio/g711.ts';
import type { FunctionTool, ToolChoice } from '../protocol/session-patch.ts';

export type { ServerEvent, ServerEventBody } from '../protocol/server-events.ts';

/** How a session treats time: see DESIGN "The clock". */
export type SessionClock = 'live' | 'media';

/** `semantic_vad`'s eagerness: how soon a turn ends once its words sound complete. */
export type Eagerness = 'low' | 'medium' | 'high' | 'auto';

export interface TurnDetectionSettings extends ServerVadOptions {
  type: 'server_vad' | 'semantic_vad';
  eagerness: Eagerness;
  createResponse: boolean;
  interruptResponse: boolean;
}

export interface SessionSettings {
  instructions: string;
  modalities: ('text' | 'audio')[];
  /** Input audio: pcm16 at 16/24 kHz, or G.711 (pcmu/pcma) at 8 kHz. */
  inputEncoding: AudioEncoding;
  inputRate: number;
  outputEncoding: AudioEncoding;
  outputRate: number;
  voice: string;
  /** null: manual turns (input_audio_buffer.commit + response.create). */
  turnDetection: TurnDetectionSettings | null;
  /** Accepted and echoed; noise is not filtered here. */
  noiseReduction: { type: 'near_field' | 'far_field' } | null;
  /** Function tools the client runs; offered to a language model. */
  tools: FunctionTool[];
  toolChoice: ToolChoice;
  parallelToolCalls: boolean;
  maxOutputTokens: number | 'inf';
  /** memory_search and current_view, offered to a language model. */
  builtinTools: boolean;
  clock: SessionClock;
  /** Video frames kept per second (1–5). */
  videoFps: number;
  clipper: ClipperOptions;
  filter: InstructionFilterOptions;
}

export interface SessionLimits {
  /** A live session refuses audio that runs further ahead of the wall clock. @defaultValue 5000 */
  maxAudioLeadMs: number;
  /** Answer audio a live session sends ahead of playback: enough to ride out network jitter,
   *  little enough that a client which misses the barge-in stops soon. @defaultValue 500 */
  outputAudioLeadMs: number;
}

export const defaultSessionLimits = {
  maxAudioLeadMs: 5000,
  outputAudioLeadMs: 500,
} as const satisfies SessionLimits;

import type { ServerVadOptions } from '../perception/vad/index.ts';
import type { InstructionFilterOptions } from '../reasoning/index.ts';
import type { ClipperOptions } from '../perception/video/clipper.ts';

export type { ServerEvent, ServerEventBody } from '../protocol/server-events.ts';

/** How a session treats time: see DESIGN "The clock". */
export type SessionClock = 'live' | 'media';

export interface SessionSettings {
  instructions: string;
  modalities: ('text' | 'audio')[];
  inputRate: 16000 | 24000;
  outputRate: 16000 | 24000;
  voice: string;
  /** null: manual turns (input_audio_buffer.commit + response.create). */
  turnDetection: (ServerVadOptions & { createResponse: boolean; interruptResponse: boolean }) | null;
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

import { ClientError } from '../errors.ts';
import { defaultServerVadOptions } from '../perception/vad/index.ts';
import type { SessionSettings } from '../session/types.ts';
import type { SessionPatch } from './client-events.ts';
import type { WireSession } from './server-events.ts';

/** What a patch may depend on: fields that freeze once media flows, and the voices there are. */
export interface PatchGuards {
  audioStarted: boolean;
  videoStarted: boolean;
  /** The TTS engine's voices, when it knows them. */
  voices?: readonly string[];
  ttsName: string;
}

const defaultTurnDetection = { ...defaultServerVadOptions, createResponse: true, interruptResponse: true };

/**
 * `session.update` → settings: the wire's snake_case patch applied to a copy of the current
 * settings. Throws a ClientError naming the field when a value cannot apply now; the
 * session applies the result only when nothing threw.
 */
export function applySessionPatch(current: SessionSettings, patch: SessionPatch, guards: PatchGuards): SessionSettings {
  const s = { ...current };
  if (patch.instructions !== undefined) s.instructions = patch.instructions;
  if (patch.output_modalities) s.modalities = [...new Set(patch.output_modalities)];
  const input = patch.audio?.input;
  if (input?.format?.rate && input.format.rate !== s.inputRate) {
    if (guards.audioStarted) throw new ClientError('invalid_value', 'the input audio rate cannot change after audio was appended', 'session.audio.input.format.rate');
    s.inputRate = input.format.rate;
  }
  if (input?.turn_detection === null) {
    s.turnDetection = null;
  } else if (input?.turn_detection) {
    const td = input.turn_detection;
    const prev = s.turnDetection ?? defaultTurnDetection;
    s.turnDetection = {
      ...prev,
      threshold: td.threshold ?? prev.threshold,
      prefixPaddingMs: td.prefix_padding_ms ?? prev.prefixPaddingMs,
      silenceDurationMs: td.silence_duration_ms ?? prev.silenceDurationMs,
      createResponse: td.create_response ?? prev.createResponse,
      interruptResponse: td.interrupt_response ?? prev.interruptResponse,
    };
  }
  const output = patch.audio?.output;
  if (output?.format?.rate) s.outputRate = output.format.rate;
  if (output?.voice) {
    const { voices, ttsName } = guards;
    if (voices && !voices.includes(output.voice)) throw new ClientError('invalid_value', `unknown voice '${output.voice}' for ${ttsName}: use one of ${voices.join(', ')}`, 'session.audio.output.voice');
    s.voice = output.voice;
  }
  const omni = patch.omnilive;
  if (omni?.clock) s.clock = omni.clock;
  if (omni?.video_fps !== undefined && omni.video_fps !== s.videoFps) {
    if (guards.videoStarted) throw new ClientError('invalid_value', 'the video frame rate cannot change after frames were appended', 'session.omnilive.video_fps');
    s.videoFps = omni.video_fps;
  }
  if (omni?.instruction_filter) s.filter = { ...s.filter, mode: omni.instruction_filter };
  const clipper = omni?.clipper;
  if (clipper) {
    if (guards.videoStarted) throw new ClientError('invalid_value', 'clip thresholds cannot change after frames were appended', 'session.omnilive.clipper');
    const next = {
      minFrames: clipper.min_frames ?? s.clipper.minFrames,
      maxFrames: clipper.max_frames ?? s.clipper.maxFrames,
      cutSimilarity: clipper.cut_similarity ?? s.clipper.cutSimilarity,
    };
    if (next.maxFrames < next.minFrames) throw new ClientError('invalid_value', 'clipper.max_frames must be at least min_frames', 'session.omnilive.clipper');
    s.clipper = next;
  }
  return s;
}

/** The defaults of a new session, before its options and any session.update. */
export function defaultSessionSettings(clipper: SessionSettings['clipper'], filter: SessionSettings['filter']): SessionSettings {
  return {
    instructions: '',
    modalities: ['audio'],
    inputRate: 24000,
    outputRate: 24000,
    voice: 'slt',
    turnDetection: { ...defaultTurnDetection },
    clock: 'live',
    videoFps: 1,
    clipper: { ...clipper },
    filter: { ...filter },
  };
}

export interface SessionIdentity {
  id: string;
  user: string;
  asrName: string;
  engines: Record<string, unknown>;
}

/** settings → the session object of `session.created` / `session.updated`. */
export function describeSession(s: SessionSettings, who: SessionIdentity): WireSession {
  const td = s.turnDetection;
  return {
    type: 'realtime',
    object: 'realtime.session',
    id: who.id,
    model: 'omnilive',
    instructions: s.instructions,
    output_modalities: s.modalities,
    audio: {
      input: {
        format: { type: 'audio/pcm', rate: s.inputRate },
        transcription: { model: who.asrName },
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
      user: who.user,
      clock: s.clock,
      video_fps: s.videoFps,
      clipper: { min_frames: s.clipper.minFrames, max_frames: s.clipper.maxFrames, cut_similarity: s.clipper.cutSimilarity },
      instruction_filter: s.filter.mode,
      engines: who.engines,
    },
  };
}

import { ClientError } from '../errors.ts';
import { defaultServerVadOptions } from '../perception/vad/index.ts';
import type { SessionSettings, TurnDetectionSettings } from '../session/types.ts';
import type { AudioEncoding } from '../audio/g711.ts';
import type { SessionPatch } from './session-patch.ts';
import { wireFormat, type WireSession, type WireTool } from './server-events.ts';

/** What a patch may depend on: fields that freeze once media flows, and the voices there are. */
export interface PatchGuards {
  audioStarted: boolean;
  videoStarted: boolean;
  /** The TTS engine's voices, when it knows them. */
  voices?: readonly string[];
  ttsName: string;
}

const defaultTurnDetection: TurnDetectionSettings = { ...defaultServerVadOptions, type: 'server_vad', eagerness: 'auto', createResponse: true, interruptResponse: true };

type WireFormat = NonNullable<NonNullable<NonNullable<SessionPatch['audio']>['input']>['format']>;

/** A wire audio format as an encoding and rate (G.711 is 8 kHz by definition). */
function formatOf(format: WireFormat, currentRate: number): { encoding: AudioEncoding; rate: number } {
  if (format.type === 'audio/pcmu') return { encoding: 'pcmu', rate: 8000 };
  if (format.type === 'audio/pcma') return { encoding: 'pcma', rate: 8000 };
  return { encoding: 'pcm16', rate: ('rate' in format ? format.rate : undefined) ?? (currentRate === 8000 ? 24000 : currentRate) };
}


/**
 * `session.update` → settings: the wire's snake_case patch applied to a copy of the current
 * settings. A field that cannot apply now is skipped and reported as a ClientError naming it;
 * the rest applies.
 */
export function applySessionPatch(current: SessionSettings, patch: SessionPatch, guards: PatchGuards): { settings: SessionSettings; problems: ClientError[] } {
  const s = { ...current };
  const problems: ClientError[] = [];
  const refuse = (param: string, message: string) => problems.push(new ClientError('invalid_value', message, param));
  if (patch.instructions !== undefined) s.instructions = patch.instructions;
  if (patch.output_modalities) s.modalities = [...new Set(patch.output_modalities)];
  const input = patch.audio?.input;
  if (input?.format) {
    const next = formatOf(input.format, s.inputRate);
    if (next.encoding === s.inputEncoding && next.rate === s.inputRate) {
      // unchanged
    } else if (guards.audioStarted) {
      refuse('session.audio.input.format', 'the input audio format cannot change after audio was appended');
    } else {
      s.inputEncoding = next.encoding;
      s.inputRate = next.rate;
    }
  }
  if (input?.turn_detection === null) {
    s.turnDetection = null;
  } else if (input?.turn_detection) {
    const td = input.turn_detection;
    const prev = s.turnDetection ?? defaultTurnDetection;
    s.turnDetection =
      td.type === 'server_vad'
        ? {
            ...prev,
            type: 'server_vad',
            threshold: td.threshold ?? prev.threshold,
            prefixPaddingMs: td.prefix_padding_ms ?? prev.prefixPaddingMs,
            silenceDurationMs: td.silence_duration_ms ?? prev.silenceDurationMs,
            createResponse: td.create_response ?? prev.createResponse,
            interruptResponse: td.interrupt_response ?? prev.interruptResponse,
          }
        : {
            ...prev,
            type: 'semantic_vad',
            eagerness: td.eagerness ?? 'auto',
            createResponse: td.create_response ?? prev.createResponse,
            interruptResponse: td.interrupt_response ?? prev.interruptResponse,
          };
  }
  if (input?.noise_reduction !== undefined) s.noiseReduction = input.noise_reduction;
  const output = patch.audio?.output;
  if (output?.format) {
    const next = formatOf(output.format, s.outputRate);
    s.outputEncoding = next.encoding;
    s.outputRate = next.rate;
  }
  if (output?.voice) {
    const { voices, ttsName } = guards;
    if (voices && !voices.includes(output.voice)) refuse('session.audio.output.voice', `unknown voice '${output.voice}' for ${ttsName}: use one of ${voices.join(', ')}`);
    else s.voice = output.voice;
  }
  if (patch.tools) s.tools = patch.tools;
  if (patch.tool_choice) s.toolChoice = patch.tool_choice;
  if (patch.parallel_tool_calls !== undefined) s.parallelToolCalls = patch.parallel_tool_calls;
  if (patch.max_output_tokens !== undefined) s.maxOutputTokens = patch.max_output_tokens;
  const omni = patch.omnilive;
  if (omni?.clock) s.clock = omni.clock;
  if (omni?.builtin_tools !== undefined) s.builtinTools = omni.builtin_tools;
  if (omni?.video_fps !== undefined && omni.video_fps !== s.videoFps) {
    if (guards.videoStarted) refuse('session.omnilive.video_fps', 'the video frame rate cannot change after frames were appended');
    else s.videoFps = omni.video_fps;
  }
  if (omni?.instruction_filter) s.filter = { ...s.filter, mode: omni.instruction_filter };
  const clipper = omni?.clipper;
  if (clipper) {
    const next = {
      minFrames: clipper.min_frames ?? s.clipper.minFrames,
      maxFrames: clipper.max_frames ?? s.clipper.maxFrames,
      cutSimilarity: clipper.cut_similarity ?? s.clipper.cutSimilarity,
    };
    if (guards.videoStarted) refuse('session.omnilive.clipper', 'clip thresholds cannot change after frames were appended');
    else if (next.maxFrames < next.minFrames) refuse('session.omnilive.clipper', 'clipper.max_frames must be at least min_frames');
    else s.clipper = next;
  }
  return { settings: s, problems };
}

/** The defaults of a new session, before its options and any session.update. */
export function defaultSessionSettings(clipper: SessionSettings['clipper'], filter: SessionSettings['filter']): SessionSettings {
  return {
    instructions: '',
    modalities: ['audio'],
    inputEncoding: 'pcm16',
    inputRate: 24000,
    outputEncoding: 'pcm16',
    outputRate: 24000,
    voice: 'slt',
    turnDetection: { ...defaultTurnDetection },
    noiseReduction: null,
    tools: [],
    toolChoice: 'auto',
    parallelToolCalls: true,
    maxOutputTokens: 'inf',
    builtinTools: true,
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
  /** The server's own tools as this session offers them (none without a language model, or switched off). */
  builtinTools: WireTool[];
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
        format: wireFormat(s.inputEncoding, s.inputRate),
        transcription: { model: who.asrName },
        noise_reduction: s.noiseReduction,
        turn_detection:
          td &&
          (td.type === 'semantic_vad'
            ? { type: 'semantic_vad', eagerness: td.eagerness, create_response: td.createResponse, interrupt_response: td.interruptResponse }
            : {
                type: 'server_vad',
                threshold: td.threshold,
                prefix_padding_ms: td.prefixPaddingMs,
                silence_duration_ms: td.silenceDurationMs,
                create_response: td.createResponse,
                interrupt_response: td.interruptResponse,
              }),
      },
      output: { format: wireFormat(s.outputEncoding, s.outputRate), voice: s.voice, speed: 1 },
    },
    tools: [...s.tools, ...who.builtinTools],
    tool_choice: s.toolChoice,
    parallel_tool_calls: s.parallelToolCalls,
    max_output_tokens: s.maxOutputTokens,
    omnilive: {
      user: who.user,
      clock: s.clock,
      video_fps: s.videoFps,
      clipper: { min_frames: s.clipper.minFrames, max_frames: s.clipper.maxFrames, cut_similarity: s.clipper.cutSimilarity },
      instruction_filter: s.filter.mode,
      builtin_tools: s.builtinTools,
      engines: who.engines,
    },
  };
}

// Everything the page shows, in one object the LiveSession controller keeps up to date.
import { emptyConversation, type Conversation } from './conversation';
import type { ReconnectStatus } from './reconnect';

/** The realtime WebSocket. 'unreachable': it never opened; 'lost': it closed without us asking (and, with `reconnect` set, is coming back). */
export type WsState = 'idle' | 'connecting' | 'open' | 'closed' | 'unreachable' | 'lost';

/** How camera and microphone reach the server. */
export type Uplink = { mode: 'none' | 'connecting' | 'webrtc' | 'websocket'; label: string; detail?: string };

export type ProblemKind = 'permission' | 'no-microphone' | 'busy' | 'insecure' | 'other' | 'unreachable' | 'disconnected' | 'server' | 'access';

export type Problem = { kind: ProblemKind; message: string; retry?: boolean };

/** What the server decoded from our media (omnilive.media.stats). */
export type MediaStats = { audioMs: number; videoFrames: number; rtpAudioPackets: number; rtpVideoPackets: number };

export type SessionState = {
  ws: WsState;
  uplink: Uplink;
  /** Start was pressed: media is being opened or is streaming. */
  starting: boolean;
  running: boolean;
  stream: MediaStream | null;
  notice: string | null;
  problem: Problem | null;
  /** Microphone level for the meter, 0..1. */
  level: number;
  conversation: Conversation;
  serverStats: MediaStats | null;
  /** What we sent over the WebSocket path. */
  sent: { audioMs: number; frames: number };
  /** Answer audio heard: from the WebRTC voice track, or WebAudio playing the WebSocket's deltas. */
  playback: { playedMs: number; playing: boolean; via: 'webaudio' | 'webrtc' };
  engines: Record<string, unknown> | null;
  activity: string;
  /** Whose memory this is (the session's user), once a session said so. */
  user: string | null;
  /** While the page reconnects by itself after a lost connection: the attempt, and when the next one starts. */
  reconnect: ReconnectStatus | null;
  /** After it reconnected: what the new session means for the conversation (until dismissed, stopped or lost again). */
  reconnected: string | null;
};

export const initialState: SessionState = {
  ws: 'idle',
  uplink: { mode: 'none', label: 'off' },
  starting: false,
  running: false,
  stream: null,
  notice: null,
  problem: null,
  level: 0,
  conversation: emptyConversation,
  serverStats: null,
  sent: { audioMs: 0, frames: 0 },
  playback: { playedMs: 0, playing: false, via: 'webaudio' },
  engines: null,
  activity: '',
  user: null,
  reconnect: null,
  reconnected: null,
};

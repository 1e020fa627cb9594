'use client';
import { useSessionState } from './session-context';

const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`;

/** What reached the server (WebRTC: its decoder counts; WebSocket: what we sent), and answer audio played. */
export function MediaStats() {
  const mode = useSessionState((s) => s.uplink.mode);
  const server = useSessionState((s) => s.serverStats);
  const sent = useSessionState((s) => s.sent);
  const playedMs = useSessionState((s) => s.playback.playedMs);
  const playing = useSessionState((s) => s.playback.playing);
  const via = useSessionState((s) => s.playback.via);

  let uplink = 'no media';
  if (server) {
    uplink = `server decoded ${seconds(server.audioMs)} audio, ${server.videoFrames} video frames · RTP ${server.rtpAudioPackets} audio / ${server.rtpVideoPackets} video packets`;
  } else if (mode === 'websocket') {
    uplink = `sent ${seconds(sent.audioMs)} audio, ${sent.frames} frames over WebSocket`;
  } else if (mode !== 'none') {
    uplink = 'waiting for media…';
  }
  return (
    <dl className="media-stats">
      <dt>Uplink</dt>
      <dd data-testid="media-stats" data-audio-ms={server?.audioMs ?? 0} data-video-frames={server?.videoFrames ?? 0}>
        {uplink}
      </dd>
      <dt>Answer audio</dt>
      <dd>
        <span data-testid="answer-audio-ms" data-playing={playing} data-via={via}>
          {Math.round(playedMs)}
        </span>{' '}
        ms played {via === 'webrtc' ? 'from the WebRTC voice track' : 'over WebSocket'}
        {playing ? ' · playing' : ''}
      </dd>
    </dl>
  );
}

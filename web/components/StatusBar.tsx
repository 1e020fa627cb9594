'use client';
import type { WsState } from '../lib/session-state';
import { useSessionState } from './session-context';

const WS_LABELS: Record<WsState, string> = {
  idle: 'not connected',
  connecting: 'connecting…',
  open: 'connected',
  closed: 'closed',
  unreachable: 'server unreachable',
  lost: 'connection lost',
};

/** Connection state: the realtime WebSocket, and how camera and microphone reach the server. */
export function StatusBar() {
  const ws = useSessionState((s) => s.ws);
  const reconnecting = useSessionState((s) => s.reconnect !== null);
  const uplink = useSessionState((s) => s.uplink);
  const activity = useSessionState((s) => s.activity);
  return (
    <div className="status-bar" role="status">
      <span className="pill" data-testid="ws-state" data-state={ws} data-reconnecting={reconnecting || undefined}>
        <span className="dot" aria-hidden="true" />
        Server: {reconnecting ? 'connection lost — reconnecting…' : WS_LABELS[ws]}
      </span>
      <span className="pill" data-testid="rtc-state" data-mode={uplink.mode} data-state={uplink.label} title={uplink.detail}>
        <span className="dot" aria-hidden="true" />
        Media: {uplink.mode === 'webrtc' ? `WebRTC ${uplink.label}` : uplink.label}
        {uplink.detail && uplink.mode === 'webrtc' ? <span className="pill-detail"> · {uplink.detail}</span> : null}
      </span>
      <span className="activity" data-testid="activity">
        {activity}
      </span>
    </div>
  );
}

'use client';
import { useEffect, useRef } from 'react';
import { useSessionState } from './session-context';

/** The local camera, unmirrored: what the assistant sees, text reading the right way round. */
export function CameraPreview() {
  const stream = useSessionState((s) => s.stream);
  const video = useRef<HTMLVideoElement>(null);
  const hasVideo = Boolean(stream?.getVideoTracks().length);

  useEffect(() => {
    const el = video.current;
    if (!el) return;
    el.srcObject = hasVideo ? stream : null;
    if (hasVideo) el.play().catch(() => {});
  }, [stream, hasVideo]);

  return (
    <div className="camera" data-has-video={hasVideo}>
      <video ref={video} data-testid="camera" muted playsInline autoPlay aria-label="Your camera" />
      {!hasVideo && <p className="camera-placeholder">{stream ? 'Audio only' : 'Camera off'}</p>}
    </div>
  );
}

'use client';
import { clockLabel } from '../lib/conversation';
import { useSessionState } from './session-context';

/** Memory clips as the server commits them: keyframe, start time, and the text read in it. */
export function ClipStrip() {
  const clips = useSessionState((s) => s.conversation.clips);
  return (
    <section className="clips" aria-label="Memory clips">
      <h2>Memory</h2>
      <ol className="clip-strip" data-testid="clip-strip">
        {clips.map((clip) => (
          <li key={clip.id} className="clip" data-testid="clip" data-clip-id={clip.id} title={clip.ocrText || undefined}>
            <img src={clip.src} alt={clip.ocrText ? `Clip: ${clip.ocrText}` : 'Clip keyframe'} width={128} height={72} />
            <span className="clip-time">{clockLabel(clip.startMs)}</span>
          </li>
        ))}
      </ol>
      {clips.length === 0 && <p className="hint small">Clips of what the camera saw appear here.</p>}
    </section>
  );
}

'use client';
import { useSessionState } from './session-context';

export function MicLevel() {
  const level = useSessionState((s) => s.level);
  const running = useSessionState((s) => s.running);
  const pct = Math.round(level * 100);
  return (
    <div className="level">
      <span className="level-label" id="mic-level-label">
        Mic
      </span>
      <div className="meter" role="meter" aria-labelledby="mic-level-label" aria-valuemin={0} aria-valuemax={100} aria-valuenow={pct} data-testid="mic-level" data-active={running}>
        <div className="meter-fill" style={{ width: `${pct}%` }} />
      </div>
    </div>
  );
}

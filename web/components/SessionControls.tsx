'use client';
import { useLiveSession, useSessionState } from './session-context';

/** One button: Start while idle, Stop while starting, running or reconnecting (Stop ends the reconnecting too). */
export function SessionControls() {
  const session = useLiveSession();
  const on = useSessionState((s) => s.running || s.starting || s.reconnect !== null);
  return (
    <button
      type="button"
      className="start"
      data-testid={on ? 'stop' : 'start'}
      aria-pressed={on}
      onClick={() => (on ? session.stop() : void session.start())}
    >
      {on ? 'Stop' : 'Start'}
    </button>
  );
}

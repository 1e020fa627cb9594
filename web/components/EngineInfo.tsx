'use client';
import { useEffect } from 'react';
import { useLiveSession, useSessionState } from './session-context';

const ROLES: [key: string, what: string][] = [
  ['asr', 'recognition'],
  ['reasoner', 'answers'],
  ['tts', 'voice'],
  ['scene', 'vision'],
  ['ocr', 'text reading'],
];

/** Which engines the server runs, and a warning when there is no language model behind the answers. */
export function EngineInfo() {
  const session = useLiveSession();
  const engines = useSessionState((s) => s.engines);

  // Before any session: ask /healthz, so the page says what it is talking to from the start.
  useEffect(() => session.loadEngines(), [session]);

  if (!engines) return null;
  const parts = ROLES.filter(([key]) => engines[key]).map(([key, what]) => `${what} ${engines[key]}`);
  return (
    <div className="engines" data-testid="engines">
      <p>Engines: {parts.join(' · ')}</p>
      {/* The reasoner's standing note (said once in speech, shown here all along). */}
      {typeof engines.notice === 'string' ? <p className="notice">{engines.notice}</p> : engines.language_model === false && <p className="notice">No language model configured: answers come from searching what was heard and seen.</p>}
    </div>
  );
}

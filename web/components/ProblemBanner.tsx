'use client';
import { useEffect, useState } from 'react';
import { reconnectingText, type ReconnectStatus } from '../lib/reconnect';
import { useLiveSession, useSessionState } from './session-context';

/** The server needs an access key (it printed a #key= link on first start; `omnilive keys create` makes more). */
function KeyForm() {
  const session = useLiveSession();
  const [key, setKey] = useState('');
  return (
    <form
      className="access-form"
      onSubmit={(e) => {
        e.preventDefault();
        session.useKey(key);
      }}
    >
      <input type="password" autoComplete="off" value={key} onChange={(e) => setKey(e.target.value)} placeholder="Access key (olk_…)" aria-label="Access key" data-testid="access-key" />
      <button type="submit" data-testid="access-key-save">
        Use key
      </button>
    </form>
  );
}

/** "Connection lost — reconnecting in 3 s (attempt 2)…", counting down. */
function ReconnectingText({ status }: { status: ReconnectStatus }) {
  const [now, setNow] = useState(() => Date.now());
  useEffect(() => {
    setNow(Date.now());
    if (status.at === null) return;
    const timer = setInterval(() => setNow(Date.now()), 250);
    return () => clearInterval(timer);
  }, [status]);
  return (
    <p className="banner-text" data-testid="reconnecting" data-attempt={status.attempt}>
      {reconnectingText(status, now)}
    </p>
  );
}

/** The current problem (with Retry when retrying can help), and a softer notice such as audio-only. */
export function ProblemBanner() {
  const session = useLiveSession();
  const problem = useSessionState((s) => s.problem);
  const notice = useSessionState((s) => s.notice);
  const reconnect = useSessionState((s) => s.reconnect);
  const reconnected = useSessionState((s) => s.reconnected);
  // A lost connection coming back by itself: the countdown, and Retry now skips the wait.
  const reconnecting = problem?.kind === 'disconnected' && reconnect ? reconnect : null;
  return (
    <>
      {problem && (
        <div className="banner" role="alert" data-testid="error" data-kind={problem.kind}>
          {reconnecting ? <ReconnectingText status={reconnecting} /> : <p className="banner-text">{problem.message}</p>}
          {problem.kind === 'access' && <KeyForm />}
          {problem.retry && (
            <button type="button" className="banner-action" data-testid="retry" onClick={() => session.retry()}>
              {reconnecting ? 'Retry now' : 'Retry'}
            </button>
          )}
          <button type="button" className="banner-close" aria-label="Dismiss message" onClick={() => session.dismissProblem()}>
            ×
          </button>
        </div>
      )}
      {reconnected && (
        <p className="notice reconnected" role="status" data-testid="reconnected">
          <span>{reconnected}</span>
          <button type="button" className="banner-close" aria-label="Dismiss message" onClick={() => session.dismissReconnected()}>
            ×
          </button>
        </p>
      )}
      {notice && (
        <p className="notice" role="status" data-testid="notice">
          {notice}
        </p>
      )}
    </>
  );
}

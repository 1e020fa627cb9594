'use client';
import { useState } from 'react';
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

/** The current problem (with Retry when retrying can help), and a softer notice such as audio-only. */
export function ProblemBanner() {
  const session = useLiveSession();
  const problem = useSessionState((s) => s.problem);
  const notice = useSessionState((s) => s.notice);
  return (
    <>
      {problem && (
        <div className="banner" role="alert" data-testid="error" data-kind={problem.kind}>
          <p className="banner-text">{problem.message}</p>
          {problem.kind === 'access' && <KeyForm />}
          {problem.retry && (
            <button type="button" className="banner-action" data-testid="retry" onClick={() => session.retry()}>
              Retry
            </button>
          )}
          <button type="button" className="banner-close" aria-label="Dismiss message" onClick={() => session.dismissProblem()}>
            ×
          </button>
        </div>
      )}
      {notice && (
        <p className="notice" role="status" data-testid="notice">
          {notice}
        </p>
      )}
    </>
  );
}

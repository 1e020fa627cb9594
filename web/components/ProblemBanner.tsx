'use client';
import { useLiveSession, useSessionState } from './session-context';

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

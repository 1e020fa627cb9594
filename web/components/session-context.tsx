'use client';
// The page's LiveSession, and a hook that re-renders a component only when its slice of state changes.
import { createContext, useContext, useSyncExternalStore } from 'react';
import type { LiveSession } from '../lib/live-session';
import { initialState, type SessionState } from '../lib/session-state';

export const SessionContext = createContext<LiveSession | null>(null);

export function useLiveSession(): LiveSession {
  const session = useContext(SessionContext);
  if (!session) throw new Error('useLiveSession outside <SessionContext>');
  return session;
}

/** `select` must return a primitive or a reference kept in the state, never a new object. */
export function useSessionState<T>(select: (state: SessionState) => T): T {
  const session = useLiveSession();
  return useSyncExternalStore(
    session.store.subscribe,
    () => select(session.store.get()),
    () => select(initialState),
  );
}

'use client';
import { useState, useSyncExternalStore, type FormEvent } from 'react';
import { clockLabel } from '../lib/conversation';
import { initialWatchState, type WatchMode, type WatchState } from '../lib/watches';
import type { WireWatch } from '../../server/protocol/server-events';
import { useLiveSession } from './session-context';

/** `select` must return a primitive or a reference kept in the state, never a new object. */
function useWatchState<T>(select: (state: WatchState) => T): T {
  const { watches } = useLiveSession();
  return useSyncExternalStore(
    watches.store.subscribe,
    () => select(watches.store.get()),
    () => select(initialWatchState),
  );
}

function clock(epochMs: number): string {
  return new Date(epochMs).toLocaleTimeString(undefined, { hour: '2-digit', minute: '2-digit' });
}

function WatchRow({ watch, cancelling }: { watch: WireWatch; cancelling: boolean }) {
  const { watches } = useLiveSession();
  const fired = watch.fired_count === 1 ? 'fired once' : `fired ${watch.fired_count}×`;
  const meta = [watch.fired_count ? `${fired}, last ${clock(watch.last_fired_at ?? watch.created_at)}` : 'not fired yet', watch.expires_at ? `until ${clock(watch.expires_at)}` : ''].filter(Boolean).join(' · ');
  return (
    <li className="watch" data-testid="watch-item" data-watch-id={watch.id} data-mode={watch.mode} data-fired={watch.fired_count}>
      <div className="watch-text">
        <span data-testid="watch-condition">{watch.condition}</span>
        <span className="watch-meta">
          <span className="watch-mode" data-testid="watch-mode">
            {watch.mode}
          </span>{' '}
          <span data-testid="watch-fired">{meta}</span>
        </span>
      </div>
      <button type="button" className="small-button" disabled={cancelling} onClick={() => void watches.cancel(watch.id)} aria-label={`Cancel the watch: ${watch.condition}`} data-testid="watch-cancel">
        {cancelling ? 'Cancelling…' : 'Cancel'}
      </button>
    </li>
  );
}

/**
 * The standing "tell me when …" requests: what is watched for, how often it may fire and how often
 * it did, cancel, and add one by its condition. The latest sounds heard go at the bottom.
 */
export function WatchPanel() {
  const { watches } = useLiveSession();
  const list = useWatchState((s) => s.watches);
  const cancelling = useWatchState((s) => s.cancelling);
  const sounds = useWatchState((s) => s.sounds);
  const problem = useWatchState((s) => s.problem);
  const [condition, setCondition] = useState('');
  const [mode, setMode] = useState<WatchMode>('once');
  const [adding, setAdding] = useState(false);
  const [status, setStatus] = useState('');

  async function onAdd(e: FormEvent) {
    e.preventDefault();
    const text = condition.trim();
    if (!text || adding) return;
    setAdding(true);
    setStatus('Adding…');
    try {
      const confirmation = await watches.add(text, mode);
      // Refused: the text stays, so it can be reworded rather than retyped.
      if (confirmation !== null) setCondition('');
      setStatus(confirmation ?? '');
    } finally {
      setAdding(false);
    }
  }

  return (
    <section className="watches" aria-label="Watches" data-testid="watch-panel">
      <div className="memory-head">
        <h2>Watches</h2>
        <button type="button" className="small-button" onClick={() => void watches.refresh()} data-testid="watch-refresh">
          Refresh
        </button>
      </div>
      {problem && (
        <p className="memory-problem watch-problem" role="alert" data-testid="watch-problem">
          {problem}
          <button type="button" className="banner-close" onClick={() => watches.dismissProblem()} aria-label="Dismiss">
            ×
          </button>
        </p>
      )}
      {list === null ? (
        <p className="hint small" data-testid="watch-unlisted">
          Your watches show once connected (Start, Ask or Refresh).
        </p>
      ) : list.length === 0 ? (
        <p className="hint small" data-testid="watch-empty">
          No watches. Say or type “tell me when …”.
        </p>
      ) : (
        <ul className="watch-list" data-testid="watch-list">
          {list.map((watch) => (
            <WatchRow key={watch.id} watch={watch} cancelling={cancelling.includes(watch.id)} />
          ))}
        </ul>
      )}
      <form className="watch-add" onSubmit={onAdd} autoComplete="off">
        <input
          type="text"
          value={condition}
          onChange={(e) => setCondition(e.target.value)}
          placeholder="Tell me when…"
          maxLength={500}
          aria-label="Condition to watch for"
          data-testid="watch-input"
        />
        <select value={mode} onChange={(e) => setMode(e.target.value as WatchMode)} aria-label="How often" data-testid="watch-mode-select">
          <option value="once">once</option>
          <option value="every">every time</option>
        </select>
        <button type="submit" disabled={adding || !condition.trim()} data-testid="watch-add">
          Watch
        </button>
      </form>
      <p className="hint small" role="status" data-testid="watch-status">
        {status}
      </p>
      {sounds.length > 0 && (
        <p className="sounds" data-testid="sound-events">
          Heard:{' '}
          {sounds
            .slice()
            .reverse()
            .map((s, i) => (
              <span key={`${s.start_ms}:${s.label}:${i}`} className="sound" data-testid="sound-event" title={`score ${s.score.toFixed(2)}`}>
                {s.label} {clockLabel(s.start_ms)}
              </span>
            ))}
        </p>
      )}
    </section>
  );
}

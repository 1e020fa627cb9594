'use client';
import { useEffect, useRef } from 'react';
import type { Turn } from '../lib/conversation';
import { useSessionState } from './session-context';

const TESTIDS: Record<Turn['role'], string> = { user: 'user-turn', assistant: 'assistant-turn', note: 'note' };
const WHO: Record<Turn['role'], string> = { user: 'You', assistant: 'Assistant', note: '' };

function TurnItem({ turn }: { turn: Turn }) {
  const meta = [turn.flag, turn.typed ? 'typed' : '', ...turn.details].filter(Boolean).join(' · ');
  return (
    <li className="turn" data-testid={TESTIDS[turn.role]} data-role={turn.role} data-state={turn.state} data-id={turn.id} data-latency-ms={turn.latencyMs} data-proactive={turn.watch ? 'true' : undefined}>
      {WHO[turn.role] && (
        <span className="who">
          {WHO[turn.role]}
          {turn.watch && (
            // Spoken up unasked: say which watch made it speak.
            <span className="unasked" data-testid="proactive-label" data-watch-id={turn.watch.id} title={turn.watch.condition ? `You asked to be told when ${turn.watch.condition}` : 'A watch you set'}>
              <span aria-hidden="true">◉ </span>unasked{turn.watch.condition ? ` · ${turn.watch.condition}` : ''}
            </span>
          )}
        </span>
      )}
      <p className="text">{turn.text}</p>
      {meta && <span className="meta">{meta}</span>}
    </li>
  );
}

/** User turns (partial while speaking, final when transcribed) and the assistant's answers. */
export function Transcript() {
  const turns = useSessionState((s) => s.conversation.turns);
  const list = useRef<HTMLOListElement>(null);
  const pinned = useRef(true);

  // Follow the newest text, unless the reader scrolled up to read something older.
  useEffect(() => {
    const el = list.current;
    if (el && pinned.current) el.scrollTop = el.scrollHeight;
  }, [turns]);

  return (
    <section className="conversation" aria-label="Transcript">
      <ol
        className="transcript"
        data-testid="transcript"
        aria-live="polite"
        ref={list}
        onScroll={(e) => {
          const el = e.currentTarget;
          pinned.current = el.scrollHeight - el.scrollTop - el.clientHeight < 60;
        }}
      >
        {turns.map((turn) => (
          <TurnItem key={`${turn.role}:${turn.id}`} turn={turn} />
        ))}
      </ol>
      {turns.length === 0 && (
        <p className="hint" data-testid="transcript-empty">
          Press <strong>Start</strong> and speak, or type a question below.
        </p>
      )}
    </section>
  );
}

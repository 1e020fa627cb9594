'use client';
import { useCallback, useEffect, useState } from 'react';
import { AccessProblem } from '../lib/access';
import { describeItem, forget, loadTimeline, searchMemory, type MemoryItem } from '../lib/memory-api';

function when(ms: number): string {
  return new Date(ms).toLocaleString(undefined, { dateStyle: 'medium', timeStyle: 'medium' });
}

/** A datetime-local value as epoch ms (undefined when empty). */
function localMs(value: string): number | undefined {
  if (!value) return undefined;
  const ms = new Date(value).getTime();
  return Number.isFinite(ms) ? ms : undefined;
}

/**
 * The user's long-term memory across every session: a timeline with thumbnails and what was
 * read and said, search, and forget (one item, a time range, everything).
 */
export function MemoryPanel() {
  const [items, setItems] = useState<MemoryItem[]>([]);
  const [query, setQuery] = useState('');
  const [searched, setSearched] = useState<string | null>(null);
  const [status, setStatus] = useState('');
  const [problem, setProblem] = useState<string | null>(null);
  const [range, setRange] = useState({ from: '', to: '' });
  const [confirmAll, setConfirmAll] = useState(false);

  const refresh = useCallback(async () => {
    setStatus('Loading memory…');
    try {
      const { items: found } = await loadTimeline();
      setItems(found);
      setSearched(null);
      setProblem(null);
      setStatus(found.length ? '' : 'Nothing remembered yet.');
    } catch (error) {
      setStatus('');
      setProblem(error instanceof AccessProblem ? error.message : `Memory is unavailable: ${(error as Error).message}`);
    }
  }, []);

  useEffect(() => {
    void refresh();
  }, [refresh]);

  const run = async (label: string, action: () => Promise<string>) => {
    setStatus(label);
    try {
      setStatus(await action());
      setProblem(null);
    } catch (error) {
      setStatus('');
      setProblem((error as Error).message);
    }
  };

  const onSearch = (e: React.FormEvent) => {
    e.preventDefault();
    const q = query.trim();
    if (!q) return void refresh();
    void run('Searching…', async () => {
      const hits = await searchMemory(q);
      setItems(hits);
      setSearched(q);
      return hits.length ? `${hits.length} found for “${q}”` : `Nothing found for “${q}”`;
    });
  };

  const forgetOne = (item: MemoryItem) =>
    run('Forgetting…', async () => {
      const n = await forget({ ids: [item.id] });
      setItems((all) => all.filter((i) => i.id !== item.id));
      return `Forgot ${n.clips + n.utterances} item.`;
    });

  const forgetRange = (e: React.FormEvent) => {
    e.preventDefault();
    const from = localMs(range.from);
    const to = localMs(range.to);
    if (from === undefined && to === undefined) return setProblem('Pick a start or an end time for the range to forget.');
    if (from !== undefined && to !== undefined && to <= from) return setProblem('The end of the range must be after its start.');
    void run('Forgetting…', async () => {
      const n = await forget({ from_ms: from, to_ms: to });
      await refresh();
      return `Forgot ${n.clips} clips and ${n.utterances} utterances in that range.`;
    });
  };

  const forgetAll = () => {
    if (!confirmAll) return setConfirmAll(true);
    setConfirmAll(false);
    void run('Forgetting everything…', async () => {
      const n = await forget({ all: true });
      setItems([]);
      return `Forgot everything: ${n.clips} clips and ${n.utterances} utterances.`;
    });
  };

  return (
    <section className="memory" aria-label="Your memory" data-testid="memory-panel">
      <div className="memory-head">
        <h2>Your memory, all sessions</h2>
        <button type="button" className="small-button" onClick={() => void refresh()} data-testid="memory-refresh">
          Refresh
        </button>
      </div>
      <form className="memory-search" onSubmit={onSearch} role="search">
        <input type="search" value={query} onChange={(e) => setQuery(e.target.value)} placeholder="Search what was seen and said" aria-label="Search memory" data-testid="memory-query" />
        <button type="submit" data-testid="memory-search">
          Search
        </button>
      </form>
      {problem && (
        <p className="memory-problem" role="alert" data-testid="memory-problem">
          {problem}
        </p>
      )}
      <p className="hint small" role="status" data-testid="memory-status">
        {status}
      </p>
      <ol className="memory-list" data-testid="memory-list" data-search={searched ?? undefined}>
        {items.map((item) => (
          <li key={item.id} className="memory-item" data-testid="memory-item" data-kind={item.kind} data-id={item.id}>
            {item.thumbnail_jpeg ? <img src={`data:image/jpeg;base64,${item.thumbnail_jpeg}`} alt="" width={96} height={54} /> : <span className="memory-icon" aria-hidden="true">{item.role === 'assistant' ? '◆' : '●'}</span>}
            <div className="memory-text">
              <time dateTime={new Date(item.wall_start_ms).toISOString()}>{when(item.wall_start_ms)}</time>
              <span>{describeItem(item)}</span>
            </div>
            <button type="button" className="small-button" onClick={() => void forgetOne(item)} aria-label={`Forget: ${describeItem(item)}`} data-testid="memory-forget">
              Forget
            </button>
          </li>
        ))}
      </ol>
      <details className="memory-forget">
        <summary>Forget more</summary>
        <form onSubmit={forgetRange} className="memory-range">
          <label>
            From <input type="datetime-local" step="1" value={range.from} onChange={(e) => setRange({ ...range, from: e.target.value })} data-testid="forget-from" />
          </label>
          <label>
            to <input type="datetime-local" step="1" value={range.to} onChange={(e) => setRange({ ...range, to: e.target.value })} data-testid="forget-to" />
          </label>
          <button type="submit" data-testid="forget-range">
            Forget this range
          </button>
        </form>
        <button type="button" className="danger" onClick={forgetAll} data-testid="forget-all">
          {confirmAll ? 'Really forget everything? Click again' : 'Forget everything'}
        </button>
      </details>
    </section>
  );
}

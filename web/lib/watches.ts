// The user's watches ("tell me when …") as this page knows them, and the sounds the server heard
// lately. The server owns the watches (they outlive sessions): the page lists them when a session
// opens, follows omnilive.watch.* from then on, and changes them only through requests.
import { RequestError, type RealtimeClient } from './realtime-client';
import { Store } from './store';
import type { EventOf, ServerEvent, WireSoundEvent, WireWatch } from '../../server/protocol/server-events';

/** Sound events kept for the "Heard:" line. */
export const MAX_SOUNDS = 10;

export type WatchMode = WireWatch['mode'];

export type WatchState = {
  /** Active watches, oldest first; null until a session has listed them. */
  watches: WireWatch[] | null;
  /** Watches whose cancel was sent and is not confirmed yet. */
  cancelling: string[];
  /** Newest last. */
  sounds: WireSoundEvent[];
  /** The last request the server refused (or never answered), in its words. */
  problem: string | null;
};

export const initialWatchState: WatchState = { watches: null, cancelling: [], sounds: [], problem: null };

function upsertWatch(watches: WireWatch[] | null, watch: WireWatch): WireWatch[] {
  const list = watches ?? [];
  const index = list.findIndex((w) => w.id === watch.id);
  if (index < 0) return [...list, watch];
  const next = list.slice();
  next[index] = watch;
  return next;
}

function dropWatch(state: WatchState, id: string): Partial<WatchState> {
  return { watches: state.watches && state.watches.filter((w) => w.id !== id), cancelling: state.cancelling.filter((c) => c !== id) };
}

/** What an event changes (pure: state and event in, the change out; null when nothing does). */
export function applyWatchEvent(state: WatchState, ev: ServerEvent): Partial<WatchState> | null {
  switch (ev.type) {
    case 'omnilive.watch.listed':
      // The server's word replaces ours; a cancel still in flight stays marked.
      return { watches: ev.watches, cancelling: state.cancelling.filter((id) => ev.watches.some((w) => w.id === id)) };
    case 'omnilive.watch.created':
      return { watches: upsertWatch(state.watches, ev.watch) };
    case 'omnilive.watch.deleted':
      return dropWatch(state, ev.watch_id);
    case 'omnilive.watch.fired':
      // A once-watch ends with its firing; an every-watch stays, counting.
      return ev.watch.mode === 'once' ? dropWatch(state, ev.watch_id) : { watches: upsertWatch(state.watches, ev.watch) };
    case 'omnilive.sound_event': {
      const { label, start_ms, end_ms, score } = ev;
      return { sounds: [...state.sounds, { label, start_ms, end_ms, score }].slice(-MAX_SOUNDS) };
    }
    default:
      return null;
  }
}

function reason(error: unknown): string {
  if (error instanceof RequestError) return error.message;
  return (error as Error)?.message ?? String(error);
}

/**
 * The watch side of a LiveSession: it gets every server event and each new session, and asks
 * for a session (`connect`) when the person adds or cancels a watch before talking.
 */
export class Watches {
  readonly store = new Store<WatchState>(initialWatchState);
  readonly #connect: () => Promise<RealtimeClient>;
  /** The session the list was last asked of. */
  #listedBy: RealtimeClient | null = null;

  constructor(connect: () => Promise<RealtimeClient>) {
    this.#connect = connect;
  }

  /** A session opened: its user's watches may have changed since (other tabs, firings while away). */
  sessionOpened(client: RealtimeClient): void {
    this.#listedBy = client;
    this.#list(client);
  }

  onEvent(ev: ServerEvent): void {
    const change = applyWatchEvent(this.store.get(), ev);
    if (change) this.store.set(change);
  }

  /** Lists the watches again, opening a session if none is open. */
  async refresh(): Promise<void> {
    const before = this.#listedBy;
    const client = await this.#session();
    // A session opened just now has asked already.
    if (client && client === before) this.#list(client);
  }

  /** omnilive.watch.create; resolves with the server's confirmation, or null when refused (the problem says why). */
  async add(condition: string, mode: WatchMode = 'once'): Promise<string | null> {
    const client = await this.#session();
    if (!client) return null;
    try {
      // The created event itself (seen by onEvent before this resolves) puts it in the list.
      const created: EventOf<'omnilive.watch.created'> = await client.request({ type: 'omnilive.watch.create', condition, mode }, 'omnilive.watch.created');
      this.store.set({ problem: null });
      return created.confirmation;
    } catch (error) {
      this.store.set({ problem: `Could not add the watch: ${reason(error)}` });
      return null;
    }
  }

  /** omnilive.watch.delete; the row goes when the server confirms (omnilive.watch.deleted). */
  async cancel(id: string): Promise<boolean> {
    if (this.store.get().cancelling.includes(id)) return false;
    this.store.set((s) => ({ cancelling: [...s.cancelling, id], problem: null }));
    const client = await this.#session();
    try {
      if (!client) throw new Error('not connected to the server');
      await client.request({ type: 'omnilive.watch.delete', watch_id: id }, 'omnilive.watch.deleted');
      return true;
    } catch (error) {
      // Not found: it ended meanwhile (fired, expired, cancelled elsewhere), so the row goes too.
      const gone = error instanceof RequestError && error.code === 'watch_not_found';
      this.store.set((s) => ({ ...(gone ? dropWatch(s, id) : { cancelling: s.cancelling.filter((c) => c !== id) }), problem: `Could not cancel the watch: ${reason(error)}` }));
      return false;
    }
  }

  dismissProblem(): void {
    this.store.set({ problem: null });
  }

  #list(client: RealtimeClient): void {
    // The listed event itself (onEvent) fills the list; a fresh list makes older complaints moot.
    client.request({ type: 'omnilive.watch.list' }, 'omnilive.watch.listed').then(
      () => this.store.set({ problem: null }),
      (error) => this.store.set({ problem: `Watches are unavailable: ${reason(error)}` }),
    );
  }

  /** The open session, or a new one; null when none could be had (LiveSession shows why). */
  async #session(): Promise<RealtimeClient | null> {
    try {
      return await this.#connect();
    } catch {
      return null;
    }
  }
}

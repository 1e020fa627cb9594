/**
 * The server's watches, by user: one book shared by every session, so a watch made in one
 * session is checked in the user's others, fires once across them, and a `once` watch that
 * fired is gone everywhere. Backed by the user's long-term memory when there is one (watches
 * survive a reconnect and a restart); without memory they live as long as the process.
 */
import { ClientError } from '../../errors.ts';
import type { MemoryStore } from '../../../memory/index.ts';
import type { Watch, WatchSpec } from './types.ts';
import { newId } from '../../session/ids.ts';

/** Where watches are kept between restarts. */
export interface WatchStorage {
  list(memoryId: string): Promise<Watch[]>;
  save(watch: Watch): Promise<void>;
  remove(memoryId: string, id: string): Promise<void>;
}

/** Watches as rows of the user's memory (the `watches` table). */
export function memoryWatchStorage(memory: MemoryStore): WatchStorage {
  return {
    list: async (memoryId) => (await memory.listWatches(memoryId)).map((row) => ({ ...(row.body as unknown as Watch), id: row.id, memoryId: row.memoryId })),
    save: (watch) => memory.saveWatch({ id: watch.id, memoryId: watch.memoryId, body: { ...watch } }),
    remove: async (memoryId, id) => void (await memory.deleteWatches(memoryId, id)),
  };
}

export interface WatchBookOptions {
  storage?: WatchStorage;
  /** Most watches one user may hold: each is checked on every clip, utterance and sound. @defaultValue 100 */
  maxPerUser?: number;
}

export class WatchBook {
  readonly #storage: WatchStorage | undefined;
  readonly #maxPerUser: number;
  /** Loaded users' watches (a promise while loading), by memory id. */
  readonly #byUser = new Map<string, Promise<Map<string, Watch>>>();

  constructor(options: WatchBookOptions = {}) {
    this.#storage = options.storage;
    this.#maxPerUser = options.maxPerUser ?? 100;
  }

  /** Whether watches outlive the process. */
  get durable(): boolean {
    return this.#storage !== undefined;
  }

  /** The user's watches, oldest first (loaded from storage on first use). */
  async of(memoryId: string): Promise<Watch[]> {
    return [...(await this.#user(memoryId)).values()].sort((a, b) => a.createdAt - b.createdAt);
  }

  /** A new watch, durable (when storage exists) before this resolves. */
  async create(memoryId: string, spec: WatchSpec, now = Date.now()): Promise<Watch> {
    const watches = await this.#user(memoryId);
    if (watches.size >= this.#maxPerUser) throw new ClientError('watch_limit_reached', `this user already has ${watches.size} watches (the most is ${this.#maxPerUser}); delete one first`);
    const watch: Watch = { ...spec, id: newId('watch'), memoryId, createdAt: now, firedCount: 0 };
    await this.#storage?.save(watch);
    watches.set(watch.id, watch);
    return watch;
  }

  /** Resolves with the deleted watch, or undefined when the user has none of that id. */
  async delete(memoryId: string, id: string): Promise<Watch | undefined> {
    const watches = await this.#user(memoryId);
    const watch = watches.get(id);
    if (!watch) return undefined;
    watches.delete(id);
    await this.#storage?.remove(memoryId, id);
    return watch;
  }

  /**
   * Records a firing. A `once` watch ends here; an `every` watch keeps its count and time
   * (its cooldown). Returns the watch as it fired, or undefined if another session of the
   * user got there first (it was deleted, or is cooling down since).
   */
  async fired(watch: Watch, now = Date.now()): Promise<Watch | undefined> {
    const watches = await this.#user(watch.memoryId);
    const current = watches.get(watch.id);
    if (!current || (current.lastFiredAt !== undefined && now - current.lastFiredAt < current.cooldownMs)) return undefined;
    const next: Watch = { ...current, firedCount: current.firedCount + 1, lastFiredAt: now };
    if (next.mode === 'once') {
      watches.delete(next.id);
      await this.#storage?.remove(next.memoryId, next.id);
    } else {
      watches.set(next.id, next);
      await this.#storage?.save(next);
    }
    return next;
  }

  /** Ends watches past their expiry; resolves with those removed. */
  async expire(memoryId: string, now = Date.now()): Promise<Watch[]> {
    const watches = await this.#user(memoryId);
    const gone = [...watches.values()].filter((w) => w.expiresAt !== undefined && w.expiresAt <= now);
    for (const w of gone) {
      watches.delete(w.id);
      await this.#storage?.remove(memoryId, w.id);
    }
    return gone;
  }

  /** Drops a user's cached watches (their memory was forgotten elsewhere). */
  forgetCached(memoryId: string): void {
    this.#byUser.delete(memoryId);
  }

  #user(memoryId: string): Promise<Map<string, Watch>> {
    let loaded = this.#byUser.get(memoryId);
    if (!loaded) {
      loaded = (async () => new Map((await (this.#storage?.list(memoryId) ?? [])).map((w) => [w.id, w])))();
      this.#byUser.set(memoryId, loaded);
      // A failed load is tried again next time rather than remembered.
      loaded.catch(() => this.#byUser.delete(memoryId));
    }
    return loaded;
  }
}

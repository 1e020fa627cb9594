/** Caps on use, per API key, per user and per client address. */
export interface AccessLimits {
  /** Live sessions at once of one user. @defaultValue 8 */
  sessionsPerUser: number;
  /** Live sessions at once opened with one API key (or its client secrets). @defaultValue 100 */
  sessionsPerKey: number;
  /** Client secrets one API key may mint per minute. @defaultValue 120 */
  mintsPerKeyPerMinute: number;
  /** WebSocket connections one client address may open per minute. @defaultValue 300 */
  connectionsPerIpPerMinute: number;
  /** Session length when a client secret does not say (`omnilive.max_session_seconds`). @defaultValue 3600 */
  secretSessionSeconds: number;
}

export const defaultAccessLimits = {
  sessionsPerUser: 8,
  sessionsPerKey: 100,
  mintsPerKeyPerMinute: 120,
  connectionsPerIpPerMinute: 300,
  secretSessionSeconds: 3600,
} as const satisfies AccessLimits;

const WINDOW_MS = 60_000;

/** Events per key over the last minute; `take` says how long to wait when over the limit. */
export class MinuteWindow {
  readonly #hits = new Map<string, number[]>();

  /** Counts one event for `key` unless it is over `limit`; returns 0, or seconds to wait. */
  take(key: string, limit: number, now = Date.now()): number {
    const hits = this.#prune(key, now);
    if (hits.length >= limit) return Math.max(1, Math.ceil((hits[0]! + WINDOW_MS - now) / 1000));
    hits.push(now);
    this.#hits.set(key, hits);
    if (this.#hits.size > 10_000) this.#sweep(now);
    return 0;
  }

  #prune(key: string, now: number): number[] {
    const hits = this.#hits.get(key) ?? [];
    while (hits.length && hits[0]! <= now - WINDOW_MS) hits.shift();
    if (!hits.length) this.#hits.delete(key);
    return hits;
  }

  /** Many addresses: drop the ones that went quiet. */
  #sweep(now: number): void {
    for (const key of [...this.#hits.keys()]) this.#prune(key, now);
  }
}

/** Things open at once per key (sessions per user, per API key). */
export class OpenCounter {
  readonly #open = new Map<string, number>();

  count(key: string): number {
    return this.#open.get(key) ?? 0;
  }

  add(key: string): void {
    this.#open.set(key, this.count(key) + 1);
  }

  remove(key: string): void {
    const n = this.count(key) - 1;
    if (n > 0) this.#open.set(key, n);
    else this.#open.delete(key);
  }
}

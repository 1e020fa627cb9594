// Coming back by itself after the server went away (a restart, a crash, a network drop): attempts
// spaced by exponential backoff with full jitter, so that every client of a restarted server does
// not knock at the same instant. No DOM here: the policy is tested in Node.

export interface ReconnectOptions {
  /** The first attempt comes within this long; each later one may wait twice as long. @defaultValue 500 */
  initialDelayMs: number;
  /** The longest wait between attempts; at the cap, attempts go on for as long as the page is open. @defaultValue 8000 */
  maxDelayMs: number;
  /** A connection that lasted this long was stable: the next loss starts again from the first attempt. @defaultValue 10000 */
  stableAfterMs: number;
}

export const defaultReconnectOptions = { initialDelayMs: 500, maxDelayMs: 8000, stableAfterMs: 10_000 } as const satisfies ReconnectOptions;

/** Full jitter: uniform in [0, min(cap, initial·2^(attempt−1))] — attempt counts from 1. */
export function backoffDelay(attempt: number, options: ReconnectOptions = defaultReconnectOptions, random: () => number = Math.random): number {
  const ceiling = Math.min(options.maxDelayMs, options.initialDelayMs * 2 ** Math.max(0, Math.min(attempt - 1, 30)));
  return Math.floor(random() * ceiling);
}

/**
 * Whether a close the client did not ask for is worth reconnecting after. 1008 is the server's
 * policy (the session reached its length limit, the client read too slowly): reconnecting would
 * undo it. Everything else — 1001 going away, 1006 dropped, 1011, 1012 restart, 1013 — is
 * the server or the network coming and going.
 */
export function reconnectsAfter(closeCode: number): boolean {
  return closeCode !== 1008;
}

/** What the page shows while reconnecting. `at`: when the next attempt starts (epoch ms); null while one runs. */
export type ReconnectStatus = { attempt: number; at: number | null; why: string };

export interface ReconnectHooks {
  /** One attempt: resolves once a new session is open, rejects with why it could not be. */
  attempt(): Promise<unknown>;
  /** Whether trying again can help after this error (a refused key cannot). */
  retryable(error: unknown): boolean;
  /** The status changed; null: not reconnecting any more. */
  onStatus(status: ReconnectStatus | null): void;
  /** An attempt failed in a way retrying cannot mend: reconnecting stopped. */
  onGiveUp(error: unknown): void;
}

/**
 * The reconnect loop of one page session. `lost()` starts it, `connected()` (from whatever opened
 * the new session) ends it, `cancel()` (the user pressed Stop) abandons it, `now()` skips the wait.
 */
export class Reconnector {
  readonly #hooks: ReconnectHooks;
  readonly #options: ReconnectOptions;
  readonly #random: () => number;
  #active = false;
  #attempt = 0;
  #why = '';
  #timer: ReturnType<typeof setTimeout> | undefined;
  #inFlight: Promise<void> | null = null;
  #connectedAt = -Infinity;

  constructor(hooks: ReconnectHooks, options: Partial<ReconnectOptions> = {}, random: () => number = Math.random) {
    this.#hooks = hooks;
    this.#options = { ...defaultReconnectOptions, ...options };
    this.#random = random;
  }

  get active(): boolean {
    return this.#active;
  }

  /** The connection went away: the first attempt is scheduled (or the next, if the last connection did not last). */
  lost(why: string): void {
    if (this.#active) return;
    const stable = Date.now() - this.#connectedAt >= this.#options.stableAfterMs;
    this.#attempt = stable ? 1 : this.#attempt + 1;
    this.#active = true;
    this.#why = why;
    this.#schedule();
  }

  /** A new session is open (an attempt, or anything else that connected). Returns whether it ended a reconnect. */
  connected(): boolean {
    this.#connectedAt = Date.now();
    if (!this.#active) return false;
    this.#finish();
    return true;
  }

  /** The user stopped: no more attempts. */
  cancel(): void {
    if (this.#active) this.#finish();
  }

  /** Tries at once instead of waiting (Retry now, a question typed meanwhile); resolves when that attempt is over. */
  now(): Promise<void> {
    if (!this.#active) return Promise.resolve();
    if (this.#inFlight) return this.#inFlight;
    clearTimeout(this.#timer);
    this.#hooks.onStatus({ attempt: this.#attempt, at: null, why: this.#why });
    const settle = (error: unknown, failed: boolean) => {
      // Stopped, or connected (by this attempt or anything else) meanwhile: nothing more to do.
      if (this.#inFlight !== attempt || !this.#active) return;
      this.#inFlight = null;
      if (failed && !this.#hooks.retryable(error)) {
        this.#finish();
        this.#hooks.onGiveUp(error);
        return;
      }
      this.#attempt++;
      this.#schedule();
    };
    const attempt: Promise<void> = this.#hooks.attempt().then(
      () => settle(undefined, false),
      (error) => settle(error, true),
    );
    this.#inFlight = attempt;
    return attempt;
  }

  #schedule(): void {
    const delay = backoffDelay(this.#attempt, this.#options, this.#random);
    this.#hooks.onStatus({ attempt: this.#attempt, at: Date.now() + delay, why: this.#why });
    this.#timer = setTimeout(() => void this.now(), delay);
  }

  #finish(): void {
    this.#active = false;
    clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#inFlight = null;
    this.#hooks.onStatus(null);
  }
}

/**
 * The lost connection in a few words, for "Connection lost… — reconnecting": `shutDown` when the
 * server said `server_shutting_down` before closing. A dropped socket (1006, a crash) has no reason.
 */
export function describeLoss(closeCode: number, reason: string, shutDown: boolean): string {
  if (closeCode === 1012) return 'Connection lost: the server is restarting';
  if (shutDown || closeCode === 1001) return 'Connection lost: the server shut down';
  if (closeCode && closeCode !== 1005 && closeCode !== 1006) return `Connection lost (code ${closeCode}${reason ? `: ${reason}` : ''})`;
  return 'Connection lost';
}

/** "… — reconnecting in 3 s (attempt 2)…", counted down against `now` (epoch ms). */
export function reconnectingText(status: ReconnectStatus, now: number): string {
  const seconds = status.at === null ? 0 : Math.ceil((status.at - now) / 1000);
  return seconds > 0 ? `${status.why} — reconnecting in ${seconds} s (attempt ${status.attempt})…` : `${status.why} — reconnecting now (attempt ${status.attempt})…`;
}

/** What the new session means for the conversation: memory is the user's, so it carries over only to the same user. */
export function reconnectedText(previousUser: string | null, user: string | null): string {
  if (user && user === previousUser) return 'Reconnected: a new session; memory carries over';
  if (user && previousUser) return 'Reconnected: a new session, as a new user — it does not remember the last one';
  return 'Reconnected: a new session';
}

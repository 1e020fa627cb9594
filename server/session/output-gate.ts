/**
 * Whether a response's output may reach the client. A response prepared during the user's
 * pause is *held*: everything it would send is kept, in order, until the turn is confirmed
 * (release) or the user goes on (drop). A live response's audio can be *paused* while a
 * possible barge-in is checked, and resumed from where it stopped.
 */
export class OutputGate {
  #held: boolean;
  #kept: (() => void)[] = [];
  #paused = false;
  #pausedAt = 0;
  #wakers: (() => void)[] = [];

  constructor(held: boolean) {
    this.#held = held;
  }

  get held(): boolean {
    return this.#held;
  }

  get paused(): boolean {
    return this.#paused;
  }

  /** Since when (performance.now()) audio is paused; 0 when it is not. */
  get pausedAt(): number {
    return this.#paused ? this.#pausedAt : 0;
  }

  /** Sends now when live; while held, keeps `send` to run at release, in order. */
  send(send: () => void): void {
    if (this.#held) this.#kept.push(send);
    else send();
  }

  /** Resolves once audio may flow: released and not paused (or when `signal` aborts). */
  async audio(signal: AbortSignal): Promise<void> {
    while ((this.#held || this.#paused) && !signal.aborted) {
      await new Promise<void>((resolve) => {
        const wake = () => {
          signal.removeEventListener('abort', wake);
          resolve();
        };
        this.#wakers.push(wake);
        signal.addEventListener('abort', wake, { once: true });
      });
    }
  }

  /** The turn is confirmed: what was kept goes out now, and audio flows. */
  release(): void {
    if (!this.#held) return;
    this.#held = false;
    const kept = this.#kept;
    this.#kept = [];
    for (const send of kept) send();
    this.#wake();
  }

  /** The prepared answer is void: nothing kept is ever sent. */
  drop(): void {
    this.#kept = [];
    this.#wake();
  }

  /** Stops audio from its next piece. Returns false when already paused. */
  pause(): boolean {
    if (this.#paused) return false;
    this.#paused = true;
    this.#pausedAt = performance.now();
    return true;
  }

  /** Lets audio flow again; returns how long it was paused (ms), or 0 when it was not. */
  resume(): number {
    if (!this.#paused) return 0;
    this.#paused = false;
    this.#wake();
    return performance.now() - this.#pausedAt;
  }

  #wake(): void {
    const wakers = this.#wakers;
    this.#wakers = [];
    for (const wake of wakers) wake();
  }
}

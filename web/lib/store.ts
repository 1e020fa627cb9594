// A minimal observable state container: the controller writes it, React components read slices of it.

export class Store<T extends object> {
  #state: T;
  readonly #listeners = new Set<() => void>();

  constructor(initial: T) {
    this.#state = initial;
  }

  get = (): T => this.#state;

  set(patch: Partial<T> | ((state: T) => Partial<T>)): void {
    const change = typeof patch === 'function' ? patch(this.#state) : patch;
    this.#state = { ...this.#state, ...change };
    for (const listener of this.#listeners) listener();
  }

  subscribe = (listener: () => void): (() => void) => {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  };
}

/**
 * Streaming band-limited resampler for mono pcm16 (windowed sinc, Blackman window).
 * State carries across calls, so chunk boundaries leave no clicks: feeding a signal in
 * pieces gives the same output as feeding it whole.
 */
export class Resampler {
  readonly #step: number; // input samples per output sample
  readonly #cutoff: number; // normalized to the input Nyquist
  readonly #half: number; // filter half-width in input samples
  #history = new Float32Array(0); // input samples not yet consumed
  #historyStart = 0; // absolute index of #history[0]
  #nextOut = 0; // absolute output index to produce next
  #inCount = 0; // input samples taken so far
  readonly #phases = new Map<number, Float32Array>();

  constructor(
    readonly fromRate: number,
    readonly toRate: number,
    taps = 16,
  ) {
    if (!(fromRate > 0 && toRate > 0)) throw new TypeError('sample rates must be positive');
    this.#step = fromRate / toRate;
    this.#cutoff = Math.min(1, toRate / fromRate) * 0.95;
    this.#half = Math.ceil(taps / this.#cutoff);
  }

  get passthrough(): boolean {
    return this.fromRate === this.toRate;
  }

  process(input: Int16Array): Int16Array {
    if (this.passthrough) return input;
    this.#inCount += input.length;
    const merged = new Float32Array(this.#history.length + input.length);
    merged.set(this.#history);
    for (let i = 0; i < input.length; i++) merged[this.#history.length + i] = input[i]!;
    const start = this.#historyStart;
    const end = start + merged.length; // exclusive absolute input index
    const out: number[] = [];
    const half = this.#half;
    for (;;) {
      const x = this.#nextOut * this.#step;
      const base = Math.floor(x);
      if (base + half >= end) break;
      const taps = this.#tapsFor(x - base);
      let acc = 0;
      for (let j = 0, k = base - half + 1; j < taps.length; j++, k++) {
        if (k >= start) acc += merged[k - start]! * taps[j]!;
      }
      const v = Math.round(acc);
      out.push(v > 32767 ? 32767 : v < -32768 ? -32768 : v);
      this.#nextOut++;
    }
    // Keep what the next output still needs.
    const keepFrom = Math.max(start, Math.floor(this.#nextOut * this.#step) - half);
    this.#history = merged.slice(keepFrom - start);
    this.#historyStart = keepFrom;
    return Int16Array.from(out);
  }

  /** Normalized filter taps for a fractional input position, cached: rational ratios reuse a few phases. */
  #tapsFor(frac: number): Float32Array {
    const key = Math.round(frac * 1e6);
    let taps = this.#phases.get(key);
    if (taps) return taps;
    const half = this.#half;
    const fc = this.#cutoff;
    taps = new Float32Array(2 * half);
    let norm = 0;
    for (let j = 0; j < taps.length; j++) {
      const d = frac + half - 1 - j; // x - k
      const w = 0.42 + 0.5 * Math.cos((Math.PI * d) / half) + 0.08 * Math.cos((2 * Math.PI * d) / half);
      const h = d === 0 ? fc : Math.sin(Math.PI * fc * d) / (Math.PI * d);
      taps[j] = h * w;
      norm += taps[j]!;
    }
    for (let j = 0; j < taps.length; j++) taps[j] = taps[j]! / norm;
    if (this.#phases.size < 4096) this.#phases.set(key, taps);
    return taps;
  }

  /** Ends the signal: returns its last samples (padding with silence) and resets for reuse. */
  flush(): Int16Array {
    if (this.passthrough) return new Int16Array(0);
    const want = Math.round((this.#inCount * this.toRate) / this.fromRate) - this.#nextOut;
    const tail = this.process(new Int16Array(this.#half * 2 + 2));
    this.reset();
    return tail.subarray(0, Math.max(0, want));
  }

  reset(): void {
    this.#history = new Float32Array(0);
    this.#historyStart = 0;
    this.#nextOut = 0;
    this.#inCount = 0;
  }

  /** One-shot conversion of a whole signal. */
  static convert(input: Int16Array, fromRate: number, toRate: number): Int16Array {
    if (fromRate === toRate) return input;
    const r = new Resampler(fromRate, toRate);
    const head = r.process(input);
    const out = new Int16Array(Math.round((input.length * toRate) / fromRate));
    out.set(head.subarray(0, out.length));
    if (head.length < out.length) out.set(r.flush(), head.length);
    return out;
  }
}

// Gapless playback of the answer's pcm16 chunks on WebAudio, with a count of the ms actually played.

type Scheduled = { source: AudioBufferSourceNode; samples: Float32Array; start: number; duration: number };

export type PlaybackProgress = { playedMs: number; playing: boolean };

/** Fades that keep a stop or a restart from clicking, in s. */
const FADE_S = 0.012;

/**
 * Each chunk starts exactly where the previous one ends; clear() silences everything
 * scheduled at once (barge-in) and counts only what was heard. pause() stops it too but keeps
 * what was not played yet, to the sample, and resume() plays that from where it stopped.
 */
export class PcmPlayer {
  readonly #ctx: AudioContext;
  readonly #onProgress: (progress: PlaybackProgress) => void;
  #out: GainNode;
  #scheduled = new Set<Scheduled>();
  #nextTime = 0;
  #playedMs = 0;
  /** While paused: what was not played yet, then what arrived since, in order. */
  #held: Float32Array[] = [];
  #paused = false;
  rate = 24000;

  constructor(ctx: AudioContext, onProgress: (progress: PlaybackProgress) => void) {
    this.#ctx = ctx;
    this.#onProgress = onProgress;
    this.#out = this.#newOutput();
  }

  get playing(): boolean {
    return this.#scheduled.size > 0;
  }

  get paused(): boolean {
    return this.#paused;
  }

  get playedMs(): number {
    return this.#playedMs;
  }

  /** Audio held by a pause, in ms. */
  get heldMs(): number {
    return (this.#held.reduce((n, s) => n + s.length, 0) * 1000) / this.rate;
  }

  #newOutput(): GainNode {
    const gain = this.#ctx.createGain();
    gain.connect(this.#ctx.destination);
    return gain;
  }

  enqueue(samples: Float32Array<ArrayBuffer>): void {
    if (!samples.length || this.#ctx.state === 'closed') return;
    if (this.#paused) this.#held.push(samples);
    else this.#schedule(samples);
  }

  #schedule(samples: Float32Array): Scheduled {
    const buffer = this.#ctx.createBuffer(1, samples.length, this.rate);
    buffer.getChannelData(0).set(samples);
    const source = this.#ctx.createBufferSource();
    source.buffer = buffer;
    source.connect(this.#out);
    const now = this.#ctx.currentTime;
    // Starting (or after an underrun): a little headroom so the next chunk is on time.
    if (this.#nextTime < now + 0.01) this.#nextTime = now + 0.06;
    const item = { source, samples, start: this.#nextTime, duration: samples.length / this.rate };
    source.start(item.start);
    this.#nextTime += item.duration;
    const wasIdle = !this.playing;
    this.#scheduled.add(item);
    source.onended = () => {
      this.#scheduled.delete(item);
      this.#playedMs += item.duration * 1000;
      this.#report();
    };
    if (wasIdle) this.#report();
    return item;
  }

  /**
   * Stops playing now (a sound that may be the user starting to talk) and keeps the rest. The
   * cut is a sample boundary one fade ahead: what is before it is heard (fading out), what is
   * after it is held, so resume() neither skips nor repeats anything.
   */
  pause(): void {
    if (this.#paused) return;
    this.#paused = true;
    const cut = this.#ctx.currentTime + FADE_S;
    const rest: Float32Array[] = [];
    // Scheduled in playing order: a Set keeps insertion order.
    for (const item of this.#scheduled) {
      const heard = Math.max(0, Math.min(item.samples.length, Math.round((cut - item.start) * this.rate)));
      if (heard < item.samples.length) rest.push(item.samples.subarray(heard));
      this.#playedMs += (heard * 1000) / this.rate;
    }
    this.#held = [...rest, ...this.#held];
    this.#silence(cut);
  }

  /** Plays what the pause held, from where it stopped (fading in), then whatever arrives next. */
  resume(): void {
    if (!this.#paused) return;
    this.#paused = false;
    const held = this.#held;
    this.#held = [];
    if (!held.length || this.#ctx.state === 'closed') return;
    const first = held.map((samples) => this.#schedule(samples))[0]!;
    this.#out.gain.setValueAtTime(0, first.start);
    this.#out.gain.linearRampToValueAtTime(1, first.start + FADE_S);
  }

  /** Stops all scheduled audio now, with a short fade so it does not click, and drops what a pause held. */
  clear(): void {
    this.#held = [];
    this.#paused = false;
    if (!this.#scheduled.size) return;
    const now = this.#ctx.currentTime;
    for (const item of this.#scheduled) this.#playedMs += Math.max(0, Math.min(item.duration, now - item.start)) * 1000;
    this.#silence(now);
  }

  /** Fades the output out until `until`, stops every scheduled chunk there (uncounted: the caller counts) and starts a fresh output. */
  #silence(until: number): void {
    const old = this.#out;
    const now = this.#ctx.currentTime;
    old.gain.cancelScheduledValues(now); // a resume's fade-in may still be pending
    old.gain.setValueAtTime(old.gain.value, now);
    old.gain.linearRampToValueAtTime(0, Math.max(until, now + FADE_S));
    for (const item of this.#scheduled) {
      item.source.onended = null;
      try {
        item.source.stop(Math.max(until, now + FADE_S) + 0.003); // once the fade is down
      } catch {
        // never started or already stopped
      }
    }
    this.#scheduled.clear();
    this.#nextTime = 0;
    this.#out = this.#newOutput();
    setTimeout(() => old.disconnect(), 100);
    this.#report();
  }

  #report(): void {
    this.#onProgress({ playedMs: Math.round(this.#playedMs), playing: this.playing });
  }
}

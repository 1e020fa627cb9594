// Gapless playback of the answer's pcm16 chunks on WebAudio, with a count of the ms actually played.

type Scheduled = { source: AudioBufferSourceNode; start: number; duration: number };

export type PlaybackProgress = { playedMs: number; playing: boolean };

/**
 * Each chunk starts exactly where the previous one ends; clear() silences everything
 * scheduled at once (barge-in) and counts only what was heard.
 */
export class PcmPlayer {
  readonly #ctx: AudioContext;
  readonly #onProgress: (progress: PlaybackProgress) => void;
  #out: GainNode;
  #scheduled = new Set<Scheduled>();
  #nextTime = 0;
  #playedMs = 0;
  rate = 24000;

  constructor(ctx: AudioContext, onProgress: (progress: PlaybackProgress) => void) {
    this.#ctx = ctx;
    this.#onProgress = onProgress;
    this.#out = this.#newOutput();
  }

  get playing(): boolean {
    return this.#scheduled.size > 0;
  }

  get playedMs(): number {
    return this.#playedMs;
  }

  #newOutput(): GainNode {
    const gain = this.#ctx.createGain();
    gain.connect(this.#ctx.destination);
    return gain;
  }

  enqueue(samples: Float32Array<ArrayBuffer>): void {
    if (!samples.length || this.#ctx.state === 'closed') return;
    const buffer = this.#ctx.createBuffer(1, samples.length, this.rate);
    buffer.copyToChannel(samples, 0);
    const source = this.#ctx.createBufferSource();
    source.buffer = buffer;
    source.connect(this.#out);
    const now = this.#ctx.currentTime;
    // Starting (or after an underrun): a little headroom so the next chunk is on time.
    if (this.#nextTime < now + 0.01) this.#nextTime = now + 0.06;
    const item = { source, start: this.#nextTime, duration: buffer.duration };
    source.start(item.start);
    this.#nextTime += buffer.duration;
    const wasIdle = !this.playing;
    this.#scheduled.add(item);
    source.onended = () => {
      this.#scheduled.delete(item);
      this.#playedMs += item.duration * 1000;
      this.#report();
    };
    if (wasIdle) this.#report();
  }

  /** Stops all scheduled audio now, with a short fade so it does not click. */
  clear(): void {
    if (!this.#scheduled.size) return;
    const now = this.#ctx.currentTime;
    const old = this.#out;
    old.gain.setValueAtTime(old.gain.value, now);
    old.gain.linearRampToValueAtTime(0, now + 0.012);
    for (const item of this.#scheduled) {
      item.source.onended = null;
      this.#playedMs += Math.max(0, Math.min(item.duration, now - item.start)) * 1000;
      try {
        item.source.stop(now + 0.015);
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

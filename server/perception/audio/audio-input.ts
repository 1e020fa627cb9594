import { concatPcm, samplesToMs } from '../../audio/pcm.ts';
import { Resampler } from '../../audio/resampler.ts';
import { ClientError } from '../../errors.ts';
import { SILERO_FRAME, SILERO_SAMPLE_RATE } from '../vad/index.ts';

/** One 32 ms frame of 16 kHz audio on the media clock. */
export interface AudioFrame {
  pcm: Int16Array;
  /** Media ms of its first sample. */
  startMs: number;
  /** When (performance.now()) its first sample reached the server: latency counts from there. */
  arrivedWall: number;
}

export interface AudioInputOptions {
  inputRate: number;
  /** 'live': audio must not run ahead of the wall clock by more than `maxLeadMs`. */
  clock: 'live' | 'media';
  maxLeadMs: number;
}

export const FRAME_MS = samplesToMs(SILERO_FRAME, SILERO_SAMPLE_RATE);
/** Audio kept before an utterance: prefix padding, and context for later stages (IXC keeps ~3.8 s). */
const HISTORY_MS = 4000;

/**
 * The audio front end of a session: resamples client audio to 16 kHz, cuts it into VAD frames,
 * keeps the media clock and a short history ring, and refuses live audio that arrives much
 * faster than real time. Synchronous and engine-free.
 */
export class AudioInput {
  #options: AudioInputOptions;
  #resampler: Resampler;
  #rest = new Int16Array(0);
  #restArrived = 0; // a frame straddling two appends is as old as its first part
  #history: AudioFrame[] = [];
  #samples = 0; // 16 kHz samples framed: the media clock
  #acceptedMs = 0; // media ms of input accepted (queued), for the live rate check
  #firstAcceptWall = 0;

  constructor(options: AudioInputOptions) {
    this.#options = { ...options };
    this.#resampler = new Resampler(options.inputRate, SILERO_SAMPLE_RATE);
  }

  /** Media ms of audio framed so far. */
  get mediaMs(): number {
    return samplesToMs(this.#samples, SILERO_SAMPLE_RATE);
  }

  /** Whether any audio was accepted: the input rate is fixed from then on. */
  get started(): boolean {
    return this.#acceptedMs > 0;
  }

  setClock(clock: 'live' | 'media'): void {
    this.#options.clock = clock;
  }

  setInputRate(rate: number): void {
    if (rate === this.#options.inputRate) return;
    if (this.started) throw new ClientError('invalid_value', 'the input audio rate cannot change after audio was appended', 'session.audio.input.format.rate');
    this.#options.inputRate = rate;
    this.#resampler = new Resampler(rate, SILERO_SAMPLE_RATE);
  }

  /**
   * Takes a chunk at the input rate and returns it at 16 kHz, to be framed in order later.
   * Throws (and keeps nothing) when a live session's audio runs too far ahead of the clock.
   */
  accept(pcm: Int16Array, now: number): Int16Array {
    const ms = samplesToMs(pcm.length, this.#options.inputRate);
    if (this.#options.clock === 'live') {
      if (!this.#firstAcceptWall) this.#firstAcceptWall = now;
      const lead = this.#acceptedMs + ms - (now - this.#firstAcceptWall);
      if (lead > this.#options.maxLeadMs) {
        throw new ClientError(
          'input_audio_rate_exceeded',
          `audio is arriving faster than real time (${Math.round(lead)} ms ahead of the clock; limit ${this.#options.maxLeadMs} ms); this chunk was dropped. Set session.omnilive.clock to "media" to stream files.`,
        );
      }
    }
    this.#acceptedMs += ms;
    return this.#resampler.process(pcm);
  }

  /** Cuts accepted 16 kHz audio into whole frames, advancing the clock and the history. */
  *frames(pcm: Int16Array, arrivedWall: number): Generator<AudioFrame> {
    const restLength = this.#rest.length;
    const restArrived = this.#restArrived;
    const data = restLength ? concatPcm([this.#rest, pcm]) : pcm;
    const whole = data.length - (data.length % SILERO_FRAME);
    this.#rest = data.slice(whole);
    this.#restArrived = this.#rest.length > pcm.length ? restArrived : arrivedWall;
    for (let off = 0; off < whole; off += SILERO_FRAME) {
      const frame: AudioFrame = { pcm: data.slice(off, off + SILERO_FRAME), startMs: this.mediaMs, arrivedWall: off < restLength ? restArrived : arrivedWall };
      this.#samples += SILERO_FRAME;
      this.#history.push(frame);
      while (this.#history[0]!.startMs < frame.startMs - HISTORY_MS) this.#history.shift();
      yield frame;
    }
  }

  /** The kept frames from `startMs` on (an utterance's prefix padding and speech so far). */
  historyFrom(startMs: number): AudioFrame[] {
    return this.#history.filter((h) => h.startMs >= startMs);
  }

  /** When the audio at media time `ms` arrived, if it is still in the history. */
  arrivalOf(ms: number): number | undefined {
    return this.#history.find((h) => h.startMs >= ms)?.arrivedWall;
  }

  /** input_audio_buffer.clear: forgets buffered audio, so no prefix padding comes from it. */
  clear(): void {
    this.#history = [];
    this.#rest = new Int16Array(0);
  }
}

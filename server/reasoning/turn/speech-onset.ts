/** What counts as a possible start of speech, on 10 ms frames of 16 kHz audio. */
export interface SpeechOnsetOptions {
  /** Rise over the background level, dB, in loudness or in high-frequency energy. @defaultValue 12 */
  riseDb: number;
  /** Nothing quieter than this (dBFS) is an onset, however quiet the room. @defaultValue -45 */
  minLevelDb: number;
  /** Consecutive loud frames needed (clicks are one frame). @defaultValue 2 */
  frames: number;
}

export const defaultSpeechOnsetOptions: SpeechOnsetOptions = { riseDb: 12, minLevelDb: -45, frames: 2 };

const SAMPLE_RATE = 16000;
const FRAME = SAMPLE_RATE / 100; // 10 ms
const FLOOR_DB = -90;
/** The background level follows a fall at once and a rise at 20 dB/s: speech, full of dips, stays above it. */
const FLOOR_RISE_DB = 0.2;

const db = (energy: number) => Math.max(FLOOR_DB, 10 * Math.log10(energy / FRAME / (32768 * 32768) + 1e-12));

/**
 * The first sign of speech, ahead of the VAD: a rise of loudness, or of high-frequency energy
 * (the first difference of the signal: the hiss of "s", "f", "t" that starts many words and
 * that Silero is slowest on), over an adaptive background level. It fires once per sound
 * and is not a speech detector: a cough fires it too; the VAD confirms or dismisses.
 */
export class SpeechOnsetDetector {
  readonly #options: SpeechOnsetOptions;
  #samples = 0;
  #frame = new Int16Array(FRAME);
  #filled = 0;
  #prev = 0;
  #floor = FLOOR_DB;
  #hfFloor = FLOOR_DB;
  #loudRun = 0;
  #quietRun = 0;
  /** An onset fired and the sound has not died down yet. */
  #inSound = false;

  constructor(options: Partial<SpeechOnsetOptions> = {}) {
    this.#options = { ...defaultSpeechOnsetOptions, ...options };
  }

  /** Audio in order; returns the media ms where an onset began in it, if one did. */
  push(pcm: Int16Array): number | undefined {
    let onset: number | undefined;
    for (let i = 0; i < pcm.length; ) {
      const n = Math.min(FRAME - this.#filled, pcm.length - i);
      this.#frame.set(pcm.subarray(i, i + n), this.#filled);
      this.#filled += n;
      i += n;
      if (this.#filled < FRAME) break;
      this.#filled = 0;
      const at = this.#frameDone();
      onset ??= at;
    }
    return onset;
  }

  reset(): void {
    this.#loudRun = 0;
    this.#quietRun = 0;
    this.#inSound = false;
  }

  #frameDone(): number | undefined {
    const frame = this.#frame;
    const startMs = (this.#samples * 1000) / SAMPLE_RATE;
    this.#samples += FRAME;
    let energy = 0;
    let hf = 0;
    let prev = this.#prev;
    for (let k = 0; k < FRAME; k++) {
      const x = frame[k]!;
      energy += x * x;
      const d = x - prev;
      hf += d * d;
      prev = x;
    }
    this.#prev = prev;
    const level = db(energy);
    const hfLevel = db(hf / 4); // a first difference doubles the amplitude at the top of the band
    const { riseDb, minLevelDb, frames } = this.#options;
    const loud = (level >= this.#floor + riseDb || hfLevel >= this.#hfFloor + riseDb) && Math.max(level, hfLevel) >= minLevelDb;
    this.#floor = Math.min(level, this.#floor + FLOOR_RISE_DB);
    this.#hfFloor = Math.min(hfLevel, this.#hfFloor + FLOOR_RISE_DB);
    if (!loud) {
      this.#loudRun = 0;
      if (++this.#quietRun >= 10) this.#inSound = false; // 100 ms of quiet: the sound is over
      return undefined;
    }
    this.#quietRun = 0;
    if (this.#inSound || ++this.#loudRun < frames) return undefined;
    this.#inSound = true;
    return startMs - (frames - 1) * 10;
  }
}

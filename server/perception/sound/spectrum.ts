/**
 * Short-time spectra of 16 kHz audio for the signal sound detectors: a radix-2 FFT and the
 * per-frame measures the detectors read (level, the strongest tonal peak, spectral peaks and
 * how they persist, flatness, flux). Everything is preallocated: it runs on the live audio path.
 */

export const SAMPLE_RATE = 16000;
/** 32 ms analysis window. */
export const FRAME_SAMPLES = 512;
/** 16 ms hop: beeps of 60 ms still get a whole frame inside them. */
export const HOP_SAMPLES = 256;
export const HOP_MS = (HOP_SAMPLES * 1000) / SAMPLE_RATE;
export const FRAME_MS = (FRAME_SAMPLES * 1000) / SAMPLE_RATE;
export const BINS = FRAME_SAMPLES / 2 + 1;
export const BIN_HZ = SAMPLE_RATE / FRAME_SAMPLES;

/** In-place iterative radix-2 FFT of one fixed size, tables built once. */
export class Fft {
  readonly size: number;
  readonly #cos: Float64Array;
  readonly #sin: Float64Array;
  readonly #reversed: Uint32Array;

  constructor(size: number) {
    if (!Number.isInteger(size) || size < 2 || (size & (size - 1)) !== 0) throw new TypeError(`Fft size must be a power of two, got ${size}`);
    this.size = size;
    this.#cos = new Float64Array(size / 2);
    this.#sin = new Float64Array(size / 2);
    for (let k = 0; k < size / 2; k++) {
      this.#cos[k] = Math.cos((2 * Math.PI * k) / size);
      this.#sin[k] = -Math.sin((2 * Math.PI * k) / size);
    }
    this.#reversed = new Uint32Array(size);
    const bits = Math.log2(size);
    for (let i = 0; i < size; i++) {
      let r = 0;
      for (let b = 0; b < bits; b++) r |= ((i >> b) & 1) << (bits - 1 - b);
      this.#reversed[i] = r;
    }
  }

  /** Forward DFT of (re, im), in place. */
  transform(re: Float64Array, im: Float64Array): void {
    const n = this.size;
    const rev = this.#reversed;
    for (let i = 0; i < n; i++) {
      const j = rev[i]!;
      if (j > i) {
        const tr = re[i]!;
        re[i] = re[j]!;
        re[j] = tr;
        const ti = im[i]!;
        im[i] = im[j]!;
        im[j] = ti;
      }
    }
    const cos = this.#cos;
    const sin = this.#sin;
    for (let half = 1; half < n; half *= 2) {
      const step = n / (2 * half);
      for (let start = 0; start < n; start += 2 * half) {
        for (let k = 0; k < half; k++) {
          const wr = cos[k * step]!;
          const wi = sin[k * step]!;
          const a = start + k;
          const b = a + half;
          const xr = re[b]! * wr - im[b]! * wi;
          const xi = re[b]! * wi + im[b]! * wr;
          re[b] = re[a]! - xr;
          im[b] = im[a]! - xi;
          re[a] = re[a]! + xr;
          im[a] = im[a]! + xi;
        }
      }
    }
  }
}

/** What one frame looks like. Reused from frame to frame: copy what must outlive the call. */
export interface FrameFeatures {
  /** Media ms of the frame's first sample. */
  startMs: number;
  /** Frame power above 100 Hz (DC and rumble left out), dB of full scale (a full-scale sine is −3 dB). */
  db: number;
  /** Strongest component between 300 and 6000 Hz, interpolated. */
  peakHz: number;
  /** Power in the peak's ±2 bins against 5 mean bins of its surroundings (5..16 bins away, the quieter side), dB: how much it stands out. */
  peakProminenceDb: number;
  /** Share of the 150–7000 Hz power in the peak's ±2 bins: near 1 for one pure tone. */
  peakShare: number;
  /**
   * Of the power in prominent spectral peaks (≥ 10 dB above their surroundings, 100–5000 Hz),
   * the share at bins (±1) that held prominent peaks 64 ms (a whole frame and more) before too:
   * near 1 for steady tones and chords.
   */
  persistence: number;
  /** Spectral flatness (geometric / arithmetic mean power) over 150–6000 Hz: near 1 for noise, near 0 for tones. */
  flatness: number;
  /** Share of 150–8000 Hz power above 2500 Hz (hiss, fricatives, clicks). */
  highShare: number;
  /** Positive spectral change from the previous frame, as a share of this frame's power (0 steady, 1 all new). */
  flux: number;
}

const bin = (hz: number) => Math.round(hz / BIN_HZ);
const LEVEL_LO = bin(100);
const PEAK_LO = bin(300);
const PEAK_HI = bin(6000);
const BAND_LO = bin(150);
const BAND_HI = bin(7000);
const PEAKS_LO = bin(100);
const PEAKS_HI = bin(5000);
const HIGH_FROM = bin(2500);
const FULL_HI = bin(8000) - 1;
const NEAR = 2; // the peak's own bins (a Hann main lobe is ±2 bins)
const RING_IN = 5;
const RING_OUT = 16;
const PEAK_RATIO = 10; // 10 dB above the surroundings
const TINY = 1e-12;
const PERSIST_HOPS = 4; // 64 ms: the frames compared no longer overlap

/** Turns 512-sample frames into FrameFeatures; keeps the last frames' peaks and spectrum for persistence and flux. */
export class FrameAnalyzer {
  readonly #fft = new Fft(FRAME_SAMPLES);
  readonly #window = new Float64Array(FRAME_SAMPLES);
  readonly #re = new Float64Array(FRAME_SAMPLES);
  readonly #im = new Float64Array(FRAME_SAMPLES);
  #power = new Float64Array(BINS);
  #previous = new Float64Array(BINS);
  /** Peak maps of this frame and the PERSIST_HOPS before it, oldest first. */
  readonly #peakMaps = Array.from({ length: PERSIST_HOPS + 1 }, () => new Uint8Array(BINS));
  readonly #gain: number;
  readonly features: FrameFeatures = { startMs: 0, db: -120, peakHz: 0, peakProminenceDb: 0, peakShare: 0, persistence: 0, flatness: 1, highShare: 0, flux: 0 };

  constructor() {
    let sum = 0;
    for (let i = 0; i < FRAME_SAMPLES; i++) {
      this.#window[i] = 0.5 - 0.5 * Math.cos((2 * Math.PI * i) / FRAME_SAMPLES);
      sum += this.#window[i]! ** 2;
    }
    // Parseval with the window's power folded in: bin powers sum to the frame's mean square.
    this.#gain = 2 / (sum * FRAME_SAMPLES);
  }

  /** `frame` holds FRAME_SAMPLES samples in [-1, 1]. */
  analyze(frame: Float32Array, startMs: number): FrameFeatures {
    [this.#power, this.#previous] = [this.#previous, this.#power];
    this.#peakMaps.push(this.#peakMaps.shift()!);
    const re = this.#re;
    const im = this.#im;
    for (let i = 0; i < FRAME_SAMPLES; i++) {
      re[i] = frame[i]! * this.#window[i]!;
      im[i] = 0;
    }
    this.#fft.transform(re, im);
    const p = this.#power;
    let total = 0;
    for (let k = 0; k < BINS; k++) {
      p[k] = (re[k]! * re[k]! + im[k]! * im[k]!) * this.#gain;
      if (k >= LEVEL_LO) total += p[k]!;
    }
    const f = this.features;
    f.startMs = startMs;
    f.db = 10 * Math.log10(total + TINY);
    this.#tonalPeak(p);
    this.#spectralPeaks(p);
    this.#shape(p);
    return f;
  }

  /** The strongest component between 300 and 6000 Hz: where it is and how much it stands out. */
  #tonalPeak(p: Float64Array): void {
    const f = this.features;
    let at = PEAK_LO;
    for (let k = PEAK_LO + 1; k <= PEAK_HI; k++) if (p[k]! > p[at]!) at = k;
    let own = 0;
    for (let k = at - NEAR; k <= at + NEAR; k++) own += p[k]!;
    // Against the quieter side: noise sloping down from low frequencies (pink, brown, rumble)
    // would otherwise bury a 500 Hz beep, whose other side is clear.
    let below = 0;
    let above = 0;
    for (let d = RING_IN; d <= RING_OUT; d++) {
      below += at - d >= 0 ? p[at - d]! : 0;
      above += p[at + d]!;
    }
    const ring = Math.min(below, above);
    const n = RING_OUT - RING_IN + 1;
    let band = 0;
    for (let k = BAND_LO; k <= BAND_HI; k++) band += p[k]!;
    f.peakProminenceDb = 10 * Math.log10((own + TINY) / ((ring / n) * (2 * NEAR + 1) + TINY));
    f.peakShare = own / (band + TINY);
    // Parabolic interpolation on log power: a few Hz, not 31.
    const a = Math.log(p[at - 1]! + TINY);
    const b = Math.log(p[at]! + TINY);
    const c = Math.log(p[at + 1]! + TINY);
    const denominator = a - 2 * b + c;
    const offset = denominator < 0 ? (0.5 * (a - c)) / denominator : 0;
    f.peakHz = (at + Math.max(-0.5, Math.min(0.5, offset))) * BIN_HZ;
  }

  /** Prominent local maxima, and how much of their power sits where peaks were 64 ms ago. */
  #spectralPeaks(p: Float64Array): void {
    const f = this.features;
    const isPeak = this.#peakMaps[PERSIST_HOPS]!;
    const wasPeak = this.#peakMaps[0]!;
    isPeak.fill(0);
    let power = 0;
    let kept = 0;
    for (let k = PEAKS_LO; k <= PEAKS_HI; k++) {
      const v = p[k]!;
      if (v <= p[k - 1]! || v < p[k + 1]!) continue;
      let ring = 0;
      for (let d = 3; d <= 8; d++) ring += (k >= d ? p[k - d]! : 0) + p[k + d]!;
      if (v * 12 < PEAK_RATIO * ring) continue; // the mean of 12 ring bins, 10 dB down
      isPeak[k] = 1;
      power += v;
      if (wasPeak[k - 1] || wasPeak[k] || wasPeak[k + 1]) kept += v;
    }
    f.persistence = power > 0 ? kept / power : 0;
  }

  /** Flatness, high-frequency share and flux. */
  #shape(p: Float64Array): void {
    const f = this.features;
    const prev = this.#previous;
    let logSum = 0;
    let sum = 0;
    for (let k = BAND_LO; k <= bin(6000); k++) {
      logSum += Math.log(p[k]! + TINY);
      sum += p[k]!;
    }
    const n = bin(6000) - BAND_LO + 1;
    f.flatness = Math.exp(logSum / n) / (sum / n + TINY);
    let high = 0;
    let all = 0;
    let rise = 0;
    for (let k = BAND_LO; k <= FULL_HI; k++) {
      all += p[k]!;
      if (k >= HIGH_FROM) high += p[k]!;
      const d = p[k]! - prev[k]!;
      if (d > 0) rise += d;
    }
    f.highShare = high / (all + TINY);
    f.flux = rise / (all + TINY);
  }
}

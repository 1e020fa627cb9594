/**
 * The audio half of the reference kernels (native/src/audio_kernels.cc): resampling and
 * Whisper's log-mel spectrogram, written to be read. See reference.ts for the image half.
 */
import type { LogMelOptions, LogMelSpectrogram, PcmSamples } from '../../../native/index.ts';
import { WHISPER_HOP_LENGTH, WHISPER_N_FFT, WHISPER_SAMPLE_RATE } from '../../../native/index.ts';

// ---- resampling: Kaiser-windowed sinc ----

const ROLLOFF = 0.92; // cutoff, as a fraction of the lower Nyquist
const ZERO_CROSSINGS = 32; // of the sinc, each side
const KAISER_BETA = 8.6; // ≈ −86 dB stopband

/** Modified Bessel function of the first kind, order 0 (power series). */
function besselI0(x: number): number {
  let sum = 1;
  let term = 1;
  const q = (x * x) / 4;
  for (let k = 1; k < 200; k++) {
    term *= q / (k * k);
    sum += term;
    if (term < sum * 1e-17) break;
  }
  return sum;
}

/** The lowpass kernel for a from → to conversion, as a function of the distance in input samples. */
function sincKernel(fromRate: number, toRate: number): { half: number; at: (d: number) => number } {
  const fc = 0.5 * ROLLOFF * Math.min(1, toRate / fromRate); // cycles per input sample
  const span = ZERO_CROSSINGS / (2 * fc);
  const i0Beta = besselI0(KAISER_BETA);
  const at = (d: number) => {
    const t = d / span;
    if (t <= -1 || t >= 1) return 0;
    const x = 2 * fc * d;
    const sinc = x === 0 ? 1 : Math.sin(Math.PI * x) / (Math.PI * x);
    return (2 * fc * sinc * besselI0(KAISER_BETA * Math.sqrt(1 - t * t))) / i0Beta;
  };
  return { half: Math.ceil(span), at };
}

function gcd(a: number, b: number): number {
  return b === 0 ? a : gcd(b, a % b);
}

export function resamplePcm<T extends PcmSamples>(samples: T, fromRate: number, toRate: number): T {
  if (fromRate === toRate) return samples.slice() as T;
  const g = gcd(fromRate, toRate);
  const [L, M] = [toRate / g, fromRate / g]; // output j sits at input position j·M/L
  const n = samples.length;
  const outLength = Math.ceil((n * toRate) / fromRate);
  const { half, at } = sincKernel(fromRate, toRate);
  const phases = new Map<number, Float64Array>(); // taps per phase (j·M mod L), normalized to sum 1
  const tapsFor = (phase: number) => {
    let taps = phases.get(phase);
    if (taps) return taps;
    const frac = phase / L;
    taps = Float64Array.from({ length: 2 * half }, (_, i) => at(frac + half - 1 - i));
    const sum = taps.reduce((a, b) => a + b, 0);
    taps = taps.map((t) => t / sum);
    if (phases.size < 4096) phases.set(phase, taps);
    return taps;
  };
  const isInt16 = samples instanceof Int16Array;
  const out = isInt16 ? new Int16Array(outLength) : new Float32Array(outLength);
  for (let j = 0; j < outLength; j++) {
    const base = Math.floor((j * M) / L);
    const taps = tapsFor((j * M) % L);
    let acc = 0;
    for (let i = 0; i < taps.length; i++) {
      const k = base - half + 1 + i; // samples outside the input are zero
      if (k >= 0 && k < n) acc += samples[k]! * taps[i]!;
    }
    out[j] = isInt16 ? Math.min(32767, Math.max(-32768, Math.floor(acc + 0.5))) : acc;
  }
  return out as T;
}

// ---- Whisper log-mel spectrogram ----

const hzToMel = (f: number) => (f >= 1000 ? 15 + Math.log(f / 1000) / (Math.log(6.4) / 27) : f / (200 / 3));
const melToHz = (m: number) => (m >= 15 ? 1000 * Math.exp((Math.log(6.4) / 27) * (m - 15)) : (200 / 3) * m);

/** librosa.filters.mel(sr=16000, n_fft=400, n_mels) (Slaney scale, Slaney norm), float32 [nMels × 201]. */
export function whisperMelFilters(nMels: 80 | 128): Float32Array {
  const bins = WHISPER_N_FFT / 2 + 1;
  const top = hzToMel(WHISPER_SAMPLE_RATE / 2);
  const step = top / (nMels + 1);
  const melF = Array.from({ length: nMels + 2 }, (_, i) => melToHz(i === nMels + 1 ? top : i * step));
  const binHz = 1 / (WHISPER_N_FFT * (1 / WHISPER_SAMPLE_RATE));
  const weights = new Float32Array(nMels * bins);
  for (let m = 0; m < nMels; m++) {
    const enorm = 2 / (melF[m + 2]! - melF[m]!);
    for (let k = 0; k < bins; k++) {
      const f = k * binHz;
      const lower = -(melF[m]! - f) / (melF[m + 1]! - melF[m]!);
      const upper = (melF[m + 2]! - f) / (melF[m + 2]! - melF[m + 1]!);
      // librosa stores the triangle in float32 first, then scales it by enorm.
      weights[m * bins + k] = Math.fround(Math.max(0, Math.min(lower, upper))) * enorm;
    }
  }
  return weights;
}

/** cos and sin of −2πk/n, k < n, cached per n. */
const twiddles = new Map<number, [Float64Array, Float64Array]>();
function twiddlesOf(n: number): [Float64Array, Float64Array] {
  let t = twiddles.get(n);
  if (!t) {
    t = [new Float64Array(n), new Float64Array(n)];
    for (let k = 0; k < n; k++) [t[0][k], t[1][k]] = [Math.cos((-2 * Math.PI * k) / n), Math.sin((-2 * Math.PI * k) / n)];
    twiddles.set(n, t);
  }
  return t;
}

/**
 * DFT of (re, im), any length, by recursive mixed-radix decimation in time: split into p
 * interleaved sub-sequences (p = the smallest factor of n), transform each, combine.
 */
export function fft(re: Float64Array, im: Float64Array): [Float64Array, Float64Array] {
  const outRe = new Float64Array(re.length);
  const outIm = new Float64Array(re.length);
  dft(re, im, 0, 1, re.length, outRe, outIm, 0);
  return [outRe, outIm];
}

/** DFT of the n samples x[offset + stride·j] into out[at .. at + n). */
function dft(re: Float64Array, im: Float64Array, offset: number, stride: number, n: number, outRe: Float64Array, outIm: Float64Array, at: number): void {
  if (n === 1) {
    outRe[at] = re[offset]!;
    outIm[at] = im[offset]!;
    return;
  }
  let p = 2;
  while (n % p !== 0) p++;
  const m = n / p;
  // Sub-sequence r (samples r, r + p, r + 2p, ...) → its m-point DFT at out[at + r·m ...].
  for (let r = 0; r < p; r++) dft(re, im, offset + r * stride, stride * p, m, outRe, outIm, at + r * m);
  // X[k + q·m] = Σr ω_n^{r·(k + q·m)} · SUB_r[k], for k < m and q < p.
  const [cos, sin] = twiddlesOf(n);
  const aRe = new Float64Array(p);
  const aIm = new Float64Array(p);
  for (let k = 0; k < m; k++) {
    for (let r = 0; r < p; r++) [aRe[r], aIm[r]] = [outRe[at + r * m + k]!, outIm[at + r * m + k]!];
    for (let q = 0; q < p; q++) {
      let sumRe = 0;
      let sumIm = 0;
      for (let r = 0; r < p; r++) {
        const t = (r * (k + q * m)) % n;
        sumRe += aRe[r]! * cos[t]! - aIm[r]! * sin[t]!;
        sumIm += aRe[r]! * sin[t]! + aIm[r]! * cos[t]!;
      }
      [outRe[at + q * m + k], outIm[at + q * m + k]] = [sumRe, sumIm];
    }
  }
}

/**
 * openai/whisper audio.py log_mel_spectrogram: torch.stft(n_fft=400, hop=160, periodic
 * Hann window, center=True with reflect padding), last frame dropped, |X|², mel filters,
 * log10 of max(·, 1e-10) (float32, as torch), clamp to max − 8, then (x + 4) / 4.
 */
export function logMelSpectrogram(samples: PcmSamples, options: LogMelOptions = {}): LogMelSpectrogram {
  const { nMels = 80, padding = 0 } = options;
  const scale = samples instanceof Int16Array ? 1 / 32768 : 1;
  const n = samples.length + padding;
  if (n <= WHISPER_N_FFT / 2) throw new TypeError(`logMelSpectrogram: needs more than ${WHISPER_N_FFT / 2} samples, got ${n}`);
  const x = (i: number) => (i < samples.length ? Math.fround(samples[i]! * scale) : 0);
  const reflect = (i: number) => (i < 0 ? -i : i >= n ? 2 * (n - 1) - i : i);
  const window = Array.from({ length: WHISPER_N_FFT }, (_, i) => 0.5 - 0.5 * Math.cos((2 * Math.PI * i) / WHISPER_N_FFT));
  const filters = whisperMelFilters(nMels);
  const bins = WHISPER_N_FFT / 2 + 1;
  const frames = Math.floor(n / WHISPER_HOP_LENGTH);
  const logs = new Float64Array(nMels * frames);
  for (let t = 0; t < frames; t++) {
    const re = new Float64Array(WHISPER_N_FFT);
    for (let i = 0; i < WHISPER_N_FFT; i++) re[i] = x(reflect(t * WHISPER_HOP_LENGTH - WHISPER_N_FFT / 2 + i)) * window[i]!;
    const [fr, fi] = fft(re, new Float64Array(WHISPER_N_FFT));
    for (let m = 0; m < nMels; m++) {
      let s = 0;
      for (let k = 0; k < bins; k++) s += filters[m * bins + k]! * (fr[k]! * fr[k]! + fi[k]! * fi[k]!);
      logs[m * frames + t] = Math.log10(Math.max(Math.fround(s), Math.fround(1e-10)));
    }
  }
  const floor = logs.reduce((a, b) => Math.max(a, b), -Infinity) - 8;
  const data = Float32Array.from(logs, (l) => (Math.max(l, floor) + 4) / 4);
  return { nMels, frames, data };
}

export const resamplePcmAsync = async <T extends PcmSamples>(samples: T, fromRate: number, toRate: number) => resamplePcm(samples, fromRate, toRate);
export const logMelSpectrogramAsync = async (samples: PcmSamples, options?: LogMelOptions) => logMelSpectrogram(samples, options);

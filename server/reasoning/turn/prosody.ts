/**
 * Prosody at the end of a user's utterance, measured from the audio: did the voice fall (a
 * statement ending), rise (a question, a list, "and then…") or stay level, and did it fade?
 * End-of-turn policies weigh this next to the words.
 *
 * Pitch comes from a normalized cross-correlation (NCCF) tracker run only over the last ~0.7 s
 * before speech stopped; the rest of the utterance is only measured for loudness, so the cost
 * stays flat however long the user talked.
 */

export interface EndProsody {
  /** Pitch movement over the last voiced ~300 ms before the silence: falling (statement end), rising (question/list/continuation), flat, or unknown (too little voiced audio). */
  pitch: 'falling' | 'rising' | 'flat' | 'unknown';
  /** Semitones per second of the fitted F0 slope over that stretch (NaN when unknown). */
  slopeSemitonesPerS: number;
  /**
   * Energy of the last 100 ms of speech relative to the utterance's median voiced energy, dB (a
   * trailing fade is typical of a finished sentence). The 100 ms end where voicing ends (where
   * speech energy ends when nothing was voiced); NaN when the audio holds no speech at all.
   */
  finalEnergyDb: number;
}

/**
 * |slope| above which the end counts as falling or rising, semitones/s. Measured: synthetic
 * glides of ±5–6.3 st/s read within 0.15 of the truth and steady tones within ±0.2; Flite's slt
 * voice ends 7 of 8 statements at −3.5 to −8.8 (and its questions at −4 to −12: it does not rise)
 * but a trailing "…, and" at −1.3 and −0.3; the near-monotone kal voice reads −10 to +3.7.
 * Listeners barely hear a glide under ~2 st/s over 300 ms and speech drifts down 1–2 st/s
 * anyway, so 3 keeps that drift flat.
 */
export const PITCH_SLOPE_THRESHOLD = 3;

const F0_MIN_HZ = 60;
const F0_MAX_HZ = 400;
/**
 * The tracker runs near 4 kHz: F0 and its harmonics up to 1.6 kHz are plenty, the correlation
 * costs 1/16 of what it would at 16 kHz, and interpolating the peak keeps the period precise.
 */
const ANALYSIS_RATE = 4000;
const HOP_MS = 10;
/** Correlation length; with lags up to 1/60 s each frame reads ~37 ms of audio. */
const CORRELATION_MS = 20;
const FIT_MS = 300;
/** How far back from the end of speech (plus TAIL_MS) the tracker looks: the fit span, trailing consonants and the tail. */
const SEARCH_MS = 700;
const FINAL_MS = 100;
/**
 * NCCF peak for a voiced frame: Flite's speech reads a median 0.98 (a quarter of frames, the
 * consonants, under 0.94), white noise never above 0.47. Strongly low-passed noise can pass,
 * but gives no smooth contour, so the run rule below drops it.
 */
const VOICING_NCCF = 0.7;
/** Among peaks this close to the best one the shortest lag wins: the usual guard against halving F0. */
const PEAK_SHARE = 0.9;
/** Frames more than this below the loudest are silence or background, not speech. */
const SPEECH_RANGE_DB = 35;
/** Speech is at least this far above the background (the quietest tenth of the 10 ms blocks). */
const NOISE_MARGIN_DB = 10;
/** …unless that would put it within this of the loudest block. */
const SPEECH_HEADROOM_DB = 6;
/** Past the end of speech by energy the tracker still looks this far: a fading last vowel may lie there. */
const TAIL_MS = 100;
/** Below this (about −66 dBFS) nothing counts as speech, however quiet the whole clip is. */
const SILENCE_POWER = 16 * 16;
/** Zero crossings per second above which a loud 10 ms block is a fricative rather than a vowel (Flite's vowels: 300–1900). */
const VOICED_MAX_ZCR = 3000;
const MIN_FIT_FRAMES = 5;
/** A slope over less voiced time than this is mostly onset and offset: a steady 80 ms tone reads ±3 st/s. */
const MIN_FIT_MS = 100;
/** Voiced frames in a row (with smooth F0) before they count: 30 ms. */
const MIN_RUN_FRAMES = 3;
/** Largest F0 step between neighbouring frames (10 ms) that is still one intonation contour. */
const MAX_STEP_ST = 1.5;
/** Farther than half an octave from the median F0 is an octave error, not intonation. */
const OCTAVE_JUMP_ST = 6;
/** After the first fit, points this far off the line are dropped and the line refitted. */
const OUTLIER_ST = 3;

/** Prosody at the end of an utterance: `pcm` is 16 kHz mono audio of the utterance up to where speech stopped (trailing silence may be included; find the end of voiced audio yourself). */
export function endProsody(pcm: Int16Array, sampleRate = 16000): EndProsody {
  if (!(pcm instanceof Int16Array)) throw new TypeError('pcm must be an Int16Array of mono samples');
  if (!Number.isInteger(sampleRate) || sampleRate < 8000 || sampleRate > 192000) {
    throw new TypeError(`sampleRate must be an integer from 8000 to 192000, got ${sampleRate}`);
  }
  const unknown: EndProsody = { pitch: 'unknown', slopeSemitonesPerS: NaN, finalEnergyDb: NaN };
  const blocks = loudness(pcm, sampleRate);
  if (blocks.count === 0 || blocks.max < SILENCE_POWER) return unknown;
  // Speech must stand clear of the background as well as come near the loudest block, so that
  // trailing room noise or hiss is not taken for speech that never ends; a clip with no pause at
  // all has no background to measure, hence the cap below the loudest block.
  const quiet = Math.max(SILENCE_POWER, blocks.max * 10 ** (-SPEECH_RANGE_DB / 10));
  const background = percentile(blocks.power, 0.1) * 10 ** (NOISE_MARGIN_DB / 10);
  const speechFloor = Math.max(quiet, Math.min(background, blocks.max * 10 ** (-SPEECH_HEADROOM_DB / 10)));
  let last = blocks.count - 1;
  while (blocks.power[last] < speechFloor) last--;
  const speechEnd = (last + 1) * blocks.size;

  const track = trackEnd(pcm, sampleRate, speechEnd, quiet);
  const reference = medianVoicedPower(blocks, speechFloor, sampleRate);
  const finalEnd = track.voicedEnd ?? speechEnd;
  const finalEnergyDb = 10 * Math.log10(meanPower(pcm, finalEnd - Math.round((FINAL_MS * sampleRate) / 1000), finalEnd) / reference);

  const slope = fitSlope(track.times, track.semitones);
  if (Number.isNaN(slope)) return { ...unknown, finalEnergyDb };
  const pitch = slope < -PITCH_SLOPE_THRESHOLD ? 'falling' : slope > PITCH_SLOPE_THRESHOLD ? 'rising' : 'flat';
  return { pitch, slopeSemitonesPerS: slope, finalEnergyDb };
}

interface Blocks {
  size: number;
  count: number;
  power: Float64Array;
  crossings: Uint16Array;
  max: number;
}

/** Mean power and zero crossings of every 10 ms block: one cheap pass over the whole utterance. */
function loudness(pcm: Int16Array, sampleRate: number): Blocks {
  const size = Math.round((HOP_MS * sampleRate) / 1000);
  const count = Math.floor(pcm.length / size);
  const power = new Float64Array(count);
  const crossings = new Uint16Array(count);
  let max = 0;
  for (let b = 0; b < count; b++) {
    let sum = 0;
    let zc = 0;
    let prev = pcm[b * size];
    for (let i = b * size, end = i + size; i < end; i++) {
      const v = pcm[i];
      sum += v * v;
      zc += (v ^ prev) >>> 31; // sign bits differ: a crossing
      prev = v;
    }
    power[b] = sum / size;
    crossings[b] = zc;
    if (power[b] > max) max = power[b];
  }
  return { size, count, power, crossings, max };
}

/**
 * Median power of the loud, low-crossing (vowel-like) blocks. The pitch tracker would be the
 * better judge of voicing but costs too much over a whole utterance; when no block passes (e.g.
 * noise), every speech block counts.
 */
function medianVoicedPower({ count, power, crossings, size }: Blocks, floor: number, sampleRate: number): number {
  const maxCrossings = (VOICED_MAX_ZCR * size) / sampleRate;
  const voiced: number[] = [];
  const speech: number[] = [];
  for (let b = 0; b < count; b++) {
    if (power[b] < floor) continue;
    speech.push(power[b]);
    if (crossings[b] <= maxCrossings) voiced.push(power[b]);
  }
  return median(voiced.length > 0 ? voiced : speech);
}

interface Track {
  /** Frame centres (s) and F0 (semitones re 1 Hz) of the voiced frames within FIT_MS of the last one, oldest first. */
  times: number[];
  semitones: number[];
  /** Sample index where the last voiced frame ends; undefined when nothing near the end was voiced. */
  voicedEnd?: number;
}

/** Pitch of the frames before `speechEnd`, walked backwards from it until FIT_MS before the last voiced frame. */
function trackEnd(pcm: Int16Array, sampleRate: number, speechEnd: number, floor: number): Track {
  const factor = Math.max(1, Math.round(sampleRate / ANALYSIS_RATE));
  const rate = sampleRate / factor;
  const window = Math.round((CORRELATION_MS * rate) / 1000);
  const hop = Math.round((HOP_MS * rate) / 1000);
  const minLag = Math.floor(rate / F0_MAX_HZ);
  const maxLag = Math.ceil(rate / F0_MIN_HZ);
  // Frames correlate their window with the audio up to maxLag before it, so they can sit flush
  // against the end of speech; the region starts early enough to give the first one that history.
  const end = Math.min(pcm.length, speechEnd + Math.round((TAIL_MS * sampleRate) / 1000));
  const start = Math.max(0, end - Math.round((SEARCH_MS * sampleRate) / 1000) - (maxLag + 1) * factor);
  const x = decimate(pcm, start, end, factor);
  const frameFloor = floor * window * 0.5; // the anti-alias filter takes a little of a fricative's power

  const times: number[] = [];
  const semitones: number[] = [];
  let voicedEnd: number | undefined;
  let lastTime = 0;
  // Frames join a run while F0 moves smoothly from one to the next; short runs are dropped; they
  // are what the tracker reads at a voicing offset or in creak (a jump of an octave or a few
  // semitones within 10 ms), not intonation.
  let run: { time: number; st: number; end: number }[] = [];
  const closeRun = () => {
    if (run.length >= MIN_RUN_FRAMES) {
      if (voicedEnd === undefined) {
        voicedEnd = run[0].end;
        lastTime = run[0].time;
      }
      for (const f of run) {
        if (f.time < lastTime - FIT_MS / 1000) break;
        times.push(f.time);
        semitones.push(f.st);
      }
    }
    run = [];
  };
  for (let p = x.length - window; p >= maxLag + 1; p -= hop) {
    const time = (start + (p + window / 2) * factor) / sampleRate;
    if (voicedEnd !== undefined && time < lastTime - FIT_MS / 1000) break;
    const period = framePeriod(x, p, window, minLag, maxLag, frameFloor);
    if (period === undefined) {
      closeRun();
      continue;
    }
    const st = 12 * Math.log2(rate / period);
    if (run.length > 0 && Math.abs(st - run[run.length - 1].st) > MAX_STEP_ST) closeRun();
    run.push({ time, st, end: start + (p + window) * factor });
  }
  closeRun();
  // Walked backwards: put the fit points in time order.
  times.reverse();
  semitones.reverse();
  return { times, semitones, voicedEnd };
}

/**
 * Pitch period (in samples, fractional) of the frame whose correlation window starts at `p`, or
 * undefined when the frame is quiet or not periodic enough.
 */
function framePeriod(x: Float32Array, p: number, window: number, minLag: number, maxLag: number, floor: number): number | undefined {
  let e0 = 0;
  for (let j = p; j < p + window; j++) e0 += x[j] * x[j];
  if (e0 < floor) return undefined;
  // NCCF for lags minLag−1 … maxLag+1 (the ends only feed the peak test and interpolation);
  // the lagged window's energy slides along instead of being summed afresh.
  const first = minLag - 1;
  const r = new Float64Array(maxLag - first + 2);
  let eLag = 0;
  for (let j = p - first; j < p - first + window; j++) eLag += x[j] * x[j];
  for (let lag = first; lag <= maxLag + 1; lag++) {
    if (lag > first) {
      const enter = x[p - lag];
      const leave = x[p - lag + window];
      eLag += enter * enter - leave * leave;
    }
    // Four running sums: the adds no longer wait on each other, which more than doubles the speed.
    let d0 = 0;
    let d1 = 0;
    let d2 = 0;
    let d3 = 0;
    const q = p - lag;
    let j = 0;
    for (; j + 3 < window; j += 4) {
      d0 += x[p + j] * x[q + j];
      d1 += x[p + j + 1] * x[q + j + 1];
      d2 += x[p + j + 2] * x[q + j + 2];
      d3 += x[p + j + 3] * x[q + j + 3];
    }
    for (; j < window; j++) d0 += x[p + j] * x[q + j];
    const dot = d0 + d1 + d2 + d3;
    r[lag - first] = eLag > 0 ? dot / Math.sqrt(e0 * eLag) : 0;
  }
  let best = 0;
  for (let i = 1; i < r.length - 1; i++) if (r[i] > best) best = r[i];
  if (best < VOICING_NCCF) return undefined;
  for (let i = 1; i < r.length - 1; i++) {
    if (r[i] < PEAK_SHARE * best || r[i] < r[i - 1] || r[i] < r[i + 1]) continue;
    // A parabola through the peak and its neighbours places it between lags.
    const curve = r[i - 1] - 2 * r[i] + r[i + 1];
    const shift = curve < 0 ? (0.5 * (r[i - 1] - r[i + 1])) / curve : 0;
    return i + first + shift;
  }
  return undefined;
}

/**
 * `pcm[from, to)` low-passed below the new Nyquist and kept every `factor`-th sample, as floats.
 * A short Hann-windowed sinc is enough: harmonics that alias are weak and only add noise.
 */
function decimate(pcm: Int16Array, from: number, to: number, factor: number): Float32Array {
  const out = new Float32Array(Math.floor((to - from) / factor));
  if (factor === 1) {
    for (let k = 0; k < out.length; k++) out[k] = pcm[from + k];
    return out;
  }
  const half = 2 * factor;
  const taps = new Float64Array(2 * half + 1);
  const cutoff = 0.8 / factor; // of the input Nyquist
  let sum = 0;
  for (let j = -half; j <= half; j++) {
    const sinc = j === 0 ? cutoff : Math.sin(Math.PI * cutoff * j) / (Math.PI * j);
    taps[j + half] = sinc * (0.5 + 0.5 * Math.cos((Math.PI * j) / (half + 1)));
    sum += taps[j + half];
  }
  for (let j = 0; j < taps.length; j++) taps[j] /= sum;
  for (let k = 0; k < out.length; k++) {
    const centre = from + k * factor;
    let acc = taps[half] * pcm[centre];
    if (centre - half >= 0 && centre + half < pcm.length) {
      // Symmetric taps: one multiply per pair.
      for (let j = 1; j <= half; j++) acc += taps[half + j] * (pcm[centre - j] + pcm[centre + j]);
    } else {
      for (let j = 1; j <= half; j++) {
        if (centre - j >= 0) acc += taps[half + j] * pcm[centre - j];
        if (centre + j < pcm.length) acc += taps[half + j] * pcm[centre + j];
      }
    }
    out[k] = acc;
  }
  return out;
}

/** Least-squares slope (units per second) after dropping octave errors and then points far off the first line; NaN with too few points or too short a span. */
function fitSlope(times: number[], values: number[]): number {
  const mid = median(values);
  let keep = times.map((_, i) => i).filter((i) => Math.abs(values[i] - mid) <= OCTAVE_JUMP_ST);
  if (keep.length < MIN_FIT_FRAMES) return NaN;
  let line = leastSquares(keep, times, values);
  const close = keep.filter((i) => Math.abs(values[i] - (line.intercept + line.slope * times[i])) <= OUTLIER_ST);
  if (close.length < keep.length && close.length >= MIN_FIT_FRAMES) {
    keep = close;
    line = leastSquares(keep, times, values);
  }
  const span = times[keep[keep.length - 1]] - times[keep[0]];
  return span >= MIN_FIT_MS / 1000 - 1e-9 ? line.slope : NaN;
}

function leastSquares(keep: number[], times: number[], values: number[]): { slope: number; intercept: number } {
  let mt = 0;
  let mv = 0;
  for (const i of keep) {
    mt += times[i];
    mv += values[i];
  }
  mt /= keep.length;
  mv /= keep.length;
  let stv = 0;
  let stt = 0;
  for (const i of keep) {
    stv += (times[i] - mt) * (values[i] - mv);
    stt += (times[i] - mt) ** 2;
  }
  const slope = stt > 0 ? stv / stt : 0;
  return { slope, intercept: mv - slope * mt };
}

function meanPower(pcm: Int16Array, from: number, to: number): number {
  from = Math.max(0, from);
  let sum = 0;
  for (let i = from; i < to; i++) sum += pcm[i] * pcm[i];
  return to > from ? sum / (to - from) : 0;
}

function percentile(values: Float64Array, share: number): number {
  const sorted = Float64Array.from(values).sort();
  return sorted[Math.min(sorted.length - 1, Math.floor(share * sorted.length))];
}

function median(values: number[]): number {
  const sorted = Float64Array.from(values).sort();
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

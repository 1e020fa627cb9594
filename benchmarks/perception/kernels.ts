/**
 * Perception kernels benchmark: native (C++ addon) against the plain TypeScript reference
 * (server/perception/kernels/reference.ts), measured side by side in one process, runs
 * interleaved, medians reported.
 *
 *   preprocessing: I420 1280×720 → RGB24 → area resize to 336×336 → CLIP-normalized CHW float32
 *   log-mel:       Whisper log-mel spectrogram (80 bins) of 30 s of 16 kHz audio
 *
 * Also: the async variants (libuv pool) and the longest event-loop stall seen while they
 * ran, and the image backend in use. Prints one JSON document, then a table, to stdout.
 *
 *   node --import tsx benchmarks/perception/kernels.ts [--runs N] [--warmup N]
 */
import os from 'node:os';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import * as native from '../../server/perception/kernels/index.ts';
import { reference } from '../../server/perception/kernels/index.ts';
import { describeMachine } from '../../server/eval/machine.ts';
import { positiveInteger } from '../args.ts';

const { values: args } = parseArgs({ options: { runs: { type: 'string', default: '15' }, warmup: { type: 'string', default: '3' } } });
const RUNS = positiveInteger('runs', args.runs);
const WARMUP = positiveInteger('warmup', args.warmup);
const GOAL_RATIO = 10;
const GOAL_STALL_MS = 5;

// ---- inputs (deterministic) ----

const WIDTH = 1280;
const HEIGHT = 720;
const SIDE = 336;
const AUDIO_SECONDS = 30;

/** A frame with some structure (gradients, blocks) and noise, in packed I420. */
function makeI420(): Uint8Array {
  const data = new Uint8Array(native.yuv420Size(WIDTH, HEIGHT));
  let s = 12345;
  const noise = () => ((s = (s * 1103515245 + 12345) >>> 0) >>> 28) - 8;
  for (let y = 0; y < HEIGHT; y++) {
    for (let x = 0; x < WIDTH; x++) data[y * WIDTH + x] = Math.max(16, Math.min(235, 16 + ((x + y) % 220) + ((x >> 6) & 1) * 20 + noise()));
  }
  const cw = WIDTH / 2;
  const ch = HEIGHT / 2;
  for (let i = 0; i < cw * ch; i++) {
    data[WIDTH * HEIGHT + i] = 128 + (((i % cw) >> 4) % 64) - 32;
    data[WIDTH * HEIGHT + cw * ch + i] = 128 + ((Math.floor(i / cw) >> 3) % 64) - 32;
  }
  return data;
}

/** Speech-like test signal: a few harmonics with vibrato and a little noise. */
function makeAudio(): Float32Array {
  const n = AUDIO_SECONDS * native.WHISPER_SAMPLE_RATE;
  const out = new Float32Array(n);
  let s = 99;
  for (let i = 0; i < n; i++) {
    const t = i / native.WHISPER_SAMPLE_RATE;
    const f0 = 140 + 20 * Math.sin(2 * Math.PI * 0.7 * t);
    let v = 0;
    for (let h = 1; h <= 5; h++) v += Math.sin(2 * Math.PI * f0 * h * t) / h;
    s = (s * 1103515245 + 12345) >>> 0;
    out[i] = 0.2 * v + 0.01 * (s / 2 ** 32 - 0.5);
  }
  return out;
}

const frame = makeI420();
const audio = makeAudio();

// ---- the two pipelines, per implementation ----

type Impl = Pick<typeof reference, 'i420ToRgb' | 'resizeRgb' | 'normalizeChw' | 'logMelSpectrogram'>;

interface StageTimes {
  i420_to_rgb: number;
  resize_area: number;
  normalize_chw: number;
  total: number;
}

function preprocess(impl: Impl): StageTimes {
  const t0 = performance.now();
  const rgb = impl.i420ToRgb(frame, WIDTH, HEIGHT);
  const t1 = performance.now();
  const small = impl.resizeRgb(rgb, SIDE, SIDE, 'area');
  const t2 = performance.now();
  impl.normalizeChw(small, native.CLIP_NORMALIZATION);
  const t3 = performance.now();
  return { i420_to_rgb: t1 - t0, resize_area: t2 - t1, normalize_chw: t3 - t2, total: t3 - t0 };
}

function logMel(impl: Impl): number {
  const t0 = performance.now();
  impl.logMelSpectrogram(audio, { nMels: 80 });
  return performance.now() - t0;
}

async function preprocessAsync(): Promise<number> {
  const t0 = performance.now();
  const rgb = await native.i420ToRgbAsync(frame, WIDTH, HEIGHT);
  const small = await native.resizeRgbAsync(rgb, SIDE, SIDE, 'area');
  await native.normalizeChwAsync(small, native.CLIP_NORMALIZATION);
  return performance.now() - t0;
}

async function logMelAsync(): Promise<number> {
  const t0 = performance.now();
  await native.logMelSpectrogramAsync(audio, { nMels: 80 });
  return performance.now() - t0;
}

// ---- agreement check: the two implementations must compute the same thing ----

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
}

const agreement = (() => {
  const n = native.normalizeChw(native.resizeRgb(native.i420ToRgb(frame, WIDTH, HEIGHT), SIDE, SIDE, 'area'));
  const r = reference.normalizeChw(reference.resizeRgb(reference.i420ToRgb(frame, WIDTH, HEIGHT), SIDE, SIDE, 'area'));
  const ln = native.logMelSpectrogram(audio);
  const lr = reference.logMelSpectrogram(audio);
  return { preprocess_max_abs_diff: maxAbsDiff(n, r), log_mel_max_abs_diff: maxAbsDiff(ln.data, lr.data) };
})();

// ---- measurement ----

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[s.length >> 1]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};
const round3 = (x: number) => Math.round(x * 1000) / 1000;
const round1 = (x: number) => Math.round(x * 10) / 10;

const loadAtStart = os.loadavg().map(round1);
for (let i = 0; i < WARMUP; i++) {
  preprocess(native);
  preprocess(reference);
  logMel(native);
  logMel(reference);
  await preprocessAsync();
  await logMelAsync();
}

const samples = {
  native: { pre: [] as StageTimes[], mel: [] as number[] },
  reference: { pre: [] as StageTimes[], mel: [] as number[] },
  async: { pre: [] as number[], mel: [] as number[] },
};
for (let run = 0; run < RUNS; run++) {
  process.stderr.write(`\rrun ${run + 1}/${RUNS}`);
  // Alternate the order so neither side always runs on a warmer cache.
  const order = run % 2 ? (['reference', 'native'] as const) : (['native', 'reference'] as const);
  for (const side of order) samples[side].pre.push(preprocess(side === 'native' ? native : reference));
  for (const side of order) samples[side].mel.push(logMel(side === 'native' ? native : reference));
}
process.stderr.write('\n');

// Async variants with the event loop watched: nothing else runs, so any stall is ours.
const eventLoop = monitorEventLoopDelay({ resolution: 1 });
const ticker = setInterval(() => {}, 1);
eventLoop.enable();
for (let run = 0; run < RUNS; run++) {
  samples.async.pre.push(await preprocessAsync());
  samples.async.mel.push(await logMelAsync());
}
eventLoop.disable();
clearInterval(ticker);
// The histogram records whole sampling intervals: subtract the 1 ms resolution.
const maxStallMs = round3(Math.max(0, eventLoop.max / 1e6 - 1));

const stageMedians = (xs: StageTimes[]) =>
  Object.fromEntries((['i420_to_rgb', 'resize_area', 'normalize_chw', 'total'] as const).map((k) => [k, round3(median(xs.map((x) => x[k])))])) as unknown as StageTimes;

const nativePre = stageMedians(samples.native.pre);
const refPre = stageMedians(samples.reference.pre);
const nativeMel = round3(median(samples.native.mel));
const refMel = round3(median(samples.reference.mel));
const ratio = (ref: number, nat: number) => round1(ref / nat);

const report = {
  benchmark: 'perception-kernels',
  runs: RUNS,
  warmup: WARMUP,
  image_backend: native.imageBackend(),
  machine: describeMachine(loadAtStart),
  definitions: {
    preprocess: `I420 ${WIDTH}×${HEIGHT} → RGB24 → area resize ${SIDE}×${SIDE} → CLIP normalize to float32 CHW (sync calls, one thread)`,
    log_mel: `Whisper log-mel, 80 bins, ${AUDIO_SECONDS} s of 16 kHz float audio (sync call, one thread)`,
    ms: 'median wall time of the runs, including the allocation of each output',
    ratio: 'TypeScript reference median / native median',
    async: 'the *Async variants on the libuv pool, awaited one after the other',
    event_loop_max_stall_ms: 'longest event-loop delay while the async variants ran',
  },
  preprocess: {
    native_ms: nativePre,
    typescript_ms: refPre,
    ratio: ratio(refPre.total, nativePre.total),
    stage_ratio: {
      i420_to_rgb: ratio(refPre.i420_to_rgb, nativePre.i420_to_rgb),
      resize_area: ratio(refPre.resize_area, nativePre.resize_area),
      normalize_chw: ratio(refPre.normalize_chw, nativePre.normalize_chw),
    },
    native_async_ms: round3(median(samples.async.pre)),
  },
  log_mel: {
    native_ms: nativeMel,
    typescript_ms: refMel,
    ratio: ratio(refMel, nativeMel),
    native_async_ms: round3(median(samples.async.mel)),
    realtime_factor: round1((AUDIO_SECONDS * 1000) / nativeMel),
  },
  agreement,
  event_loop_max_stall_ms: maxStallMs,
  goals: {
    preprocess_ratio: { goal: `≥ ${GOAL_RATIO}×`, value: ratio(refPre.total, nativePre.total), pass: refPre.total / nativePre.total >= GOAL_RATIO },
    log_mel_ratio: { goal: `≥ ${GOAL_RATIO}×`, value: ratio(refMel, nativeMel), pass: refMel / nativeMel >= GOAL_RATIO },
    async_event_loop_stall: { goal: `≤ ${GOAL_STALL_MS} ms`, value: maxStallMs, pass: maxStallMs <= GOAL_STALL_MS },
  },
};

console.log(JSON.stringify(report, null, 2));
console.log(table(report));

function table(r: typeof report): string {
  const num = (x: number, w = 12) => String(x).padStart(w);
  const row = (name: string, nat: number, ts: number) => `${name.padEnd(28)}${num(nat)}${num(ts)}${num(ratio(ts, nat), 9)}×`;
  const goal = (name: string, g: { goal: string; value: number; pass: boolean }) => `  ${name.padEnd(26)} ${String(g.value).padStart(8)}  ${g.goal.padEnd(8)} ${g.pass ? 'PASS' : 'FAIL'}`;
  return [
    '',
    `image backend: ${r.image_backend.active}${r.image_backend.cudaCompiled ? ' (CUDA compiled' + (r.image_backend.cudaDevices ? `, ${r.image_backend.cudaDevices} device(s))` : ', no device)') : ''}; ${r.runs} runs, medians`,
    `${'(ms)'.padEnd(28)}${'native'.padStart(12)}${'TypeScript'.padStart(12)}${'ratio'.padStart(10)}`,
    row('I420 → RGB 1280×720', r.preprocess.native_ms.i420_to_rgb, r.preprocess.typescript_ms.i420_to_rgb),
    row('area resize → 336×336', r.preprocess.native_ms.resize_area, r.preprocess.typescript_ms.resize_area),
    row('normalize CHW (CLIP)', r.preprocess.native_ms.normalize_chw, r.preprocess.typescript_ms.normalize_chw),
    row('preprocess total', r.preprocess.native_ms.total, r.preprocess.typescript_ms.total),
    row('log-mel 30 s (80 bins)', r.log_mel.native_ms, r.log_mel.typescript_ms),
    `async (libuv pool): preprocess ${r.preprocess.native_async_ms} ms, log-mel ${r.log_mel.native_async_ms} ms; event-loop max stall ${r.event_loop_max_stall_ms} ms`,
    `agreement: preprocess max |Δ| ${r.agreement.preprocess_max_abs_diff.toExponential(2)}, log-mel max |Δ| ${r.agreement.log_mel_max_abs_diff.toExponential(2)}`,
    'goals:',
    goal('preprocess native/TS', r.goals.preprocess_ratio),
    goal('log-mel native/TS', r.goals.log_mel_ratio),
    goal('async event-loop stall', r.goals.async_event_loop_stall),
  ].join('\n');
}

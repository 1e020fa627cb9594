/**
 * Native audio kernels (native/src/audio_kernels.cc via native/index.ts): resampling and
 * Whisper's log-mel spectrogram, against the plain TypeScript reference
 * (server/perception/kernels/reference.ts), a naive DFT written here, and hand-checkable
 * signals. Tolerances: float audio 1e-5 absolute (native float32 taps vs double), int16 ±1,
 * log-mel 1e-4 absolute (values are ~ −1.5 .. 1.5; they agree to ~1e-7 in practice).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import * as native from '../../native/index.ts';
import { reference } from '../../server/perception/kernels/index.ts';

const SR = native.WHISPER_SAMPLE_RATE;

function noise(n: number, seed: number, amplitude = 0.5): Float32Array {
  let s = seed >>> 0 || 1;
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    out[i] = ((s >>> 0) / 2 ** 32 - 0.5) * 2 * amplitude;
  }
  return out;
}

function sine(n: number, rate: number, hz: number, amplitude = 0.5): Float32Array {
  return Float32Array.from({ length: n }, (_, i) => amplitude * Math.sin((2 * Math.PI * hz * i) / rate));
}

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  assert.equal(a.length, b.length, 'lengths differ');
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
}

const rms = (x: ArrayLike<number>, from = 0, to = x.length) => {
  let s = 0;
  for (let i = from; i < to; i++) s += x[i]! * x[i]!;
  return Math.sqrt(s / (to - from));
};

const isInvalidParameter = (e: unknown) => {
  assert.ok(e instanceof TypeError, `expected TypeError, got ${String(e)}`);
  assert.match(e.message, /^invalid parameter: expected .+ for .+, got /);
  return true;
};

// ---- resampling ----

describe('resamplePcm', () => {
  const RATES: [number, number][] = [
    [48000, 16000],
    [44100, 16000],
    [16000, 48000],
    [8000, 44100],
    [22050, 16000],
    [24000, 16000],
    [44101, 16000], // no small common factor: the interpolated-table path
    [16000, 44099],
  ];

  it('float: matches the reference within 1e-5, with the documented length', () => {
    for (const [from, to] of RATES) {
      for (const n of [0, 1, 7, 1000]) {
        const x = noise(n, from + n);
        const a = native.resamplePcm(x, from, to);
        const b = reference.resamplePcm(x, from, to);
        assert.ok(a instanceof Float32Array);
        assert.equal(a.length, Math.ceil((n * to) / from), `${from}→${to}, n=${n}`);
        assert.ok(maxAbsDiff(a, b) < 1e-5, `${from}→${to}, n=${n}: ${maxAbsDiff(a, b)}`);
      }
    }
  });

  it('int16: matches the reference within ±1, rounded and clipped', () => {
    for (const [from, to] of RATES) {
      const x = Int16Array.from(noise(800, to, 1.2), (v) => Math.max(-32768, Math.min(32767, Math.round(v * 32767))));
      const a = native.resamplePcm(x, from, to);
      assert.ok(a instanceof Int16Array);
      assert.ok(maxAbsDiff(a, reference.resamplePcm(x, from, to)) <= 1, `${from}→${to}`);
    }
  });

  it('equal rates return a copy', () => {
    const x = noise(100, 1);
    const y = native.resamplePcm(x, 16000, 16000);
    assert.deepEqual(y, x);
    assert.notEqual(y, x);
  });

  it('keeps DC and a 1 kHz tone, with the tone where it belongs', () => {
    const dc = native.resamplePcm(new Float32Array(4800).fill(0.25), 48000, 16000);
    for (let i = 200; i < dc.length - 200; i++) assert.ok(Math.abs(dc[i]! - 0.25) < 1e-4, `dc[${i}] = ${dc[i]}`);
    for (const [from, to] of [[48000, 16000], [16000, 44100]] as const) {
      const y = native.resamplePcm(sine(from, from, 1000), from, to);
      const ideal = sine(y.length, to, 1000);
      // Away from the edges (zero outside the input), the tone is the ideal one.
      const edge = Math.ceil(to / 100);
      assert.ok(maxAbsDiff(y.subarray(edge, -edge), ideal.subarray(edge, -edge)) < 2e-3, `${from}→${to}`);
    }
  });

  it('filters what the lower rate cannot hold (no aliasing)', () => {
    const y = native.resamplePcm(sine(48000, 48000, 12000), 48000, 16000); // 12 kHz > 8 kHz Nyquist
    assert.ok(rms(y, 200, y.length - 200) < 1e-3 * rms(sine(100, 48000, 12000)), `rms ${rms(y, 200, y.length - 200)}`);
  });

  it('async variant gives the same result', async () => {
    const x = noise(44100, 3);
    assert.deepEqual(await native.resamplePcmAsync(x, 44100, 16000), native.resamplePcm(x, 44100, 16000));
    const i16 = Int16Array.from(x, (v) => v * 32767);
    assert.deepEqual(await native.resamplePcmAsync(i16, 44100, 16000), native.resamplePcm(i16, 44100, 16000));
  });

  it('rejects bad arguments with TypeError', async () => {
    const x = noise(10, 1);
    const calls: (() => unknown)[] = [
      () => native.resamplePcm(new Float64Array(10) as never, 16000, 8000),
      () => native.resamplePcm([1, 2, 3] as never, 16000, 8000),
      () => native.resamplePcm(null as never, 16000, 8000),
      () => native.resamplePcm(x, 0, 8000),
      () => native.resamplePcm(x, 16000, -8000),
      () => native.resamplePcm(x, 44100.5, 8000),
      () => native.resamplePcm(x, 16000, 2_000_000),
      () => native.resamplePcm(x, '16000' as never, 8000),
    ];
    for (const call of calls) assert.throws(call, isInvalidParameter);
    assert.throws(() => native.resamplePcm(new Float32Array(2 ** 20), 1, 1_000_000), /more than/);
    await assert.rejects(native.resamplePcmAsync(x, 16000, 0), isInvalidParameter);
  });
});

// ---- log-mel ----

/** Whisper's log-mel of one signal by a naive DFT, straight from the definition. */
function naiveLogMel(x: Float32Array, nMels: 80 | 128): Float32Array {
  const N = 400;
  const frames = Math.floor(x.length / 160);
  const filters = native.whisperMelFilters(nMels);
  const logs: number[] = [];
  const reflect = (i: number) => (i < 0 ? -i : i >= x.length ? 2 * (x.length - 1) - i : i);
  const mel: number[][] = Array.from({ length: nMels }, () => []);
  for (let t = 0; t < frames; t++) {
    const frame = Array.from({ length: N }, (_, i) => x[reflect(t * 160 - 200 + i)]! * (0.5 - 0.5 * Math.cos((2 * Math.PI * i) / N)));
    const power = Array.from({ length: 201 }, (_, k) => {
      let re = 0;
      let im = 0;
      for (let i = 0; i < N; i++) {
        re += frame[i]! * Math.cos((2 * Math.PI * k * i) / N);
        im -= frame[i]! * Math.sin((2 * Math.PI * k * i) / N);
      }
      return re * re + im * im;
    });
    for (let m = 0; m < nMels; m++) {
      let s = 0;
      for (let k = 0; k < 201; k++) s += filters[m * 201 + k]! * power[k]!;
      mel[m]!.push(Math.log10(Math.max(s, 1e-10)));
    }
  }
  for (const row of mel) logs.push(...row);
  const max = Math.max(...logs);
  return Float32Array.from(logs, (l) => (Math.max(l, max - 8) + 4) / 4);
}

describe('logMelSpectrogram', () => {
  it('mel filters are librosa’s Slaney filters, as Whisper ships them', () => {
    const f80 = native.whisperMelFilters(80);
    const f128 = native.whisperMelFilters(128);
    assert.equal(f80.length, 80 * 201);
    assert.equal(f128.length, 128 * 201);
    // First filter: centre 37.2 Hz, 74.5 Hz wide; bin 1 (40 Hz) on its falling edge.
    assert.ok(Math.abs(f80[1]! - 0.02486259) < 1e-7, String(f80[1]));
    assert.ok(Math.abs(f128[1]! - 0.01237399) < 1e-7, String(f128[1]));
    assert.deepEqual(f80, reference.whisperMelFilters(80));
    assert.deepEqual(f128, reference.whisperMelFilters(128));
  });

  it('silence gives the clamp floor: log10(1e-10) → (−10 + 4) / 4 = −1.5', () => {
    const out = native.logMelSpectrogram(new Float32Array(16000));
    assert.equal(out.frames, 100);
    assert.equal(out.nMels, 80);
    assert.ok(out.data.every((v) => v === -1.5));
  });

  it('a 1 kHz tone peaks in the mel bin whose filter holds 1 kHz; the rest sits at max − 8', () => {
    for (const nMels of [80, 128] as const) {
      const out = native.logMelSpectrogram(sine(SR, SR, 1000, 0.5), { nMels });
      // 1 kHz is FFT bin 25 (40 Hz a bin): the expected mel bin is the filter weighing bin 25 most.
      const filters = native.whisperMelFilters(nMels);
      let expected = 0;
      for (let m = 0; m < nMels; m++) if (filters[m * 201 + 25]! > filters[expected * 201 + 25]!) expected = m;
      const peak = Math.max(...out.data);
      for (let t = 5; t < out.frames - 5; t++) {
        let best = 0;
        for (let m = 0; m < nMels; m++) if (out.data[m * out.frames + t]! > out.data[best * out.frames + t]!) best = m;
        assert.equal(best, expected, `frame ${t}`);
      }
      // Far from the tone, power is far below max − 8 (in log10): clamped to peak − 2.
      const floor = out.data[(nMels - 1) * out.frames + 50]!;
      assert.ok(Math.abs(floor - (peak - 2)) < 1e-6, `${floor} vs ${peak - 2}`);
      assert.ok(Math.min(...out.data) >= peak - 2 - 1e-6);
    }
    assert.equal(native.logMelSpectrogram(sine(SR, SR, 1000)).data.length, 80 * 100);
  });

  it('matches a naive DFT of the definition (reflect padding, periodic Hann, 400-point DFT)', () => {
    for (const n of [201, 400, 777]) {
      const x = noise(n, n, 0.3);
      for (const nMels of [80, 128] as const) {
        const a = native.logMelSpectrogram(x, { nMels });
        assert.equal(a.frames, Math.floor(n / 160));
        assert.ok(maxAbsDiff(a.data, naiveLogMel(x, nMels)) < 1e-4, `n=${n}, ${nMels} mels`);
      }
    }
  });

  it('matches the reference within 1e-4 (80 and 128 bins, float and int16, padding)', () => {
    const x = noise(SR * 2 + 123, 42, 0.3);
    for (const nMels of [80, 128] as const) {
      const a = native.logMelSpectrogram(x, { nMels });
      assert.ok(maxAbsDiff(a.data, reference.logMelSpectrogram(x, { nMels }).data) < 1e-4);
    }
    const i16 = Int16Array.from(x, (v) => Math.round(v * 32767));
    const fromInt = native.logMelSpectrogram(i16);
    assert.ok(maxAbsDiff(fromInt.data, reference.logMelSpectrogram(i16).data) < 1e-4);
    assert.ok(maxAbsDiff(fromInt.data, native.logMelSpectrogram(Float32Array.from(i16, (v) => v / 32768)).data) < 1e-6);
    // Whisper pads 30 s of zeros before the STFT: 1 s + padding → 3000 + 100 frames.
    const padded = native.logMelSpectrogram(x.subarray(0, SR), { padding: 30 * SR });
    assert.equal(padded.frames, 3100);
    const manual = new Float32Array(31 * SR);
    manual.set(x.subarray(0, SR));
    assert.deepEqual(padded.data, native.logMelSpectrogram(manual).data);
  });

  it('async variant gives the same result and returns at once', async () => {
    const x = noise(30 * SR, 5, 0.2);
    const t0 = performance.now();
    const pending = native.logMelSpectrogramAsync(x);
    const queued = performance.now() - t0;
    x.fill(0); // the input was copied
    const a = await pending;
    assert.equal(a.frames, 3000);
    assert.ok(queued < 20, `queueing took ${queued.toFixed(1)} ms`);
    assert.deepEqual(a.data, native.logMelSpectrogram(noise(30 * SR, 5, 0.2)).data);
  });

  it('rejects bad arguments with TypeError', async () => {
    const x = noise(1000, 1);
    const calls: (() => unknown)[] = [
      () => native.logMelSpectrogram(new Float32Array(200)),
      () => native.logMelSpectrogram(new Float32Array(0)),
      () => native.logMelSpectrogram(new Float64Array(1000) as never),
      () => native.logMelSpectrogram(Array(1000).fill(0) as never),
      () => native.logMelSpectrogram(x, { nMels: 64 as never }),
      () => native.logMelSpectrogram(x, { padding: -1 }),
      () => native.logMelSpectrogram(x, { padding: 1.5 }),
      () => native.logMelSpectrogram(x, null as never),
      () => native.whisperMelFilters(40 as never),
    ];
    for (const call of calls) assert.throws(call, isInvalidParameter);
    // Short input is fine once padded.
    assert.equal(native.logMelSpectrogram(new Float32Array(100), { padding: 400 }).frames, 3);
    await assert.rejects(native.logMelSpectrogramAsync(new Float32Array(10)), isInvalidParameter);
  });
});

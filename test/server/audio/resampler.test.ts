import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Resampler } from '../../../server/audio/resampler.ts';

function sine(freq: number, rate: number, seconds: number, amp = 10000): Int16Array {
  const out = new Int16Array(Math.round(rate * seconds));
  for (let i = 0; i < out.length; i++) out[i] = Math.round(amp * Math.sin((2 * Math.PI * freq * i) / rate));
  return out;
}

/** Amplitude of `freq` in the signal (single-bin DFT), skipping the filter's edges. */
function toneAmplitude(x: Int16Array, freq: number, rate: number): number {
  let re = 0;
  let im = 0;
  const from = 200;
  const to = x.length - 200;
  for (let i = from; i < to; i++) {
    re += x[i]! * Math.cos((2 * Math.PI * freq * i) / rate);
    im += x[i]! * Math.sin((2 * Math.PI * freq * i) / rate);
  }
  return (2 * Math.hypot(re, im)) / (to - from);
}

test('24 kHz → 16 kHz keeps a 1 kHz tone and removes one above the new Nyquist', () => {
  const keep = Resampler.convert(sine(1000, 24000, 1), 24000, 16000);
  assert.equal(keep.length, 16000);
  assert.ok(Math.abs(toneAmplitude(keep, 1000, 16000) - 10000) < 300, `1 kHz amplitude ${toneAmplitude(keep, 1000, 16000)}`);
  const alias = Resampler.convert(sine(10000, 24000, 1), 24000, 16000);
  // 10 kHz would fold to 6 kHz without the low-pass filter.
  assert.ok(toneAmplitude(alias, 6000, 16000) < 300, `aliased energy ${toneAmplitude(alias, 6000, 16000)}`);
});

test('streaming in odd-sized pieces gives the same samples as one call', () => {
  const input = sine(440, 24000, 0.5);
  const whole = new Resampler(24000, 16000).process(input);
  const r = new Resampler(24000, 16000);
  const parts: number[] = [];
  for (let i = 0; i < input.length; i += 317) parts.push(...r.process(input.subarray(i, i + 317)));
  assert.deepEqual(Int16Array.from(parts), whole);
});

test('16 kHz → 24 kHz upsamples with the right length and tone', () => {
  const up = Resampler.convert(sine(500, 16000, 1), 16000, 24000);
  assert.equal(up.length, 24000);
  assert.ok(Math.abs(toneAmplitude(up, 500, 24000) - 10000) < 300);
});

test('same rate passes through and bad rates are refused', () => {
  const x = sine(100, 16000, 0.1);
  assert.equal(new Resampler(16000, 16000).process(x), x);
  assert.throws(() => new Resampler(0, 16000), TypeError);
});

test('process() in pieces then flush() gives exactly what convert() gives', () => {
  const input = sine(300, 16000, 0.37);
  const r = new Resampler(16000, 24000);
  const parts: number[] = [];
  for (let i = 0; i < input.length; i += 1600) parts.push(...r.process(input.subarray(i, i + 1600)));
  parts.push(...r.flush());
  assert.deepEqual(Int16Array.from(parts), Resampler.convert(input, 16000, 24000));
  assert.equal(parts.length, Math.round((input.length * 24000) / 16000));
});

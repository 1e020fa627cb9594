import assert from 'node:assert/strict';
import { test } from 'node:test';
import { InterruptionPolicy } from '../../../server/reasoning/turn/interruption.ts';
import { SpeechOnsetDetector } from '../../../server/reasoning/turn/speech-onset.ts';
import { seededRandom } from '../../../benchmarks/seeded-random.ts';

const RATE = 16000;
const active = { responseActive: true };
const samples = (ms: number) => Math.round((RATE * ms) / 1000);

function noise(ms: number, amplitude: number, seed = 1): Int16Array {
  const random = seededRandom(seed);
  return Int16Array.from({ length: samples(ms) }, () => Math.round((random() * 2 - 1) * amplitude));
}
function tone(ms: number, hz: number, amplitude: number): Int16Array {
  return Int16Array.from({ length: samples(ms) }, (_, i) => Math.round(Math.sin((2 * Math.PI * hz * i) / RATE) * amplitude));
}

test('speech onset: a sound after quiet fires once, at its start, in 10 ms steps', () => {
  const d = new SpeechOnsetDetector();
  assert.equal(d.push(noise(500, 30)), undefined, 'room noise (~-60 dBFS) is background');
  const at = d.push(tone(300, 180, 6000));
  assert.ok(at !== undefined && at >= 500 && at <= 520, `onset at ${at} ms (sound began at 500)`);
  assert.equal(d.push(tone(300, 180, 6000)), undefined, 'one onset per sound');
  d.push(noise(300, 30));
  assert.ok(d.push(tone(100, 180, 6000))! >= 1100, 'after quiet, the next sound fires again');
});

test('speech onset: a quiet hiss ("s", "f") over a loud hum fires from its high-frequency rise; a one-frame click does not', () => {
  const hum = (ms: number) => tone(ms, 60, 800); // ~-35 dBFS, almost nothing at the top of the band
  const hiss = new SpeechOnsetDetector();
  hiss.push(hum(3000)); // the hum itself starts as a sound, and becomes the background
  assert.equal(hiss.push(hum(500)), undefined, 'then it is background');
  const white = noise(200, 300, 7);
  const s = hum(200).map((x, i) => x + (i ? white[i]! - white[i - 1]! : 0) / 2); // loudness rises < 2 dB
  assert.notEqual(hiss.push(s), undefined);
  const click = new SpeechOnsetDetector();
  click.push(noise(500, 30));
  assert.equal(click.push(Int16Array.from([...noise(8, 8000), ...noise(300, 30, 3)])), undefined);
});

test('barge-in policy: pause at the onset, cancel when the VAD confirms speech', () => {
  const p = new InterruptionPolicy();
  assert.equal(p.onOnset(1000, { responseActive: false }), undefined, 'nothing to pause');
  assert.equal(p.onOnset(1000, { responseActive: true }), 'pause');
  assert.equal(p.onVadFrame(1100, 0.9, active), undefined);
  assert.equal(p.onStartOfSpeech({ responseActive: true, detected: true }), 'cancel');
  assert.equal(p.paused, false);
});

test('barge-in policy: no speech confirmed within 300 ms (a cough) resumes; speech-like sound waits up to 600 ms', () => {
  const p = new InterruptionPolicy();
  p.onOnset(1000, { responseActive: true });
  assert.equal(p.onVadFrame(1200, 0.1, active), undefined, 'too early to tell');
  assert.equal(p.onVadFrame(1310, 0.1, active), 'resume');
  p.onOnset(2000, { responseActive: true });
  assert.equal(p.onVadFrame(2350, 0.7, active), undefined, 'still sounds like speech');
  assert.equal(p.onVadFrame(2610, 0.7, active), 'resume', 'but not for ever');
});

test('barge-in policy: interrupt_response false never pauses', () => {
  const p = new InterruptionPolicy({ interruptResponse: false });
  assert.equal(p.onOnset(0, { responseActive: true }), undefined);
});

test('barge-in policy: a speech-like VAD frame pauses too (an onset too soft for the loudness rule)', () => {
  const p = new InterruptionPolicy();
  assert.equal(p.onVadFrame(500, 0.2, active), undefined);
  assert.equal(p.onVadFrame(532, 0.8, { responseActive: false }), undefined, 'nothing to pause');
  assert.equal(p.onVadFrame(532, 0.8, active), 'pause');
  assert.equal(p.onVadFrame(564, 0.8, active), undefined, 'already paused');
});

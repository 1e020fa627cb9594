import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { seededRandom } from '../../../benchmarks/seeded-random.ts';
import { endProsody } from '../../../server/reasoning/turn/prosody.ts';
import { closeSpeech, sequence, silence, speak } from '../../helpers/speech.ts';

/** Semitones between two frequencies: a glide from `from` to `to` over 1 s moves this many st/s. */
const semitones = (from: number, to: number) => 12 * Math.log2(to / from);

interface VoiceOptions {
  rate?: number;
  /** Lowest harmonic present: 2 or more leaves the fundamental out, as a telephone line does. */
  lowest?: number;
  /** Level drop (dB) over the last `fadeMs`, for a voice that trails off. */
  fadeDb?: number;
  fadeMs?: number;
}

/**
 * A voice-like buzz: harmonics 1/k up to the 10th, F0 gliding exponentially (a straight line in
 * semitones) from `from` to `to` Hz over `ms`, 20 ms on- and offset ramps.
 */
function voiced(from: number, to: number, ms: number, { rate = 16000, lowest = 1, fadeDb = 0, fadeMs = 150 }: VoiceOptions = {}): Int16Array {
  const n = Math.round((rate * ms) / 1000);
  const ramp = rate * 0.02;
  const fade = (rate * fadeMs) / 1000;
  const out = new Int16Array(n);
  let phase = 0;
  for (let i = 0; i < n; i++) {
    phase += (2 * Math.PI * from * (to / from) ** (i / n)) / rate;
    let v = 0;
    for (let k = lowest; k <= 10; k++) v += Math.sin(k * phase) / k;
    const rest = n - i;
    const trail = fadeDb > 0 && rest < fade ? 10 ** (-(fadeDb * (1 - rest / fade)) / 20) : 1;
    out[i] = Math.round(5000 * v * trail * Math.min(1, i / ramp, rest / ramp));
  }
  return out;
}

function whiteNoise(ms: number, seed: number, rms = 3000): Int16Array {
  const random = seededRandom(seed);
  const out = new Int16Array(Math.round(16 * ms));
  for (let i = 0; i < out.length; i++) out[i] = Math.round(rms * Math.sqrt(-2 * Math.log(random() + 1e-12)) * Math.cos(2 * Math.PI * random()));
  return out;
}

/** `speech` with white noise mixed in at `snrDb` below its mean power. */
function withNoise(speech: Int16Array, snrDb: number, seed: number): Int16Array {
  let power = 0;
  for (const v of speech) power += v * v;
  const noise = whiteNoise(speech.length / 16, seed, Math.sqrt(power / speech.length / 10 ** (snrDb / 10)));
  return speech.map((v, i) => Math.max(-32768, Math.min(32767, v + noise[i])));
}

function assertNear(actual: number, expected: number, tolerance: number, what: string) {
  assert.ok(Math.abs(actual - expected) <= tolerance, `${what}: ${actual.toFixed(2)} st/s, expected ${expected.toFixed(2)} ± ${tolerance}`);
}

describe('endProsody', () => {
  after(closeSpeech);

  it('reads a falling glide as falling, at its slope', () => {
    const end = endProsody(sequence(voiced(220, 160, 1000), silence(300)));
    assert.equal(end.pitch, 'falling');
    assertNear(end.slopeSemitonesPerS, semitones(220, 160), 0.4, '220→160 Hz');
    const low = endProsody(sequence(voiced(120, 90, 1000), silence(300)));
    assert.equal(low.pitch, 'falling');
    assertNear(low.slopeSemitonesPerS, semitones(120, 90), 0.4, '120→90 Hz');
  });

  it('reads a rising glide as rising, at its slope', () => {
    const end = endProsody(sequence(voiced(160, 230, 1000), silence(300)));
    assert.equal(end.pitch, 'rising');
    assertNear(end.slopeSemitonesPerS, semitones(160, 230), 0.4, '160→230 Hz');
  });

  it('reads a steady pitch as flat, from a low to a high voice', () => {
    for (const f0 of [70, 100, 180, 300, 390]) {
      const end = endProsody(sequence(voiced(f0, f0, 1000), silence(300)));
      assert.equal(end.pitch, 'flat', `${f0} Hz`);
      assertNear(end.slopeSemitonesPerS, 0, 0.5, `${f0} Hz`);
    }
  });

  it('tracks the pitch without its fundamental (telephone band) rather than an octave off', () => {
    const end = endProsody(sequence(voiced(220, 160, 1000, { lowest: 3 }), silence(300)));
    assert.equal(end.pitch, 'falling');
    assertNear(end.slopeSemitonesPerS, semitones(220, 160), 0.5, 'harmonics 3–10 only');
  });

  it('finds the end of voicing itself: trailing silence or none gives the same reading', () => {
    const glide = voiced(160, 230, 1000);
    const bare = endProsody(glide).slopeSemitonesPerS;
    for (const ms of [100, 500, 2000]) {
      assertNear(endProsody(sequence(silence(400), glide, silence(ms))).slopeSemitonesPerS, bare, 0.3, `${ms} ms trailing silence`);
    }
  });

  it('takes other sample rates', () => {
    for (const rate of [8000, 48000]) {
      const end = endProsody(sequence(voiced(220, 160, 1000, { rate }), silence(300, rate)), rate);
      assert.equal(end.pitch, 'falling', `${rate} Hz`);
      assertNear(end.slopeSemitonesPerS, semitones(220, 160), 0.4, `${rate} Hz`);
    }
  });

  it('measures a trailing fade against the voiced level', () => {
    const steady = endProsody(sequence(voiced(180, 180, 1000), silence(300)));
    assert.ok(Math.abs(steady.finalEnergyDb) < 2, `steady: ${steady.finalEnergyDb} dB`);
    const fading = endProsody(sequence(voiced(180, 180, 1000, { fadeDb: 20, fadeMs: 200 }), silence(300)));
    assert.ok(fading.finalEnergyDb < -10, `fading: ${fading.finalEnergyDb} dB`);
    assert.equal(fading.pitch, 'flat');
  });

  it('is unknown for noise, silence, nothing, or too little voicing', () => {
    for (const seed of [1, 2, 3]) {
      const noise = endProsody(whiteNoise(2000, seed));
      assert.equal(noise.pitch, 'unknown', `white noise ${seed}`);
      assert.ok(Number.isNaN(noise.slopeSemitonesPerS));
    }
    for (const pcm of [silence(2000), new Int16Array(0), new Int16Array(100)]) {
      assert.deepEqual(endProsody(pcm), { pitch: 'unknown', slopeSemitonesPerS: NaN, finalEnergyDb: NaN });
    }
    assert.equal(endProsody(sequence(voiced(200, 200, 80), silence(300))).pitch, 'unknown', '80 ms of voice');
  });

  it('rejects what is not mono pcm16 at a sensible rate', () => {
    assert.throws(() => endProsody(new Float32Array(16000) as unknown as Int16Array), TypeError);
    assert.throws(() => endProsody(new Int16Array(16000), 0), TypeError);
    assert.throws(() => endProsody(new Int16Array(16000), 16000.5), TypeError);
  });

  it('hears Flite end a statement falling, and hold level on a trailing "and"', async () => {
    // What Flite really does (measured): slt falls 6.3 st/s on "nine" and holds within ±1.5 st/s
    // on a final "and"; awb and rms fall more steeply. (Flite's questions fall too: not asserted.)
    const statement = sequence(await speak('the train leaves at nine'), silence(300));
    const end = endProsody(statement);
    assert.equal(end.pitch, 'falling', `slope ${end.slopeSemitonesPerS}`);
    for (const voice of ['awb', 'rms'] as const) {
      const other = endProsody(sequence(await speak('the train leaves at nine', { voice }), silence(300)));
      assert.equal(other.pitch, 'falling', `${voice}: slope ${other.slopeSemitonesPerS}`);
    }
    const continuation = sequence(await speak('I went to the store and'), silence(300));
    assert.equal(endProsody(continuation).pitch, 'flat', `"…and": slope ${endProsody(continuation).slopeSemitonesPerS}`);

    // Room noise at 20 and 10 dB SNR moves neither reading.
    for (const snr of [20, 10]) {
      assert.equal(endProsody(withNoise(statement, snr, snr)).pitch, 'falling', `statement at ${snr} dB SNR`);
      assert.equal(endProsody(withNoise(continuation, snr, snr)).pitch, 'flat', `"…and" at ${snr} dB SNR`);
    }
  });
});

import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { InvalidStateError, UnsupportedError } from '../../../server/errors.ts';
import {
  AudioTaggerEngine,
  createSoundEngine,
  findSoundModel,
  loadAudioTagger,
  readLabels,
  SignalSoundEngine,
  SOUND_EVENTS_DIR,
  soundLabelOf,
  type SoundEvent,
  type SoundEventEngine,
} from '../../../server/perception/sound/index.ts';
import { seededRandom } from '../../../benchmarks/seeded-random.ts';
import { INT64 } from '../../helpers/onnx-graph.ts';
import { closeSpeech, speak } from '../../helpers/speech.ts';
import { tinyLabels, tinySoundModel, TINY_CLASSES, type TinySoundModel } from '../../helpers/tiny-sound-model.ts';

const RATE = 16000;
const n = (ms: number) => Math.round((ms * RATE) / 1000);

// ---- generated audio (float, then pcm16) ----

const random = seededRandom(14);
const gauss = () => Math.sqrt(-2 * Math.log(Math.max(random(), 1e-12))) * Math.cos(2 * Math.PI * random());

/** Room tone: white noise at about −66 dBFS, so nothing starts from digital silence. */
function room(ms: number): Float32Array {
  return Float32Array.from({ length: n(ms) }, () => 0.0005 * gauss());
}

/** `hz` with `amplitude`, 4 ms edges, on for the given [onMs, offMs) spans of a `ms` long buffer. */
function tones(ms: number, hz: number, amplitude: number, spans: [number, number][]): Float32Array {
  const out = room(ms);
  for (const [on, off] of spans) {
    for (let i = n(on); i < n(off); i++) out[i]! += amplitude * Math.min(1, (i - n(on)) / 64, (n(off) - 1 - i) / 64) * Math.sin((2 * Math.PI * hz * i) / RATE);
  }
  return out;
}

function beeps(startMs: number, onMs: number, offMs: number, count: number): [number, number][] {
  return Array.from({ length: count }, (_, k) => [startMs + k * (onMs + offMs), startMs + k * (onMs + offMs) + onMs]);
}

function siren(ms: number, fromMs: number, toMs: number): Float32Array {
  const out = room(ms);
  let phase = 0;
  for (let i = n(fromMs); i < n(toMs); i++) {
    const t = (i - n(fromMs)) / RATE;
    phase += (2 * Math.PI * (1000 - 400 * Math.cos((2 * Math.PI * t) / 3))) / RATE; // 600 ↔ 1400 Hz every 3 s
    out[i]! += 0.1 * Math.min(1, (i - n(fromMs)) / 800) * Math.sin(phase);
  }
  return out;
}

function knocks(ms: number, onsetsMs: number[]): Float32Array {
  const out = room(ms);
  for (const onset of onsetsMs) {
    for (let i = 0; i < n(200); i++) {
      const t = i / RATE;
      out[n(onset) + i]! += 0.3 * (Math.exp(-t / 0.02) * Math.sin(2 * Math.PI * 150 * t) + 0.5 * Math.exp(-t / 0.01) * Math.sin(2 * Math.PI * 600 * t) + 0.3 * Math.exp(-t / 0.002) * gauss());
    }
  }
  return out;
}

/** A chord per bar (C, G, Am, F; organ-like) under a plucked melody, 120 bpm, from `fromMs` to `toMs`. */
function music(ms: number, fromMs: number, toMs: number): Float32Array {
  const out = room(ms);
  const note = (at: number, length: number, midi: number, gain: number, decay: number) => {
    const hz = 440 * 2 ** ((midi - 69) / 12);
    for (let h = 1; h <= 6; h++) {
      for (let i = 0; i < n(length) && n(at) + i < n(toMs); i++) {
        const t = i / RATE;
        out[n(at) + i]! += (gain / h ** 1.5) * Math.min(1, i / 100, (n(length) - i) / 400) * Math.exp(-t / decay) * Math.sin(2 * Math.PI * hz * h * t);
      }
    }
  };
  const chords = [[48, 52, 55], [43, 47, 50], [45, 48, 52], [41, 45, 48]];
  const melody = [72, 74, 76, 79, 76, 74, 72, 69];
  for (let bar = 0; fromMs + bar * 2000 < toMs; bar++) {
    for (const midi of chords[bar % 4]!) note(fromMs + bar * 2000, 2000, midi, 0.02, 1e9);
    for (let k = 0; k < 4; k++) note(fromMs + bar * 2000 + k * 500, 500, melody[(bar * 4 + k) % 8]!, 0.04, 0.4);
  }
  return out;
}

const pcm = (x: Float32Array) => Int16Array.from(x, (v) => Math.max(-32768, Math.min(32767, Math.round(v * 32768))));
const join = (...parts: Int16Array[]) => Int16Array.from(parts.flatMap((p) => Array.from(p)));

interface Heard extends SoundEvent {
  /** Media ms pushed when it came out. */
  knownAtMs: number;
}

/** Pushes `audio` from media time `baseMs` in 20 ms chunks, then flushes. */
async function listen(engine: SoundEventEngine, audio: Int16Array, { baseMs = 0, flush = true } = {}): Promise<Heard[]> {
  const events: Heard[] = [];
  const errors: unknown[] = [];
  let pushedMs = baseMs;
  const stream = engine.open({ onEvent: (e) => events.push({ ...e, knownAtMs: pushedMs }), onError: (e) => errors.push(e) });
  for (let from = 0; from < audio.length; from += 320) {
    const chunk = audio.subarray(from, from + 320);
    pushedMs = baseMs + ((from + chunk.length) * 1000) / RATE;
    stream.push(chunk, baseMs + (from * 1000) / RATE);
  }
  if (flush) await stream.flush();
  stream.close();
  assert.deepEqual(errors, []);
  return events;
}

const labelsOf = (events: SoundEvent[]) => [...new Set(events.map((e) => e.label))].sort();
const span = (events: SoundEvent[], label: string) => {
  const mine = events.filter((e) => e.label === label);
  return { startMs: Math.min(...mine.map((e) => e.startMs)), endMs: Math.max(...mine.map((e) => e.endMs)) };
};

describe('signal sound engine', () => {
  const engine = new SignalSoundEngine();
  after(() => engine.close());

  it('hears beeping alarms (3.1 kHz steady beeps, a 520 Hz T3 smoke alarm, a 1 kHz buzzer) where they are, not before they start', async () => {
    const cases: [string, Float32Array, number, number][] = [
      ['beeps', tones(5000, 3100, 0.05, beeps(1000, 250, 250, 6)), 1000, 3750],
      ['t3', tones(5000, 520, 0.05, beeps(1000, 500, 500, 3)), 1000, 3500],
      ['buzzer', tones(4500, 1000, 0.05, [[1200, 3200]]), 1200, 3200],
    ];
    for (const [what, audio, fromMs, toMs] of cases) {
      const events = await listen(engine, pcm(audio), { baseMs: 60000 });
      assert.deepEqual(labelsOf(events), ['alarm'], what);
      const heard = span(events, 'alarm');
      assert.ok(heard.startMs >= 60000 + fromMs - 10 && heard.startMs <= 60000 + fromMs + 60, `${what} starts at ${heard.startMs}`);
      assert.ok(Math.abs(heard.endMs - (60000 + toMs)) <= 60, `${what} ends at ${heard.endMs}`);
      for (const e of events) assert.ok(e.score > 0 && e.score <= 1, `score ${e.score}`);
    }
  });

  it('hears a sweeping siren as a siren, not an alarm', async () => {
    const events = await listen(engine, pcm(siren(7000, 1000, 6000)));
    assert.deepEqual(labelsOf(events), ['siren']);
    const heard = span(events, 'siren');
    assert.ok(heard.startMs >= 1000 && heard.startMs <= 1400, `starts at ${heard.startMs}`);
    assert.ok(heard.endMs >= 5600 && heard.endMs <= 6100, `ends at ${heard.endMs}`);
  });

  it('hears a few knocks, and one knock alone only when it is loud', async () => {
    const events = await listen(engine, pcm(knocks(4000, [1500, 1750, 2000, 2250])));
    assert.deepEqual(labelsOf(events), ['knock']);
    const heard = span(events, 'knock');
    assert.ok(heard.startMs >= 1490 && heard.startMs <= 1530, `starts at ${heard.startMs}`);
    assert.ok(heard.endMs >= 2250 && heard.endMs <= 2500, `ends at ${heard.endMs}`);
    // One knock: over a quiet room it jumps ~45 dB (a bang); over a noisy one ~20, not enough alone.
    assert.deepEqual(labelsOf(await listen(engine, pcm(knocks(4000, [1500])))), ['knock']);
    const noisy = knocks(4000, [1500]);
    for (let i = 0; i < noisy.length; i++) noisy[i]! += 0.01 * gauss();
    assert.deepEqual(await listen(engine, pcm(noisy)), []);
  });

  it('hears music as music, from when it starts', async () => {
    const events = await listen(engine, pcm(music(10000, 1000, 9000)));
    assert.deepEqual(labelsOf(events), ['music']);
    const heard = span(events, 'music');
    assert.ok(heard.startMs >= 950 && heard.startMs <= 1300, `starts at ${heard.startMs}`);
    assert.ok(heard.endMs >= 8000 && heard.endMs <= 9200, `ends at ${heard.endMs}`);
  });

  it('hears Flite speech as speech and never as an alarm', async () => {
    for (const voice of ['awb', 'slt'] as const) {
      const said = await speak('Seven, eight, nine, ten. Could you turn off the kitchen light?', { voice });
      const audio = join(pcm(room(1000)), said, pcm(room(1000)));
      const events = await listen(engine, audio);
      assert.equal(events.filter((e) => e.label === 'alarm').length, 0, voice);
      assert.ok(events.some((e) => e.label === 'speech'), `${voice}: ${JSON.stringify(events)}`);
      assert.ok(span(events, 'speech').startMs >= 950, `${voice} speech starts at ${span(events, 'speech').startMs}`);
    }
  });

  it('reports a long alarm in pieces of at most maxEventMs, the first as soon as it is sure', async () => {
    const short = new SignalSoundEngine({ maxEventMs: 1000 });
    try {
      const events = await listen(short, pcm(tones(8000, 2000, 0.05, beeps(1000, 200, 200, 15))));
      assert.deepEqual(labelsOf(events), ['alarm']);
      assert.ok(events.length >= 6, `${events.length} pieces`);
      for (const e of events) assert.ok(e.endMs - e.startMs <= 1000 && e.endMs > e.startMs, `piece ${e.startMs}–${e.endMs}`);
      for (let i = 1; i < events.length; i++) assert.equal(events[i]!.startMs, events[i - 1]!.endMs, 'pieces follow each other');
      assert.ok(events[0]!.knownAtMs <= 2200, `first heard at ${events[0]!.knownAtMs} ms, 3 beeps in`);
    } finally {
      await short.close();
    }
  });

  it('flush reports a segment still open when the input ends', async () => {
    const audio = pcm(music(7000, 1000, 7000));
    const before = await listen(engine, audio, { flush: false });
    const after = await listen(engine, audio);
    assert.ok(after.length > before.length, `flush added nothing to ${before.length} events`);
    assert.ok(Math.abs(span(after, 'music').endMs - 7000) <= 100, `ends at ${span(after, 'music').endMs}`);
  });

  it('checks its options and arguments, and closes its streams', async () => {
    assert.throws(() => new SignalSoundEngine({ maxEventMs: 0 }), /maxEventMs/);
    assert.throws(() => new SignalSoundEngine({ tonal: { tonalShare: 2 } }), /tonal\.tonalShare/);
    const own = new SignalSoundEngine();
    const stream = own.open({ onEvent: () => {}, onError: () => {} });
    assert.throws(() => stream.push(new Float32Array(10) as never, 0), TypeError);
    assert.throws(() => stream.push(new Int16Array(10), NaN), TypeError);
    await own.close();
    assert.equal(stream.closed, true);
    assert.throws(() => stream.push(new Int16Array(10), 0), InvalidStateError);
    assert.throws(() => own.open({ onEvent: () => {}, onError: () => {} }), InvalidStateError);
    await own.close(); // again: no-op
  });

  it('keeps going when a listener throws, reporting the throw as an error', async () => {
    const errors: unknown[] = [];
    const stream = engine.open({
      onEvent: () => {
        throw new Error('listener bug');
      },
      onError: (e) => errors.push(e),
    });
    const audio = pcm(tones(5000, 3100, 0.05, beeps(1000, 250, 250, 6)));
    assert.doesNotThrow(() => stream.push(audio, 0));
    await stream.flush();
    stream.close();
    assert.ok(errors.length >= 1 && String(errors[0]).includes('listener bug'));
  });
});

describe('audio-tagger sound engine', () => {
  let models: string;
  let dir: string;
  let tagger: AudioTaggerEngine;
  /** Writes model `name` (+ its labels, unless `labels` is null) into a fresh models dir; returns the .onnx path. */
  const place = (name: string, model: TinySoundModel = {}, labels: string | null = tinyLabels(), labelsName = name.replace(/\.onnx$/, '.labels.txt')) => {
    const where = fs.mkdtempSync(path.join(os.tmpdir(), 'omnilive-sound-'));
    fs.mkdirSync(path.join(where, SOUND_EVENTS_DIR));
    const file = path.join(where, SOUND_EVENTS_DIR, name);
    fs.writeFileSync(file, tinySoundModel(model));
    if (labels !== null) fs.writeFileSync(path.join(where, SOUND_EVENTS_DIR, labelsName), labels);
    return file;
  };
  const burst = (amplitude: number) => pcm(tones(6000, 3100, amplitude, [[2000, 4000]]));

  before(async () => {
    models = fs.mkdtempSync(path.join(os.tmpdir(), 'omnilive-models-'));
    dir = path.join(models, SOUND_EVENTS_DIR);
    fs.mkdirSync(dir);
    fs.writeFileSync(path.join(dir, 'a-tiny.onnx'), tinySoundModel());
    fs.writeFileSync(path.join(dir, 'a-tiny.labels.txt'), tinyLabels());
    fs.writeFileSync(path.join(dir, 'b-later.onnx'), tinySoundModel({ logits: true })); // not picked: later by name
    fs.mkdirSync(path.join(dir, '0-dir.onnx')); // not picked: a directory
    tagger = await loadAudioTagger(findSoundModel(models)!);
  });

  after(async () => {
    await tagger?.close();
    await closeSpeech();
    fs.rmSync(models, { recursive: true, force: true });
  });

  it('is found in <models>/sound-events and chosen over the signal engine when there', async () => {
    assert.equal(findSoundModel(models), path.join(dir, 'a-tiny.onnx'));
    assert.equal(findSoundModel(path.join(models, 'missing')), undefined);
    assert.equal(tagger.name, 'onnx:a-tiny.onnx');
    assert.equal(tagger.windowMs, 960);
    assert.deepEqual(tagger.labels, ['alarm', 'siren', 'knock', 'music', 'speech', 'dog']); // "Silence" is never reported
    const fallback = await createSoundEngine({ modelsDir: path.join(models, 'missing') });
    assert.equal(fallback.name, 'signal');
    await fallback.close();
  });

  it('reads plain and AudioSet CSV labels and maps AudioSet names to sound labels', () => {
    const csv = path.join(models, 'class_labels_indices.csv');
    fs.writeFileSync(csv, tinyLabels(TINY_CLASSES, 'csv'));
    assert.deepEqual(readLabels(csv), TINY_CLASSES.map((k) => k.name));
    assert.equal(soundLabelOf('Smoke detector, smoke alarm'), 'alarm');
    assert.equal(soundLabelOf('Beep, bleep'), 'alarm');
    assert.equal(soundLabelOf('Ambulance (siren)'), 'siren');
    assert.equal(soundLabelOf('Knock'), 'knock');
    assert.equal(soundLabelOf('Rock music'), 'music');
    assert.equal(soundLabelOf('Female speech, woman speaking'), 'speech');
    assert.equal(soundLabelOf('Dog'), 'dog');
    assert.equal(soundLabelOf('Silence'), undefined);
  });

  it('hears a loud burst as its mapped label, over the burst, and silence as nothing', async () => {
    const events = await listen(tagger, burst(0.1), { baseMs: 30000 });
    assert.deepEqual(labelsOf(events), ['alarm']);
    const heard = span(events, 'alarm');
    assert.ok(heard.startMs >= 30000 + 2000 - 960 && heard.startMs < 30000 + 2000, `starts at ${heard.startMs}`);
    assert.ok(heard.endMs > 30000 + 4000 && heard.endMs <= 30000 + 4000 + 960, `ends at ${heard.endMs}`);
    assert.ok(events.every((e) => e.endMs - e.startMs <= 2000));
    assert.deepEqual(await listen(tagger, pcm(room(3000))), []);
    // Other AudioSet classes come out by their display name.
    assert.deepEqual(labelsOf(await listen(tagger, burst(0.5))), ['alarm', 'dog']);
  });

  it('reports pieces of at most maxEventMs, and what is open at flush', async () => {
    const short = await loadAudioTagger(path.join(dir, 'a-tiny.onnx'), { maxEventMs: 700, hopMs: 960 });
    try {
      const loud = pcm(tones(4000, 3100, 0.1, [[1000, 4000]])); // still sounding at the end
      const before = await listen(short, loud, { flush: false });
      const events = await listen(short, loud);
      assert.ok(events.length > before.length, 'flush reported the open segment');
      for (const e of events) assert.ok(e.endMs - e.startMs <= 700, `piece ${e.startMs}–${e.endMs}`);
      assert.equal(span(events, 'alarm').endMs, 4000);
    } finally {
      await short.close();
    }
  });

  it('takes [samples] inputs, a fixed window, [frames, C] logits, CSV labels and a second output', async () => {
    const file = place('framed.onnx', { dims: [7680], frames: 4, logits: true, embedding: true }, tinyLabels(TINY_CLASSES, 'csv'), 'class_labels_indices.csv');
    const framed = await loadAudioTagger(file, { windowMs: 2000 });
    try {
      assert.equal(framed.windowMs, 480); // the model's own length wins
      const events = await listen(framed, burst(0.1));
      assert.deepEqual(labelsOf(events), ['alarm']);
      assert.ok(span(events, 'alarm').startMs >= 2000 - 480);
    } finally {
      await framed.close();
      fs.rmSync(path.dirname(path.dirname(file)), { recursive: true, force: true });
    }
  });

  it('refuses a model that does not fit the contract, or has no labels, saying why', async () => {
    const cases: [string, () => string, RegExp][] = [
      ['two inputs', () => place('m.onnx', { extraInput: true }), /2 inputs \(audio, sample_rate\).*exactly one/],
      ['int64 audio', () => place('m.onnx', { elemType: INT64 }), /input audio is int64; it must be float32/],
      ['log-mel input', () => place('m.onnx', { dims: [1, 64, 96] }), /log-mel/],
      ['labels that do not match', () => place('m.onnx', {}, tinyLabels(TINY_CLASSES.slice(0, 3))), /scores 4 classes but its labels file names 3/],
      ['no labels', () => place('m.onnx', {}, null), /no labels file: .*m\.labels\.txt or labels\.txt or class_labels_indices\.csv/],
    ];
    for (const [what, make, message] of cases) {
      const file = make();
      try {
        await assert.rejects(loadAudioTagger(file), (error: Error) => error instanceof UnsupportedError && message.test(error.message), what);
        if (what === 'no labels') await assert.rejects(createSoundEngine({ modelsDir: path.dirname(path.dirname(file)) }), UnsupportedError);
      } finally {
        fs.rmSync(path.dirname(path.dirname(file)), { recursive: true, force: true });
      }
    }
    await assert.rejects(loadAudioTagger(path.join(dir, 'a-tiny.onnx'), { threshold: 2 }), /threshold/);
  });

  it('closes its streams and refuses work once closed', async () => {
    const own = await loadAudioTagger(path.join(dir, 'a-tiny.onnx'));
    const stream = own.open({ onEvent: () => {}, onError: () => {} });
    await own.close();
    assert.equal(stream.closed, true);
    assert.throws(() => stream.push(new Int16Array(10), 0), InvalidStateError);
    assert.throws(() => own.open({ onEvent: () => {}, onError: () => {} }), InvalidStateError);
    await own.close();
  });
});

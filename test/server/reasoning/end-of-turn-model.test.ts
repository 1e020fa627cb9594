import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { INT64 } from '../../helpers/onnx-graph.ts';
import { BIAS, EDGE, HEAD, TAIL, tinyTurnModel, type TinyModel } from '../../helpers/tiny-turn-model.ts';
import { concat } from '../../helpers/stand-ins.ts';
import { InvalidStateError, UnsupportedError } from '../../../server/errors.ts';
import { END_OF_TURN_DIR, findEndOfTurnModel, loadEndOfTurnModel, type EndOfTurnModel } from '../../../server/reasoning/turn/end-of-turn-model.ts';

/** What the stand-in must answer for `pcm` seen through a window of `samples`, from the contract. */
function expected(pcm: Int16Array, samples: number): number {
  const window = new Float32Array(samples);
  const kept = Math.min(pcm.length, samples);
  window.set(Float32Array.from(pcm.subarray(pcm.length - kept), (v) => v / 32768), samples - kept);
  const meanAbs = (a: Float32Array) => a.reduce((s, v) => s + Math.abs(v), 0) / a.length;
  const logit = BIAS + TAIL * meanAbs(window.subarray(samples - EDGE)) + HEAD * meanAbs(window.subarray(0, EDGE));
  return 1 / (1 + Math.exp(-logit));
}

/** A 220 Hz tone at `amplitude` (of full scale) for `ms`; 0 gives silence. */
function tone(ms: number, amplitude: number): Int16Array {
  return Int16Array.from({ length: 16 * ms }, (_, i) => Math.round(amplitude * 32767 * Math.sin((2 * Math.PI * 220 * i) / 16000)));
}


function assertClose(actual: number, wanted: number, what: string) {
  assert.ok(Math.abs(actual - wanted) < 1e-5, `${what}: ${actual} vs ${wanted}`);
}

describe('end-of-turn model', () => {
  let models: string;
  let file: string;
  let model: EndOfTurnModel;

  before(async () => {
    models = fs.mkdtempSync(path.join(os.tmpdir(), 'omnilive-models-'));
    fs.mkdirSync(path.join(models, END_OF_TURN_DIR));
    file = path.join(models, END_OF_TURN_DIR, 'a-tiny-turn.onnx');
    fs.writeFileSync(file, tinyTurnModel());
    // Not picked: later by name, not a model, or not a file.
    fs.writeFileSync(path.join(models, END_OF_TURN_DIR, 'b-other.onnx'), tinyTurnModel({ logit: true }));
    fs.writeFileSync(path.join(models, END_OF_TURN_DIR, '0-readme.txt'), 'not a model');
    fs.mkdirSync(path.join(models, END_OF_TURN_DIR, '0-dir.onnx'));
    model = await loadEndOfTurnModel(findEndOfTurnModel(models)!, { windowMs: 1000 });
  });

  after(async () => {
    await model?.close();
    fs.rmSync(models, { recursive: true, force: true });
  });

  it('findEndOfTurnModel finds the first .onnx file in <models>/turn-detector, or nothing', () => {
    assert.equal(findEndOfTurnModel(models), file);
    assert.equal(findEndOfTurnModel(path.join(models, END_OF_TURN_DIR)), undefined); // no turn-detector inside
    assert.equal(findEndOfTurnModel(path.join(models, 'missing')), undefined);
    const empty = fs.mkdtempSync(path.join(os.tmpdir(), 'omnilive-models-'));
    const saved = process.env.OMNILIVE_MODELS;
    try {
      fs.mkdirSync(path.join(empty, END_OF_TURN_DIR));
      fs.writeFileSync(path.join(empty, END_OF_TURN_DIR, 'model.onnx.txt'), '');
      assert.equal(findEndOfTurnModel(empty), undefined);
      // Like the other model finders it defaults to OMNILIVE_MODELS.
      process.env.OMNILIVE_MODELS = models;
      assert.equal(findEndOfTurnModel(), file);
    } finally {
      if (saved === undefined) delete process.env.OMNILIVE_MODELS;
      else process.env.OMNILIVE_MODELS = saved;
      fs.rmSync(empty, { recursive: true, force: true });
    }
  });

  it('is named after its file and tells its window', () => {
    assert.equal(model.name, 'onnx:a-tiny-turn.onnx');
    assert.equal(model.windowMs, 1000);
  });

  it('scores a clip ending in silence as a finished turn and one ending loud as not', async () => {
    const trailingSilence = concat(tone(700, 0.3), tone(300, 0));
    const trailingSound = concat(tone(300, 0), tone(700, 0.3));
    const done = await model.probability(trailingSilence);
    const talking = await model.probability(trailingSound);
    assert.ok(done > 0.5, `ends in silence: ${done}`);
    assert.ok(talking < 0.5, `ends loud: ${talking}`);
    // The pcm16 reached the model scaled to [-1, 1] and placed as the contract says.
    assertClose(done, expected(trailingSilence, 16000), 'ends in silence');
    assertClose(talking, expected(trailingSound, 16000), 'ends loud');
  });

  it('keeps only the end of audio longer than the window', async () => {
    // 2.5 s: loud for 1.5 s, then 1 s of silence. A 1 s window sees only the silence.
    const long = concat(tone(1500, 0.5), tone(1000, 0));
    const p = await model.probability(long);
    assertClose(p, 1 / (1 + Math.exp(-BIAS)), 'long clip');
    // Sound 50 ms into the window shows in its first 100 ms, not earlier sound.
    const edge = concat(tone(1500, 0.5), tone(1000 - 950, 0), tone(100, 0.2), tone(850, 0));
    assertClose(await model.probability(edge), expected(edge, 16000), 'sound near the window start');
    assert.ok((await model.probability(edge)) > p, 'the head of the window saw the sound');
  });

  it('zero-pads shorter audio at the start', async () => {
    // 300 ms of sound: padded at the start the window ends loud and starts silent.
    const short = tone(300, 0.3);
    const p = await model.probability(short);
    assert.ok(p < 0.5, `short loud clip: ${p}`);
    assertClose(p, expected(short, 16000), 'short clip');
    assertClose(await model.probability(new Int16Array(0)), 1 / (1 + Math.exp(-BIAS)), 'no audio');
  });

  it('answers concurrent calls each with its own result', async () => {
    const clips = Array.from({ length: 12 }, (_, i) => concat(tone(200 + 100 * i, 0.05 * (i + 1)), tone(i % 2 ? 150 : 0, 0)));
    const results = await Promise.all(clips.map((c) => model.probability(c)));
    results.forEach((p, i) => assertClose(p, expected(clips[i], 16000), `clip ${i}`));
  });

  it('applies a sigmoid to a logit output, and takes a fixed input length over windowMs', async () => {
    const clip = concat(tone(500, 0.2), tone(500, 0));
    const logit = await loadEndOfTurnModel(path.join(models, END_OF_TURN_DIR, 'b-other.onnx'), { windowMs: 1000 });
    const fixedFile = path.join(models, 'fixed.onnx');
    fs.writeFileSync(fixedFile, tinyTurnModel({ dims: [1, 4000] }));
    const fixed = await loadEndOfTurnModel(fixedFile); // windowMs defaults to 8000; the model says 250 ms
    try {
      assertClose(await logit.probability(clip), expected(clip, 16000), 'logit model');
      assertClose(await logit.probability(tone(300, 0.3)), expected(tone(300, 0.3), 16000), 'logit model, loud end');
      assertClose(await fixed.probability(clip), expected(clip, 4000), 'fixed 4000-sample input');
      assert.equal(fixed.windowMs, 250);
    } finally {
      await logit.close();
      await fixed.close();
    }
  });

  it('refuses a model that does not fit the contract, naming the file and the problem', async () => {
    const cases: [string, TinyModel, RegExp][] = [
      ['two-inputs.onnx', { extraInput: true }, /2 inputs \(audio, speaker\)/],
      ['int64-input.onnx', { elemType: INT64 }, /input audio is int64; it must be float32/],
      ['mel-input.onnx', { dims: [1, 80, 800] }, /\[1,80,800\].*log-mel/],
      ['two-outputs.onnx', { extraOutput: true }, /2 outputs \(probability, level\)/],
      ['two-numbers.onnx', { outputDims: [1, 2] }, /\[1,2\]; it must hold one number/],
    ];
    for (const [name, options, problem] of cases) {
      const bad = path.join(models, name);
      fs.writeFileSync(bad, tinyTurnModel(options));
      await assert.rejects(loadEndOfTurnModel(bad), (error: Error) => {
        assert.ok(error instanceof UnsupportedError, `${name}: ${error}`);
        assert.ok(error.message.includes(bad), `${name}: ${error.message}`);
        assert.match(error.message, problem);
        return true;
      });
    }
    const garbage = path.join(models, 'garbage.onnx');
    fs.writeFileSync(garbage, 'not a protobuf');
    await assert.rejects(loadEndOfTurnModel(garbage), (error: Error) => error instanceof UnsupportedError && error.message.includes(garbage));
    await assert.rejects(loadEndOfTurnModel(path.join(models, 'missing.onnx')), /missing\.onnx does not exist/);
  });

  it('rejects bad arguments, an aborted call, and calls once closed', async () => {
    await assert.rejects(model.probability(new Float32Array(100) as unknown as Int16Array), TypeError);
    await assert.rejects(loadEndOfTurnModel(file, { windowMs: 0 }), TypeError);
    await assert.rejects(loadEndOfTurnModel(''), TypeError);
    await assert.rejects(model.probability(tone(100, 0.1), AbortSignal.abort()), { name: 'AbortError' });
    // Aborted while running: the caller hears at once; the model stays usable.
    const controller = new AbortController();
    const pending = model.probability(tone(100, 0.1), controller.signal);
    controller.abort();
    await assert.rejects(pending, { name: 'AbortError' });
    assertClose(await model.probability(tone(100, 0)), expected(tone(100, 0), 16000), 'after an abort');

    const own = await loadEndOfTurnModel(file, { windowMs: 500 });
    const inFlight = own.probability(tone(100, 0));
    await own.close();
    assert.ok((await inFlight) > 0.5, 'a call sent before close still gets its answer');
    await own.close();
    await assert.rejects(own.probability(tone(100, 0)), InvalidStateError);
  });
});

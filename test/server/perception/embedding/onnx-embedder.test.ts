import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { InvalidStateError } from '../../../../server/errors.ts';
import {
  CLIP_PREPROCESSING,
  OnnxImageEmbedder,
  SIGLIP_PREPROCESSING,
  defaultModelsDir,
  findEmbeddingModel,
} from '../../../../server/perception/embedding/index.ts';
import type { RgbImage } from '../../../../server/perception/video/types.ts';
import { encodeModel, floats, FLOAT, INT, int64, INTS, valueInfo } from '../../../helpers/onnx-graph.ts';

/** Fixed 3×8 projection: rank 3, mixed signs, so different colours point different ways. */
const W = [
  [0.9, -0.2, 0.1, 0.5, -0.7, 0.3, 0.0, 0.4],
  [-0.3, 0.8, 0.2, -0.5, 0.1, 0.6, -0.4, 0.2],
  [0.1, 0.3, -0.9, 0.2, 0.5, -0.1, 0.7, -0.6],
];
const SIDE = 32;

/**
 * A stand-in vision tower: pixel_values [N, 3, 32, 32] → per-channel mean → × W.
 * `tokens`: instead emit last_hidden_state [N, 1024, 8], one "token" per pixel.
 */
function tinyVisionModel(tokens = false): Uint8Array {
  const weight = floats('W', [3, 8], W.flat());
  const nodes = tokens
    ? [
        { opType: 'Reshape', input: ['pixel_values', 'shape'], output: ['planes'] },
        { opType: 'Transpose', input: ['planes'], output: ['pixels'], attribute: [{ name: 'perm', type: INTS, ints: [0, 2, 1] }] },
        { opType: 'MatMul', input: ['pixels', 'W'], output: ['last_hidden_state'] },
      ]
    : [
        { opType: 'GlobalAveragePool', input: ['pixel_values'], output: ['pooled'] },
        { opType: 'Flatten', input: ['pooled'], output: ['flat'], attribute: [{ name: 'axis', type: INT, i: 1 }] },
        { opType: 'MatMul', input: ['flat', 'W'], output: ['image_embeds'] },
      ];
  return encodeModel({
    name: 'tiny-vision',
    node: nodes,
    initializer: tokens ? [weight, int64('shape', [0, 3, -1])] : [weight],
    input: [valueInfo('pixel_values', FLOAT, ['batch', 3, SIDE, SIDE])],
    output: tokens ? [valueInfo('last_hidden_state', FLOAT, ['batch', SIDE * SIDE, 8])] : [valueInfo('image_embeds', FLOAT, ['batch', 8])],
  });
}

function solid(width: number, height: number, rgb: [number, number, number]): RgbImage {
  const data = new Uint8Array(width * height * 3);
  for (let i = 0; i < data.length; i += 3) data.set(rgb, i);
  return { width, height, data };
}

function gradient(width: number, height: number, seed: number): RgbImage {
  const data = new Uint8Array(width * height * 3);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const i = (y * width + x) * 3;
      data[i] = (x * 255) / width;
      data[i + 1] = (y * 255) / height;
      data[i + 2] = (x * y + seed * 97) % 256;
    }
  }
  return { width, height, data };
}

const dot = (a: Float32Array, b: Float32Array) => a.reduce((s, v, i) => s + v * b[i], 0);

/** What the model must output for one pixel colour, computed here from the definition. */
function expected(rgb: [number, number, number], pre = CLIP_PREPROCESSING): number[] {
  const x = rgb.map((v, c) => (v / 255 - pre.mean[c]) / pre.std[c]);
  const y = W[0].map((_, j) => x[0] * W[0][j] + x[1] * W[1][j] + x[2] * W[2][j]);
  const norm = Math.hypot(...y);
  return y.map((v) => v / norm);
}

function assertClose(actual: ArrayLike<number>, wanted: ArrayLike<number>, tolerance = 1e-4) {
  assert.equal(actual.length, wanted.length);
  for (let i = 0; i < wanted.length; i++) {
    assert.ok(Math.abs(actual[i] - wanted[i]) <= tolerance, `[${i}] ${actual[i]} vs ${wanted[i]} in ${Array.from(actual)}`);
  }
}

describe('OnnxImageEmbedder', () => {
  let models: string;
  let embedder: OnnxImageEmbedder;

  before(async () => {
    models = fs.mkdtempSync(path.join(os.tmpdir(), 'omnilive-models-'));
    fs.mkdirSync(path.join(models, 'clip-vit-tiny-test'));
    fs.writeFileSync(path.join(models, 'clip-vit-tiny-test', 'vision_model.onnx'), tinyVisionModel());
    fs.writeFileSync(
      path.join(models, 'clip-vit-tiny-test', 'preprocessor.json'),
      JSON.stringify({ mean: CLIP_PREPROCESSING.mean, std: CLIP_PREPROCESSING.std, size: SIDE }),
    );
    // Neither of these is an embedding model.
    fs.mkdirSync(path.join(models, 'clip-vit-empty'));
    fs.mkdirSync(path.join(models, 'aaa-other'));
    fs.writeFileSync(path.join(models, 'aaa-other', 'vision_model.onnx'), tinyVisionModel());

    const config = findEmbeddingModel(models);
    assert.ok(config);
    embedder = await OnnxImageEmbedder.load(config);
  });

  after(async () => {
    await embedder?.close();
    fs.rmSync(models, { recursive: true, force: true });
  });

  it('findEmbeddingModel finds the model and its preprocessing in the models directory', () => {
    const config = findEmbeddingModel(models);
    assert.deepEqual(config, {
      family: 'clip',
      label: 'clip-vit-tiny-test',
      modelPath: path.join(models, 'clip-vit-tiny-test', 'vision_model.onnx'),
      mean: CLIP_PREPROCESSING.mean,
      std: CLIP_PREPROCESSING.std,
      size: SIDE,
      resize: 'crop',
      pooling: 'cls',
    });
    assert.equal(findEmbeddingModel(path.join(models, 'aaa-other')), undefined);
    assert.equal(findEmbeddingModel(path.join(models, 'missing')), undefined);
  });

  it('findEmbeddingModel gives a SigLIP model the SigLIP preset, and defaults to OMNILIVE_MODELS', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'omnilive-models-'));
    const saved = process.env.OMNILIVE_MODELS;
    try {
      fs.mkdirSync(path.join(dir, 'siglip-tiny'));
      fs.writeFileSync(path.join(dir, 'siglip-tiny', 'vision_model.onnx'), tinyVisionModel());
      process.env.OMNILIVE_MODELS = dir;
      assert.equal(defaultModelsDir(), dir);
      const config = findEmbeddingModel();
      assert.deepEqual(config && { ...config, modelPath: undefined }, { family: 'siglip', label: 'siglip-tiny', modelPath: undefined, ...SIGLIP_PREPROCESSING });
    } finally {
      if (saved === undefined) delete process.env.OMNILIVE_MODELS;
      else process.env.OMNILIVE_MODELS = saved;
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('reads the input from the model and learns the embedding length', () => {
    assert.equal(embedder.name, 'onnx:clip-vit-tiny-test');
    assert.equal(embedder.dims, 8);
    assert.deepEqual(embedder.input, { name: 'pixel_values', height: SIDE, width: SIDE, maxBatch: 16 });
    assert.equal(embedder.output, 'image_embeds');
    assert.deepEqual(embedder.executionProviders, ['cpu']);
  });

  it('embeds to unit vectors: the same image alike, different colours apart', async () => {
    const red = solid(640, 360, [230, 20, 20]);
    const [a, b, c] = await embedder.embed([red, solid(640, 360, [230, 20, 20]), solid(640, 360, [20, 40, 220])]);
    for (const v of [a, b, c]) {
      assert.ok(v instanceof Float32Array && v.length === 8);
      assert.ok(Math.abs(Math.hypot(...v) - 1) < 1e-5);
    }
    assert.ok(Math.abs(dot(a, b) - 1) < 1e-6);
    assert.ok(dot(a, c) < 0.5, `red·blue = ${dot(a, c)}`);
    // The normalized CHW input reached the model as CLIP wants it: check against the math.
    assertClose(a, expected([230, 20, 20]));
    assertClose(c, expected([20, 40, 220]));
  });

  it('a batch of N gives what N separate calls give', async () => {
    const images = [gradient(640, 360, 1), gradient(SIDE, SIDE, 2), gradient(100, 50, 3), solid(7, 9, [0, 128, 255])];
    const batched = await embedder.embed(images);
    assert.equal(batched.length, images.length);
    for (let i = 0; i < images.length; i++) {
      const [single] = await embedder.embed([images[i]]);
      assertClose(batched[i], single, 1e-6);
    }
    assert.deepEqual(await embedder.embed([]), []);
  });

  it("uses the model's static input size over the configured one", async () => {
    const config = findEmbeddingModel(models)!;
    const own = await OnnxImageEmbedder.load({ ...config, size: 224, executionProviders: ['cpu'] });
    try {
      assert.deepEqual([own.input.height, own.input.width], [SIDE, SIDE]);
      assertClose((await own.embed([solid(50, 40, [10, 200, 90])]))[0], expected([10, 200, 90]));
    } finally {
      await own.close();
    }
  });

  it("crops the centre square like CLIP, or stretches like SigLIP", async () => {
    // Three 32×32 stripes, red | green | blue: the centre crop is all green.
    const stripes = solid(3 * SIDE, SIDE, [0, 0, 0]);
    for (let i = 0; i < SIDE * 3 * SIDE; i++) stripes.data.set([[255, 0, 0], [0, 255, 0], [0, 0, 255]][Math.floor((i % (3 * SIDE)) / SIDE)], i * 3);
    assertClose((await embedder.embed([stripes]))[0], expected([0, 255, 0]));
    const config = findEmbeddingModel(models)!;
    const siglip = await OnnxImageEmbedder.load({ ...config, ...SIGLIP_PREPROCESSING });
    try {
      // Squashed to 32×32 every stripe survives: the mean colour is grey-ish (85, 85, 85).
      assertClose((await siglip.embed([stripes]))[0], expected([85, 85, 85], SIGLIP_PREPROCESSING), 0.02);
    } finally {
      await siglip.close();
    }
  });

  it('pools a token output: mean over tokens, or the first token', async () => {
    const modelPath = path.join(models, 'tokens.onnx');
    fs.writeFileSync(modelPath, tinyVisionModel(true));
    const image = gradient(SIDE, SIDE, 5); // model-sized: no resampling, pixel 0 stays pixel 0
    const pooled = (await embedder.embed([image]))[0];
    const mean = await OnnxImageEmbedder.load({ modelPath, ...CLIP_PREPROCESSING, pooling: 'mean' });
    const cls = await OnnxImageEmbedder.load({ modelPath, ...CLIP_PREPROCESSING, pooling: 'cls' });
    try {
      assert.equal(mean.output, 'last_hidden_state');
      assert.equal(mean.dims, 8);
      assertClose((await mean.embed([image]))[0], pooled);
      const first = Array.from(image.data.subarray(0, 3)) as [number, number, number];
      assertClose((await cls.embed([image]))[0], expected(first));
    } finally {
      await mean.close();
      await cls.close();
    }
  });

  it('rejects bad images and options with a TypeError, and work once closed', async () => {
    for (const bad of [null, { width: 2, height: 2, data: new Uint8Array(5) }, { width: -1, height: 2, data: new Uint8Array(0) }]) {
      await assert.rejects(embedder.embed([bad as RgbImage]), TypeError);
    }
    await assert.rejects(embedder.embed('nope' as unknown as RgbImage[]), TypeError);
    const config = findEmbeddingModel(models)!;
    await assert.rejects(OnnxImageEmbedder.load({ ...config, std: [0, 1, 1] }), TypeError);
    await assert.rejects(OnnxImageEmbedder.load({ ...config, mean: [0.5, 0.5] as unknown as [number, number, number] }), TypeError);
    await assert.rejects(OnnxImageEmbedder.load({ ...config, size: 0 }), TypeError);

    const own = await OnnxImageEmbedder.load(config);
    await own.close();
    await assert.rejects(own.embed([solid(4, 4, [1, 2, 3])]), InvalidStateError);
  });
});

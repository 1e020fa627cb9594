/**
 * Native image kernels (native/src/image_kernels.cc via native/index.ts) against the plain
 * TypeScript reference (server/perception/kernels/reference.ts), against ffmpeg, and on
 * hand-checkable cases. Tolerances: colour conversion, bilinear resize and normalize are
 * exact (same integer / double arithmetic); area resize ±1 (native sums in float32, the
 * reference in double); scene descriptors 1e-5 absolute; perceptual hashes ≤ 2 bits.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import { promisify } from 'node:util';
import ffmpegInstaller from '@ffmpeg-installer/ffmpeg';
import * as native from '../../native/index.ts';
import type { RgbImage } from '../../native/index.ts';
import { reference } from '../../server/perception/kernels/index.ts';

const run = promisify(execFile);

// ---- helpers ----

/** Deterministic bytes (xorshift32). */
function randomBytes(n: number, seed: number): Uint8Array {
  let s = seed >>> 0 || 1;
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    out[i] = s & 255;
  }
  return out;
}

function randomImage(width: number, height: number, seed: number): RgbImage {
  return { width, height, data: randomBytes(width * height * 3, seed) };
}

/** A smooth image with edges: random images alias under resampling and say little. */
function patternImage(width: number, height: number, seed = 1): RgbImage {
  const data = new Uint8Array(width * height * 3);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const i = (y * width + x) * 3;
      data[i] = (x * 255) / Math.max(1, width - 1);
      data[i + 1] = (y * 255) / Math.max(1, height - 1);
      data[i + 2] = ((x >> 3) + (y >> 3) + seed) & 1 ? 220 : 30;
    }
  }
  return { width, height, data };
}

/** Adds triangular noise of ±amplitude to every byte. */
function withNoise(image: RgbImage, amplitude: number, seed = 7): RgbImage {
  const r = randomBytes(image.data.length * 2, seed);
  const data = new Uint8Array(image.data.length);
  for (let i = 0; i < data.length; i++) {
    const n = ((r[2 * i]! + r[2 * i + 1]!) / 255 - 1) * amplitude;
    data[i] = Math.max(0, Math.min(255, Math.round(image.data[i]! + n)));
  }
  return { ...image, data };
}

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  assert.equal(a.length, b.length, 'lengths differ');
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
}

/** I420 planes → NV12 (same samples, U and V interleaved). */
function i420ToNv12(data: Uint8Array, width: number, height: number): Uint8Array {
  const y = width * height;
  const c = Math.ceil(width / 2) * Math.ceil(height / 2);
  const out = new Uint8Array(data.length);
  out.set(data.subarray(0, y));
  for (let i = 0; i < c; i++) {
    out[y + 2 * i] = data[y + i]!;
    out[y + 2 * i + 1] = data[y + c + i]!;
  }
  return out;
}

const SIZES: [number, number][] = [
  [1, 1],
  [2, 2],
  [1, 7],
  [3, 5],
  [17, 9],
  [64, 48],
  [321, 241],
];

// A fixed font keeps the frames the same from machine to machine; without it drawtext asks fontconfig.
const DEJAVU = '/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf';
const FONT = fs.existsSync(DEJAVU) ? `fontfile=${DEJAVU}:` : '';

/** One frame of an ffmpeg lavfi source (e.g. `testsrc`), raw in `pixFmt`. */
async function ffmpegFrame(source: string, width: number, height: number, pixFmt: 'rgb24' | 'yuv420p', seconds = 0): Promise<Uint8Array> {
  const input = `${source.includes('=') ? source.replace('=', `=s=${width}x${height}:`) : `${source}=s=${width}x${height}`}`;
  const { stdout } = await run(
    ffmpegInstaller.path,
    ['-hide_banner', '-loglevel', 'error', '-f', 'lavfi', '-i', input, '-ss', String(seconds), '-frames:v', '1', '-f', 'rawvideo', '-pix_fmt', pixFmt, '-'],
    { encoding: 'buffer', maxBuffer: 64 << 20 },
  );
  return new Uint8Array(stdout.buffer, stdout.byteOffset, stdout.length);
}

async function ffmpegRgb(source: string, width = 320, height = 240, seconds = 0): Promise<RgbImage> {
  return { width, height, data: await ffmpegFrame(source, width, height, 'rgb24', seconds) };
}

const isInvalidParameter = (e: unknown) => {
  assert.ok(e instanceof TypeError, `expected TypeError, got ${String(e)}`);
  assert.match(e.message, /^invalid parameter: expected .+ for .+, got /);
  return true;
};

// ---- colour conversion ----

describe('colour conversion (native vs reference, exact)', () => {
  it('I420 → RGB on random frames, odd sizes included', () => {
    for (const [w, h] of [...SIZES, [1280, 720] as [number, number]]) {
      const frame = randomBytes(native.yuv420Size(w, h), w * 31 + h);
      const a = native.i420ToRgb(frame, w, h);
      const b = reference.i420ToRgb(frame, w, h);
      assert.equal(a.width, w);
      assert.equal(a.height, h);
      assert.equal(maxAbsDiff(a.data, b.data), 0, `${w}×${h}`);
    }
  });

  it('NV12 gives the same pixels as I420 with the same samples', () => {
    for (const [w, h] of SIZES) {
      const frame = randomBytes(native.yuv420Size(w, h), w + h * 17);
      const nv12 = i420ToNv12(frame, w, h);
      assert.deepEqual(native.nv12ToRgb(nv12, w, h).data, native.i420ToRgb(frame, w, h).data, `${w}×${h}`);
      assert.deepEqual(native.nv12ToRgb(nv12, w, h).data, reference.nv12ToRgb(nv12, w, h).data, `${w}×${h}`);
    }
  });

  it('RGBA → RGB drops alpha', () => {
    for (const [w, h] of SIZES) {
      const rgba = randomBytes(w * h * 4, w * h);
      const a = native.rgbaToRgb(rgba, w, h);
      assert.deepEqual(a.data, reference.rgbaToRgb(rgba, w, h).data);
      assert.deepEqual([...a.data.subarray(0, 3)], [rgba[0], rgba[1], rgba[2]]);
    }
  });

  it('maps BT.601 limited-range reference colours', () => {
    // Y, U, V of black, white, and the 100% primaries (BT.601, studio swing).
    const cases: [number[], number[]][] = [
      [[16, 128, 128], [0, 0, 0]],
      [[235, 128, 128], [255, 255, 255]],
      [[126, 128, 128], [128, 128, 128]],
      [[81, 90, 240], [255, 0, 0]],
      [[145, 54, 34], [0, 255, 0]],
      [[41, 240, 110], [0, 0, 255]],
    ];
    for (const [[y, u, v], rgb] of cases) {
      const px = native.i420ToRgb(Uint8Array.from([y!, u!, v!]), 1, 1).data;
      for (let c = 0; c < 3; c++) assert.ok(Math.abs(px[c]! - rgb[c]!) <= 2, `YUV ${[y, u, v]} → ${[...px]}, expected ≈ ${rgb}`);
    }
  });

  // For even sizes ffmpeg's swscale converts yuv420p → rgb24 with nearest chroma, as we do;
  // for odd ones it switches to its interpolating scaler, so only the layout is shared.
  it('uses ffmpeg’s layout and agrees with ffmpeg’s yuv420p → rgb24 within ±3', async () => {
    for (const source of ['testsrc', 'smptebars', 'testsrc2', 'mandelbrot']) {
      const [w, h] = [320, 240];
      const yuv = await ffmpegFrame(source, w, h, 'yuv420p');
      assert.equal(yuv.length, native.yuv420Size(w, h));
      // ffmpeg converts the very same yuv420p samples.
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'omnilive-yuv-'));
      const file = path.join(dir, 'frame.yuv');
      fs.writeFileSync(file, yuv);
      const rgb = await run(
        ffmpegInstaller.path,
        ['-hide_banner', '-loglevel', 'error', '-f', 'rawvideo', '-pix_fmt', 'yuv420p', '-s', `${w}x${h}`, '-i', file, '-f', 'rawvideo', '-pix_fmt', 'rgb24', '-'],
        { encoding: 'buffer', maxBuffer: 64 << 20 },
      );
      fs.rmSync(dir, { recursive: true, force: true });
      assert.ok(maxAbsDiff(native.i420ToRgb(yuv, w, h).data, rgb.stdout) <= 3, source);
    }
  });

  it('async variants give the same result', async () => {
    const [w, h] = [333, 211];
    const frame = randomBytes(native.yuv420Size(w, h), 5);
    assert.deepEqual((await native.i420ToRgbAsync(frame, w, h)).data, native.i420ToRgb(frame, w, h).data);
    assert.deepEqual((await native.nv12ToRgbAsync(frame, w, h)).data, native.nv12ToRgb(frame, w, h).data);
    const rgba = randomBytes(w * h * 4, 6);
    assert.deepEqual((await native.rgbaToRgbAsync(rgba, w, h)).data, native.rgbaToRgb(rgba, w, h).data);
  });

  it('async calls copy their input: the caller may reuse the buffer at once', async () => {
    const [w, h] = [640, 480];
    const frame = randomBytes(native.yuv420Size(w, h), 9);
    const expected = native.i420ToRgb(frame, w, h).data;
    const pending = native.i420ToRgbAsync(frame, w, h);
    frame.fill(0);
    assert.deepEqual((await pending).data, expected);
  });
});

// ---- resize ----

describe('resizeRgb', () => {
  const targets: [number, number][] = [
    [1, 1],
    [7, 3],
    [5, 9],
    [336, 336],
  ];

  it('bilinear: exact against the reference, down and up, odd sizes', () => {
    for (const [sw, sh] of SIZES) {
      const img = randomImage(sw, sh, sw * 7 + sh);
      for (const [dw, dh] of [...targets, [sw * 2 + 1, sh * 3] as [number, number]]) {
        assert.equal(maxAbsDiff(native.resizeRgb(img, dw, dh, 'bilinear').data, reference.resizeRgb(img, dw, dh, 'bilinear').data), 0, `${sw}×${sh} → ${dw}×${dh}`);
      }
    }
  });

  it('area: within ±1 of the reference, down and up, odd sizes', () => {
    for (const [sw, sh] of [...SIZES, [1280, 720] as [number, number]]) {
      const img = randomImage(sw, sh, sw + sh * 3);
      for (const [dw, dh] of [...targets, [sw * 2 + 1, sh * 3] as [number, number]]) {
        if (dw * dh > 2_000_000) continue;
        assert.ok(maxAbsDiff(native.resizeRgb(img, dw, dh, 'area').data, reference.resizeRgb(img, dw, dh, 'area').data) <= 1, `${sw}×${sh} → ${dw}×${dh}`);
      }
    }
  });

  it('same size is the identity in both modes', () => {
    const img = randomImage(37, 23, 3);
    assert.deepEqual(native.resizeRgb(img, 37, 23, 'area').data, img.data);
    assert.deepEqual(native.resizeRgb(img, 37, 23, 'bilinear').data, img.data);
  });

  it('area: 2× downscale averages 2×2 blocks (rounded half up)', () => {
    const img: RgbImage = { width: 2, height: 2, data: Uint8Array.from([0, 10, 255, 1, 11, 255, 2, 12, 0, 4, 13, 0]) };
    assert.deepEqual([...native.resizeRgb(img, 1, 1, 'area').data], [2, 12, 128]); // 7/4, 46/4, 510/4
  });

  it('bilinear: half-pixel centres as OpenCV INTER_LINEAR', () => {
    const img: RgbImage = { width: 2, height: 1, data: Uint8Array.from([0, 0, 0, 100, 200, 40]) };
    const out = native.resizeRgb(img, 4, 1, 'bilinear').data;
    assert.deepEqual([...out], [0, 0, 0, 25, 50, 10, 75, 150, 30, 100, 200, 40]);
  });

  it('a flat image stays flat', () => {
    const img: RgbImage = { width: 97, height: 31, data: new Uint8Array(97 * 31 * 3).fill(77) };
    for (const mode of ['area', 'bilinear'] as const) {
      assert.ok(native.resizeRgb(img, 13, 64, mode).data.every((v) => v === 77), mode);
    }
  });

  it('async variant gives the same result', async () => {
    const img = patternImage(1280, 720);
    for (const mode of ['area', 'bilinear'] as const) {
      const a = await native.resizeRgbAsync(img, 336, 336, mode);
      assert.deepEqual(a, native.resizeRgb(img, 336, 336, mode));
    }
  });
});

// ---- normalize ----

describe('normalizeChw', () => {
  it('matches the reference exactly (CLIP and SigLIP)', () => {
    for (const [w, h] of SIZES) {
      const img = randomImage(w, h, w * h + 1);
      for (const params of [native.CLIP_NORMALIZATION, native.SIGLIP_NORMALIZATION]) {
        assert.equal(maxAbsDiff(native.normalizeChw(img, params), reference.normalizeChw(img, params)), 0, `${w}×${h}`);
      }
    }
  });

  it('lays out planes as CHW with the documented constants', () => {
    assert.deepEqual(native.CLIP_MEAN, [0.48145466, 0.4578275, 0.40821073]);
    assert.deepEqual(native.CLIP_STD, [0.26862954, 0.26130258, 0.27577711]);
    const img: RgbImage = { width: 2, height: 1, data: Uint8Array.from([255, 0, 51, 0, 255, 102]) };
    const clip = native.normalizeChw(img);
    const f = Math.fround;
    assert.deepEqual([...clip], [
      f((1 - 0.48145466) / 0.26862954), f((0 - 0.48145466) / 0.26862954),
      f((0 - 0.4578275) / 0.26130258), f((1 - 0.4578275) / 0.26130258),
      f((0.2 - 0.40821073) / 0.27577711), f((0.4 - 0.40821073) / 0.27577711),
    ]);
    assert.deepEqual([...native.normalizeChw(img, native.SIGLIP_NORMALIZATION)].map((v) => Math.round(v * 1e6) / 1e6), [1, -1, -1, 1, -0.6, -0.2]);
  });

  it('writes into a caller-provided slice of a batch tensor', () => {
    const [a, b] = [randomImage(8, 4, 1), randomImage(8, 4, 2)];
    const batch = new Float32Array(2 * 3 * 8 * 4);
    const view = batch.subarray(96);
    assert.equal(native.normalizeChw(b, native.CLIP_NORMALIZATION, view), view);
    native.normalizeChw(a, native.CLIP_NORMALIZATION, batch.subarray(0, 96));
    assert.deepEqual(batch.subarray(0, 96), native.normalizeChw(a));
    assert.deepEqual(batch.subarray(96), native.normalizeChw(b));
  });

  it('async variant gives the same result', async () => {
    const img = randomImage(336, 336, 4);
    assert.deepEqual(await native.normalizeChwAsync(img, native.SIGLIP_NORMALIZATION), native.normalizeChw(img, native.SIGLIP_NORMALIZATION));
  });
});

// ---- scene descriptor ----

describe('scene descriptor', () => {
  it('matches the reference within 1e-5, any size', () => {
    for (const [w, h] of [...SIZES, [1280, 720] as [number, number], [4096, 1] as [number, number]]) {
      for (const img of [randomImage(w, h, w ^ h), patternImage(w, h)]) {
        const a = native.sceneDescriptor(img);
        const b = reference.sceneDescriptor(img);
        assert.equal(a.length, native.SCENE_DESCRIPTOR_LENGTH);
        assert.ok(maxAbsDiff(a, b) < 1e-5, `${w}×${h}: ${maxAbsDiff(a, b)}`);
        assert.ok(Math.abs(native.sceneSimilarity(a, b) - reference.sceneSimilarity(a, b)) < 1e-9);
      }
    }
  });

  it('is a normalized histogram and a unit-length layout', () => {
    const d = native.sceneDescriptor(patternImage(640, 360));
    const hist = d.subarray(0, native.SCENE_HISTOGRAM_LENGTH);
    const layout = d.subarray(native.SCENE_HISTOGRAM_LENGTH);
    assert.ok(Math.abs(hist.reduce((a, b) => a + b, 0) - 1) < 1e-5);
    assert.ok(hist.every((v) => v >= 0));
    assert.ok(Math.abs(Math.hypot(...layout) - 1) < 1e-5);
  });

  it('similarity is 1 for the same image, symmetric, and in [0, 1]', () => {
    const [a, b] = [native.sceneDescriptor(patternImage(320, 240, 0)), native.sceneDescriptor(randomImage(320, 240, 3))];
    assert.ok(native.sceneSimilarity(a, a) > 0.999999);
    assert.equal(native.sceneSimilarity(a, b), native.sceneSimilarity(b, a));
    const s = native.sceneSimilarity(a, b);
    assert.ok(s >= 0 && s <= 1);
  });

  it('ffmpeg scenes: noise keeps similarity > 0.95, cuts between scenes fall below 0.8', async () => {
    const text = (bg: string, words: string, x: number, y: number, colour = 'white') =>
      `color=c=${bg},drawtext=${FONT}text='${words}':fontsize=40:fontcolor=${colour}:x=${x}:y=${y}`;
    const scenes: Record<string, RgbImage> = {
      testsrc: await ffmpegRgb('testsrc'),
      testsrc2: await ffmpegRgb('testsrc2'),
      smptebars: await ffmpegRgb('smptebars'),
      mandelbrot: await ffmpegRgb('mandelbrot'),
      red: await ffmpegRgb('color=c=red'),
      blue: await ffmpegRgb('color=c=blue'),
      'slide 1': await ffmpegRgb(text('black', 'Hello world', 20, 20)),
      'slide 2': await ffmpegRgb(text('black', 'Slide two', 100, 150)),
      'slide 3': await ffmpegRgb(text('navy', 'Agenda', 40, 90, 'yellow')),
    };
    const names = Object.keys(scenes);
    const d = Object.fromEntries(names.map((n) => [n, native.sceneDescriptor(scenes[n]!)]));
    for (const n of names) {
      for (const amplitude of [4, 8]) {
        const s = native.sceneSimilarity(d[n]!, native.sceneDescriptor(withNoise(scenes[n]!, amplitude)));
        assert.ok(s > 0.95, `${n} with ±${amplitude} noise: ${s.toFixed(3)}`);
      }
    }
    for (let i = 0; i < names.length; i++) {
      for (let j = i + 1; j < names.length; j++) {
        const s = native.sceneSimilarity(d[names[i]!]!, d[names[j]!]!);
        assert.ok(s < 0.8, `${names[i]} → ${names[j]}: ${s.toFixed(3)}`);
      }
    }
    // The same scene a second later (testsrc scrolls and counts) is still the same scene.
    const later = native.sceneDescriptor(await ffmpegRgb('testsrc=r=25', 320, 240, 1));
    assert.ok(native.sceneSimilarity(d.testsrc!, later) > 0.9);
  });

  it('async variant gives the same result', async () => {
    const img = patternImage(1920, 1080);
    assert.deepEqual(await native.sceneDescriptorAsync(img), native.sceneDescriptor(img));
  });
});

// ---- perceptual hash ----

describe('perceptual hash', () => {
  it('matches the reference (≤ 2 bits) on random and structured images', () => {
    for (const [w, h] of [...SIZES, [1280, 720] as [number, number]]) {
      for (const img of [randomImage(w, h, w * 3 + h), patternImage(w, h)]) {
        const d = native.hammingDistance(native.perceptualHash(img), reference.perceptualHash(img));
        assert.ok(d <= 2, `${w}×${h}: ${d} bits`);
      }
    }
  });

  it('is a 64-bit bigint, 0 for a flat image', () => {
    const h = native.perceptualHash(patternImage(100, 80));
    assert.equal(typeof h, 'bigint');
    assert.ok(h >= 0n && h < 1n << 64n);
    assert.equal(native.perceptualHash({ width: 50, height: 40, data: new Uint8Array(6000).fill(200) }), 0n);
  });

  it('near-duplicates are close, different scenes far apart', async () => {
    const a = await ffmpegRgb('testsrc');
    const b = await ffmpegRgb('smptebars');
    const ha = native.perceptualHash(a);
    assert.ok(native.hammingDistance(ha, native.perceptualHash(withNoise(a, 8))) <= 4);
    assert.ok(native.hammingDistance(ha, native.perceptualHash(native.resizeRgb(a, 160, 120, 'area'))) <= 4);
    assert.ok(native.hammingDistance(ha, native.perceptualHash(b)) >= 16);
  });

  it('hammingDistance counts differing bits', () => {
    const all = (1n << 64n) - 1n;
    for (const [a, b, d] of [
      [0n, 0n, 0],
      [0n, all, 64],
      [0b1011n, 0b0110n, 3],
      [1n << 63n, 0n, 1],
    ] as const) {
      assert.equal(native.hammingDistance(a, b), d);
      assert.equal(reference.hammingDistance(a, b), d);
    }
  });

  it('async variant gives the same result', async () => {
    const img = patternImage(1280, 720, 1);
    assert.equal(await native.perceptualHashAsync(img), native.perceptualHash(img));
  });
});

// ---- invalid input: TypeError with a clear message, never a crash ----

describe('invalid input', () => {
  const ok = randomImage(4, 3, 1);

  it('rejects bad frames and sizes', () => {
    const frame = new Uint8Array(native.yuv420Size(5, 3));
    const calls: (() => unknown)[] = [
      () => native.i420ToRgb(frame, 0, 3),
      () => native.i420ToRgb(frame, -5, 3),
      () => native.i420ToRgb(frame, 5.5, 3),
      () => native.i420ToRgb(frame, Number.NaN, 3),
      () => native.i420ToRgb(frame, 5, 100_000),
      () => native.i420ToRgb(frame, '5' as never, 3),
      () => native.i420ToRgb(frame, 4, 3), // a 5×3 frame is not 4×3
      () => native.i420ToRgb(frame.subarray(1), 5, 3),
      () => native.i420ToRgb(new Uint16Array(frame.length) as never, 5, 3),
      () => native.i420ToRgb([1, 2, 3] as never, 1, 1),
      () => native.i420ToRgb(null as never, 5, 3),
      () => native.nv12ToRgb(new Uint8Array(0), 1, 1),
      () => native.rgbaToRgb(new Uint8Array(4 * 5 * 3 - 1), 5, 3),
    ];
    for (const call of calls) assert.throws(call, isInvalidParameter);
  });

  it('rejects bad images', () => {
    const images: unknown[] = [
      null,
      undefined,
      'image',
      { width: 4, height: 3 },
      { width: 4, height: 3, data: new Uint8Array(35) },
      { width: 4, height: 3, data: new Uint8ClampedArray(36) },
      { width: 0, height: 3, data: new Uint8Array(0) },
      { width: 4, height: -3, data: new Uint8Array(36) },
      { width: 4.5, height: 3, data: new Uint8Array(36) },
      { width: 4, height: 3, data: Array(36).fill(0) },
    ];
    for (const image of images) {
      assert.throws(() => native.resizeRgb(image as never, 2, 2), isInvalidParameter);
      assert.throws(() => native.normalizeChw(image as never), isInvalidParameter);
      assert.throws(() => native.sceneDescriptor(image as never), isInvalidParameter);
      assert.throws(() => native.perceptualHash(image as never), isInvalidParameter);
    }
  });

  it('rejects bad resize targets, modes and normalization parameters', () => {
    for (const [w, h] of [[0, 2], [2, 0], [-1, 2], [2.5, 2], [Infinity, 2], [40000, 2]]) {
      assert.throws(() => native.resizeRgb(ok, w!, h!), isInvalidParameter);
    }
    assert.throws(() => native.resizeRgb(ok, 2, 2, 'nearest' as never), isInvalidParameter);
    const params: unknown[] = [
      null,
      { mean: [0.5, 0.5], std: [0.5, 0.5, 0.5] },
      { mean: [0.5, 0.5, 0.5], std: [0.5, 0, 0.5] },
      { mean: [0.5, Number.NaN, 0.5], std: [0.5, 0.5, 0.5] },
      { mean: '0.5', std: [1, 1, 1] },
      { std: [1, 1, 1] },
    ];
    for (const p of params) assert.throws(() => native.normalizeChw(ok, p as never), isInvalidParameter);
    assert.throws(() => native.normalizeChw(ok, native.CLIP_NORMALIZATION, new Float32Array(35)), isInvalidParameter);
    assert.throws(() => native.normalizeChw(ok, native.CLIP_NORMALIZATION, new Float64Array(36) as never), isInvalidParameter);
  });

  it('rejects bad descriptors and hashes', () => {
    const d = native.sceneDescriptor(ok);
    for (const bad of [new Float32Array(191), new Float64Array(192), Array(192).fill(0), null]) {
      assert.throws(() => native.sceneSimilarity(d, bad as never), isInvalidParameter);
      assert.throws(() => native.sceneSimilarity(bad as never, d), isInvalidParameter);
    }
    for (const bad of [-1n, 1n << 64n, 5, '5', null]) assert.throws(() => native.hammingDistance(bad as never, 0n), isInvalidParameter);
  });

  it('async variants reject with the same TypeError', async () => {
    await assert.rejects(native.i420ToRgbAsync(new Uint8Array(3), 0, 1), isInvalidParameter);
    await assert.rejects(native.resizeRgbAsync(ok, 0, 2), isInvalidParameter);
    await assert.rejects(native.normalizeChwAsync({ ...ok, data: new Uint8Array(2) }), isInvalidParameter);
    await assert.rejects(native.sceneDescriptorAsync(null as never), isInvalidParameter);
    await assert.rejects(native.perceptualHashAsync({ width: 1, height: 1, data: new Uint8Array(4) }), isInvalidParameter);
  });
});

// ---- backend ----

describe('image backend', () => {
  it('reports the backend; CUDA only with a GPU', () => {
    const info = native.imageBackend();
    assert.ok(info.active === 'cpu' || info.active === 'cuda');
    assert.equal(typeof info.cudaCompiled, 'boolean');
    assert.equal(native.cudaAvailable(), info.cudaCompiled && info.cudaDevices > 0);
    if (!native.cudaAvailable()) {
      assert.equal(info.active, 'cpu');
      assert.equal(typeof info.cudaError, 'string');
      assert.throws(() => native.setImageBackend('cuda'), /CUDA backend unavailable/);
    }
    assert.equal(native.setImageBackend('cpu'), 'cpu');
    assert.equal(native.imageBackend().preference, 'cpu');
    native.setImageBackend('auto');
    assert.throws(() => native.setImageBackend('gpu' as never), isInvalidParameter);
  });

  it('CUDA and CPU produce the same bytes', { skip: !native.cudaAvailable() && 'no CUDA device' }, async () => {
    const [w, h] = [1280, 720];
    const frame = randomBytes(native.yuv420Size(w, h), 11);
    const run = () => {
      const rgb = native.i420ToRgb(frame, w, h);
      return [rgb, native.resizeRgb(rgb, 336, 336, 'area'), native.resizeRgb(rgb, 500, 301, 'bilinear'), native.normalizeChw(rgb)] as const;
    };
    native.setImageBackend('cuda');
    const gpu = run();
    native.setImageBackend('cpu');
    const cpu = run();
    native.setImageBackend('auto');
    assert.deepEqual(gpu[0].data, cpu[0].data);
    assert.ok(maxAbsDiff(gpu[1].data, cpu[1].data) <= 1);
    assert.deepEqual(gpu[2].data, cpu[2].data);
    assert.deepEqual(gpu[3], cpu[3]);
  });
});

import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import ffmpegInstaller from '@ffmpeg-installer/ffmpeg';
import { InvalidStateError } from '../../../../server/errors.ts';
import { PpOcrEngine } from '../../../../server/perception/ocr/index.ts';
import type { OcrLine, RgbImage } from '../../../../server/perception/video/types.ts';

const run = promisify(execFile);

// A fixed font keeps the frames the same from machine to machine; without it drawtext asks fontconfig.
const DEJAVU = '/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf';
const FONT = fs.existsSync(DEJAVU) ? `fontfile=${DEJAVU}:` : '';

interface Text {
  text: string;
  size: number;
  color: string;
  x: number;
  y: number;
}

/** One RGB frame of plain `background` with each text drawn by ffmpeg's drawtext. */
async function frame(width: number, height: number, background: string, texts: Text[] = []): Promise<RgbImage> {
  const filters = texts.map((t) => `drawtext=${FONT}text='${t.text}':fontsize=${t.size}:fontcolor=${t.color}:x=${t.x}:y=${t.y}`);
  const { stdout } = await run(
    ffmpegInstaller.path,
    ['-hide_banner', '-loglevel', 'error', '-f', 'lavfi', '-i', `color=c=${background}:s=${width}x${height}`, '-vf', filters.join(',') || 'null', '-frames:v', '1', '-f', 'rawvideo', '-pix_fmt', 'rgb24', '-'],
    { encoding: 'buffer', maxBuffer: 64 << 20 },
  );
  assert.equal(stdout.length, width * height * 3);
  return { width, height, data: new Uint8Array(stdout.buffer, stdout.byteOffset, stdout.length) };
}

const texts = (lines: OcrLine[]) => lines.map((l) => l.text.toLowerCase());

describe('PpOcrEngine', () => {
  let engine: PpOcrEngine;

  before(async () => {
    engine = await PpOcrEngine.load();
  });

  after(async () => {
    await engine.close();
  });

  it('reads one line of black text and boxes it where it was drawn', async () => {
    const lines = await engine.recognize(await frame(640, 360, 'white', [{ text: 'EXIT 12', size: 64, color: 'black', x: 100, y: 120 }]));
    assert.deepEqual(texts(lines), ['exit 12']);
    const [x, y, w, h] = lines[0]!.box;
    assert.ok(Math.abs(x - 100) < 15 && Math.abs(y - 120) < 15, `box ${lines[0]!.box}`);
    assert.ok(w > 200 && w < 280 && h > 40 && h < 80, `box ${lines[0]!.box}`);
    assert.ok(lines[0]!.score > 0.8 && lines[0]!.score <= 1);
  });

  it('reads two lines top to bottom', async () => {
    const image = await frame(640, 360, 'white', [
      { text: 'ROOM 204', size: 48, color: 'black', x: 60, y: 200 },
      { text: 'MEETING 3PM', size: 48, color: 'black', x: 60, y: 80 },
    ]);
    assert.deepEqual(texts(await engine.recognize(image)), ['meeting 3pm', 'room 204']);
  });

  it('orders lines on one row left to right', async () => {
    const image = await frame(640, 360, 'white', [
      { text: 'Exit', size: 40, color: 'black', x: 420, y: 150 },
      { text: 'Lobby', size: 40, color: 'black', x: 40, y: 155 },
    ]);
    assert.deepEqual(texts(await engine.recognize(image)), ['lobby', 'exit']);
  });

  it('reads coloured text on a dark background', async () => {
    const image = await frame(640, 360, 'navy', [
      { text: 'Gate B17 open', size: 48, color: 'yellow', x: 60, y: 60 },
      { text: 'Coffee 4.50', size: 36, color: 'red', x: 300, y: 250 },
    ]);
    assert.deepEqual(texts(await engine.recognize(image)), ['gate b17 open', 'coffee 4.50']);
  });

  it('reads a 1280×720 frame (scaled down for detection) with boxes in its own pixels', async () => {
    const image = await frame(1280, 720, 'gray', [
      { text: 'Welcome to OmniLive', size: 72, color: 'white', x: 200, y: 200 },
      { text: 'Exit left', size: 40, color: 'black', x: 900, y: 600 },
    ]);
    const lines = await engine.recognize(image);
    assert.deepEqual(texts(lines), ['welcome to omnilive', 'exit left']);
    const [x, y] = lines[1]!.box;
    assert.ok(Math.abs(x - 900) < 20 && Math.abs(y - 600) < 20, `box ${lines[1]!.box}`);
  });

  it('finds nothing in an empty frame', async () => {
    assert.deepEqual(await engine.recognize(await frame(640, 360, 'white')), []);
  });

  it('rejects an image whose data does not match its size', async () => {
    await assert.rejects(engine.recognize({ width: 640, height: 360, data: new Uint8Array(640 * 360 * 3 - 1) }), TypeError);
    await assert.rejects(engine.recognize({ width: 0, height: 360, data: new Uint8Array(0) }), TypeError);
    await assert.rejects(engine.recognize({ width: 2.5, height: 2, data: new Uint8Array(15) }), TypeError);
  });

  it('stops when the signal aborts', async () => {
    const image = await frame(640, 360, 'white', [{ text: 'EXIT 12', size: 64, color: 'black', x: 100, y: 120 }]);
    await assert.rejects(engine.recognize(image, AbortSignal.abort()), { name: 'AbortError' });
    const controller = new AbortController();
    const pending = engine.recognize(image, controller.signal);
    setImmediate(() => controller.abort());
    await assert.rejects(pending, { name: 'AbortError' });
    // The engine is still usable afterwards.
    assert.deepEqual(texts(await engine.recognize(image)), ['exit 12']);
  });

  it('serves overlapping calls one after another', async () => {
    const [a, b] = await Promise.all([
      frame(640, 360, 'white', [{ text: 'EXIT 12', size: 64, color: 'black', x: 100, y: 120 }]),
      frame(640, 360, 'white', [{ text: 'ROOM 204', size: 48, color: 'black', x: 60, y: 200 }]),
    ]);
    const [ra, rb] = await Promise.all([engine.recognize(a), engine.recognize(b)]);
    assert.deepEqual([texts(ra), texts(rb)], [['exit 12'], ['room 204']]);
  });

  it('refuses work once closed', async () => {
    const other = await PpOcrEngine.load();
    await other.close();
    await assert.rejects(other.recognize(await frame(64, 64, 'white')), InvalidStateError);
    await other.close(); // idempotent
  });
});

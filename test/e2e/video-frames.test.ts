import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { FFMPEG_PATH } from '../../server/ingest/decode.ts';
import { startServer, type TestServer } from '../helpers/server.ts';
import { RawClient } from '../helpers/ws-client.ts';

const FONT = '/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf';

/** One JPEG made by ffmpeg: a coloured background with text. */
function jpeg(colour: string, text: string, textColour: string): string {
  const font = fs.existsSync(FONT) ? `fontfile=${FONT}:` : '';
  const r = spawnSync(FFMPEG_PATH, ['-loglevel', 'error', '-f', 'lavfi', '-i', `color=c=${colour}:s=1280x720`, '-vf', `drawtext=${font}text='${text}':fontsize=96:fontcolor=${textColour}:x=(w-tw)/2:y=(h-th)/2`, '-frames:v', '1', '-f', 'image2pipe', '-vcodec', 'mjpeg', '-']);
  assert.equal(r.status, 0, r.stderr.toString());
  return r.stdout.toString('base64');
}

describe('omnilive.video_frame.append over WebSocket', () => {
  let server: TestServer;
  before(async () => {
    server = await startServer({ 'tls.mode': 'off', 'vision.enabled': 'on', 'vision.facts': 'ocr', 'vision.modelsDir': '/nonexistent' });
  });
  after(() => server.close());

  it('turns JPEG frames into a clip with the text they show', async () => {
    const c = new RawClient(server);
    await c.opened;
    const engines = c.log.of('session.created')[0]!.session.omnilive.engines;
    assert.equal(engines.scene, 'native-descriptor');
    assert.equal(engines.ocr, 'pp-ocrv4');
    const exit = jpeg('white', 'EXIT 12', 'black');
    const room = jpeg('navy', 'GATE B7', 'white');
    for (const [i, image] of [exit, exit, exit, room].entries()) c.send({ type: 'omnilive.video_frame.append', image, t: i * 1000 });
    const committed = await c.log.waitFor('omnilive.clip.committed', () => true, 30_000);
    assert.equal(committed.clip.start_ms, 0);
    assert.equal(committed.clip.end_ms, 3000);
    assert.equal(committed.clip.frame_count, 3);
    assert.match(committed.clip.ocr_text, /EXIT 12/);
    c.close();
  });

  it('refuses an image that is not one, and frames out of time order', async () => {
    const c = new RawClient(server);
    await c.opened;
    c.send({ type: 'omnilive.video_frame.append', image: Buffer.from('not a jpeg').toString('base64'), t: 0 });
    assert.equal((await c.log.waitFor('error')).error.code, 'invalid_image');
    const frame = jpeg('gray', 'X', 'white');
    c.send({ type: 'omnilive.video_frame.append', image: frame, t: 5000 });
    c.send({ type: 'omnilive.video_frame.append', image: frame, t: 1000 });
    const late = await c.log.waitFor('error', (e) => e.error.code !== 'invalid_image');
    assert.equal(late.error.code, 'invalid_value');
    assert.equal(late.error.param, 't');
    c.close();
  });
});

describe('clip thresholds by session.update', () => {
  let server: TestServer;
  before(async () => {
    server = await startServer({ 'tls.mode': 'off', 'vision.enabled': 'on', 'vision.facts': '', 'vision.modelsDir': '/nonexistent' });
  });
  after(() => server.close());

  it('max_frames 2 cuts every two frames; bad thresholds are refused', async () => {
    const c = new RawClient(server);
    await c.opened;
    c.send({ type: 'session.update', session: { omnilive: { clipper: { min_frames: 3, max_frames: 2 } } } });
    assert.equal((await c.log.waitFor('error')).error.param, 'session.omnilive.clipper');
    c.send({ type: 'session.update', session: { omnilive: { clipper: { min_frames: 1, max_frames: 2 } } } });
    const updated = await c.log.waitFor('session.updated', (e) => e.session.omnilive.clipper.max_frames === 2);
    assert.deepEqual(updated.session.omnilive.clipper, { min_frames: 1, max_frames: 2, cut_similarity: 0.9 });
    const frame = jpeg('gray', 'SAME', 'white');
    for (let i = 0; i < 5; i++) c.send({ type: 'omnilive.video_frame.append', image: frame, t: i * 1000 });
    await c.log.waitFor('omnilive.clip.committed', (e) => e.clip.start_ms === 2000);
    assert.deepEqual(c.log.of('omnilive.clip.committed').map((e) => [e.clip.start_ms, e.clip.frame_count]), [[0, 2], [2000, 2]]);
    c.close();
  });
});

import assert from 'node:assert/strict';
import { execFile, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { FFMPEG_PATH } from '../../server/ingest/decode.ts';

const run = promisify(execFile);
const CLI = path.resolve(import.meta.dirname, '../../server/bin/omnilive.mjs');
const FONT = '/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf';

/** A scene of the generated video: a background, optional text, and how long it lasts. */
interface Scene {
  seconds: number;
  source: string;
  text?: string;
}

// Five minutes, eight scenes with known cut times; text the OCR should read in some of them.
// No scene lasts 16k+1 or 16k+2 seconds: there the 16-frame cut falls one or two frames before
// the scene change, and the reference rule (3 frames since the last cut) rightly waits.
const SCENES: Scene[] = [
  { seconds: 30, source: 'color=c=white', text: 'EXIT 12' },
  { seconds: 25, source: 'color=c=navy', text: 'ROOM 204' },
  { seconds: 40, source: 'testsrc' },
  { seconds: 35, source: 'color=c=darkgreen', text: 'MEETING 3PM' },
  { seconds: 45, source: 'smptebars' },
  { seconds: 30, source: 'color=c=black', text: 'GATE B7' },
  { seconds: 45, source: 'color=c=orange' },
  { seconds: 50, source: 'mandelbrot' },
];
const CUTS = SCENES.slice(0, -1).map((_, i) => SCENES.slice(0, i + 1).reduce((ms, s) => ms + s.seconds * 1000, 0));
/** OCR reads O and 0 alike on some backgrounds; the test asks whether the words were read. */
const normalize = (text: string) => text.toUpperCase().replace(/0/g, 'O');

type Clip = { start_ms: number; end_ms: number; frame_count: number; ocr_text: string; objects: { label: string }[]; keyframe_jpeg: string; skipped: string[]; scene: { colours: { name: string; share: number }[]; brightness: string } | null };

describe('omnilive ingest of a video: scene-cut clips with frame facts', () => {
  let dir: string;
  let clips: Clip[];
  let stderr: string;
  before(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'omnilive-video-'));
    const file = path.join(dir, 'scenes.mkv');
    const font = fs.existsSync(FONT) ? `fontfile=${FONT}:` : '';
    const args = ['-loglevel', 'error', '-y'];
    SCENES.forEach((s) => args.push('-t', String(s.seconds), '-f', 'lavfi', '-i', `${s.source}${s.source.includes('=') ? ':' : '='}s=640x360:r=5`));
    args.push('-f', 'lavfi', '-i', `anullsrc=r=16000:cl=mono`);
    const chains = SCENES.map((s, i) => `[${i}:v]${s.text ? `drawtext=${font}text='${s.text}':fontsize=56:fontcolor=${s.source.includes('white') || s.source.includes('orange') ? 'black' : 'white'}:x=(w-tw)/2:y=(h-th)/2,` : ''}format=yuv420p[v${i}]`);
    args.push('-filter_complex', `${chains.join(';')};${SCENES.map((_, i) => `[v${i}]`).join('')}concat=n=${SCENES.length}:v=1:a=0[v]`);
    args.push('-map', '[v]', '-map', `${SCENES.length}:a`, '-t', '300', '-c:v', 'mpeg4', '-q:v', '4', '-c:a', 'libopus', file);
    const made = spawnSync(FFMPEG_PATH, args);
    assert.equal(made.status, 0, made.stderr?.toString());
    const out = await run(process.execPath, [CLI, 'ingest', file, '--speed', 'max', '--jsonl', '--data', path.join(dir, 'data'), '--models', path.join(dir, 'models')], {
      maxBuffer: 512 * 1024 * 1024,
      timeout: 600_000,
      cwd: dir, // as a user would, from their own directory: the engine children must still load
    });
    stderr = out.stderr;
    clips = out.stdout.trim().split('\n').map((l) => JSON.parse(l)).filter((e) => e.type === 'omnilive.clip.committed').map((e) => e.clip);
  });
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('cuts a clip at every scene change, within one frame', () => {
    for (const cut of CUTS) {
      const starts = clips.filter((c) => Math.abs(c.start_ms - cut) <= 1000);
      assert.equal(starts.length, 1, `a clip starts at ${cut} ms (clips: ${clips.map((c) => `${c.start_ms}-${c.end_ms}`).join(' ')})`);
    }
  });

  it('never lets a clip span two scenes, and keeps clips to 16 frames', () => {
    for (const c of clips) {
      const spanned = CUTS.filter((cut) => c.start_ms + 1000 < cut && cut < c.end_ms - 1000);
      assert.deepEqual(spanned, [], `clip ${c.start_ms}-${c.end_ms}`);
      assert.ok(c.frame_count >= 1 && c.frame_count <= 16);
    }
    assert.equal(clips.at(-1)!.end_ms, 300_000);
  });

  it('reads the text each scene shows, and keeps a keyframe thumbnail', () => {
    let start = 0;
    for (const scene of SCENES) {
      const inScene = clips.filter((c) => c.start_ms >= start && c.end_ms <= start + scene.seconds * 1000);
      assert.ok(inScene.length >= 1);
      for (const c of inScene) {
        if (scene.text) assert.ok(normalize(c.ocr_text).includes(normalize(scene.text)), `${c.start_ms}: '${c.ocr_text}' should include '${scene.text}'`);
        assert.ok(Buffer.from(c.keyframe_jpeg, 'base64').subarray(0, 2).equals(Buffer.from([0xff, 0xd8])), 'JPEG thumbnail');
        assert.deepEqual(c.skipped, [], 'on the media clock no fact is skipped');
      }
      start += scene.seconds * 1000;
    }
    assert.match(stderr, /real time/);
  });

  it('names the colour that fills each plain scene, and its light', () => {
    const expected: Record<string, [string, string]> = { white: ['white', 'bright'], navy: ['blue', 'dark'], black: ['black', 'dark'], orange: ['orange', 'bright'], darkgreen: ['green', 'dark'] };
    let start = 0;
    for (const scene of SCENES) {
      const colour = /^color=c=(\w+)/.exec(scene.source)?.[1];
      const want = colour && expected[colour];
      if (want) {
        for (const c of clips.filter((c) => c.start_ms >= start && c.end_ms <= start + scene.seconds * 1000)) {
          assert.equal(c.scene?.colours[0]?.name, want[0], `${colour} scene at ${c.start_ms}: ${JSON.stringify(c.scene?.colours)}`);
          assert.ok(['dark', 'dim', 'bright'].includes(c.scene!.brightness));
          if (want[1] === 'bright') assert.equal(c.scene!.brightness, 'bright');
        }
      }
      start += scene.seconds * 1000;
    }
  });
});

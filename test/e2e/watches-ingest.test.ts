import assert from 'node:assert/strict';
import { execFile, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { FFMPEG_PATH } from '../../server/ingest/decode.ts';

const run = promisify(execFile);
const CLI = path.resolve(import.meta.dirname, '../../server/bin/omnilive.mjs');
const SAMPLES = path.resolve(path.dirname(createRequire(import.meta.url).resolve('@vladmandic/human')), '..', 'assets', 'samples.jpg');
const DEJAVU = '/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf';
const FONT = fs.existsSync(DEJAVU) ? `fontfile=${DEJAVU}:` : '';

/**
 * 9 s: a grey screen (0–3 s), "EXIT" in large letters (3–6 s), three people (6–9 s); a smoke
 * alarm's 3.1 kHz beeps from 4.5 to 7.5 s and silence around them. Watches are asked for at
 * the start, by typed "tell me when …", as a person would.
 */
describe('watches on a real file through the real engines (ingest): each fires at its evidence, not before, and the alarm is in memory', () => {
  let dir: string;
  let events: Record<string, any>[];
  before(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'omnilive-watches-'));
    const file = path.join(dir, 'watch.mp4');
    const made = spawnSync(FFMPEG_PATH, [
      '-loglevel', 'error', '-y',
      '-f', 'lavfi', '-i', 'color=c=gray:s=640x360:d=3:r=5',
      '-f', 'lavfi', '-i', `color=c=white:s=640x360:d=3:r=5,drawtext=${FONT}text=EXIT:fontsize=120:fontcolor=black:x=(w-tw)/2:y=(h-th)/2`,
      '-loop', '1', '-t', '3', '-r', '5', '-i', SAMPLES,
      '-f', 'lavfi', '-i', "aevalsrc='if(between(t,4.5,7.5)*lt(mod(t-4.5,0.5),0.25),0.5*sin(2*PI*3100*t),0)':s=16000:d=9",
      '-filter_complex', '[2:v]crop=358:160:545:0,scale=640:-2,pad=640:360:(ow-iw)/2:(oh-ih)/2,setsar=1,fps=5[c];[0:v][1:v][c]concat=n=3:v=1:a=0,format=yuv420p[v]',
      '-map', '[v]', '-map', '3:a', '-c:v', 'libx264', '-preset', 'ultrafast', '-c:a', 'aac', '-shortest', file,
    ]);
    assert.equal(made.status, 0, made.stderr?.toString());
    const asks = ['0=tell me when the screen shows exit', '0=let me know when a person appears', '0=warn me when the alarm goes off', '0=tell me when the scene changes', '8.8=when did the alarm go off?'];
    const { stdout } = await run(process.execPath, [CLI, 'ingest', file, '--speed', 'max', '--jsonl', '--data', path.join(dir, 'data'), '--models', path.join(dir, 'none'), ...asks.flatMap((a) => ['--ask', a])], { maxBuffer: 64 * 1024 * 1024, timeout: 180_000 });
    events = stdout.trim().split('\n').map((l) => JSON.parse(l));
  });
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  const firedFor = (kind: string) => events.filter((e) => e.type === 'omnilive.watch.fired' && e.watch.rule.kind === kind);

  it('four watches are made, each confirmed in one sentence', () => {
    const created = events.filter((e) => e.type === 'omnilive.watch.created');
    // "a person appears": the person count going up (the user is usually in view already).
    assert.deepEqual(created.map((e) => e.watch.rule.kind).sort(), ['object_count', 'scene_change', 'sound', 'text'], JSON.stringify(created.map((e) => e.watch)));
    assert.ok(created.every((e) => e.confirmation.split(/[.!?](\s|$)/).filter((x: string) => x && x.trim()).length === 1), 'one sentence each');
  });

  it('text on screen fires at the clip that shows it (3 s), not before', () => {
    const [fired, ...more] = firedFor('text');
    assert.ok(fired, 'fired');
    assert.equal(more.length, 0, 'a once watch fires once');
    assert.ok(fired.media_ms >= 2800 && fired.media_ms <= 3600, `media_ms ${fired.media_ms}`);
    assert.match(fired.evidence.text, /EXIT/i);
  });

  it('a person appearing fires when the people come on screen (6 s)', () => {
    const [fired] = firedFor('object_count');
    assert.ok(fired, JSON.stringify(events.filter((e) => e.type === 'omnilive.clip.committed').map((e) => [e.clip.start_ms, e.clip.objects])));
    assert.ok(fired.media_ms >= 5800 && fired.media_ms <= 6600, `media_ms ${fired.media_ms}`);
  });

  it('the alarm fires within its first seconds (4.5 s on), reported as a sound event too', () => {
    const [fired] = firedFor('sound');
    assert.ok(fired, 'fired');
    assert.ok(fired.media_ms >= 4300 && fired.media_ms <= 5500, `media_ms ${fired.media_ms}`);
    const alarms = events.filter((e) => e.type === 'omnilive.sound_event' && e.label === 'alarm');
    assert.ok(alarms.length > 0 && alarms.every((e) => e.start_ms >= 4300 && e.end_ms <= 7900), JSON.stringify(alarms));
  });

  it('the first scene change fires (at 3 s)', () => {
    const [fired] = firedFor('scene_change');
    assert.ok(fired && fired.media_ms >= 2800 && fired.media_ms <= 3600, JSON.stringify(fired));
  });

  it('the assistant spoke up unasked, naming the watch in the response metadata', () => {
    const unasked = events.filter((e) => e.type === 'response.done' && e.response.metadata?.proactive === 'true');
    assert.ok(unasked.length >= 1, 'at least one proactive answer');
    assert.ok(unasked.every((e) => e.response.metadata.watch_id.startsWith('watch_')));
  });

  it('"when did the alarm go off?" is answered from memory with its time', () => {
    const answers = events.filter((e) => e.type === 'response.done' && !e.response.metadata?.proactive && !e.response.metadata?.watch_request);
    const last = answers.at(-1)!.response.output.map((o: any) => o.content.map((p: any) => p.text ?? p.transcript ?? '').join(' ')).join(' ');
    assert.match(last, /alarm/i, last);
    assert.match(last, /00:0[4-5]/, last);
  });
});

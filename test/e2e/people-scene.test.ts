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

describe('a real photograph through ingest: people and colours in memory, and "what do you see?" answered from them', () => {
  let dir: string;
  let events: Record<string, any>[];
  before(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'omnilive-people-'));
    // Three women standing side by side (a strip of the package's sample photos), 4 s, no audio.
    const file = path.join(dir, 'three.mp4');
    const made = spawnSync(FFMPEG_PATH, ['-loglevel', 'error', '-y', '-loop', '1', '-i', SAMPLES, '-t', '4', '-r', '5', '-vf', 'crop=358:160:545:0,scale=640:-2,format=yuv420p', '-c:v', 'libx264', '-preset', 'ultrafast', file]);
    assert.equal(made.status, 0, made.stderr?.toString());
    const { stdout } = await run(process.execPath, [CLI, 'ingest', file, '--speed', 'max', '--jsonl', '--data', path.join(dir, 'data'), '--models', path.join(dir, 'none'), '--ask', '3.5=what do you see right now?'], { maxBuffer: 64 * 1024 * 1024, timeout: 120_000 });
    events = stdout.trim().split('\n').map((l) => JSON.parse(l));
  });
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('the clip carries the people (left, centre, right), with no age or gender, and the scene colours', () => {
    const clip = events.find((e) => e.type === 'omnilive.clip.committed')?.clip;
    assert.ok(clip, 'a clip was committed');
    assert.deepEqual(clip.people.map((p: { position: string }) => p.position).sort(), ['centre', 'left', 'right']);
    for (const person of clip.people) for (const key of Object.keys(person)) assert.ok(!/age|gender|descriptor/i.test(key), `no ${key}`);
    assert.ok(clip.scene.colours.length > 0);
    assert.equal(clip.scene.people.length, 3);
  });

  it('"what do you see right now?" is answered from the scene on screen, with the count', () => {
    const answer = events.filter((e) => e.type === 'response.done').map((e) => e.response.output[0]?.content[0]?.transcript ?? e.response.output[0]?.content[0]?.text).join(' ');
    assert.match(answer, /three people|3 people/i, answer);
    assert.doesNotMatch(answer, /you said/);
  });
});

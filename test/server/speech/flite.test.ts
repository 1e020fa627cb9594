import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { test } from 'node:test';
import { FliteTts } from '../../../server/speech/index.ts';

test('Flite speaks a sentence as 16 kHz mono speech', async () => {
  const tts = new FliteTts('slt');
  try {
    const audio = await tts.synthesize('The kettle is boiling.');
    assert.equal(audio.sampleRate, 16000);
    assert.ok(audio.pcm.length > 16000 * 0.8, `${audio.pcm.length} samples`);
    assert.ok(audio.pcm.some((s) => Math.abs(s) > 3000), 'not silence');
    await assert.rejects(tts.synthesize('x', { voice: 'alloy' }), TypeError);
  } finally {
    await tts.close();
  }
  await assert.rejects(tts.synthesize('after close'), /closed/);
});

test('a Flite process that dies is replaced, and the sentence is still spoken', async () => {
  const tts = new FliteTts('awb');
  try {
    await tts.synthesize('First.');
    // Kill the Flite child of this process, as a crash would.
    const children = execFileSync('ps', ['-o', 'pid=,args=', '--ppid', String(process.pid)], { encoding: 'utf8' });
    const flite = children.split('\n').filter((l) => l.includes('flite-process.mjs')).map((l) => Number(l.trim().split(/\s+/)[0]));
    assert.equal(flite.length, 1, children);
    process.kill(flite[0]!, 'SIGKILL');
    await new Promise((r) => setTimeout(r, 200));
    const again = await tts.synthesize('Second sentence after a crash.');
    assert.ok(again.pcm.length > 8000);
  } finally {
    await tts.close();
  }
});

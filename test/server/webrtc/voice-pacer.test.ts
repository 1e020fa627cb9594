import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { VoicePacer } from '../../../server/webrtc/voice-pacer.ts';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A voice that only counts the ticks it gets. */
function fakeVoice(busy = false) {
  return { ticks: 0, busy, tick() { this.ticks++; } };
}

describe('VoicePacer: one timer for the voices of one media server', () => {
  it('ticks every 10 ms while a voice is busy, every 100 ms while all are quiet, and not at all with none', async () => {
    const pacer = new VoicePacer();
    const quiet = fakeVoice();
    pacer.add(quiet);
    await sleep(450);
    assert.ok(quiet.ticks >= 2 && quiet.ticks <= 5, `quiet: ${quiet.ticks} ticks in 450 ms`);
    const talking = fakeVoice(true);
    pacer.add(talking);
    const before = quiet.ticks;
    await sleep(300);
    assert.ok(talking.ticks >= 10, `busy: ${talking.ticks} ticks in 300 ms`);
    assert.equal(quiet.ticks - before, talking.ticks, 'every voice is ticked by the one timer');
    pacer.delete(talking);
    pacer.delete(quiet);
    const after = quiet.ticks;
    await sleep(250);
    assert.equal(quiet.ticks, after, 'no timer without voices');
  });

  it('pacers of two servers are apart: closing one leaves the other ticking', async () => {
    const [a, b] = [new VoicePacer(), new VoicePacer()];
    const [va, vb] = [fakeVoice(true), fakeVoice(true)];
    a.add(va);
    b.add(vb);
    a.close();
    a.close();
    await sleep(150);
    assert.equal(va.ticks, 0);
    assert.ok(vb.ticks >= 5, `${vb.ticks} ticks`);
    b.close();
  });
});

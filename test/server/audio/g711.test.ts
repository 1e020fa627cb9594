import assert from 'node:assert/strict';
import { test } from 'node:test';
import { decodeAudio, decodeG711, encodeAudio, encodeG711 } from '../../../server/audio/g711.ts';

for (const law of ['pcmu', 'pcma'] as const) {
  test(`${law}: every code decodes and re-encodes to itself; pcm16 round-trips within G.711's step`, () => {
    const codes = Uint8Array.from({ length: 256 }, (_, i) => i);
    const decoded = decodeG711(codes, law);
    assert.deepEqual(decodeG711(encodeG711(decoded, law), law), decoded);
    const ramp = Int16Array.from({ length: 2000 }, (_, i) => Math.round(Math.sin(i / 40) * 30000));
    const back = decodeG711(encodeG711(ramp, law), law);
    for (let i = 0; i < ramp.length; i++) {
      // Logarithmic steps: at most ~1/16 of the value, and never more than a small absolute step near zero.
      assert.ok(Math.abs(back[i]! - ramp[i]!) <= Math.max(16, Math.abs(ramp[i]!) / 15), `${ramp[i]} → ${back[i]}`);
    }
  });
}

test('known values: silence and full scale (ITU-T G.711 tables)', () => {
  assert.deepEqual([...encodeG711(Int16Array.of(0, 32767, -32768), 'pcmu')], [0xff, 0x80, 0x00]);
  assert.deepEqual([...encodeG711(Int16Array.of(0, 32767, -32768), 'pcma')], [0xd5, 0xaa, 0x2a]);
});

test('pcm16 passes through as little-endian bytes', () => {
  const pcm = Int16Array.of(1, -2, 300);
  assert.deepEqual(decodeAudio(encodeAudio(pcm, 'pcm16'), 'pcm16'), pcm);
});

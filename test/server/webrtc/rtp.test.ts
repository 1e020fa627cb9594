import assert from 'node:assert/strict';
import dgram from 'node:dgram';
import { test } from 'node:test';
import { RtpPortPool, udpPortBound } from '../../../server/webrtc/rtp-ports.ts';
import { sdpFor } from '../../../server/webrtc/rtp-decoder.ts';

test('RtpPortPool: even RTP ports, RTCP above, never handed out twice while held', async () => {
  const pool = new RtpPortPool({ min: 51001, max: 51010 });
  const pairs = await Promise.all([pool.allocate(), pool.allocate(), pool.allocate()]);
  const rtp = pairs.map((p) => p.rtp);
  assert.equal(new Set(rtp).size, 3);
  for (const p of pairs) {
    assert.equal(p.rtp % 2, 0);
    assert.equal(p.rtcp, p.rtp + 1);
    assert.ok(p.rtp >= 51002 && p.rtcp <= 51010);
  }
  assert.equal(pool.held, 3);
  pairs[0]!.release();
  pairs[0]!.release(); // idempotent
  assert.equal(pool.held, 2);
});

test('RtpPortPool: skips ports another process holds, and says so when none is left', async () => {
  const blocker = dgram.createSocket('udp4');
  await new Promise<void>((r) => blocker.bind(51021, '127.0.0.1', () => r())); // the RTCP port of the first pair
  try {
    assert.equal(await udpPortBound(51021), true);
    const pool = new RtpPortPool({ min: 51020, max: 51023 });
    const pair = await pool.allocate();
    assert.equal(pair.rtp, 51022);
    await assert.rejects(pool.allocate(), /no free RTP port pair in 51020-51023/);
    pair.release();
  } finally {
    blocker.close();
  }
  assert.throws(() => new RtpPortPool({ min: 80, max: 90 }), /within 1024-65535/);
});

test('sdpFor: one m-line with the consumer payload type, codec and ports', () => {
  const sdp = sdpFor(
    {
      codecs: [{ mimeType: 'audio/opus', payloadType: 100, clockRate: 48000, channels: 2, parameters: { useinbandfec: 1 } }],
      encodings: [{ ssrc: 1234 }],
    },
    'audio',
    { rtp: 50000, rtcp: 50001 },
  );
  assert.match(sdp, /^m=audio 50000 RTP\/AVP 100$/m);
  assert.match(sdp, /^a=rtcp:50001$/m);
  assert.match(sdp, /^a=rtpmap:100 opus\/48000\/2$/m);
  assert.match(sdp, /^a=fmtp:100 useinbandfec=1$/m);
  const video = sdpFor({ codecs: [{ mimeType: 'video/VP8', payloadType: 101, clockRate: 90000 }] }, 'video', { rtp: 50002, rtcp: 50003 });
  assert.match(video, /^a=rtpmap:101 VP8\/90000$/m);
  assert.doesNotMatch(video, /fmtp/);
});

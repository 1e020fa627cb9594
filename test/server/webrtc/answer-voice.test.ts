// The answer voice on a real mediasoup router: what a receiver of the track gets, decoded.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import * as mediasoup from 'mediasoup';
import type { types as ms } from 'mediasoup';
import OpusScript from 'opusscript';
import { AnswerVoice } from '../../../server/webrtc/answer-voice.ts';
import { VoicePacer } from '../../../server/webrtc/voice-pacer.ts';

const RATE = 24000;

type Packet = { at: number; seq: number; timestamp: number; marker: boolean; pcm: Int16Array };

function tone(ms: number, hz: number): Int16Array {
  const out = new Int16Array((RATE * ms) / 1000);
  for (let i = 0; i < out.length; i++) out[i] = Math.round(8000 * Math.sin((2 * Math.PI * hz * i) / RATE));
  return out;
}

/** The payload of an RTP packet: past the CSRCs and any header extension (mediasoup adds some). */
function payloadOf(rtp: Buffer): Buffer {
  let offset = 12 + 4 * (rtp[0]! & 0x0f);
  if (rtp[0]! & 0x10) offset += 4 + 4 * rtp.readUInt16BE(offset + 2);
  const padding = rtp[0]! & 0x20 ? rtp[rtp.length - 1]! : 0;
  return rtp.subarray(offset, rtp.length - padding);
}

const rms = (pcm: Int16Array) => Math.sqrt(pcm.reduce((s, v) => s + v * v, 0) / Math.max(1, pcm.length));
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('AnswerVoice: answer audio as an Opus RTP track', () => {
  let worker: ms.Worker;
  let router: ms.Router;
  const pacer = new VoicePacer();

  before(async () => {
    worker = await mediasoup.createWorker({ logLevel: 'warn' });
    router = await worker.createRouter({ mediaCodecs: [{ kind: 'audio', mimeType: 'audio/opus', clockRate: 48000, channels: 2 }] });
  });
  after(() => {
    pacer.close();
    worker.close();
  });

  /** A receiver of the voice: every RTP packet it gets, decoded back to 24 kHz pcm16. */
  async function listen(voice: AnswerVoice) {
    const transport = await router.createDirectTransport();
    const consumer = await transport.consume({ producerId: voice.producer.id, rtpCapabilities: router.rtpCapabilities });
    const decoder = new OpusScript(RATE, 1);
    const packets: Packet[] = [];
    consumer.on('rtp', (rtp) => {
      const pcm = decoder.decode(payloadOf(rtp));
      packets.push({
        at: performance.now(),
        seq: rtp.readUInt16BE(2),
        timestamp: rtp.readUInt32BE(4),
        marker: (rtp[1]! & 0x80) !== 0,
        pcm: new Int16Array(pcm.buffer.slice(pcm.byteOffset, pcm.byteOffset + pcm.byteLength)),
      });
    });
    return {
      packets,
      close: () => {
        transport.close();
        decoder.delete();
      },
    };
  }

  it('between answers, a silent frame every 400 ms (as Opus DTX), in sequence, timestamps on the wall clock', async () => {
    const voice = await AnswerVoice.create(router, pacer);
    const rx = await listen(voice);
    await sleep(2000);
    voice.close();
    rx.close();
    const { packets } = rx;
    assert.ok(packets.length >= 4 && packets.length <= 6, `${packets.length} packets in 2 s`);
    for (let i = 1; i < packets.length; i++) {
      assert.equal(packets[i]!.seq, (packets[i - 1]!.seq + 1) & 0xffff, 'no sequence gaps: the receiver must not see loss');
      const rtpMs = ((packets[i]!.timestamp - packets[i - 1]!.timestamp) >>> 0) / 48;
      assert.ok(rtpMs > 300 && rtpMs < 500, `about 400 ms apart: RTP ${rtpMs} ms`);
    }
    // The timestamps keep the wall clock over the whole run; one packet's arrival may jitter
    // on a loaded machine (the receiver shares the event loop), so compare the span, not each gap.
    const first = packets[0]!;
    const last = packets.at(-1)!;
    const rtpSpan = ((last.timestamp - first.timestamp) >>> 0) / 48;
    const wallSpan = last.at - first.at;
    assert.ok(Math.abs(rtpSpan - wallSpan) < 60, `RTP ${rtpSpan} ms over ${wallSpan.toFixed(0)} ms of wall clock`);
    assert.ok(packets.every((p) => p.pcm.length === 480 && rms(p.pcm) < 50), 'silence decodes to silence');
    assert.equal(voice.spokenMs, 0);
  });

  it('plays queued answer audio at real time: the receiver decodes the same tone, for as long, marked as a talkspurt', async () => {
    const voice = await AnswerVoice.create(router, pacer);
    const rx = await listen(voice);
    await sleep(300); // quiet long enough that wrong timestamps (one frame per quiet packet) could not pass for the wall clock
    const enqueuedAt = performance.now();
    voice.enqueue(tone(600, 440), RATE);
    await sleep(1000);
    voice.close();
    rx.close();
    const voiced = rx.packets.filter((p) => rms(p.pcm) > 1000);
    assert.ok(voiced.length >= 28 && voiced.length <= 32, `${voiced.length} voiced frames for 600 ms`);
    const first = rx.packets.findIndex((p) => rms(p.pcm) > 1000);
    assert.ok(rx.packets[first]!.marker || rx.packets[first - 1]!.marker, 'the marker bit starts the talkspurt');
    const spurt = rx.packets.slice(first, first + 30);
    for (let i = 1; i < spurt.length; i++) assert.equal((spurt[i]!.timestamp - spurt[i - 1]!.timestamp) >>> 0, 960, '20 ms apart while speaking');
    // The talkspurt's timestamp follows the wall clock across the quiet time before it.
    const quietMs = ((rx.packets[first]!.timestamp - rx.packets[0]!.timestamp) >>> 0) / 48;
    const wallMs = rx.packets[first]!.at - rx.packets[0]!.at;
    // Generous: arrival times jitter on a loaded machine; a timestamp counting frames would be ~280 ms short.
    assert.ok(Math.abs(quietMs - wallMs) < 80, `RTP says ${quietMs.toFixed(0)} ms, the wall clock ${wallMs.toFixed(0)} ms`);
    // Paced by the clock, not sent in a burst: the last voiced frame comes about 600 ms after the first.
    const span = voiced.at(-1)!.at - voiced[0]!.at;
    assert.ok(span > 450 && span < 800, `voiced frames spread over ${Math.round(span)} ms`);
    assert.ok(voiced[0]!.at - enqueuedAt < 30, `first voiced frame ${Math.round(voiced[0]!.at - enqueuedAt)} ms after enqueue`);
    // Zero crossings of the middle of the tone give back its pitch.
    const middle = voiced.slice(5, -5).flatMap((p) => Array.from(p.pcm));
    let crossings = 0;
    for (let i = 1; i < middle.length; i++) if (middle[i - 1]! < 0 !== middle[i]! < 0) crossings++;
    const hz = crossings / 2 / (middle.length / RATE);
    assert.ok(Math.abs(hz - 440) < 15, `decoded tone at ${hz.toFixed(1)} Hz`);
    assert.equal(voice.spokenMs, 600);
  });

  it('clear() silences the track from the next frame: barge-in', async () => {
    const voice = await AnswerVoice.create(router, pacer);
    const rx = await listen(voice);
    voice.enqueue(tone(3000, 300), RATE);
    await sleep(400);
    voice.clear();
    const clearedAt = performance.now();
    await sleep(600);
    voice.close();
    rx.close();
    const after = rx.packets.filter((p) => p.at > clearedAt + 45); // one frame in flight, and Opus's tail
    assert.ok(after.length >= 1, 'the track stays alive');
    assert.ok(after.every((p) => rms(p.pcm) < 200), 'silent after clear()');
    assert.ok(after.length <= 3, `${after.length} packets in the 555 ms after: back to the quiet rate`);
    assert.equal(voice.queuedMs, 0);
    assert.ok(voice.spokenMs >= 300 && voice.spokenMs <= 500, `${voice.spokenMs} ms spoken before the clear`);
  });

  /** Zero crossings give back a tone's pitch. */
  function pitch(packets: Packet[]): number {
    const pcm = packets.flatMap((p) => Array.from(p.pcm));
    let crossings = 0;
    for (let i = 1; i < pcm.length; i++) if (pcm[i - 1]! < 0 !== pcm[i]! < 0) crossings++;
    return crossings / 2 / (pcm.length / RATE);
  }

  it('pause() goes quiet from the next frame, keeps what arrives, and resume() goes on with the next sample: nothing lost or repeated', async () => {
    const voice = await AnswerVoice.create(router, pacer);
    const rx = await listen(voice);
    await sleep(100);
    voice.enqueue(tone(600, 300), RATE);
    await sleep(200);
    voice.pause();
    const pausedAt = performance.now();
    const spokenAtPause = voice.spokenMs;
    voice.enqueue(tone(200, 600), RATE); // the answer goes on arriving while paused
    assert.equal(voice.queuedMs, 800 - spokenAtPause, 'queued behind the rest, none dropped');
    await sleep(500);
    assert.equal(voice.spokenMs, spokenAtPause, 'no answer audio sent while paused');
    assert.equal(voice.busy, false, 'the shared timer may slow down');
    voice.resume();
    const resumedAt = performance.now();
    await sleep(900);
    voice.close();
    rx.close();

    assert.equal(voice.spokenMs, 800, 'every 20 ms frame sent once');
    const held = rx.packets.filter((p) => p.at > pausedAt + 45 && p.at < resumedAt);
    assert.ok(held.every((p) => rms(p.pcm) < 200), 'silent while paused');
    assert.ok(held.length <= 3, `${held.length} packets in the ~455 ms paused: the quiet rate`);
    const before = rx.packets.filter((p) => p.at < pausedAt && rms(p.pcm) > 1000);
    const resumed = rx.packets.filter((p) => p.at >= resumedAt && rms(p.pcm) > 1000);
    assert.ok(before.length + resumed.length >= 38 && before.length + resumed.length <= 42, `${before.length} + ${resumed.length} voiced frames for 800 ms`);
    // At full strength from its first frame: the receiver does not hear it fade back in.
    assert.ok(resumed[0]!.at - resumedAt < 40, `first voiced frame ${Math.round(resumed[0]!.at - resumedAt)} ms after resume()`);
    const first = rx.packets.indexOf(resumed[0]!);
    assert.ok(rx.packets[first]!.marker || rx.packets[first - 1]!.marker, 'the marker bit starts the resumed talkspurt');
    for (let i = first + 1; i < first + 25; i++) assert.equal((rx.packets[i]!.timestamp - rx.packets[i - 1]!.timestamp) >>> 0, 960, '20 ms apart again');
    // The pause is in the RTP timestamps as it was on the wall clock (the receiver's jitter buffer sees a gap, not a burst).
    const last = before.at(-1)!;
    const rtpGap = ((resumed[0]!.timestamp - last.timestamp) >>> 0) / 48;
    const wallGap = resumed[0]!.at - last.at;
    assert.ok(Math.abs(rtpGap - wallGap) < 40, `RTP says ${rtpGap.toFixed(0)} ms, the wall clock ${wallGap.toFixed(0)} ms`);
    // In order: the rest of the 300 Hz tone, then what arrived while paused.
    const hzRest = pitch(resumed.slice(3, -13));
    const hzLate = pitch(resumed.slice(-8, -2));
    assert.ok(Math.abs(hzRest - 300) < 15, `the rest of the first tone at ${hzRest.toFixed(1)} Hz`);
    assert.ok(Math.abs(hzLate - 600) < 25, `then the second at ${hzLate.toFixed(1)} Hz`);
  });

  it('a pause holds audio that arrives into a quiet voice; resume() sends its first frame at once; clear() ends a pause', async () => {
    const voice = await AnswerVoice.create(router, pacer);
    voice.pause();
    voice.enqueue(new Int16Array(2400), RATE);
    assert.equal(voice.queuedMs, 100, 'nothing went out');
    assert.equal(voice.spokenMs, 0);
    voice.resume();
    assert.equal(voice.paused, false);
    assert.equal(voice.queuedMs, 80, 'the first 20 ms went out at once');
    voice.resume(); // not paused: nothing to do
    voice.pause();
    voice.clear();
    assert.equal(voice.paused, false, 'a cancelled answer is not held');
    assert.equal(voice.queuedMs, 0);
    await sleep(60); // the talkspurt ends with a silent frame
    voice.enqueue(new Int16Array(2400), RATE);
    assert.equal(voice.queuedMs, 80, 'the next answer plays at once');
    voice.close();
    voice.pause(); // ignored once closed
    assert.equal(voice.paused, false);
  });

  it('takes 16 kHz answers too, refuses other rates, and close() ends the producer and its transport', async () => {
    const voice = await AnswerVoice.create(router, pacer);
    voice.enqueue(new Int16Array(1600), 16000);
    assert.equal(voice.queuedMs, 80, 'the first 20 ms of 100 went out at once');
    assert.throws(() => voice.enqueue(new Int16Array(10), 44100), /16 or 24 kHz/);
    voice.close();
    assert.equal(voice.producer.closed, true);
    voice.close(); // idempotent
    voice.enqueue(tone(100, 440), RATE); // ignored once closed
    assert.equal(voice.queuedMs, 0);
  });
});

import OpusScript from 'opusscript';
import type { types as ms } from 'mediasoup';

/** Opus frames of 20 ms: what browsers send and expect. */
const FRAME_MS = 20;
/** RTP clock of Opus in WebRTC, whatever the sample rate encoded. */
const RTP_CLOCK = 48_000;
const PAYLOAD_TYPE = 100;
/** How late the pacer may fall (a stalled event loop) before it skips ahead instead of bursting. */
const MAX_CATCH_UP_FRAMES = 10;

/**
 * The assistant's voice as a WebRTC audio track: answer pcm16 is Opus-encoded in 20 ms frames
 * and sent as RTP into the session's router by a mediasoup DirectTransport, paced by the wall
 * clock, so the browser plays it from a remote track. Browsers cancel the echo of remote
 * WebRTC audio; audio played through WebAudio (the WebSocket path) they do not cancel in
 * Chromium, and the assistant's own voice then interrupts it from laptop speakers.
 *
 * Silence is sent between answers (one pre-encoded frame) so the receiver's jitter buffer
 * stays steady; clear() drops what is queued at once (barge-in).
 */
export class AnswerVoice {
  readonly producer: ms.Producer;
  readonly #transport: ms.DirectTransport;
  #rate = 24000;
  #frameSamples = 0;
  #encoder: OpusScript | undefined;
  #silence: Buffer = Buffer.alloc(0);
  readonly #ssrc: number;
  #queue: Int16Array[] = [];
  #queuedSamples = 0;
  #seq = Math.floor(Math.random() * 0xffff);
  #timestamp = Math.floor(Math.random() * 0xffffffff);
  #startedAt = 0;
  #framesSent = 0;
  #speaking = false;
  #timer: NodeJS.Timeout | undefined;
  /** Answer audio sent as RTP (not silence), in ms. */
  spokenMs = 0;

  private constructor(transport: ms.DirectTransport, producer: ms.Producer, ssrc: number) {
    this.#transport = transport;
    this.producer = producer;
    this.#ssrc = ssrc;
    this.#useRate(24000);
    producer.observer.once('close', () => this.close());
  }

  static async create(router: ms.Router): Promise<AnswerVoice> {
    const transport = await router.createDirectTransport();
    const ssrc = 1 + Math.floor(Math.random() * 0x7ffffffe);
    try {
      const producer = await transport.produce({
        kind: 'audio',
        rtpParameters: {
          codecs: [{ mimeType: 'audio/opus', payloadType: PAYLOAD_TYPE, clockRate: RTP_CLOCK, channels: 2, parameters: { 'sprop-stereo': 0, useinbandfec: 0 } }],
          encodings: [{ ssrc }],
        },
        appData: { voice: true },
      });
      const voice = new AnswerVoice(transport, producer, ssrc);
      voice.#start();
      return voice;
    } catch (error) {
      transport.close();
      throw error;
    }
  }

  /** Answer audio waiting to be sent, in ms. */
  get queuedMs(): number {
    return (this.#queuedSamples * 1000) / this.#rate;
  }

  /** Queues answer audio (pcm16 at the session's output rate); it plays from the next 20 ms frame on. */
  enqueue(pcm: Int16Array, rate: number): void {
    if (this.#timer === undefined || pcm.length === 0) return;
    if (rate !== this.#rate) this.#useRate(rate);
    this.#queue.push(pcm);
    this.#queuedSamples += pcm.length;
  }

  /** Drops everything not yet sent: the browser hears at most what its jitter buffer holds. */
  clear(): void {
    this.#queue = [];
    this.#queuedSamples = 0;
  }

  close(): void {
    if (this.#timer === undefined) return;
    clearInterval(this.#timer);
    this.#timer = undefined;
    this.clear();
    this.#encoder?.delete();
    this.#encoder = undefined;
    this.#transport.close();
  }

  /** Opus takes 16 or 24 kHz input as it is; the RTP clock stays 48 kHz. A change drops what is queued. */
  #useRate(rate: number): void {
    if (rate !== 16000 && rate !== 24000) throw new TypeError(`answer audio must be 16 or 24 kHz, got ${rate}`);
    this.clear();
    this.#encoder?.delete();
    this.#rate = rate;
    this.#frameSamples = (rate * FRAME_MS) / 1000;
    this.#encoder = new OpusScript(rate, 1, OpusScript.Application.VOIP);
    this.#encoder.setBitrate(32_000);
    this.#silence = this.#encoder.encode(Buffer.alloc(this.#frameSamples * 2), this.#frameSamples);
  }

  #start(): void {
    this.#startedAt = performance.now();
    // A 10 ms tick against the wall clock: setInterval drifts, the frame count does not.
    this.#timer = setInterval(() => this.#tick(), FRAME_MS / 2);
    this.#timer.unref();
  }

  #tick(): void {
    const due = Math.floor((performance.now() - this.#startedAt) / FRAME_MS);
    if (due - this.#framesSent > MAX_CATCH_UP_FRAMES) {
      // The loop stalled: skip the missed time (the timestamp moves on) rather than burst it.
      const skipped = due - this.#framesSent - 1;
      this.#framesSent += skipped;
      this.#timestamp = (this.#timestamp + skipped * (RTP_CLOCK / 1000) * FRAME_MS) >>> 0;
    }
    while (this.#framesSent < due && this.#timer !== undefined) this.#sendFrame();
  }

  #sendFrame(): void {
    const frame = this.#takeFrame();
    const speaking = frame !== undefined;
    const payload = frame ? this.#encoder!.encode(Buffer.from(frame.buffer, frame.byteOffset, frame.byteLength), this.#frameSamples) : this.#silence;
    if (frame) this.spokenMs += FRAME_MS;
    const header = Buffer.alloc(12);
    header[0] = 0x80; // version 2
    header[1] = PAYLOAD_TYPE | (speaking && !this.#speaking ? 0x80 : 0); // marker: a talkspurt begins
    header.writeUInt16BE(this.#seq, 2);
    header.writeUInt32BE(this.#timestamp, 4);
    header.writeUInt32BE(this.#ssrc, 8);
    this.#speaking = speaking;
    this.#seq = (this.#seq + 1) & 0xffff;
    this.#timestamp = (this.#timestamp + (RTP_CLOCK / 1000) * FRAME_MS) >>> 0;
    this.#framesSent++;
    if (!this.producer.closed) this.producer.send(Buffer.concat([header, payload]));
  }

  /** The next 20 ms of queued audio (the end of an answer padded with silence), or none. */
  #takeFrame(): Int16Array | undefined {
    if (this.#queuedSamples === 0) return undefined;
    const frame = new Int16Array(this.#frameSamples);
    let filled = 0;
    while (filled < frame.length && this.#queue.length) {
      const head = this.#queue[0]!;
      const n = Math.min(head.length, frame.length - filled);
      frame.set(head.subarray(0, n), filled);
      filled += n;
      if (n === head.length) this.#queue.shift();
      else this.#queue[0] = head.subarray(n);
    }
    this.#queuedSamples -= filled;
    return frame;
  }
}

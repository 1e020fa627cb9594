import OpusScript from 'opusscript';
import type { types as ms } from 'mediasoup';
import { FRAME_MS, type Ticking, type VoicePacer } from './voice-pacer.ts';

/** RTP clock of Opus in WebRTC, whatever the sample rate encoded. */
const RTP_CLOCK = 48_000;
const PAYLOAD_TYPE = 100;
/** How late the pacer may fall (a stalled event loop) before it skips ahead instead of bursting. */
const MAX_CATCH_UP_FRAMES = 10;
/** Between answers one silent frame in this many is sent, as Opus DTX does (every 400 ms). */
const IDLE_EVERY = 20;
/** opus_encoder_ctl request: back to a fresh encoder's state, settings kept. */
const OPUS_RESET_STATE = 4028;

/**
 * The assistant's voice as a WebRTC audio track: answer pcm16 is Opus-encoded in 20 ms frames
 * and sent as RTP into the session's router by a mediasoup DirectTransport, paced by the wall
 * clock, so the browser plays it from a remote track. Browsers cancel the echo of remote
 * WebRTC audio; audio played through WebAudio (the WebSocket path) they do not cancel in
 * Chromium, and the assistant's own voice then interrupts it from laptop speakers.
 *
 * Between answers the track is discontinuous the way Opus DTX makes it: a silent frame every
 * 400 ms keeps it alive, the RTP timestamp keeps the wall clock, and the marker bit starts the
 * next talkspurt (a silence frame every 20 ms cost most of what speaking costs). clear() drops
 * what is queued at once (barge-in). pause() holds the queue from the next frame on (a sound
 * that may be the user starting to talk) and the track goes quiet exactly as between answers;
 * resume() starts a new talkspurt with the next unsent sample.
 */
export class AnswerVoice implements Ticking {
  readonly producer: ms.Producer;
  readonly #transport: ms.DirectTransport;
  readonly #pacer: VoicePacer;
  #rate = 24000;
  #frameSamples = 0;
  #encoder: OpusScript | undefined;
  #silence: Buffer = Buffer.alloc(0);
  readonly #ssrc: number;
  #queue: Int16Array[] = [];
  #queuedSamples = 0;
  #seq = Math.floor(Math.random() * 0xffff);
  /** RTP timestamp at #epoch; a frame's timestamp is its send time on the wall clock. */
  readonly #ts0 = Math.floor(Math.random() * 0xffffffff);
  #epoch = 0;
  /** Frame i is sent at #startedAt + (i + 1) · 20 ms; moved when a talkspurt starts. */
  #startedAt = 0;
  #framesSent = 0;
  #speaking = false;
  /** Held by pause(): queued audio waits, the track is quiet. */
  #paused = false;
  #open = false;
  /** Answer audio sent as RTP (not silence), in ms. */
  spokenMs = 0;

  private constructor(transport: ms.DirectTransport, producer: ms.Producer, ssrc: number, pacer: VoicePacer) {
    this.#transport = transport;
    this.#pacer = pacer;
    this.producer = producer;
    this.#ssrc = ssrc;
    this.#useRate(24000);
    producer.observer.once('close', () => this.close());
  }

  /** The voice is sent on `pacer`'s timer, shared with the other voices it paces. */
  static async create(router: ms.Router, pacer: VoicePacer): Promise<AnswerVoice> {
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
      const voice = new AnswerVoice(transport, producer, ssrc, pacer);
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
    if (!this.#open || pcm.length === 0) return;
    if (rate !== this.#rate) this.#useRate(rate);
    // While paused the audio only waits in the queue: resume() starts its talkspurt.
    const wasQuiet = !this.busy && !this.#paused;
    if (wasQuiet) {
      this.tick(); // the quiet frames due so far pass first
      this.#startTalkspurt();
    }
    this.#queue.push(pcm);
    this.#queuedSamples += pcm.length;
    if (wasQuiet) {
      this.tick();
      this.#pacer.pace();
    }
  }

  /** Whether pause() holds the answer. */
  get paused(): boolean {
    return this.#paused;
  }

  /**
   * Holds what is queued from the next frame on; audio still arriving is queued behind it. The
   * frame after the last spoken one is silent and ends the talkspurt, then the track is quiet
   * as between answers (and the shared timer slows down).
   */
  pause(): void {
    if (this.#open) this.#paused = true;
  }

  /** Goes on with the next unsent sample, as a new talkspurt stamped on the wall clock. */
  resume(): void {
    if (!this.#paused) return;
    this.tick(); // the frames due while paused go out quiet
    this.#paused = false;
    // No frame went out since pause(): the talkspurt goes on. Nothing queued: nothing to start.
    if (this.#speaking || this.#queuedSamples === 0) return;
    this.#startTalkspurt();
    this.tick();
    this.#pacer.pace();
  }

  /** Drops everything not yet sent and ends a pause: the browser hears at most what its jitter buffer holds. */
  clear(): void {
    this.#drop();
    this.#paused = false;
  }

  #drop(): void {
    this.#queue = [];
    this.#queuedSamples = 0;
  }

  /**
   * A talkspurt starts now, not at the next frame boundary of the quiet clock: once the quiet
   * frames due so far have passed, the clock moves so the first frame of the audio is due.
   */
  #startTalkspurt(): void {
    this.#startedAt = performance.now() - (this.#framesSent + 1) * FRAME_MS;
    // The receiver decoded silence since the last spoken frame: an encoder still predicting from
    // that frame makes its first ~150 ms decode faint (a resumed answer would fade back in).
    this.#encoder?.encoderCTL(OPUS_RESET_STATE, 0);
  }

  close(): void {
    if (!this.#open) return;
    this.#open = false;
    this.#pacer.delete(this);
    this.clear();
    this.#encoder?.delete();
    this.#encoder = undefined;
    this.#transport.close();
  }

  /** Opus takes 16 or 24 kHz input as it is; the RTP clock stays 48 kHz. A change drops what is queued (a pause stays). */
  #useRate(rate: number): void {
    if (rate !== 16000 && rate !== 24000) throw new TypeError(`answer audio must be 16 or 24 kHz, got ${rate}`);
    this.#drop();
    this.#encoder?.delete();
    this.#rate = rate;
    this.#frameSamples = (rate * FRAME_MS) / 1000;
    this.#encoder = new OpusScript(rate, 1, OpusScript.Application.VOIP);
    this.#encoder.setBitrate(32_000);
    this.#silence = this.#encoder.encode(Buffer.alloc(this.#frameSamples * 2), this.#frameSamples);
  }

  /** Speaking, or audio queued and not paused: the shared timer runs at the frame rate. */
  get busy(): boolean {
    return this.#speaking || (this.#queuedSamples > 0 && !this.#paused);
  }

  #start(): void {
    this.#startedAt = this.#epoch = performance.now();
    this.#open = true;
    this.#pacer.add(this);
  }

  /** Sends the frames due by the wall clock since the start. For the shared timer. */
  tick(): void {
    const due = Math.floor((performance.now() - this.#startedAt) / FRAME_MS);
    if (due - this.#framesSent > MAX_CATCH_UP_FRAMES) {
      // The loop stalled: skip the missed time (the timestamp moves on) rather than burst it.
      this.#framesSent = due - 1;
    }
    while (this.#framesSent < due && this.#open) this.#sendFrame();
  }

  #sendFrame(): void {
    const frame = this.#takeFrame();
    const speaking = frame !== undefined;
    if (!speaking && !this.#speaking && this.#framesSent % IDLE_EVERY !== 0) {
      // Silence between answers: the frame's time passes without a packet.
      this.#framesSent++;
      return;
    }
    const payload = frame ? this.#encoder!.encode(Buffer.from(frame.buffer, frame.byteOffset, frame.byteLength), this.#frameSamples) : this.#silence;
    if (frame) this.spokenMs += FRAME_MS;
    const header = Buffer.alloc(12);
    header[0] = 0x80; // version 2
    header[1] = PAYLOAD_TYPE | (speaking && !this.#speaking ? 0x80 : 0); // marker: a talkspurt begins
    header.writeUInt16BE(this.#seq, 2);
    // Timestamps are send times on the wall clock: a talkspurt's frames are paced 20 ms apart; a
    // quiet frame goes out on the slower quiet tick, so it is stamped when it is really sent.
    const sendAt = speaking || this.#speaking ? this.#startedAt + (this.#framesSent + 1) * FRAME_MS : performance.now();
    header.writeUInt32BE((this.#ts0 + Math.round((sendAt - this.#epoch) * (RTP_CLOCK / 1000))) >>> 0, 4);
    header.writeUInt32BE(this.#ssrc, 8);
    this.#speaking = speaking;
    this.#seq = (this.#seq + 1) & 0xffff;
    this.#framesSent++;
    if (!this.producer.closed) this.producer.send(Buffer.concat([header, payload]));
  }

  /** The next 20 ms of queued audio (the end of an answer padded with silence), or none (also while paused). */
  #takeFrame(): Int16Array | undefined {
    if (this.#queuedSamples === 0 || this.#paused) return undefined;
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

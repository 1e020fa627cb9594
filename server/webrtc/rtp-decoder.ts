import { spawn, type ChildProcessByStdio } from 'node:child_process';
import fs from 'node:fs';
import type { Readable, Writable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import type { types as ms } from 'mediasoup';
import { TypedEmitter } from '../events/typed-emitter.ts';
import { FFMPEG_PATH, fixedPieces } from '../ingest/decode.ts';
import type { VideoFrame } from '../perception/video/types.ts';
import { udpPortBound, type RtpPortPair, type RtpPortPool } from './rtp-ports.ts';

/**
 * ffmpeg runs through this wrapper where util-linux's setpriv exists, so it gets SIGKILL when
 * the server dies: a killed server leaves no decoder behind listening on its port. The wrapper
 * runs the ffmpeg named by OMNILIVE_FFMPEG in the environment each decoder is spawned with.
 */
const TIED_FFMPEG = fileURLToPath(new URL('./ffmpeg-tied.sh', import.meta.url));
const CAN_TIE = fs.existsSync('/usr/bin/setpriv') || fs.existsSync('/bin/setpriv');

export interface RtpDecoderOptions {
  router: ms.Router;
  producer: ms.Producer;
  ports: RtpPortPool;
  /** Audio: pcm16 mono at this rate. */
  audioRate: number;
  /** Video: RGB24 frames at this rate, fitted (aspect kept, padded) into width × height. */
  video: { fps: number; width: number; height: number };
}

export type RtpDecoderEvents = {
  /** pcm16 mono at `audioRate`, as ffmpeg hands it out. */
  audio: [Int16Array];
  /** An RGB24 frame; `t` is left 0 for the session to stamp on its own timeline. */
  frame: [VideoFrame];
  /** ffmpeg exited on its own: the decoder is closed. */
  failed: [Error];
  close: [];
};

/** Frames must keep coming: with none for this long the consumer asks the sender for a keyframe. */
const FRAME_STALL_MS = 2500;
const LISTEN_TIMEOUT_MS = 5000;

/**
 * One producer's media, decoded for the session: a PlainTransport consumer sends its RTP to
 * an ffmpeg that reads an SDP describing exactly that consumer, and writes pcm16 or RGB
 * frames to stdout. Owns the transport, the consumer, the port pair and the process.
 */
export class RtpDecoder extends TypedEmitter<RtpDecoderEvents> {
  readonly kind: ms.MediaKind;
  readonly #options: RtpDecoderOptions;
  #transport: ms.PlainTransport | undefined;
  #consumer: ms.Consumer | undefined;
  #ports: RtpPortPair | undefined;
  #ffmpeg: ChildProcessByStdio<Writable, Readable, Readable> | undefined;
  #stallTimer: NodeJS.Timeout | undefined;
  #lastOutput = 0;
  #closed = false;
  /** Keyframes asked of the sender so far (at start, then one per stall). */
  keyFrameRequests = 0;

  private constructor(options: RtpDecoderOptions) {
    super();
    this.kind = options.producer.kind;
    this.#options = options;
  }

  static async start(options: RtpDecoderOptions): Promise<RtpDecoder> {
    const decoder = new RtpDecoder(options);
    try {
      await decoder.#start();
    } catch (error) {
      decoder.close();
      throw error;
    }
    return decoder;
  }

  async #start(): Promise<void> {
    const { router, producer, ports } = this.#options;
    this.#ports = await ports.allocate();
    this.#transport = await router.createPlainTransport({ listenInfo: { protocol: 'udp', ip: '127.0.0.1' }, rtcpMux: false, comedia: false });
    await this.#transport.connect({ ip: '127.0.0.1', port: this.#ports.rtp, rtcpPort: this.#ports.rtcp });
    // Paused until ffmpeg listens, so the first packets (and the keyframe) are not lost.
    this.#consumer = await this.#transport.consume({ producerId: producer.id, rtpCapabilities: router.rtpCapabilities, paused: true });
    this.#consumer.on('producerclose', () => this.close());
    this.#consumer.on('transportclose', () => this.close());
    this.#spawn(sdpFor(this.#consumer.rtpParameters, this.kind, this.#ports));
    await this.#waitListening();
    if (this.#closed) throw new Error('the decoder closed while starting');
    await this.#consumer.resume();
    if (this.kind === 'video') {
      void this.requestKeyFrame();
      this.#lastOutput = performance.now();
      this.#stallTimer = setInterval(() => {
        if (performance.now() - this.#lastOutput > FRAME_STALL_MS && !this.#options.producer.paused) void this.requestKeyFrame();
      }, FRAME_STALL_MS / 2);
      this.#stallTimer.unref();
    }
  }

  async requestKeyFrame(): Promise<void> {
    if (this.#closed || !this.#consumer) return;
    this.keyFrameRequests++;
    this.#lastOutput = performance.now(); // one request per stall period
    await this.#consumer.requestKeyFrame().catch(() => {});
  }

  #spawn(sdp: string): void {
    const { audioRate, video } = this.#options;
    // Live input: no probing delay, no input buffering, tolerate the odd late packet.
    const input = ['-f', 'sdp', '-protocol_whitelist', 'pipe,udp,rtp', '-fflags', '+nobuffer', '-flags', 'low_delay', '-analyzeduration', '0', '-probesize', '32', '-reorder_queue_size', '32', '-i', 'pipe:0'];
    const output =
      this.kind === 'audio'
        ? ['-ac', '1', '-ar', String(audioRate), '-acodec', 'pcm_s16le', '-vn', '-f', 's16le', '-flush_packets', '1', 'pipe:1']
        : ['-an', '-filter:v', `fps=${video.fps},scale=${video.width}:${video.height}:force_original_aspect_ratio=decrease,pad=${video.width}:${video.height}:(ow-iw)/2:(oh-ih)/2`, '-pix_fmt', 'rgb24', '-flush_packets', '1', '-f', 'rawvideo', 'pipe:1'];
    const child = spawn(CAN_TIE ? TIED_FFMPEG : FFMPEG_PATH, [...input, ...output], {
      env: { ...process.env, OMNILIVE_FFMPEG: FFMPEG_PATH },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stderr = '';
    child.stderr.setEncoding('utf8').on('data', (text: string) => (stderr = (stderr + text).slice(-4096)));
    child.stdin.on('error', () => {}); // ffmpeg gone before it read the SDP: 'close' tells
    child.stdin.end(sdp);
    const stopped = (why: string) => {
      if (this.#closed) return;
      const detail = stderr.trim().split('\n').slice(-3).join(' | ');
      this.safeEmit('failed', new Error(`the ${this.kind} decoder (ffmpeg) stopped: ${why}${detail ? ` (${detail})` : ''}`));
      this.close();
    };
    child.once('error', (error) => stopped(error.message));
    child.once('close', (code, signal) => {
      if (signal) stopped(`ffmpeg was killed with signal ${signal}`);
      else if (code) stopped(`ffmpeg exited with code ${code}`);
      else if (!this.#closed) {
        this.safeEmit('failed', new Error(`the ${this.kind} decoder (ffmpeg) ended unexpectedly`));
        this.close();
      }
    });
    if (this.kind === 'audio') this.#readAudio(child.stdout);
    else void this.#readFrames(child.stdout);
    this.#ffmpeg = child;
  }

  /** ffmpeg binds its RTP port once it has read the SDP; until then packets would be dropped.
   *  Watched in the kernel's socket table: probing with a bind of our own could make ffmpeg's fail. */
  async #waitListening(): Promise<void> {
    const deadline = performance.now() + LISTEN_TIMEOUT_MS;
    const port = this.#ports!.rtp;
    while (!this.#closed && performance.now() < deadline) {
      if (await udpPortBound(port)) return;
      await new Promise((r) => setTimeout(r, 20));
    }
    if (!this.#closed) throw new Error(`ffmpeg did not start listening on RTP port ${port} within ${LISTEN_TIMEOUT_MS} ms`);
  }

  #readAudio(out: NodeJS.ReadableStream): void {
    let odd: Buffer | undefined;
    out.on('data', (chunk: Buffer) => {
      if (this.#closed) return;
      let data = odd ? Buffer.concat([odd, chunk]) : chunk;
      odd = undefined;
      if (data.length % 2) {
        odd = data.subarray(data.length - 1);
        data = data.subarray(0, data.length - 1);
      }
      if (data.length === 0) return;
      const pcm = new Int16Array(data.length / 2);
      Buffer.from(pcm.buffer).set(data);
      this.#lastOutput = performance.now();
      this.safeEmit('audio', pcm);
    });
    out.on('error', () => {});
  }

  async #readFrames(out: NodeJS.ReadableStream): Promise<void> {
    const { width, height } = this.#options.video;
    try {
      for await (const piece of fixedPieces(out as AsyncIterable<Buffer>, width * height * 3)) {
        if (this.#closed) return;
        this.#lastOutput = performance.now();
        this.safeEmit('frame', { t: 0, width, height, data: new Uint8Array(piece) });
      }
    } catch {
      // ffmpeg killed: close() or the exit handler has it
    }
  }

  /** Idempotent: kills ffmpeg, closes the consumer and its transport, frees the ports. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    clearInterval(this.#stallTimer);
    try {
      this.#ffmpeg?.kill('SIGKILL');
    } catch {
      // already gone
    }
    this.#consumer?.close();
    this.#transport?.close();
    this.#ports?.release();
    this.safeEmit('close');
  }
}

/** The SDP ffmpeg reads: one m-line for exactly the consumer's codec, ports and payload type. */
export function sdpFor(rtp: ms.RtpParameters, kind: ms.MediaKind, ports: { rtp: number; rtcp: number }): string {
  const codec = rtp.codecs[0];
  if (!codec) throw new Error('the consumer has no codec');
  const [, name] = codec.mimeType.split('/');
  const channels = kind === 'audio' && codec.channels ? `/${codec.channels}` : '';
  const fmtp = Object.entries(codec.parameters ?? {})
    .map(([k, v]) => `${k}=${v}`)
    .join(';');
  return [
    'v=0',
    'o=- 0 0 IN IP4 127.0.0.1',
    's=omnilive',
    'c=IN IP4 127.0.0.1',
    't=0 0',
    `m=${kind} ${ports.rtp} RTP/AVP ${codec.payloadType}`,
    `a=rtcp:${ports.rtcp}`,
    `a=rtpmap:${codec.payloadType} ${name}/${codec.clockRate}${channels}`,
    ...(fmtp ? [`a=fmtp:${codec.payloadType} ${fmtp}`] : []),
    'a=recvonly',
    '',
  ].join('\r\n');
}

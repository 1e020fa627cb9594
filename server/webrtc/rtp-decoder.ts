import ffmpeg from 'fluent-ffmpeg';
import fs from 'node:fs';
import { Readable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import type { types as ms } from 'mediasoup';
import { TypedEmitter } from '../../common/typed-emitter.ts';
import { FFMPEG_PATH, fixedPieces } from '../ingest/decode.ts';
import type { VideoFrame } from '../perception/video/types.ts';
import { udpPortBound, type RtpPortPair, type RtpPortPool } from './rtp-ports.ts';

/**
 * ffmpeg runs through this wrapper where util-linux's setpriv exists, so it gets SIGKILL when
 * the server dies: a killed server leaves no decoder behind listening on its port.
 */
const TIED_FFMPEG = fileURLToPath(new URL('./ffmpeg-tied.sh', import.meta.url));
const CAN_TIE = fs.existsSync('/usr/bin/setpriv') || fs.existsSync('/bin/setpriv');
process.env.OMNILIVE_FFMPEG ??= FFMPEG_PATH;

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
  #command: ffmpeg.FfmpegCommand | undefined;
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
    const input = Readable.from([sdp]);
    const command = ffmpeg(input)
      .setFfmpegPath(CAN_TIE ? TIED_FFMPEG : FFMPEG_PATH)
      .inputFormat('sdp')
      // Live input: no probing delay, no input buffering, tolerate the odd late packet.
      .inputOptions(['-protocol_whitelist', 'pipe,udp,rtp', '-fflags', '+nobuffer', '-flags', 'low_delay', '-analyzeduration', '0', '-probesize', '32', '-reorder_queue_size', '32']);
    if (this.kind === 'audio') {
      command.noVideo().audioChannels(1).audioFrequency(audioRate).audioCodec('pcm_s16le').format('s16le').outputOptions(['-flush_packets', '1']);
    } else {
      command
        .noAudio()
        .videoFilters([`fps=${video.fps}`, `scale=${video.width}:${video.height}:force_original_aspect_ratio=decrease`, `pad=${video.width}:${video.height}:(ow-iw)/2:(oh-ih)/2`])
        .outputOptions(['-pix_fmt', 'rgb24', '-flush_packets', '1'])
        .format('rawvideo');
    }
    command.on('error', (error: Error, _stdout: string | null, stderr: string | null) => {
      if (this.#closed) return;
      const detail = stderr?.trim().split('\n').slice(-3).join(' | ') ?? '';
      this.safeEmit('failed', new Error(`the ${this.kind} decoder (ffmpeg) stopped: ${error.message}${detail ? ` (${detail})` : ''}`));
      this.close();
    });
    command.on('end', () => {
      if (this.#closed) return;
      this.safeEmit('failed', new Error(`the ${this.kind} decoder (ffmpeg) ended unexpectedly`));
      this.close();
    });
    const out = command.pipe() as NodeJS.ReadableStream;
    if (this.kind === 'audio') this.#readAudio(out);
    else void this.#readFrames(out);
    this.#command = command;
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
      // ffmpeg killed: close() or the 'error' handler has it
    }
  }

  /** Idempotent: kills ffmpeg, closes the consumer and its transport, frees the ports. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    clearInterval(this.#stallTimer);
    try {
      this.#command?.kill('SIGKILL');
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

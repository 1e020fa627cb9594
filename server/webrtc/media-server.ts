import fs from 'node:fs';
import os from 'node:os';
import * as mediasoup from 'mediasoup';
import type { types as ms } from 'mediasoup';
import { TypedEmitter } from '../events/typed-emitter.ts';
import { silentLogger, type Logger } from '../logger.ts';
import { VoicePacer } from './voice-pacer.ts';
import { RtpPortPool } from './rtp-ports.ts';

export interface WebRtcConfig {
  enabled: boolean;
  /** mediasoup workers (processes); each router lives on one. @defaultValue one per core */
  workers: number;
  /** Address the WebRTC transports listen on. @defaultValue 127.0.0.1 */
  listenIp: string;
  /** Address (IP or host name) announced to browsers, when they reach us through another one (NAT, container). */
  announcedAddress?: string;
  /** UDP/TCP ports for browser transports. */
  ports: { min: number; max: number };
  /** Loopback UDP ports for the RTP that goes to the ffmpeg decoders (pairs: RTP even, RTCP odd). */
  decodePorts: { min: number; max: number };
}

export interface MediaServerOptions {
  /** @defaultValue silentLogger */
  logger?: Logger;
}

export const defaultWebRtcConfig: WebRtcConfig = {
  enabled: true,
  workers: Math.max(1, os.availableParallelism()),
  listenIp: '127.0.0.1',
  ports: { min: 40000, max: 49999 },
  decodePorts: { min: 50000, max: 59999 },
};

/** What the browser may send: Opus audio, VP8 video (H264 where the browser prefers it). */
const MEDIA_CODECS: ms.RouterRtpCodecCapability[] = [
  { kind: 'audio', mimeType: 'audio/opus', clockRate: 48000, channels: 2 },
  { kind: 'video', mimeType: 'video/VP8', clockRate: 90000 },
  {
    kind: 'video',
    mimeType: 'video/H264',
    clockRate: 90000,
    parameters: { 'packetization-mode': 1, 'profile-level-id': '42e01f', 'level-asymmetry-allowed': 1 },
  },
];

export type MediaServerEvents = {
  /** A worker process died; its routers (and every session on them) are gone. A new one replaces it. */
  workerdied: [ms.Worker, Error];
};

/** Open mediasoup objects, for /healthz and the leak tests. */
export interface MediaServerCounts {
  workers: number;
  routers: number;
  transports: number;
  producers: number;
  consumers: number;
  rtpPortPairs: number;
}

/**
 * The SFU: a pool of mediasoup workers, one router per session (so sessions never see each
 * other's media), and the RTP port pool of the decoders. Routers go round-robin over workers.
 */
export class MediaServer extends TypedEmitter<MediaServerEvents> {
  readonly config: WebRtcConfig;
  readonly decodePorts: RtpPortPool;
  /** The one timer that paces the answer voices of every session on this server. */
  readonly voicePacer = new VoicePacer();
  readonly #log: Logger;
  readonly #workers: ms.Worker[] = [];
  readonly #counts = { routers: 0, transports: 0, producers: 0, consumers: 0 };
  #next = 0;
  #closed = false;

  private constructor(config: WebRtcConfig, logger: Logger | undefined) {
    super();
    this.config = config;
    this.decodePorts = new RtpPortPool(config.decodePorts);
    this.#log = (logger ?? silentLogger).child({ component: 'webrtc' });
    if (logger) this.logger = this.#log; // else a throwing listener still reaches stderr
  }

  /** Starts the workers; throws a readable error when the worker binary is missing or fails. */
  static async start(config: Partial<WebRtcConfig> = {}, options: MediaServerOptions = {}): Promise<MediaServer> {
    const full = { ...defaultWebRtcConfig, ...config };
    const bin = mediasoup.workerBin;
    if (!fs.existsSync(bin)) {
      throw new Error(`mediasoup worker not found at ${bin}: run 'npm install' (it builds the worker) or set MEDIASOUP_WORKER_BIN`);
    }
    const server = new MediaServer(full, options.logger);
    try {
      for (let i = 0; i < full.workers; i++) await server.#addWorker();
    } catch (error) {
      server.close();
      throw new Error(`mediasoup worker ${bin} failed to start: ${(error as Error).message}`);
    }
    return server;
  }

  get workers(): readonly ms.Worker[] {
    return this.#workers;
  }

  counts(): MediaServerCounts {
    return { workers: this.#workers.length, ...this.#counts, rtpPortPairs: this.decodePorts.held };
  }

  async #addWorker(): Promise<void> {
    const worker = await mediasoup.createWorker({ logLevel: 'warn' });
    worker.on('died', (error) => {
      const at = this.#workers.indexOf(worker);
      if (at >= 0) this.#workers.splice(at, 1);
      this.safeEmit('workerdied', worker, error);
      if (!this.#closed) this.#addWorker().catch((e) => this.#log.error({ err: e }, `could not replace a dead mediasoup worker: ${(e as Error).message}`));
    });
    worker.observer.on('newrouter', (router) => this.#track(router));
    this.#workers.push(worker);
  }

  /** Counts what is open, so a leak shows in /healthz. */
  #track(router: ms.Router): void {
    const c = this.#counts;
    c.routers++;
    router.observer.once('close', () => c.routers--);
    router.observer.on('newtransport', (transport) => {
      c.transports++;
      transport.observer.once('close', () => c.transports--);
      transport.observer.on('newproducer', (p) => (c.producers++, p.observer.once('close', () => c.producers--)));
      transport.observer.on('newconsumer', (k) => (c.consumers++, k.observer.once('close', () => c.consumers--)));
    });
  }

  async createRouter(): Promise<ms.Router> {
    if (this.#closed) throw new Error('the media server is closed');
    const worker = this.#workers[this.#next++ % Math.max(1, this.#workers.length)];
    if (!worker) throw new Error('no mediasoup worker is running');
    return worker.createRouter({ mediaCodecs: MEDIA_CODECS });
  }

  /** A browser's send transport: UDP preferred, TCP as the fallback, on the configured ports. */
  createWebRtcTransport(router: ms.Router): Promise<ms.WebRtcTransport> {
    const { listenIp, announcedAddress, ports } = this.config;
    const listen = (protocol: 'udp' | 'tcp'): ms.TransportListenInfo => ({
      protocol,
      ip: listenIp,
      ...(announcedAddress ? { announcedAddress } : {}),
      portRange: ports,
    });
    return router.createWebRtcTransport({
      listenInfos: [listen('udp'), listen('tcp')],
      enableUdp: true,
      enableTcp: true,
      preferUdp: true,
      initialAvailableOutgoingBitrate: 600_000,
    });
  }

  /** Idempotent: closes every worker (and with them every router, transport and consumer). */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    for (const worker of this.#workers.splice(0)) worker.close();
    this.voicePacer.close();
  }
}

// Camera and microphone to the server over WebRTC (a mediasoup send transport), and the
// answers' voice back on a receive transport, signalled with omnilive.webrtc.* requests on the
// realtime WebSocket.
import type { Consumer, Device, RtpCapabilities, RtpParameters, Transport, TransportOptions } from 'mediasoup-client/types';
import type { RealtimeClient } from './realtime-client';

export type TransportState = 'new' | 'connecting' | 'connected' | 'failed' | 'disconnected' | 'closed';

export type WebRtcOptions = {
  /** How long ICE + DTLS may take before we give up and use the WebSocket instead. */
  connectTimeoutMs?: number;
  onState?: (state: TransportState) => void;
};

export class WebRtcUplink {
  readonly #client: RealtimeClient;
  readonly #transport: Transport;
  /** Loaded with the router's capabilities: what the voice's receive transport is made with. */
  readonly device: Device;
  #closed = false;

  private constructor(client: RealtimeClient, transport: Transport, device: Device) {
    this.#client = client;
    this.#transport = transport;
    this.device = device;
  }

  get transportId(): string {
    return this.#transport.id;
  }

  /**
   * Joins, creates the send transport, produces the stream's audio (Opus) and video (VP8),
   * and resolves once the transport is connected. Rejects (after leaving) on any failure.
   */
  static async start(client: RealtimeClient, stream: MediaStream, options: WebRtcOptions = {}): Promise<WebRtcUplink> {
    const { connectTimeoutMs = 10_000, onState = () => {} } = options;
    const joined = await client.request({ type: 'omnilive.webrtc.join' }, 'omnilive.webrtc.joined');
    let uplink: WebRtcUplink | undefined;
    try {
      // Loaded on demand: only a started session needs it.
      const { Device } = await import('mediasoup-client');
      const device = new Device();
      // server-events.ts imports nothing, so mediasoup's shapes are `unknown` there: cast to them here.
      await device.load({ routerRtpCapabilities: joined.router_rtp_capabilities as RtpCapabilities });
      const created = await client.request({ type: 'omnilive.webrtc.transport.create' }, 'omnilive.webrtc.transport.created');
      const transport = device.createSendTransport(created.transport as TransportOptions);
      uplink = new WebRtcUplink(client, transport, device);
      connectOverSignalling(client, transport);
      transport.on('produce', ({ kind, rtpParameters }, callback, errback) => {
        client
          .request({ type: 'omnilive.webrtc.produce', transport_id: transport.id, kind, rtp_parameters: rtpParameters }, 'omnilive.webrtc.produced')
          .then((reply) => callback({ id: reply.producer_id }), errback);
      });
      const connected = waitConnected(transport, connectTimeoutMs, onState);
      connected.catch(() => {}); // awaited below unless producing fails first
      const [audio] = stream.getAudioTracks();
      const [video] = stream.getVideoTracks();
      // stopTracks: false — the same tracks feed the meter, the preview and, on fallback, the WebSocket.
      if (audio) await transport.produce({ track: audio, stopTracks: false, codecOptions: { opusStereo: false, opusFec: true, opusDtx: false } });
      if (video && device.canProduce('video')) {
        const vp8 = device.sendRtpCapabilities.codecs?.find((c) => c.mimeType.toLowerCase() === 'video/vp8');
        await transport.produce({ track: video, stopTracks: false, codec: vp8, encodings: [{ maxBitrate: 500_000 }], codecOptions: { videoGoogleStartBitrate: 300 } });
      }
      await connected;
      return uplink;
    } catch (error) {
      if (uplink) uplink.close();
      else client.send({ type: 'omnilive.webrtc.leave', event_id: `evt_web_leave_${Date.now().toString(36)}` });
      throw error;
    }
  }

  /** Leaves the room and closes the transport (and with it the producers, not the tracks). */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#client.send({ type: 'omnilive.webrtc.leave', event_id: `evt_web_leave_${Date.now().toString(36)}` });
    this.#transport.close();
  }

  /** After start: later state changes (a connection that drops mid-session). */
  onState(listener: (state: TransportState) => void): void {
    this.#transport.on('connectionstatechange', listener);
  }
}

/** Below this mean power (about −50 dBFS) a stretch of the voice track counts as silence. */
const VOICED_POWER = 1e-5;

export type VoicePlayback = { playedMs: number; playing: boolean };

/**
 * The answers' voice as a remote WebRTC track played by an <audio> element: browsers take
 * such audio out of the microphone (echo cancellation), which they do not do for WebAudio
 * playback, so the assistant does not interrupt itself from the speakers. The server stops
 * sending on barge-in; how much was heard is read from the receiver's own statistics.
 */
export class WebRtcVoice {
  readonly #transport: Transport;
  readonly #consumer: Consumer;
  readonly #element: HTMLAudioElement;
  readonly #timer: ReturnType<typeof setInterval>;
  #last = { energy: 0, duration: 0 };
  #playback: VoicePlayback = { playedMs: 0, playing: false };
  #closed = false;

  private constructor(transport: Transport, consumer: Consumer, onPlayback: (playback: VoicePlayback) => void) {
    this.#transport = transport;
    this.#consumer = consumer;
    this.#element = new Audio();
    this.#element.autoplay = true;
    this.#element.srcObject = new MediaStream([consumer.track]);
    this.#element.play().catch(() => {}); // started inside the Start click's activation
    this.#timer = setInterval(() => void this.#measure(onPlayback), 100);
  }

  /** A receive transport on the uplink's device, connected, with the voice consumed on it. */
  static async start(client: RealtimeClient, device: Device, onPlayback: (playback: VoicePlayback) => void, connectTimeoutMs = 10_000): Promise<WebRtcVoice> {
    const created = await client.request({ type: 'omnilive.webrtc.transport.create' }, 'omnilive.webrtc.transport.created');
    const transport = device.createRecvTransport(created.transport as TransportOptions);
    try {
      connectOverSignalling(client, transport);
      const reply = await client.request({ type: 'omnilive.webrtc.consume', transport_id: transport.id, rtp_capabilities: device.rtpCapabilities }, 'omnilive.webrtc.consumed');
      const { id, producer_id: producerId, kind, rtp_parameters: rtpParameters } = reply.consumer;
      const connected = waitConnected(transport, connectTimeoutMs, () => {});
      connected.catch(() => {}); // awaited below unless consuming fails first
      const consumer = await transport.consume({ id, producerId, kind, rtpParameters: rtpParameters as RtpParameters });
      await connected;
      return new WebRtcVoice(transport, consumer, onPlayback);
    } catch (error) {
      transport.close();
      throw error;
    }
  }

  /** The remote track the answers play from. */
  get track(): MediaStreamTrack {
    return this.#consumer.track;
  }

  get live(): boolean {
    return !this.#closed && this.#consumer.track.readyState === 'live' && this.#transport.connectionState === 'connected';
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    clearInterval(this.#timer);
    this.#element.pause();
    this.#element.srcObject = null;
    this.#transport.close();
  }

  /** Voiced time played, from the growth of the receiver's total audio energy. */
  async #measure(onPlayback: (playback: VoicePlayback) => void): Promise<void> {
    let inbound: { totalAudioEnergy?: number; totalSamplesDuration?: number } | undefined;
    for (const stat of (await this.#consumer.getStats().catch(() => new Map())).values()) {
      if (stat.type === 'inbound-rtp' && stat.kind === 'audio') inbound = stat;
    }
    if (this.#closed || inbound?.totalAudioEnergy === undefined || inbound.totalSamplesDuration === undefined) return;
    const energy = inbound.totalAudioEnergy - this.#last.energy;
    const duration = inbound.totalSamplesDuration - this.#last.duration;
    this.#last = { energy: inbound.totalAudioEnergy, duration: inbound.totalSamplesDuration };
    if (duration <= 0) return;
    const playing = energy / duration > VOICED_POWER;
    const playedMs = this.#playback.playedMs + (playing ? duration * 1000 : 0);
    if (playing === this.#playback.playing && playedMs === this.#playback.playedMs) return;
    this.#playback = { playedMs, playing };
    onPlayback(this.#playback);
  }
}

/** The DTLS parameters go to the server when mediasoup-client first needs the transport. */
function connectOverSignalling(client: RealtimeClient, transport: Transport): void {
  transport.on('connect', ({ dtlsParameters }, callback, errback) => {
    client
      .request({ type: 'omnilive.webrtc.transport.connect', transport_id: transport.id, dtls_parameters: dtlsParameters }, 'omnilive.webrtc.transport.connected')
      .then(() => callback(), errback);
  });
}

function waitConnected(transport: Transport, timeoutMs: number, onState: (state: TransportState) => void): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      transport.off('connectionstatechange', listener);
      reject(new Error(`the WebRTC transport did not connect within ${timeoutMs / 1000} s`));
    }, timeoutMs);
    const listener = (state: TransportState) => {
      onState(state);
      if (state !== 'connected' && state !== 'failed' && state !== 'closed') return;
      clearTimeout(timer);
      transport.off('connectionstatechange', listener);
      if (state === 'connected') resolve();
      else reject(new Error(`the WebRTC transport ${state}`));
    };
    transport.on('connectionstatechange', listener);
  });
}

// Camera and microphone to the server over WebRTC (a mediasoup send transport), signalled
// with omnilive.webrtc.* requests on the realtime WebSocket.
import type { Transport } from 'mediasoup-client/types';
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
  #closed = false;

  private constructor(client: RealtimeClient, transport: Transport) {
    this.#client = client;
    this.#transport = transport;
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
      await device.load({ routerRtpCapabilities: joined.router_rtp_capabilities });
      const created = await client.request({ type: 'omnilive.webrtc.transport.create' }, 'omnilive.webrtc.transport.created');
      const transport = device.createSendTransport(created.transport);
      uplink = new WebRtcUplink(client, transport);
      transport.on('connect', ({ dtlsParameters }, callback, errback) => {
        client
          .request({ type: 'omnilive.webrtc.transport.connect', transport_id: transport.id, dtls_parameters: dtlsParameters }, 'omnilive.webrtc.transport.connected')
          .then(() => callback(), errback);
      });
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

import type { types as ms } from 'mediasoup';
import { ClientError } from '../errors.ts';
import type { Session } from '../session/session.ts';
import type { ServerEventBody } from '../session/types.ts';
import type { WebRtcEvent } from '../protocol/client-events.ts';
import { decodeAudio } from '../audio/g711.ts';
import { AnswerVoice } from './answer-voice.ts';
import type { MediaServer } from './media-server.ts';
import { RtpDecoder } from './rtp-decoder.ts';

/** Decoded frames are fitted into this box before perception (the file path uses the same). */
const FRAME_BOX = { width: 640, height: 360 };
/** A browser sends on one transport and hears the answers on another; a third allows a reconnect without leaving. */
const MAX_TRANSPORTS = 3;
const STATS_INTERVAL_MS = 1000;
const MAX_DECODER_RESTARTS = 5;

/**
 * One browser's WebRTC side of a Session: its router, send transport and producers, and one
 * RtpDecoder per producer feeding the session exactly what the WebSocket path feeds it
 * (pcm16 through appendAudio, RGB frames through appendVideoFrame): one timeline, whatever
 * the transport. The answers come back as a track too (AnswerVoice), so the browser's echo
 * canceller hears them. Signalling is request/response over the session's WebSocket.
 */
export class WebRtcPeer {
  readonly #session: Session;
  readonly #media: MediaServer;
  readonly #send: (event: ServerEventBody) => void;
  #router: ms.Router | undefined;
  #joining: Promise<ms.Router> | undefined;
  readonly #transports = new Map<string, ms.WebRtcTransport>();
  readonly #connected = new WeakSet<ms.WebRtcTransport>();
  /** The request being handled and those before it (see handle()). */
  #requests: Promise<void> = Promise.resolve();
  readonly #producers = new Map<ms.MediaKind, ms.Producer>();
  readonly #decoders = new Map<ms.MediaKind, RtpDecoder>();
  #voice: AnswerVoice | undefined;
  #voicing: Promise<AnswerVoice> | undefined;
  #statsTimer: NodeJS.Timeout | undefined;
  /** Decoded audio and frames handed to the session, across decoder restarts. */
  readonly #totals = { audioMs: 0, frames: 0 };
  #videoStart = 0;
  #lastFrameT = -1;
  #videoRefused = false;
  #audioErrorSent = false;
  #restarts = 0;
  #closed = false;

  constructor(session: Session, media: MediaServer, send: (event: ServerEventBody) => void) {
    this.#session = session;
    this.#media = media;
    this.#send = send;
    session.once('close', () => this.close());
    session.on('event', this.#onSessionEvent);
  }

  /**
   * Requests run one at a time, in the order they came: a leave (or a second join) sent while
   * a join or produce is still awaiting mediasoup would otherwise act on a half-made router.
   */
  handle(event: WebRtcEvent): Promise<void> {
    const run = this.#requests.then(() => this.#handle(event));
    this.#requests = run.catch(() => {});
    return run;
  }

  async #handle(event: WebRtcEvent): Promise<void> {
    if (this.#closed) throw new ClientError('webrtc_closed', 'this WebRTC session has ended');
    const request_id = event.event_id ?? null;
    switch (event.type) {
      case 'omnilive.webrtc.join': {
        const router = await this.#join();
        return this.#send({ type: 'omnilive.webrtc.joined', request_id, router_rtp_capabilities: router.rtpCapabilities });
      }
      case 'omnilive.webrtc.transport.create': {
        const transport = await this.#createTransport();
        const { id, iceParameters, iceCandidates, dtlsParameters } = transport;
        return this.#send({ type: 'omnilive.webrtc.transport.created', request_id, transport: { id, iceParameters, iceCandidates, dtlsParameters } });
      }
      case 'omnilive.webrtc.transport.connect': {
        const transport = this.#transport(event.transport_id);
        if (this.#connected.has(transport)) throw new ClientError('webrtc_already_connected', `transport '${transport.id}' is already connected`, 'transport_id');
        try {
          await transport.connect({ dtlsParameters: event.dtls_parameters as ms.DtlsParameters });
        } catch (error) {
          // mediasoup refuses malformed client parameters with a TypeError; anything else is ours.
          if (error instanceof TypeError) throw new ClientError('invalid_value', `dtls_parameters were refused: ${error.message}`, 'dtls_parameters');
          throw error;
        }
        this.#connected.add(transport);
        return this.#send({ type: 'omnilive.webrtc.transport.connected', request_id, transport_id: transport.id });
      }
      case 'omnilive.webrtc.produce': {
        const producer = await this.#produce(event.transport_id, event.kind, event.rtp_parameters as unknown as ms.RtpParameters);
        return this.#send({ type: 'omnilive.webrtc.produced', request_id, producer_id: producer.id, kind: producer.kind });
      }
      case 'omnilive.webrtc.consume': {
        const consumer = await this.#consumeVoice(event.transport_id, event.rtp_capabilities as unknown as ms.RtpCapabilities);
        const { id, producerId, kind, rtpParameters } = consumer;
        return this.#send({ type: 'omnilive.webrtc.consumed', request_id, consumer: { id, producer_id: producerId, kind, rtp_parameters: rtpParameters } });
      }
      case 'omnilive.webrtc.leave':
        this.#leave();
        return this.#send({ type: 'omnilive.webrtc.left', request_id });
    }
  }

  async #join(): Promise<ms.Router> {
    if (this.#router) return this.#router;
    this.#joining ??= this.#media.createRouter().then((router) => {
      if (this.#closed) {
        router.close();
        throw new ClientError('webrtc_closed', 'this WebRTC session has ended');
      }
      router.on('workerclose', () => {
        if (this.#closed) return;
        this.#error('webrtc_worker_died', 'the media worker of this session stopped; start the camera and microphone again');
        this.#leave();
      });
      this.#router = router;
      return router;
    });
    try {
      return await this.#joining;
    } finally {
      this.#joining = undefined;
    }
  }

  async #createTransport(): Promise<ms.WebRtcTransport> {
    if (!this.#router) throw new ClientError('webrtc_not_joined', 'send omnilive.webrtc.join first');
    if (this.#transports.size >= MAX_TRANSPORTS) throw new ClientError('webrtc_too_many_transports', `at most ${MAX_TRANSPORTS} transports per session`);
    const router = this.#router;
    const transport = await this.#media.createWebRtcTransport(router);
    // The session ended while mediasoup made it: its router is gone, and mediasoup would keep the
    // transport object (and /healthz count it) forever unless it is closed here.
    if (this.#closed || this.#router !== router) {
      transport.close();
      throw new ClientError('webrtc_closed', 'this WebRTC session has ended');
    }
    this.#transports.set(transport.id, transport);
    const state = () => this.#send({ type: 'omnilive.webrtc.state', transport_id: transport.id, ice_state: transport.iceState, dtls_state: transport.dtlsState });
    transport.on('icestatechange', state);
    transport.on('dtlsstatechange', (dtls) => {
      state();
      if (dtls === 'failed' || dtls === 'closed') transport.close();
    });
    transport.observer.once('close', () => this.#transports.delete(transport.id));
    return transport;
  }

  #transport(id: string): ms.WebRtcTransport {
    const transport = this.#transports.get(id);
    if (!transport) throw new ClientError('webrtc_unknown_transport', `no transport '${id.slice(0, 64)}' in this session`, 'transport_id');
    return transport;
  }

  async #produce(transportId: string, kind: ms.MediaKind, rtpParameters: ms.RtpParameters): Promise<ms.Producer> {
    const transport = this.#transport(transportId);
    if (this.#producers.has(kind)) throw new ClientError('webrtc_already_producing', `this session already receives ${kind}`, 'kind');
    let producer: ms.Producer;
    try {
      producer = await transport.produce({ kind, rtpParameters });
    } catch (error) {
      throw new ClientError('invalid_value', `rtp_parameters were refused: ${(error as Error).message}`, 'rtp_parameters');
    }
    if (this.#closed) {
      producer.close();
      throw new ClientError('webrtc_closed', 'this WebRTC session has ended');
    }
    this.#producers.set(kind, producer);
    producer.observer.once('close', () => {
      this.#producers.delete(kind);
      this.#decoders.get(kind)?.close();
    });
    try {
      await this.#decode(producer);
    } catch (error) {
      producer.close();
      throw error;
    }
    this.#statsTimer ??= setInterval(() => void this.#reportStats(), STATS_INTERVAL_MS);
    return producer;
  }

  /** The answer voice (made once per router) consumed on the browser's receive transport. */
  async #consumeVoice(transportId: string, rtpCapabilities: ms.RtpCapabilities): Promise<ms.Consumer> {
    const router = this.#router;
    if (!router) throw new ClientError('webrtc_not_joined', 'send omnilive.webrtc.join first');
    const transport = this.#transport(transportId);
    this.#voicing ??= AnswerVoice.create(router, this.#media.voicePacer).catch((error) => {
      this.#voicing = undefined;
      throw error;
    });
    const voice = await this.#voicing;
    if (this.#router !== router || this.#closed) {
      voice.close();
      throw new ClientError('webrtc_closed', 'this WebRTC session has ended');
    }
    this.#voice = voice;
    if (!router.canConsume({ producerId: voice.producer.id, rtpCapabilities })) {
      throw new ClientError('invalid_value', 'these RTP capabilities cannot receive Opus audio', 'rtp_capabilities');
    }
    const consumer = await transport.consume({ producerId: voice.producer.id, rtpCapabilities });
    if (this.#closed) {
      consumer.close();
      throw new ClientError('webrtc_closed', 'this WebRTC session has ended');
    }
    return consumer;
  }

  /**
   * Answer audio reaches the voice as it reaches the WebSocket. What is still queued stops when
   * the answer is cancelled, when the user starts talking (a finished answer may still be
   * playing) and when a new answer begins — where the page silences its WebAudio playback.
   * A sound that may be the user starting to talk pauses it; the pause ends by resuming it
   * (nobody was talking) or by any of those clears.
   */
  readonly #onSessionEvent = (event: ServerEventBody): void => {
    const voice = this.#voice;
    if (!voice) return;
    switch (event.type) {
      case 'response.output_audio.delta':
        return voice.enqueue(decodeAudio(Buffer.from(event.delta, 'base64'), this.#session.settings.outputEncoding), this.#session.settings.outputRate);
      case 'response.done':
        if ((event.response as { status?: string }).status === 'cancelled') voice.clear();
        return;
      case 'input_audio_buffer.speech_started':
      case 'response.created':
        return voice.clear();
      case 'omnilive.output_audio.paused':
        return voice.pause();
      case 'omnilive.output_audio.resumed':
        return voice.resume();
    }
  };

  async #decode(producer: ms.Producer): Promise<void> {
    const session = this.#session;
    let audioRate = session.settings.inputRate;
    if (producer.kind === 'audio' && audioRate !== 16000) {
      // Opus is decoded to 16 kHz (what the VAD and ASR use) unless WebSocket audio already set the rate.
      const refused = session.update({ audio: { input: { format: { type: 'audio/pcm', rate: 16000 } } } });
      if (refused.length === 0) audioRate = 16000; // else keep the session's rate
    }
    const decoder = await RtpDecoder.start({
      router: this.#router!,
      producer,
      ports: this.#media.decodePorts,
      audioRate,
      video: { fps: session.settings.videoFps, ...FRAME_BOX },
    });
    if (this.#closed) return decoder.close();
    this.#decoders.set(producer.kind, decoder);
    decoder.once('close', () => {
      if (this.#decoders.get(producer.kind) === decoder) this.#decoders.delete(producer.kind);
    });
    decoder.on('failed', (error) => {
      // A decoder that dies (ffmpeg crashed or was killed) is replaced while its producer lives.
      const restart = !producer.closed && !this.#closed && this.#restarts < MAX_DECODER_RESTARTS;
      this.#error('webrtc_decoder_failed', `${error.message}${restart ? '; restarting it' : ''}`);
      if (!restart) return;
      this.#restarts++;
      this.#decode(producer).catch((e) => this.#error('webrtc_decoder_failed', (e as Error).message));
    });
    if (producer.kind === 'audio') decoder.on('audio', (pcm) => this.#onAudio(pcm, audioRate));
    else decoder.on('frame', (frame) => this.#onFrame(frame));
  }

  #onAudio(pcm: Int16Array, rate: number): void {
    if (this.#session.closed) return;
    this.#totals.audioMs += (pcm.length * 1000) / rate;
    try {
      this.#session.appendAudio(pcm);
    } catch (error) {
      if (!this.#audioErrorSent) this.#error('webrtc_audio_refused', (error as Error).message);
      this.#audioErrorSent = true;
    }
  }

  /**
   * Frames go on the session's media clock: while audio flows that is the audio processed so
   * far (so a frame lines up with what was said as it was shown); without audio, wall time.
   */
  #onFrame(frame: { width: number; height: number; data: Uint8Array }): void {
    const session = this.#session;
    if (session.closed) return;
    this.#totals.frames++;
    if (this.#videoRefused) return;
    if (!this.#videoStart) this.#videoStart = performance.now();
    const clock = this.#decoders.has('audio') ? session.mediaMs : performance.now() - this.#videoStart;
    const t = Math.max(this.#lastFrameT + 1, Math.round(clock));
    this.#lastFrameT = t;
    try {
      session.appendVideoFrame({ ...frame, t });
    } catch (error) {
      // A session without vision engines hears but does not see: say so once.
      this.#videoRefused = true;
      this.#error('webrtc_video_refused', (error as Error).message);
    }
  }

  async #reportStats(): Promise<void> {
    const packets = async (kind: ms.MediaKind) => {
      const stats = await this.#producers.get(kind)?.getStats().catch(() => []);
      return (stats ?? []).reduce((n, s) => n + (s.packetCount ?? 0), 0);
    };
    const [audio, video] = await Promise.all([packets('audio'), packets('video')]);
    if (this.#closed) return;
    const v = this.#decoders.get('video');
    this.#send({
      type: 'omnilive.media.stats',
      audio_ms: Math.round(this.#totals.audioMs),
      video_frames: this.#totals.frames,
      rtp_audio_packets: audio,
      rtp_video_packets: video,
      keyframe_requests: v?.keyFrameRequests ?? 0,
      answer_rtp_ms: this.#voice?.spokenMs ?? 0,
    });
  }


  #error(code: string, message: string): void {
    this.#send({ type: 'error', error: { type: 'server_error', code, message, param: null, event_id: null } });
  }

  /** output_audio_buffer.clear: silences the answer's voice track from its next frame. */
  clearVoice(): void {
    this.#voice?.clear();
  }

  /** Drops the router and everything on it; the session goes on (WebSocket audio still works). */
  #leave(): void {
    clearInterval(this.#statsTimer);
    this.#statsTimer = undefined;
    for (const decoder of this.#decoders.values()) decoder.close();
    this.#decoders.clear();
    this.#voice?.close();
    this.#voice = undefined;
    this.#voicing = undefined;
    this.#producers.clear();
    this.#transports.clear();
    this.#router?.close();
    this.#router = undefined;
  }

  /** Idempotent. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#session.off('event', this.#onSessionEvent);
    this.#leave();
  }
}

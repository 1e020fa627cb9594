// Camera and microphone, and their way to the session: WebRTC (with the answers' voice track
// back), or pcm16 and JPEG frames over the WebSocket. The capture outlives a session: after a
// lost connection it stays open and goes back on air in the new one (attach again).
import { FrameSender } from './frame-sender';
import { MediaProblem, openCameraAndMic, stopStream } from './media';
import { MicCapture, meterValue, type MicLevel } from './mic-capture';
import { bytesToBase64 } from './pcm';
import type { RealtimeClient } from './realtime-client';
import type { SessionState } from './session-state';
import type { Store } from './store';
import { WebRtcUplink, WebRtcVoice } from './webrtc';

/** pcm16 rate of the WebSocket audio path: the session default, asked for explicitly. */
export const INPUT_RATE = 24000;
/** Beyond this much unsent data the network is stalled: drop media rather than pile it up. */
const MAX_BUFFERED = 1 << 20;

/** What the media needs of the LiveSession that owns it. */
export interface MediaLinkHost {
  readonly store: Store<SessionState>;
  /** The open session, if any: where WebSocket media goes. */
  client(): RealtimeClient | null;
  serverUrl(path: string): string;
  /** No WebRTC: media over the WebSocket only. */
  overWebSocket(): boolean;
  /** Capture ended or failed for good: the whole session stops (the problem is set after). */
  stop(): void;
  /** Answers play from the voice track from now on: whatever WebAudio still holds goes. */
  voiceStarted(): void;
  restingActivity(): void;
}

export class MediaLink {
  readonly #host: MediaLinkHost;
  /** Whether opening the media opens the camera too (the widget asks the visitor). */
  camera: boolean;
  #stream: MediaStream | null = null;
  #mic: MicCapture | null = null;
  #uplink: WebRtcUplink | null = null;
  /** While live, answers are heard from it and the WebSocket's audio deltas are not played. */
  #voice: WebRtcVoice | null = null;
  #frames: FrameSender | null = null;
  #audioOverWs = false;

  constructor(host: MediaLinkHost, camera: boolean) {
    this.#host = host;
    this.camera = camera;
  }

  get #store(): Store<SessionState> {
    return this.#host.store;
  }

  /** Answers are heard from the WebRTC voice track now. */
  get voiceLive(): boolean {
    return this.#voice?.live ?? false;
  }

  get transportId(): string | undefined {
    return this.#uplink?.transportId;
  }

  /**
   * Camera and microphone (whichever is not open yet), then their way to the server through
   * `client`. `current()` turns false once the user stopped or the session went: work stops there.
   */
  async attach(client: RealtimeClient, audioCtx: AudioContext, current: () => boolean): Promise<void> {
    const store = this.#store;
    if (!this.#stream) {
      store.set({ activity: 'Opening camera and microphone…' });
      let opened;
      try {
        opened = await openCameraAndMic(this.camera);
      } catch (error) {
        if (!current()) return;
        const problem = error instanceof MediaProblem ? { kind: error.kind, message: error.message } : { kind: 'other' as const, message: String(error) };
        store.set({ starting: false, problem, activity: '' });
        return;
      }
      if (!current()) return stopStream(opened.stream);
      const stream = opened.stream;
      this.#stream = stream;
      store.set({ stream, notice: opened.cameraNotice ?? null, running: true });
      stream.getAudioTracks()[0]!.addEventListener('ended', () => {
        if (this.#stream !== stream) return;
        this.#host.stop();
        store.set({ problem: { kind: 'busy', message: 'The microphone stopped (unplugged or disabled). Press Start to use it again.' } });
      });
    }
    const stream = this.#stream;
    if (!this.#mic) {
      try {
        const audio = stream.getAudioTracks()[0]!;
        const mic = await MicCapture.start(audioCtx, audio, (pcm, level) => this.#onMicChunk(pcm, level), INPUT_RATE, this.#host.serverUrl('/capture-worklet.js'));
        if (!current()) return mic.stop();
        this.#mic = mic;
      } catch (error) {
        if (!current()) return;
        this.#host.stop();
        store.set({ problem: { kind: 'other', message: `Audio capture could not start: ${(error as Error).message ?? error}` } });
        return;
      }
    }

    // ?media=websocket skips WebRTC: for networks that block it, and for tests of the fallback.
    if (this.#host.overWebSocket()) {
      this.#useWebSocket('WebSocket (chosen by ?media=websocket)');
      store.set({ starting: false });
      return this.#host.restingActivity();
    }
    store.set({ uplink: { mode: 'connecting', label: 'connecting' }, activity: 'Connecting media…' });
    try {
      const uplink = await WebRtcUplink.start(client, stream, { onState: (state) => this.setUplink({ label: state }) });
      if (!current()) return uplink.close();
      this.#uplink = uplink;
      this.setUplink({ mode: 'webrtc', label: 'connected' });
      uplink.onState((state) => {
        if (this.#uplink !== uplink) return;
        if (state === 'failed') this.#useWebSocket('WebRTC connection failed — using WebSocket');
        else this.setUplink({ label: state });
      });
    } catch (error) {
      if (!current()) return;
      this.#useWebSocket('WebRTC unavailable — using WebSocket', (error as Error).message);
    }
    if (this.#uplink) await this.#startVoice(client, this.#uplink, current);
    if (!current()) return;
    store.set({ starting: false });
    this.#host.restingActivity();
  }

  /** The session the media went to is gone: camera and microphone stay open, sending nothing. */
  detach(label = 'off'): void {
    this.#voice?.close();
    this.#voice = null;
    this.#uplink?.close();
    this.#uplink = null;
    this.#frames?.stop();
    this.#frames = null;
    this.#audioOverWs = false;
    this.#store.set({ uplink: { mode: 'none', label }, serverStats: null });
  }

  /** Detaches, and releases camera and microphone. */
  stop(): void {
    this.detach();
    this.#mic?.stop();
    this.#mic = null;
    stopStream(this.#stream);
    this.#stream = null;
    this.#store.set({ running: false, stream: null, level: 0 });
  }

  /** The server cannot see (video_unavailable): frames stop going. */
  videoUnavailable(): void {
    this.#frames?.stop();
    this.#frames = null;
    this.setUplink({ detail: 'the server has no vision engines: video is not sent' });
  }

  setUplink(change: Partial<SessionState['uplink']>): void {
    this.#store.set((s) => ({ uplink: { ...s.uplink, ...change } }));
  }

  /** The answers' voice over WebRTC; without it they play from the WebSocket's audio as before. */
  async #startVoice(client: RealtimeClient, uplink: WebRtcUplink, current: () => boolean): Promise<void> {
    const store = this.#store;
    try {
      let before = 0; // what was played before the voice: the count goes on from there
      const voice = await WebRtcVoice.start(client, uplink.device, (playback) => {
        if (this.#voice !== voice) return;
        store.set({ playback: { playedMs: before + playback.playedMs, playing: playback.playing, via: 'webrtc' } });
        if (!playback.playing) this.#host.restingActivity();
      });
      if (!current() || this.#uplink !== uplink) return voice.close();
      this.#voice = voice;
      this.#host.voiceStarted();
      before = store.get().playback.playedMs;
      store.set((s) => ({ playback: { ...s.playback, playing: false, via: 'webrtc' } }));
    } catch (error) {
      if (!current()) return;
      this.setUplink({ detail: `answers play over the WebSocket: ${(error as Error).message}` });
    }
  }

  #onMicChunk(pcm: ArrayBuffer, level: MicLevel): void {
    this.#store.set({ level: meterValue(level) });
    const client = this.#host.client();
    if (!this.#audioOverWs || !client?.open || client.bufferedAmount > MAX_BUFFERED) return;
    if (client.send({ type: 'input_audio_buffer.append', audio: bytesToBase64(new Uint8Array(pcm)) })) {
      const ms = (pcm.byteLength / 2 / INPUT_RATE) * 1000;
      this.#store.set((s) => ({ sent: { ...s.sent, audioMs: s.sent.audioMs + ms } }));
    }
  }

  /** The WebSocket path: pcm16 from the worklet, and a JPEG a second when the server can see. */
  #useWebSocket(label: string, detail?: string): void {
    this.#voice?.close();
    this.#voice = null;
    this.#uplink?.close();
    this.#uplink = null;
    this.#audioOverWs = true;
    const video = this.#stream?.getVideoTracks()[0];
    const canSee = Boolean(this.#store.get().engines?.scene);
    if (video && canSee && !this.#frames) {
      this.#frames = new FrameSender(video, (image) => {
        const client = this.#host.client();
        if (!client?.open || client.bufferedAmount > MAX_BUFFERED) return false;
        const sent = client.send({ type: 'omnilive.video_frame.append', image });
        if (sent) this.#store.set((s) => ({ sent: { ...s.sent, frames: s.sent.frames + 1 } }));
        return sent;
      });
    }
    this.#store.set({ uplink: { mode: 'websocket', label, detail: detail ?? (video && !canSee ? 'the server has no vision engines: video is not sent' : undefined) } });
  }
}

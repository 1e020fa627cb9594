// The page's controller: one realtime session, the camera and microphone uplink (WebRTC, or the
// WebSocket as fallback), answer playback with barge-in (a WebRTC voice track when the uplink
// is WebRTC, WebAudio otherwise), and the state the components render.
import { addNote, applyEvent } from './conversation';
import { FrameSender } from './frame-sender';
import { MediaProblem, openCameraAndMic, stopStream } from './media';
import { MicCapture, meterValue, type MicLevel } from './mic-capture';
import { pcm16Base64ToFloat32, bytesToBase64 } from './pcm';
import { PcmPlayer } from './pcm-player';
import { AccessProblem, forgetKey, saveKey, sessionProtocols } from './access';
import { ConnectError, RealtimeClient, realtimeUrl, type CloseInfo } from './realtime-client';
import { initialState, type SessionState } from './session-state';
import { Store } from './store';
import { Watches } from './watches';
import { WebRtcUplink, WebRtcVoice } from './webrtc';
import type { ServerEvent, WireError, WireSession } from '../../server/protocol/server-events';

/** pcm16 rate of the WebSocket audio path: the session default, asked for explicitly. */
const INPUT_RATE = 24000;
/** Beyond this much unsent data the network is stalled: drop media rather than pile it up. */
const MAX_BUFFERED = 1 << 20;

export interface LiveSessionOptions {
  /** The OmniLive server's origin. @defaultValue this page's */
  server?: string;
  /** Subprotocols for each new session's WebSocket (a client secret). @defaultValue the web app's own: none, or a secret minted with its key */
  credential?: () => Promise<string[] | undefined>;
  /** Media over the WebSocket, no WebRTC. @defaultValue `?media=websocket` in the page's address */
  mediaOverWebSocket?: boolean;
  /** Open the camera too. @defaultValue true */
  camera?: boolean;
  /** An AudioContext made (and so unlocked) in the user's click, before any await: iOS plays nothing otherwise. */
  audioContext?: AudioContext;
  /** Every server event, as it arrives (the widget re-dispatches them as DOM events). */
  onEvent?: (event: ServerEvent) => void;
}

export class LiveSession {
  readonly store = new Store<SessionState>(initialState);
  /** The user's watches and the sounds heard; adding or cancelling one opens a session if needed. */
  readonly watches = new Watches(() => this.#connect());
  readonly #options: LiveSessionOptions;
  #client: RealtimeClient | null = null;
  #connecting: Promise<RealtimeClient> | null = null;
  #audioCtx: AudioContext | null = null;
  #player: PcmPlayer | null = null;
  #stream: MediaStream | null = null;
  #mic: MicCapture | null = null;
  #uplink: WebRtcUplink | null = null;
  /** While live, answers are heard from it and the WebSocket's audio deltas are not played. */
  #voice: WebRtcVoice | null = null;
  #frames: FrameSender | null = null;
  #audioOverWs = false;
  #activeResponse: string | null = null;
  /** The answer whose audio the player was last given (it may play on after response.done). */
  #playerResponse: string | null = null;
  /** The answer the server paused on a sound that may be the user talking, until it resumes or is dropped. */
  #pausedResponse: string | null = null;
  #spokenDefault = true;
  /** Bumped by stop and by a lost connection: async work begun before drops its result. */
  #run = 0;
  #lastAction: 'start' | 'ask' = 'ask';

  #camera: boolean;

  constructor(options: LiveSessionOptions = {}) {
    this.#options = options;
    this.#camera = options.camera ?? true;
  }

  /** Whether the next start opens the camera too (the widget asks the visitor). */
  set camera(on: boolean) {
    this.#camera = on;
  }

  /** A path on the OmniLive server. */
  #serverUrl(path: string): string {
    return this.#options.server ? new URL(path, this.#options.server).toString() : path;
  }

  get #state(): SessionState {
    return this.store.get();
  }

  // ---- public actions ----

  async start(): Promise<void> {
    if (this.#state.running || this.#state.starting) return;
    const run = ++this.#run;
    this.#lastAction = 'start';
    this.store.set({ starting: true, problem: null, notice: null, activity: 'Connecting…' });
    this.#ensureAudio(); // inside the click: browsers let audio start now
    let client: RealtimeClient;
    try {
      client = await this.#connect();
    } catch {
      if (run === this.#run) this.store.set({ starting: false, activity: '' });
      return;
    }
    if (run !== this.#run) return;
    client.send({ type: 'session.update', session: { audio: { input: { format: { type: 'audio/pcm', rate: INPUT_RATE } } } } });

    this.store.set({ activity: 'Opening camera and microphone…' });
    let opened;
    try {
      opened = await openCameraAndMic(this.#camera);
    } catch (error) {
      if (run !== this.#run) return;
      const problem = error instanceof MediaProblem ? { kind: error.kind, message: error.message } : { kind: 'other' as const, message: String(error) };
      this.store.set({ starting: false, problem, activity: '' });
      return;
    }
    if (run !== this.#run) return stopStream(opened.stream);
    const stream = opened.stream;
    this.#stream = stream;
    this.store.set({ stream, notice: opened.cameraNotice ?? null, running: true });

    const audio = stream.getAudioTracks()[0]!;
    audio.addEventListener('ended', () => {
      if (this.#stream !== stream) return;
      this.stop();
      this.store.set({ problem: { kind: 'busy', message: 'The microphone stopped (unplugged or disabled). Press Start to use it again.' } });
    });
    try {
      const mic = await MicCapture.start(this.#audioCtx!, audio, (pcm, level) => this.#onMicChunk(pcm, level), INPUT_RATE, this.#serverUrl('/capture-worklet.js'));
      if (run !== this.#run) return mic.stop();
      this.#mic = mic;
    } catch (error) {
      if (run !== this.#run) return;
      this.stop();
      this.store.set({ problem: { kind: 'other', message: `Audio capture could not start: ${(error as Error).message ?? error}` } });
      return;
    }

    // ?media=websocket skips WebRTC: for networks that block it, and for tests of the fallback.
    if (this.#options.mediaOverWebSocket ?? new URLSearchParams(location.search).get('media') === 'websocket') {
      this.#useWebSocket('WebSocket (chosen by ?media=websocket)');
      this.store.set({ starting: false });
      return this.#restingActivity();
    }
    this.store.set({ uplink: { mode: 'connecting', label: 'connecting' }, activity: 'Connecting media…' });
    try {
      const uplink = await WebRtcUplink.start(client, stream, { onState: (state) => this.#setUplink({ label: state }) });
      if (run !== this.#run) return uplink.close();
      this.#uplink = uplink;
      this.#setUplink({ mode: 'webrtc', label: 'connected' });
      uplink.onState((state) => {
        if (this.#uplink !== uplink) return;
        if (state === 'failed') this.#useWebSocket('WebRTC connection failed — using WebSocket');
        else this.#setUplink({ label: state });
      });
    } catch (error) {
      if (run !== this.#run) return;
      this.#useWebSocket('WebRTC unavailable — using WebSocket', (error as Error).message);
    }
    if (this.#uplink) await this.#startVoice(client, this.#uplink, run);
    this.store.set({ starting: false });
    this.#restingActivity();
  }

  /** The answers' voice over WebRTC; without it they play from the WebSocket's audio as before. */
  async #startVoice(client: RealtimeClient, uplink: WebRtcUplink, run: number): Promise<void> {
    try {
      let before = 0; // what was played before the voice: the count goes on from there
      const voice = await WebRtcVoice.start(client, uplink.device, (playback) => {
        if (this.#voice !== voice) return;
        this.store.set({ playback: { playedMs: before + playback.playedMs, playing: playback.playing, via: 'webrtc' } });
        if (!playback.playing) this.#restingActivity();
      });
      if (run !== this.#run || this.#uplink !== uplink) return voice.close();
      this.#voice = voice;
      this.#player?.clear();
      before = this.#state.playback.playedMs;
      this.store.set((s) => ({ playback: { ...s.playback, playing: false, via: 'webrtc' } }));
    } catch (error) {
      if (run !== this.#run) return;
      this.#setUplink({ detail: `answers play over the WebSocket: ${(error as Error).message}` });
    }
  }

  /** Stops the media, leaves, closes the session and silences playback. */
  stop(): void {
    this.#run++;
    this.#stopMedia();
    const client = this.#client;
    this.#client = null;
    client?.close();
    this.#dropPlayback();
    this.#activeResponse = null;
    this.store.set((s) => ({ ws: client || s.ws === 'connecting' ? 'closed' : s.ws, starting: false, activity: '' }));
  }

  /** A typed question: works without camera and microphone. Resolves false if it could not be sent. */
  async ask(text: string): Promise<boolean> {
    if (!this.#state.running && !this.#state.starting) this.#lastAction = 'ask';
    this.#ensureAudio();
    let client: RealtimeClient;
    try {
      client = await this.#connect();
    } catch {
      return false;
    }
    // A new question supersedes the answer in progress, and whatever of it is still playing.
    if (this.#activeResponse) client.send({ type: 'response.cancel' });
    this.#dropPlayback();
    client.send({ type: 'conversation.item.create', item: { type: 'message', role: 'user', content: [{ type: 'input_text', text }] } });
    return client.send({ type: 'response.create' });
  }

  /** After "server unreachable" or a lost connection: try again what the user last did. */
  retry(): void {
    this.store.set({ problem: null });
    if (this.#lastAction === 'start') void this.start();
    else {
      this.#ensureAudio();
      this.#connect().catch(() => {});
    }
  }

  /** The server's engines from /healthz, until a session reports them itself. */
  loadEngines(): void {
    fetch(this.#serverUrl('/healthz'))
      .then((r) => (r.ok ? r.json() : null))
      .then((health) => {
        if (health?.engines && !this.#state.engines) this.store.set({ engines: health.engines });
      })
      .catch(() => {}); // unreachable: Start will say so
  }

  dismissProblem(): void {
    this.store.set({ problem: null });
  }

  /** The access key typed into the banner: kept in this browser, then the last action again. */
  useKey(key: string): void {
    if (key.trim()) saveKey(key);
    else forgetKey();
    this.retry();
  }

  // ---- connection ----

  #connect(): Promise<RealtimeClient> {
    if (this.#client?.open) return Promise.resolve(this.#client);
    if (this.#connecting) return this.#connecting;
    const run = this.#run;
    this.store.set({ ws: 'connecting' });
    const url = realtimeUrl(this.#options.server);
    this.#connecting = (this.#options.credential ?? sessionProtocols)()
      .catch((error) => {
        if (error instanceof AccessProblem) throw error;
        throw new ConnectError((error as Error).message);
      })
      .then((protocols) => RealtimeClient.connect(url, protocols))
      .then(
        (client) => {
          if (run !== this.#run) {
            client.close(); // stopped meanwhile
            throw new ConnectError('stopped');
          }
          this.#client = client;
          client.on((event) => this.#onEvent(event));
          client.onUnexpectedClose((info) => this.#onLost(client, info));
          this.#onSession(client.session);
          this.watches.sessionOpened(client);
          const hadTurns = this.#state.conversation.turns.length > 0;
          this.store.set((s) => ({ ws: 'open', problem: null, conversation: hadTurns ? addNote(s.conversation, 'New session') : s.conversation }));
          return client;
        },
        (error) => {
          if (run === this.#run && error instanceof AccessProblem) {
            this.store.set({ ws: 'closed', problem: { kind: 'access', message: error.message } });
          } else if (run === this.#run && this.#options.credential) {
            // A browser cannot see why an upgrade was refused: if the server answers, it was the credential.
            void this.#explainRefusal(url, run);
          } else if (run === this.#run) {
            this.store.set({
              ws: 'unreachable',
              problem: { kind: 'unreachable', retry: true, message: `The OmniLive server is unreachable (${url}). Check that it is running, then retry.` },
            });
          }
          throw error;
        },
      )
      .finally(() => {
        this.#connecting = null;
      });
    return this.#connecting;
  }

  async #explainRefusal(url: string, run: number): Promise<void> {
    const up = await fetch(this.#serverUrl('/healthz'), { cache: 'no-store' }).then((r) => r.ok, () => false);
    if (run !== this.#run) return;
    this.store.set(
      up
        ? { ws: 'closed', problem: { kind: 'access', retry: true, message: 'The assistant refused the session: its token may have expired or been used already. Retry to get a new one.' } }
        : { ws: 'unreachable', problem: { kind: 'unreachable', retry: true, message: `The OmniLive server is unreachable (${url}). Check that it is running, then retry.` } },
    );
  }

  #onLost(client: RealtimeClient, info: CloseInfo): void {
    if (this.#client !== client) return;
    this.#run++;
    this.#client = null;
    this.#stopMedia();
    this.#dropPlayback();
    this.#activeResponse = null;
    const code = info.code && info.code !== 1005 && info.code !== 1006 ? ` (code ${info.code}${info.reason ? `: ${info.reason}` : ''})` : '';
    this.store.set({
      ws: 'lost',
      starting: false,
      activity: '',
      problem: { kind: 'disconnected', retry: true, message: `The connection to the server was lost${code}. Retry to reconnect.` },
    });
  }

  #onSession(session: WireSession): void {
    if (!session) return;
    const format = session.audio.output.format;
    // The web app asks for pcm16; a G.711 session would be another client's.
    if (this.#player) this.#player.rate = 'rate' in format ? format.rate : 8000;
    this.#spokenDefault = (session.output_modalities ?? ['audio']).includes('audio');
    this.store.set({ engines: session.omnilive?.engines ?? null, user: session.omnilive?.user ?? null });
  }

  // ---- media ----

  #ensureAudio(): void {
    if (!this.#audioCtx || this.#audioCtx.state === 'closed') {
      const given = this.#options.audioContext;
      this.#audioCtx = given && given.state !== 'closed' ? given : new AudioContext({ latencyHint: 'interactive' });
      this.#player = new PcmPlayer(this.#audioCtx, (playback) => {
        this.store.set({ playback: { ...playback, via: 'webaudio' } });
        if (!playback.playing) this.#restingActivity();
      });
    }
    if (this.#audioCtx.state === 'suspended') this.#audioCtx.resume().catch(() => {});
  }

  #onMicChunk(pcm: ArrayBuffer, level: MicLevel): void {
    this.store.set({ level: meterValue(level) });
    const client = this.#client;
    if (!this.#audioOverWs || !client?.open || client.bufferedAmount > MAX_BUFFERED) return;
    if (client.send({ type: 'input_audio_buffer.append', audio: bytesToBase64(new Uint8Array(pcm)) })) {
      const ms = (pcm.byteLength / 2 / INPUT_RATE) * 1000;
      this.store.set((s) => ({ sent: { ...s.sent, audioMs: s.sent.audioMs + ms } }));
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
    const canSee = Boolean(this.#state.engines?.scene);
    if (video && canSee && !this.#frames) {
      this.#frames = new FrameSender(video, (image) => {
        const client = this.#client;
        if (!client?.open || client.bufferedAmount > MAX_BUFFERED) return false;
        const sent = client.send({ type: 'omnilive.video_frame.append', image });
        if (sent) this.store.set((s) => ({ sent: { ...s.sent, frames: s.sent.frames + 1 } }));
        return sent;
      });
    }
    this.store.set({ uplink: { mode: 'websocket', label, detail: detail ?? (video && !canSee ? 'the server has no vision engines: video is not sent' : undefined) } });
  }

  #setUplink(change: Partial<SessionState['uplink']>): void {
    this.store.set((s) => ({ uplink: { ...s.uplink, ...change } }));
  }

  #stopMedia(): void {
    this.#voice?.close();
    this.#voice = null;
    this.#uplink?.close();
    this.#uplink = null;
    this.#frames?.stop();
    this.#frames = null;
    this.#mic?.stop();
    this.#mic = null;
    this.#audioOverWs = false;
    stopStream(this.#stream);
    this.#stream = null;
    this.store.set({ running: false, stream: null, level: 0, uplink: { mode: 'none', label: 'off' }, serverStats: null });
  }

  #restingActivity(): void {
    const s = this.#state;
    if (s.starting || s.playback.playing) return;
    this.store.set({ activity: s.running ? 'Listening…' : '' });
  }

  // ---- server events ----

  #onEvent(ev: ServerEvent): void {
    this.#options.onEvent?.(ev);
    this.watches.onEvent(ev);
    switch (ev.type) {
      case 'session.updated':
        this.#onSession(ev.session);
        break;
      case 'input_audio_buffer.speech_started':
        this.#dropPlayback(); // barge-in: stop talking the moment the user does (a paused answer too)
        this.store.set({ activity: 'Hearing you…' });
        break;
      case 'input_audio_buffer.speech_stopped':
        this.store.set({ activity: 'Thinking…' });
        break;
      case 'response.created':
        this.#activeResponse = ev.response.id;
        // A new answer ends a pause nobody resumed (the server's voice track drops it too): held
        // audio would otherwise hold the new answer as well.
        if (this.#pausedResponse) this.#dropPlayback();
        break;
      case 'response.output_audio.delta': {
        // A paused answer goes on arriving: it is kept, but the status stays on the user.
        const paused = this.#pausedResponse === ev.response_id;
        if (this.#voice?.live) {
          if (!paused) this.store.set({ activity: 'Answering…' });
        } else if (this.#activeResponse === ev.response_id && this.#player) {
          this.#player.enqueue(pcm16Base64ToFloat32(ev.delta));
          this.#playerResponse = ev.response_id;
          if (!paused) this.store.set({ activity: 'Answering…' });
        }
        break;
      }
      case 'omnilive.output_audio.paused':
        this.#onPaused(ev.response_id);
        break;
      case 'omnilive.output_audio.resumed':
        this.#onResumed(ev.response_id);
        break;
      case 'response.done':
        if (ev.response.status === 'cancelled') this.#dropPlayback();
        if (this.#activeResponse === ev.response.id) this.#activeResponse = null;
        this.#restingActivity();
        break;
      case 'omnilive.media.stats':
        this.store.set({
          serverStats: { audioMs: ev.audio_ms ?? 0, videoFrames: ev.video_frames ?? 0, rtpAudioPackets: ev.rtp_audio_packets ?? 0, rtpVideoPackets: ev.rtp_video_packets ?? 0 },
        });
        break;
      case 'omnilive.webrtc.state':
        // Also while connecting: the server's view arrives before our transport reports 'connected'.
        if (this.#state.uplink.mode === 'connecting' || ev.transport_id === this.#uplink?.transportId) this.#setUplink({ detail: `ICE ${ev.ice_state}, DTLS ${ev.dtls_state}` });
        break;
      case 'error':
        this.#onServerError(ev.error);
        break;
    }
    const conversation = applyEvent(this.#state.conversation, ev, this.#spokenDefault);
    if (conversation !== this.#state.conversation) this.store.set({ conversation });
  }

  /**
   * A sound that may be the user starting to talk: the answer stops at once. Over WebRTC the
   * server holds the voice track; over the WebSocket the player keeps what it has not played.
   */
  #onPaused(responseId: string): void {
    const live = this.#voice?.live ?? false;
    if (!live && responseId !== this.#activeResponse && responseId !== this.#playerResponse) return;
    this.#pausedResponse = responseId;
    if (!live) this.#player?.pause();
    this.store.set({ activity: 'Listening…' });
  }

  /** Nobody was talking after all: the answer goes on from where it stopped. */
  #onResumed(responseId: string): void {
    if (responseId !== this.#pausedResponse) return;
    this.#pausedResponse = null;
    if (this.#voice?.live) return this.store.set({ activity: 'Answering…' });
    this.#player?.resume();
    if (this.#player?.playing) this.store.set({ activity: 'Answering…' });
    else this.#restingActivity();
  }

  /** Silences the answer and drops what a pause held: barge-in, a cancel, a new question. */
  #dropPlayback(): void {
    this.#player?.clear();
    this.#pausedResponse = null;
  }

  #onServerError(error: WireError): void {
    if (error.code === 'video_unavailable') {
      this.#frames?.stop();
      this.#frames = null;
      this.#setUplink({ detail: 'the server has no vision engines: video is not sent' });
      return;
    }
    // Replies to our own requests (signalling) are handled by whoever asked.
    if (error.event_id?.startsWith('evt_web_')) return;
    this.store.set({ problem: { kind: 'server', message: `Server error${error.code ? ` (${error.code})` : ''}: ${error.message ?? 'unknown error'}` } });
  }
}

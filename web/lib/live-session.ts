// The page's controller: one realtime session, the camera and microphone uplink (WebRTC, or the
// WebSocket as fallback), answer playback with barge-in (a WebRTC voice track when the uplink
// is WebRTC, WebAudio otherwise), reconnecting by itself when the server goes away, and the
// state the components render.
import { addNote, applyEvent, cutOffTurns } from './conversation';
import { INPUT_RATE, MediaLink } from './media-link';
import { pcm16Base64ToFloat32 } from './pcm';
import { PcmPlayer } from './pcm-player';
import { AccessProblem, forgetKey, saveKey, sessionProtocols } from './access';
import { ConnectError, RealtimeClient, realtimeUrl, type CloseInfo } from './realtime-client';
import { Reconnector, describeLoss, reconnectedText, reconnectsAfter } from './reconnect';
import { initialState, type SessionState } from './session-state';
import { Store } from './store';
import { Watches } from './watches';
import type { ServerEvent, WireError, WireSession } from '../../server/protocol/server-events';

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
  /** Camera and microphone, and their way to the session. */
  readonly #media: MediaLink;
  #activeResponse: string | null = null;
  /** The answer whose audio the player was last given (it may play on after response.done). */
  #playerResponse: string | null = null;
  /** The answer the server paused on a sound that may be the user talking, until it resumes or is dropped. */
  #pausedResponse: string | null = null;
  #spokenDefault = true;
  /** Bumped by stop and by a lost connection: async work begun before drops its result. */
  #run = 0;
  #lastAction: 'start' | 'ask' = 'ask';
  /** Session fields this page set (the input audio format): every new session gets them again. */
  #settings: Record<string, unknown> = {};
  readonly #settingsSent = new WeakSet<RealtimeClient>();
  /** The server said `server_shutting_down`: the close that follows is a stop, not a crash. */
  #serverShutDown = false;
  /** Camera and microphone were on when the connection went: they go back on air in the new session. */
  #resumeMedia = false;
  #listensOnline = false;
  /** After a lost connection: new sessions, with backoff, until one opens or the user stops. */
  readonly #reconnect = new Reconnector({
    attempt: () => this.#connect(),
    // Only a credential the person must fix stops it; an unreachable or restarting server does not.
    retryable: (error) => !(error instanceof AccessProblem) || error.retryable,
    onStatus: (reconnect) => this.store.set({ reconnect }),
    onGiveUp: (error) => this.#gaveUp(error),
  });

  constructor(options: LiveSessionOptions = {}) {
    this.#options = options;
    this.#media = new MediaLink(
      {
        store: this.store,
        client: () => this.#client,
        serverUrl: (path) => this.#serverUrl(path),
        overWebSocket: () => options.mediaOverWebSocket ?? new URLSearchParams(location.search).get('media') === 'websocket',
        stop: () => this.stop(),
        voiceStarted: () => this.#player?.clear(),
        restingActivity: () => this.#restingActivity(),
      },
      options.camera ?? true,
    );
  }

  /** Whether the next start opens the camera too (the widget asks the visitor). */
  set camera(on: boolean) {
    this.#media.camera = on;
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
    this.#lastAction = 'start';
    this.#settings = { ...this.#settings, audio: { input: { format: { type: 'audio/pcm', rate: INPUT_RATE } } } };
    if (this.#reconnect.active) {
      // Start while a typed conversation reconnects: media comes with the new session.
      this.#resumeMedia = true;
      this.#ensureAudio();
      return this.#reconnect.now();
    }
    const run = ++this.#run;
    this.store.set({ starting: true, problem: null, notice: null, reconnected: null, activity: 'Connecting…' });
    this.#ensureAudio(); // inside the click: browsers let audio start now
    let client: RealtimeClient;
    try {
      client = await this.#connect();
    } catch {
      if (run === this.#run) this.store.set({ starting: false, activity: '' });
      return;
    }
    if (run !== this.#run) return;
    this.#sendSettings(client);
    await this.#media.attach(client, this.#audioCtx!, () => run === this.#run);
  }

  /** Stops the media, leaves, closes the session, silences playback, and stops reconnecting. */
  stop(): void {
    this.#run++;
    const reconnecting = this.#reconnect.active;
    this.#reconnect.cancel();
    this.#resumeMedia = false;
    this.#media.stop();
    const client = this.#client;
    this.#client = null;
    client?.close();
    this.#dropPlayback();
    this.#activeResponse = null;
    this.store.set((s) => ({
      ws: client || reconnecting || s.ws === 'connecting' ? 'closed' : s.ws,
      problem: s.problem?.kind === 'disconnected' ? null : s.problem,
      reconnected: null,
      starting: false,
      activity: '',
    }));
  }

  /** A typed question: works without camera and microphone. Resolves false if it could not be sent. */
  async ask(text: string): Promise<boolean> {
    if (!this.#state.running && !this.#state.starting) this.#lastAction = 'ask';
    this.#ensureAudio();
    if (this.#reconnect.active) {
      // Asked while reconnecting: try now rather than at the next attempt.
      await this.#reconnect.now();
      if (!this.#client?.open) return false;
    }
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

  /** After "server unreachable" or a refused credential: try again what the user last did. While reconnecting: the next attempt, now. */
  retry(): void {
    if (this.#reconnect.active) {
      this.#ensureAudio();
      void this.#reconnect.now();
      return;
    }
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

  dismissReconnected(): void {
    this.store.set({ reconnected: null });
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
    // While reconnecting the state stays 'lost': the banner counts the attempts instead.
    if (!this.#reconnect.active) this.store.set({ ws: 'connecting' });
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
          this.#serverShutDown = false;
          client.on((event) => this.#onEvent(event));
          client.onUnexpectedClose((info) => this.#onLost(client, info));
          const previousUser = this.#state.user;
          this.#onSession(client.session);
          this.#sendSettings(client);
          this.watches.sessionOpened(client);
          if (this.#reconnect.connected()) {
            this.#reconnected(client, previousUser);
            return client;
          }
          const hadTurns = this.#state.conversation.turns.length > 0;
          this.store.set((s) => ({ ws: 'open', problem: null, conversation: hadTurns ? addNote(s.conversation, 'New session') : s.conversation }));
          return client;
        },
        (error) => {
          // While reconnecting, a failed attempt only schedules the next (the reconnector decides).
          if (run === this.#run && this.#reconnect.active) throw error;
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
    this.#dropPlayback();
    this.#activeResponse = null;
    const why = describeLoss(info.code, info.reason, this.#serverShutDown);
    this.store.set((s) => ({ conversation: cutOffTurns(s.conversation, 'cut off — the connection was lost') }));
    if (!reconnectsAfter(info.code)) {
      // The server's policy ended it (a session length limit, a client too slow): no coming back by itself.
      this.#media.stop();
      this.store.set({ ws: 'lost', starting: false, activity: '', problem: { kind: 'disconnected', retry: true, message: `${why}. Retry to reconnect.` } });
      return;
    }
    // Camera and microphone stay open (no new permission prompt); only their way to the dead session goes.
    this.#resumeMedia = this.#state.running || this.#state.starting;
    this.#media.detach(this.#resumeMedia ? 'paused until reconnected' : 'off');
    this.store.set({ ws: 'lost', starting: false, activity: '', reconnected: null, problem: { kind: 'disconnected', retry: true, message: why } });
    if (!this.#listensOnline && typeof window !== 'undefined') {
      this.#listensOnline = true;
      // The network is back: no need to wait for the next attempt.
      window.addEventListener('online', () => void this.#reconnect.now());
    }
    this.#reconnect.lost(why);
  }

  /** A new session after a lost one: says what it means for the conversation, and puts back what ran. */
  #reconnected(client: RealtimeClient, previousUser: string | null): void {
    const message = reconnectedText(previousUser, client.session?.omnilive?.user ?? null);
    this.store.set((s) => ({
      ws: 'open',
      problem: s.problem?.kind === 'disconnected' ? null : s.problem,
      reconnected: message,
      conversation: addNote(s.conversation, message),
    }));
    if (!this.#resumeMedia) return;
    this.#resumeMedia = false;
    this.store.set({ starting: true, activity: 'Reconnecting media…' });
    const run = this.#run;
    void this.#media.attach(client, this.#audioCtx!, () => run === this.#run);
  }

  /** Reconnecting met a problem only the person can solve (a refused key): say it, and let go of the media. */
  #gaveUp(error: unknown): void {
    this.#resumeMedia = false;
    this.#media.stop();
    const message = (error as Error)?.message ?? String(error);
    this.store.set({ ws: 'closed', starting: false, activity: '', problem: { kind: 'access', retry: true, message } });
  }

  /** The settings (once each) to a session that has not had them: a new one, or the one open when Start set them. */
  #sendSettings(client: RealtimeClient): void {
    if (this.#settingsSent.has(client) || Object.keys(this.#settings).length === 0) return;
    if (client.send({ type: 'session.update', session: this.#settings })) this.#settingsSent.add(client);
  }

  #onSession(session: WireSession): void {
    if (!session) return;
    const format = session.audio.output.format;
    // The web app asks for pcm16; a G.711 session would be another client's.
    if (this.#player) this.#player.rate = 'rate' in format ? format.rate : 8000;
    this.#spokenDefault = (session.output_modalities ?? ['audio']).includes('audio');
    this.store.set({ engines: session.omnilive?.engines ?? null, user: session.omnilive?.user ?? null });
  }

  // ---- playback ----

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
        if (this.#media.voiceLive) {
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
        if (this.#state.uplink.mode === 'connecting' || ev.transport_id === this.#media.transportId) this.#media.setUplink({ detail: `ICE ${ev.ice_state}, DTLS ${ev.dtls_state}` });
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
    const live = this.#media.voiceLive;
    if (!live && responseId !== this.#activeResponse && responseId !== this.#playerResponse) return;
    this.#pausedResponse = responseId;
    if (!live) this.#player?.pause();
    this.store.set({ activity: 'Listening…' });
  }

  /** Nobody was talking after all: the answer goes on from where it stopped. */
  #onResumed(responseId: string): void {
    if (responseId !== this.#pausedResponse) return;
    this.#pausedResponse = null;
    if (this.#media.voiceLive) return this.store.set({ activity: 'Answering…' });
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
    // The server is stopping: the close follows, and the reconnect banner says so.
    if (error.code === 'server_shutting_down' || error.code === 'session_draining') {
      if (error.code === 'server_shutting_down') this.#serverShutDown = true;
      return;
    }
    if (error.code === 'video_unavailable') return this.#media.videoUnavailable();
    // Replies to our own requests (signalling) are handled by whoever asked.
    if (error.event_id?.startsWith('evt_web_')) return;
    this.store.set({ problem: { kind: 'server', message: `Server error${error.code ? ` (${error.code})` : ''}: ${error.message ?? 'unknown error'}` } });
  }
}

// The widget's panel, loaded on the first click: the same LiveSession controller as the web
// app (WebRTC uplink and voice, WebSocket fallback, barge-in), rendered with plain DOM inside
// the element's shadow root, its events re-dispatched on the element.
import { LiveSession } from '../lib/live-session';
import { reconnectingText } from '../lib/reconnect';
import type { ServerEvent } from '../../server/protocol/server-events';
import type { SessionState } from '../lib/session-state';
import type { Turn } from '../lib/conversation';
import type { WidgetConfig } from './attributes';
import { widgetCredential } from './credentials';
import type { WidgetPanel } from './omnilive';
import { PANEL_CSS } from './panel-style';

type Host = HTMLElement & { panelClosed(): void };

type Props<K extends keyof HTMLElementTagNameMap> = Partial<Omit<HTMLElementTagNameMap[K], 'part'>> & { part?: string };

/** An element with properties and children; `part` names it for ::part() theming. */
function el<K extends keyof HTMLElementTagNameMap>(tag: K, props: Props<K> = {}, ...children: (Node | string)[]): HTMLElementTagNameMap[K] {
  const node = document.createElement(tag);
  const { part, ...rest } = props;
  Object.assign(node, rest);
  if (part) node.setAttribute('part', part);
  node.append(...children);
  return node;
}

/** What the visitor sees as the conversation's state. */
function stateOf(s: SessionState): 'idle' | 'connecting' | 'reconnecting' | 'listening' | 'thinking' | 'speaking' | 'error' {
  if (s.reconnect) return 'reconnecting';
  if (s.problem) return 'error';
  if (s.ws === 'connecting' || s.starting) return 'connecting';
  if (s.playback.playing) return 'speaking';
  if (/Thinking|Hearing/.test(s.activity)) return 'thinking';
  if (s.running) return 'listening';
  return 'idle';
}

const STATE_TEXT = { idle: 'Ready', connecting: 'Connecting…', reconnecting: 'Reconnecting…', listening: 'Listening…', thinking: 'Thinking…', speaking: 'Speaking…', error: 'Something went wrong' } as const;

class Panel implements WidgetPanel {
  readonly #host: Host;
  readonly #root: ShadowRoot;
  readonly #config: WidgetConfig;
  readonly #session: LiveSession;
  readonly #box: HTMLElement;
  readonly #status: HTMLElement;
  readonly #log: HTMLOListElement;
  readonly #partial: HTMLElement;
  readonly #problem: HTMLElement;
  readonly #problemText: HTMLElement;
  readonly #retry: HTMLButtonElement;
  /** Re-renders the reconnect countdown while there is one. */
  #countdown: ReturnType<typeof setInterval> | undefined;
  readonly #consent: HTMLElement;
  readonly #input: HTMLInputElement;
  readonly #muteButton: HTMLButtonElement;
  /** What the camera shows, so the visitor sees what the assistant sees. */
  readonly #preview: HTMLVideoElement;
  readonly #unsubscribe: () => void;
  readonly #rendered = new Map<string, HTMLLIElement>();
  #state = '';
  #muted = false;
  #voice = false;

  constructor(host: Host, root: ShadowRoot, config: WidgetConfig, audio: AudioContext | undefined) {
    this.#host = host;
    this.#root = root;
    this.#config = config;
    this.#session = new LiveSession({ server: config.server, credential: widgetCredential(config), camera: false, audioContext: audio, onEvent: (e) => this.#onEvent(e) });
    const sheet = new CSSStyleSheet();
    sheet.replaceSync(PANEL_CSS);
    root.adoptedStyleSheets = [...root.adoptedStyleSheets, sheet];

    this.#status = el('span', { className: 'status', part: 'status' });
    this.#muteButton = el('button', { type: 'button', className: 'quiet', textContent: 'Mute', part: 'button' });
    this.#muteButton.setAttribute('aria-pressed', 'false');
    this.#muteButton.addEventListener('click', () => this.mute(!this.#muted));
    const endButton = el('button', { type: 'button', className: 'quiet', textContent: 'End', part: 'button' });
    endButton.addEventListener('click', () => this.end());
    const header = el('header', { part: 'header' }, el('strong', { textContent: config.labels.title }), this.#status, el('span', { className: 'spacer' }), this.#muteButton, endButton);

    // Final lines are announced; the partial line below is not (it changes too often).
    this.#log = el('ol', { className: 'log', part: 'transcript' });
    this.#log.setAttribute('role', 'log');
    this.#log.setAttribute('aria-live', 'polite');
    this.#log.setAttribute('aria-label', 'Conversation');
    this.#partial = el('p', { className: 'partial' });
    this.#partial.setAttribute('aria-hidden', 'true');
    this.#problemText = el('span');
    this.#retry = el('button', { type: 'button', className: 'quiet', textContent: 'Retry', part: 'button' });
    this.#retry.addEventListener('click', () => this.#session.retry());
    this.#problem = el('div', { className: 'problem', part: 'problem', hidden: true }, this.#problemText, this.#retry);
    this.#problem.setAttribute('role', 'alert');

    const allow = el('button', { type: 'button', className: 'primary', textContent: 'Use my microphone', part: 'button' });
    allow.addEventListener('click', () => this.#startVoice(false));
    // With `vision`, the visitor may also show the assistant something: the camera is their choice.
    const withCamera = el('button', { type: 'button', className: 'quiet camera', textContent: 'Microphone and camera', part: 'button', hidden: !config.vision });
    withCamera.addEventListener('click', () => this.#startVoice(true));
    const typeOnly = el('button', { type: 'button', className: 'quiet', textContent: 'Type instead', part: 'button' });
    typeOnly.addEventListener('click', () => {
      this.#consent.hidden = true;
      this.#input.focus();
    });
    this.#consent = el('div', { className: 'consent', part: 'consent' }, el('p', { textContent: config.vision ? `${config.labels.consent} You can also turn on your camera to show it something.` : config.labels.consent }), el('div', { className: 'row' }, allow, withCamera, typeOnly));

    this.#input = el('input', { type: 'text', placeholder: 'Type a message…', part: 'input' });
    this.#input.setAttribute('aria-label', 'Message to the assistant');
    const form = el('form', { className: 'row', part: 'form' }, this.#input, el('button', { type: 'submit', className: 'primary', textContent: 'Send', part: 'button' }));
    form.addEventListener('submit', (e) => {
      e.preventDefault();
      const text = this.#input.value.trim();
      if (!text) return;
      this.#input.value = '';
      this.sendText(text);
    });

    this.#preview = el('video', { muted: true, autoplay: true, playsInline: true, hidden: true, part: 'camera' });
    this.#preview.setAttribute('aria-label', 'Your camera, as the assistant sees it');
    this.#box = el('section', { className: `panel ${config.mode}`, part: 'panel' }, header, this.#consent, this.#problem, this.#preview, this.#log, this.#partial, form);
    this.#box.setAttribute('role', 'dialog');
    this.#box.setAttribute('aria-label', config.labels.title);
    this.#box.addEventListener('keydown', (e) => {
      if (e.key === 'Escape') this.end();
    });
    root.append(this.#box);
    this.#unsubscribe = this.#session.store.subscribe(() => this.#render());
    this.#render();
  }

  /** Opens the panel: the consent line first, then the browser's microphone prompt on "Use my microphone". */
  start(): void {
    if (this.#voice) return;
    this.#consent.hidden = false;
    (this.#consent.querySelector('button.primary') as HTMLButtonElement | null)?.focus();
  }

  #startVoice(camera: boolean): void {
    this.#session.camera = camera;
    this.#consent.hidden = true;
    this.#voice = true;
    void this.#session.start();
  }

  end(): void {
    this.close();
    this.#emit('omnilive:state', { state: 'ended' });
    this.#host.panelClosed();
  }

  close(): void {
    this.#session.stop();
    clearInterval(this.#countdown);
    this.#unsubscribe();
    this.#box.remove();
  }

  mute(muted: boolean): void {
    this.#muted = muted;
    this.#muteButton.setAttribute('aria-pressed', String(muted));
    this.#muteButton.textContent = muted ? 'Unmute' : 'Mute';
    this.#session.store.get().stream?.getAudioTracks().forEach((t) => (t.enabled = !muted));
  }

  sendText(text: string): void {
    this.#consent.hidden = true;
    this.#session.dismissReconnected();
    void this.#session.ask(text);
  }

  #emit(type: string, detail: unknown): void {
    this.#host.dispatchEvent(new CustomEvent(type, { bubbles: true, composed: true, detail }));
  }

  #onEvent(event: ServerEvent): void {
    if (event.type === 'conversation.item.input_audio_transcription.completed' || event.type === 'conversation.item.input_audio_transcription.delta') this.#emit('omnilive:transcript', event);
    else if (event.type === 'response.done') this.#emit('omnilive:response', event);
    else if (event.type === 'error') this.#emit('omnilive:error', event.error);
  }

  #render(): void {
    const s = this.#session.store.get();
    const state = stateOf(s);
    if (state !== this.#state) {
      this.#state = state;
      this.#box.dataset.state = state;
      this.#status.textContent = STATE_TEXT[state];
      this.#emit('omnilive:state', { state });
    }
    this.#problem.hidden = !s.problem && !s.reconnected;
    this.#problem.dataset.kind = s.problem ? s.problem.kind : 'reconnected';
    this.#problemText.textContent = s.reconnect ? reconnectingText(s.reconnect, Date.now()) : (s.problem?.message ?? s.reconnected ?? '');
    this.#retry.hidden = !s.problem;
    this.#retry.textContent = s.reconnect ? 'Retry now' : 'Retry';
    if (s.reconnect && !this.#countdown) this.#countdown = setInterval(() => this.#render(), 500);
    else if (!s.reconnect && this.#countdown) {
      clearInterval(this.#countdown);
      this.#countdown = undefined;
    }
    if (s.problem?.kind === 'permission' || s.problem?.kind === 'no-microphone') this.#input.focus();
    this.#box.dataset.playedMs = String(Math.round(s.playback.playedMs));
    this.#box.dataset.uplink = s.uplink.mode;
    const camera = s.stream && s.stream.getVideoTracks().length > 0 ? s.stream : null;
    if (this.#preview.srcObject !== camera) this.#preview.srcObject = camera;
    this.#preview.hidden = !camera;
    let partial = '';
    for (const turn of s.conversation.turns) {
      if (turn.role === 'note') continue;
      if (turn.state === 'partial') {
        partial = turn.role === 'user' ? turn.text : partial;
        if (turn.role === 'user') continue;
      }
      this.#renderTurn(turn);
    }
    this.#partial.textContent = partial;
  }

  #renderTurn(turn: Turn): void {
    const key = `${turn.role}:${turn.id}`;
    let li = this.#rendered.get(key);
    if (!li) {
      li = el('li', { className: turn.role });
      li.setAttribute('part', `turn ${turn.role}`);
      this.#rendered.set(key, li);
      this.#log.append(li);
    }
    li.dataset.state = turn.state;
    const text = turn.text + (turn.state === 'cancelled' ? ' (interrupted)' : '');
    if (li.textContent !== text) li.textContent = text;
    this.#log.scrollTop = this.#log.scrollHeight;
  }
}

export function createPanel(host: HTMLElement, root: ShadowRoot, config: WidgetConfig, audio: AudioContext | undefined): WidgetPanel {
  return new Panel(host as Host, root, config, audio);
}

// The widget's loader: <script type="module" src="https://HOST/widget/omnilive.js"> defines
// <omnilive-assistant>. It stays small; the call code (audio, WebRTC, the panel) loads from the
// same server on the first click.
import { ATTRIBUTES, readConfig, type WidgetConfig } from './attributes';

/** The panel module's face, as the loader uses it (panel.ts). */
export interface WidgetPanel {
  start(): void;
  end(): void;
  mute(muted: boolean): void;
  sendText(text: string): void;
  close(): void;
}

type PanelModule = { createPanel(host: HTMLElement, root: ShadowRoot, config: WidgetConfig, audio: AudioContext | undefined): WidgetPanel };

const LOADER_CSS = `
:host { position: fixed; inset: auto 20px 20px auto; z-index: 2147483000; display: block; }
:host([mode="inline"]) { position: static; inset: auto; z-index: auto; }
:host([hidden]) { display: none; }
.launcher { all: initial; box-sizing: border-box; cursor: pointer; font: 600 15px/1.2 system-ui, -apple-system, "Segoe UI", sans-serif;
  color: var(--omnilive-on-accent, #fff); background: var(--omnilive-accent, #2f6fed); border-radius: 999px; padding: 12px 18px;
  box-shadow: 0 4px 16px rgba(0,0,0,.2); display: inline-flex; align-items: center; gap: 8px; }
.launcher:focus-visible { outline: 3px solid var(--omnilive-focus, #9cc0ff); outline-offset: 2px; }
.launcher[hidden] { display: none; }
`;

let panelModule: Promise<PanelModule> | undefined;

function loadPanel(): Promise<PanelModule> {
  // The chunk sits beside this file on the OmniLive server (esbuild's code splitting).
  panelModule ??= import('./panel') as Promise<PanelModule>;
  return panelModule;
}

export class OmniLiveAssistant extends HTMLElement {
  static observedAttributes = Object.keys(ATTRIBUTES);
  readonly #root: ShadowRoot;
  readonly #launcher: HTMLButtonElement;
  #panel: WidgetPanel | undefined;
  #opening: Promise<WidgetPanel> | undefined;

  constructor() {
    super();
    this.#root = this.attachShadow({ mode: 'open' });
    // Constructed style sheets: no <style> element, no inline style attribute — strict CSPs allow them.
    const sheet = new CSSStyleSheet();
    sheet.replaceSync(LOADER_CSS);
    this.#root.adoptedStyleSheets = [sheet];
    this.#launcher = document.createElement('button');
    this.#launcher.type = 'button';
    this.#launcher.className = 'launcher';
    this.#launcher.setAttribute('part', 'launcher');
    this.#launcher.addEventListener('click', () => this.start());
    this.#root.append(this.#launcher);
  }

  connectedCallback(): void {
    this.#launcher.textContent = readConfig(this, import.meta.url).labels.start;
  }

  attributeChangedCallback(): void {
    if (this.isConnected) this.#launcher.textContent = readConfig(this, import.meta.url).labels.start;
  }

  disconnectedCallback(): void {
    this.#panel?.close();
    this.#panel = undefined;
    this.#opening = undefined;
    this.#launcher.hidden = false;
  }

  /** Opens the panel and starts a conversation. Call it from a user gesture: audio is unlocked here. */
  start(): void {
    const audio = this.#unlockAudio();
    this.#launcher.hidden = true;
    void this.#open(audio).then((panel) => panel.start());
  }

  /** Ends the conversation and closes the panel. */
  end(): void {
    this.#panel?.end();
  }

  mute(muted = true): void {
    this.#panel?.mute(muted);
  }

  /** A typed message, as if the visitor had typed it (opens the panel if needed). */
  sendText(text: string): void {
    const audio = this.#unlockAudio();
    this.#launcher.hidden = true;
    void this.#open(audio).then((panel) => panel.sendText(text));
  }

  /** Called by the panel when the visitor closes it. */
  panelClosed(): void {
    this.#panel = undefined;
    this.#opening = undefined;
    this.#launcher.hidden = false;
    this.#launcher.focus();
  }

  /** Inside the click, before any await: browsers (iOS first) only start audio in a gesture. */
  #unlockAudio(): AudioContext | undefined {
    if (this.#panel || this.#opening) return undefined;
    try {
      const ctx = new AudioContext({ latencyHint: 'interactive' });
      void ctx.resume().catch(() => {});
      return ctx;
    } catch {
      return undefined;
    }
  }

  #open(audio: AudioContext | undefined): Promise<WidgetPanel> {
    if (this.#panel) return Promise.resolve(this.#panel);
    this.#opening ??= loadPanel().then(
      (mod) => {
        this.#panel = mod.createPanel(this, this.#root, readConfig(this, import.meta.url), audio);
        return this.#panel;
      },
      (error) => {
        this.#opening = undefined;
        this.#launcher.hidden = false;
        this.dispatchEvent(new CustomEvent('omnilive:error', { bubbles: true, composed: true, detail: { code: 'load_failed', message: `the assistant could not load: ${(error as Error).message}` } }));
        throw error;
      },
    );
    return this.#opening;
  }
}

if (!customElements.get('omnilive-assistant')) customElements.define('omnilive-assistant', OmniLiveAssistant);

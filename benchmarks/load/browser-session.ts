/**
 * WebRTC sessions for the load benchmark: one headless Chromium, a browser context (a page)
 * per session running page.mjs — the web app's RealtimeClient, WebRtcUplink and WebRtcVoice —
 * with the same sentences and scenes as the WebSocket sessions. Finished turns are collected
 * from the pages every two seconds and put on the benchmark's clock.
 */
import { build } from 'esbuild';
import path from 'node:path';
import { type Browser, type BrowserContext, type Page, chromium } from 'playwright-core';
import { pcm16ToBase64 } from '../../server/audio/pcm.ts';
import type { TurnRecord } from '../live-sessions/live-session.ts';
import type { Scene } from '../live-sessions/media.ts';
import { INPUT_RATE, type Utterance } from '../turn-latency/mic.ts';

export interface BrowserFleetOptions {
  url: string;
  chromium: string;
  lines: readonly Utterance[];
  scenes: readonly Scene[];
  seed: string;
  pauseMs?: [number, number];
  sceneMs?: [number, number];
  onProblem: (text: string) => void;
}

export class BrowserFleet {
  readonly turns: TurnRecord[] = [];
  readonly #browser: Browser;
  readonly #bundle: string;
  readonly #o: BrowserFleetOptions;
  readonly #pages: { index: number; context: BrowserContext; page: Page; open: boolean; turnStartedAt?: number }[] = [];
  readonly #timer: NodeJS.Timeout;
  #collecting: Promise<void> = Promise.resolve();
  #closed = false;

  private constructor(browser: Browser, bundle: string, options: BrowserFleetOptions) {
    this.#browser = browser;
    this.#bundle = bundle;
    this.#o = options;
    this.#timer = setInterval(() => {
      this.#collecting = this.#collecting.then(() => this.#collect());
    }, 2000);
  }

  static async start(options: BrowserFleetOptions): Promise<BrowserFleet> {
    const bundle = (await build({ entryPoints: [path.join(import.meta.dirname, 'page.mjs')], bundle: true, write: false, format: 'iife', platform: 'browser', target: 'chrome120', logLevel: 'error' })).outputFiles[0]!.text;
    const browser = await chromium.launch({
      executablePath: options.chromium,
      args: ['--no-sandbox', '--headless', '--disable-gpu', '--disable-background-networking', '--disable-quic', '--no-first-run', '--disable-component-update', '--disable-sync', '--autoplay-policy=no-user-gesture-required'],
    });
    return new BrowserFleet(browser, bundle, options);
  }

  get size(): number {
    return this.#pages.filter((p) => p.open).length;
  }

  async openOne(index: number): Promise<void> {
    const context = await this.#browser.newContext();
    const page = await context.newPage();
    page.on('pageerror', (e) => this.#o.onProblem(`webrtc session ${index}: page error: ${e.message}`));
    try {
      // A page on the server's origin: 127.0.0.1 is a secure context (mediasoup-client needs one).
      await page.goto(this.#o.url.replace(/^ws/, 'http').replace('/v1/realtime', '/healthz'));
      await page.setContent('<!doctype html><title>load</title><body></body>');
      await page.addScriptTag({ content: this.#bundle });
      const cfg = {
        index,
        seed: `${this.#o.seed}:webrtc:${index}`, // seededRandom hashes it
        pauseMs: this.#o.pauseMs ?? [2000, 5000],
        sceneMs: this.#o.sceneMs ?? [8000, 20000],
        lines: this.#o.lines.map((u) => ({ text: u.text, pcm: pcm16ToBase64(u.pcm), rate: INPUT_RATE, offset: u.offset })),
        scenes: this.#o.scenes.map((s) => s.jpeg),
      };
      await page.evaluate(`window.startLoad(${JSON.stringify(this.#o.url)}, ${JSON.stringify(cfg)})`);
    } catch (error) {
      await context.close().catch(() => {});
      throw error;
    }
    this.#pages.push({ index, context, page, open: true });
  }

  micLateness(): number[] {
    return [];
  }

  /** When each session's turn in progress began (as of the last collection, every 2 s). */
  turnsInFlight(): number[] {
    return this.#pages.flatMap((p) => (p.open && p.turnStartedAt !== undefined ? [p.turnStartedAt] : []));
  }

  async #collect(): Promise<void> {
    for (const p of this.#pages) {
      if (!p.open) continue;
      const got = (await p.page.evaluate('window.load.take()').catch(() => undefined)) as { turns: (TurnRecord & { at: number })[]; problems: string[]; open: boolean; turnStartedAt: number | null } | undefined;
      if (!got) continue;
      p.turnStartedAt = got.turnStartedAt === null ? undefined : got.turnStartedAt - performance.timeOrigin;
      // Page times are epoch ms; the benchmark's are performance.now() of this process.
      for (const t of got.turns) this.turns.push({ ...t, at: t.at - performance.timeOrigin });
      for (const text of got.problems) this.#o.onProblem(`webrtc session ${p.index}: ${text}`);
      if (!got.open) {
        p.open = false;
        if (!this.#closed) this.#o.onProblem(`webrtc session ${p.index}: the connection closed`);
      }
    }
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    clearInterval(this.#timer);
    await this.#collecting;
    await Promise.all(this.#pages.map((p) => p.page.evaluate('window.load.stop()').catch(() => {})));
    await this.#collect();
    for (const p of this.#pages) await p.context.close().catch(() => {});
    await this.#browser.close();
  }
}

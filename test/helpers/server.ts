import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import OpenAI from 'openai';
import { OpenAIRealtimeWS } from 'openai/realtime/ws';
import { loadConfig, type SettingValues } from '../../server/config.ts';
import { createEngines } from '../../server/engines.ts';
import { OmniLiveServer } from '../../server/http/server.ts';
import { after, before } from 'node:test';
import { startFakeLlm, type FakeLlm } from './fake-llm.ts';

export interface TestServer {
  server: OmniLiveServer;
  port: number;
  dataDir: string;
  /** PEM of the server's self-signed certificate, for clients that verify it. */
  ca: string;
  close(): Promise<void>;
}

/** A real OmniLive server on a free loopback port, with its own data dir. */
export async function startServer(settings: SettingValues = {}): Promise<TestServer> {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'omnilive-test-'));
  // Vision loads OCR and object models in a child process, WebRTC starts mediasoup workers:
  // only the tests that need them ask for them.
  const config = loadConfig({ host: '127.0.0.1', port: '0', dataDir, 'vision.enabled': 'off', 'memory.enabled': 'off', 'webrtc.enabled': 'off', ...settings }, {});
  const engines = await createEngines(config);
  let server: OmniLiveServer;
  try {
    server = new OmniLiveServer(config, engines);
  } catch (error) {
    await engines.close();
    throw error;
  }
  const { port } = await server.listen();
  const certFile = path.join(dataDir, 'tls', 'self-signed.crt');
  const ca = fs.existsSync(certFile) ? fs.readFileSync(certFile, 'utf8') : '';
  return {
    server,
    port,
    dataDir,
    ca,
    async close() {
      await server.close();
      await engines.close();
      fs.rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** The openai SDK's own Realtime WebSocket client, pointed at our server over wss. */
export function realtimeClient(t: TestServer): OpenAIRealtimeWS {
  const client = new OpenAI({ apiKey: 'sk-test-not-a-secret', baseURL: `https://127.0.0.1:${t.port}/v1` });
  return new OpenAIRealtimeWS({ model: 'omnilive', options: { ca: t.ca } }, client);
}

type AnyEvent = { type: string } & Record<string, any>;

/** Records every server event and lets a test wait for one. */
export class EventLog {
  readonly events: (AnyEvent & { at: number })[] = [];
  readonly #waiters: { match: (e: AnyEvent) => boolean; resolve: (e: AnyEvent) => void }[] = [];

  push(event: AnyEvent): void {
    this.events.push({ ...event, at: performance.now() });
    for (const w of [...this.#waiters]) {
      if (w.match(event)) {
        this.#waiters.splice(this.#waiters.indexOf(w), 1);
        w.resolve(event);
      }
    }
  }

  of(type: string): AnyEvent[] {
    return this.events.filter((e) => e.type === type);
  }

  /** Resolves with the first event (already seen or future) that matches. */
  waitFor(type: string, match: (e: AnyEvent) => boolean = () => true, timeoutMs = 20_000): Promise<AnyEvent> {
    const seen = this.events.find((e) => e.type === type && match(e));
    if (seen) return Promise.resolve(seen);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`timed out after ${timeoutMs} ms waiting for ${type}; saw: ${[...new Set(this.events.map((e) => e.type))].join(', ')}`)), timeoutMs);
      this.#waiters.push({ match: (e) => e.type === type && match(e), resolve: (e) => (clearTimeout(timer), resolve(e)) });
    });
  }
}

/**
 * For a describe block: an OmniLive server (plain ws://) whose language model is a scripted
 * OpenAI-compatible server, started before the block's tests and closed after them.
 */
export function withScriptedModel(answer: Parameters<typeof startFakeLlm>[0], settings: SettingValues = {}, tokenDelayMs = 1): { readonly llm: FakeLlm; readonly server: TestServer } {
  const state = {} as { llm: FakeLlm; server: TestServer };
  before(async () => {
    state.llm = await startFakeLlm(answer, tokenDelayMs);
    state.server = await startServer({ 'tls.mode': 'off', 'llm.url': state.llm.url, 'llm.model': 'fake-model', ...settings });
  });
  after(async () => {
    await state.server?.close();
    await state.llm?.close();
  });
  return state;
}

import fs from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import net from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { WebSocketServer, type WebSocket } from 'ws';
import type { OmniLiveConfig } from '../config.ts';
import { RealtimeConnection, type WebRtcAccess } from '../protocol/realtime-connection.ts';
import { MediaServer } from '../webrtc/media-server.ts';
import { Session } from '../session/session.ts';
import { describeEngines, type SessionEngines } from '../session/engines.ts';
import { defaultInstructionFilterOptions } from '../reasoning/index.ts';
import { TypedEmitter } from '../events/typed-emitter.ts';
import { silentLogger, type Logger } from '../logger.ts';
import { loadTls } from './tls.ts';
import { AccessControl, AccessDenied, loadAgents, type Grant } from '../access/index.ts';
import { ClientError } from '../errors.ts';
import { ApiRoutes, HttpError, errorBody, refusalResponse } from './api-routes.ts';
import { embedPage } from './embed-page.ts';
import { OpsRoutes } from './ops-routes.ts';
import { Readiness, memoryWritable } from '../ops/readiness.ts';
import { relayEngineHealth } from '../ops/engine-health.ts';
import { serverMetrics } from '../ops/server-metrics.ts';

/** The web app's static export (`node web/build.mjs`, run by `npm install` and `npm start`). */
const WEB_ROOT = fileURLToPath(new URL('../../web/out/', import.meta.url));
const CONTENT_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.txt': 'text/plain; charset=utf-8',
  '.map': 'application/json',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.jpeg': 'image/jpeg',
  '.webp': 'image/webp',
  '.ico': 'image/x-icon',
  '.json': 'application/json',
  '.webmanifest': 'application/manifest+json',
  '.wav': 'audio/wav',
  '.woff': 'font/woff',
  '.woff2': 'font/woff2',
};

/**
 * The widget's code and the capture worklet are loaded by other sites' pages: module scripts and
 * worklets are fetched with CORS, so they say anyone may load them (they hold no secrets).
 * Hashed chunks never change; the versioned loader is cached briefly so fixes reach pages.
 */
function embeddableHeaders(rel: string): Record<string, string> {
  if (!rel.startsWith('widget/') && rel !== 'capture-worklet.js') return {};
  const immutable = rel.startsWith(`widget/v1/chunks/`);
  return {
    'access-control-allow-origin': '*',
    'cross-origin-resource-policy': 'cross-origin',
    'cache-control': immutable ? 'public, max-age=31536000, immutable' : 'public, max-age=300',
  };
}

/** A client secret may only name a voice this server has. */
function checkVoice(engines: SessionEngines, session: Record<string, unknown>): void {
  const voice = (session.audio as { output?: { voice?: string } } | undefined)?.output?.voice;
  const voices = engines.tts.voices;
  if (voice !== undefined && voices && !voices.includes(voice)) throw new TypeError(`unknown voice '${voice}' for ${engines.tts.name}: use one of ${voices.join(', ')}`);
}

/** Probes answer while the server stops: they are how a load balancer learns it is going. */
const PROBE_PATHS = new Set(['/healthz', '/readyz', '/metrics']);

function shuttingDown(): HttpError {
  return new HttpError(503, 'server_shutting_down', 'this server is shutting down; try again shortly (or another instance)', 5);
}

function isFile(file: string): boolean {
  return fs.statSync(file, { throwIfNoEntry: false })?.isFile() ?? false;
}

export interface OmniLiveServerOptions {
  /** Made from the configuration when not given. */
  access?: AccessControl;
  /** The process's logger; the server and its parts log through children of it. @defaultValue silentLogger */
  logger?: Logger;
}

export type OmniLiveServerEvents = {
  sessionopen: [Session];
  sessionclose: [Session];
  listenererror: [string, unknown];
};

/**
 * HTTP, HTTPS, WebSocket and WSS on one port: the first byte of each connection says
 * whether it is a TLS handshake (0x16), so http://localhost and https://host both work.
 */
export class OmniLiveServer extends TypedEmitter<OmniLiveServerEvents> {
  readonly #config: OmniLiveConfig;
  readonly #engines: SessionEngines;
  /** The process's logger, for the parts; #log is this server's own child of it. */
  readonly #logger: Logger;
  readonly #log: Logger;
  readonly #sessions = new Set<Session>();
  readonly #tcp: net.Server;
  readonly #http: http.Server;
  #https: https.Server | undefined;
  readonly #wss: WebSocketServer;
  #closed = false;
  /** Stopping: new connections and requests get 503, the sessions finish (drain()). */
  #draining = false;
  /** The live WebSocket connections, so a drain can end each one with a reason. */
  readonly #connections = new Set<RealtimeConnection>();
  /** Every TCP connection accepted: close() cuts those still open (idle keep-alives, silent ones). */
  readonly #sockets = new Set<net.Socket>();
  #webrtc: WebRtcAccess = { unavailable: 'WebRTC is off (--webrtc off)' };
  readonly access: AccessControl;
  readonly #api: ApiRoutes;
  readonly #ops: OpsRoutes;
  /**
   * `GET /readyz`: engines loaded (they are, once the server exists), memory writable, not
   * draining. The shutdown turns it off first (`readiness.off('draining')`), so load balancers
   * stop sending new clients while sessions drain; close() makes it 503 for good.
   */
  readonly readiness = new Readiness();
  tlsSource: string | undefined;
  /** A first start beyond loopback with no key made this admin key: shown once, by the CLI. */
  newAdminKey: string | undefined;

  constructor(config: OmniLiveConfig, engines: SessionEngines, options: OmniLiveServerOptions = {}) {
    super();
    this.#config = config;
    this.#engines = engines;
    this.#logger = options.logger ?? silentLogger;
    this.#log = this.#logger.child({ component: 'http' });
    if (options.logger) this.logger = this.#log; // else a throwing listener still reaches stderr
    const { apiKeys, allowedOrigins, agentsFile, limits } = config.access;
    this.access = options.access ?? new AccessControl({ dataDir: config.dataDir, host: config.host, apiKeys, allowedOrigins, limits, agents: agentsFile ? loadAgents(agentsFile) : [] });
    this.#api = new ApiRoutes(this.access, engines.memory, (session) => checkVoice(engines, session), { logger: this.#logger });
    for (const agent of this.access.agents) {
      try {
        checkVoice(engines, agent.session);
      } catch (error) {
        throw new TypeError(`agent '${agent.name}': ${(error as Error).message}`);
      }
    }
    this.#http = http.createServer((req, res) => this.#onRequest(req, res));
    // ws closes the socket above maxPayload; below it we answer oversize messages with an error event.
    this.#wss = new WebSocketServer({
      noServer: true,
      maxPayload: Math.max(16 * 1024 * 1024, config.limits.maxMessageBytes * 4),
      // Browsers send the credential as a subprotocol beside `realtime`: answer `realtime`.
      handleProtocols: (offered) => (offered.has('realtime') ? 'realtime' : false),
    });
    this.#http.on('upgrade', (req, socket, head) => this.#onUpgrade(req, socket as net.Socket, head));
    this.#tcp = net.createServer((socket) => this.#route(socket));
    if (engines.memory) this.readiness.add('memory', memoryWritable(engines.memory));
    this.#ops = new OpsRoutes(this.access, serverMetrics.registry, this.readiness, () => this.#closed, { logger: this.#logger });
    serverMetrics.watch(this, { memory: engines.memory, connections: () => this.#wss.clients.size });
    // An engine that is down (a child crashing in a loop, a full disk) is told to every session.
    // Degraded is still ready: the sessions are told what is off, and speech keeps working.
    this.readiness.add('engines', () => undefined);
    if (engines.health) relayEngineHealth(this, engines.health);
  }

  get sessions(): ReadonlySet<Session> {
    return this.#sessions;
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** Whether the server is stopping (drain() was called): it takes no new sessions. */
  get draining(): boolean {
    return this.#draining;
  }

  /** The SFU, when it runs. */
  get media(): MediaServer | undefined {
    return 'media' in this.#webrtc ? this.#webrtc.media : undefined;
  }

  /** Why browsers cannot use WebRTC here (then the web app sends media over the WebSocket). */
  get webrtcUnavailable(): string | undefined {
    return 'unavailable' in this.#webrtc ? this.#webrtc.unavailable : undefined;
  }

  async listen(): Promise<{ host: string; port: number; tls: boolean }> {
    const { tls, dataDir, host } = this.#config;
    this.newAdminKey = this.access.prepareListen();
    if (tls.mode !== 'off') {
      const material = await loadTls({ cert: tls.cert, key: tls.key, dataDir, hosts: [host] });
      this.tlsSource = material.source;
      this.#https = https.createServer({ cert: material.cert, key: material.key }, (req, res) => this.#onRequest(req, res));
      this.#https.on('upgrade', (req, socket, head) => this.#onUpgrade(req, socket as net.Socket, head));
      this.#https.on('tlsClientError', () => {}); // a browser rejecting the self-signed certificate is not our error
    }
    if (this.#config.webrtc.enabled) await this.#startMedia();
    await new Promise<void>((resolve, reject) => {
      this.#tcp.once('error', reject);
      this.#tcp.listen(this.#config.port, host, () => {
        this.#tcp.off('error', reject);
        resolve();
      });
    });
    const address = this.#tcp.address() as net.AddressInfo;
    return { host: address.address, port: address.port, tls: !!this.#https };
  }

  /** A missing or broken mediasoup worker costs WebRTC, not the server: media then goes over WebSocket. */
  async #startMedia(): Promise<void> {
    try {
      const media = await MediaServer.start(this.#config.webrtc, { logger: this.#logger });
      media.on('workerdied', (worker, error) => this.#log.error({ pid: worker.pid, err: error }, `mediasoup worker ${worker.pid} died (${error.message}); its sessions lost WebRTC`));
      this.#webrtc = { media };
    } catch (error) {
      this.#webrtc = { unavailable: (error as Error).message };
      this.#log.error({ err: error }, `WebRTC unavailable: ${(error as Error).message}`);
    }
  }

  #route(socket: net.Socket): void {
    this.#sockets.add(socket);
    socket.once('close', () => this.#sockets.delete(socket));
    socket.on('error', () => socket.destroy());
    socket.once('data', (first) => {
      socket.pause();
      socket.unshift(first);
      const target = first[0] === 0x16 && this.#https ? this.#https : this.#http;
      target.emit('connection', socket);
      process.nextTick(() => socket.resume());
    });
  }

  #onRequest(req: http.IncomingMessage, res: http.ServerResponse): void {
    const url = new URL(req.url ?? '/', 'http://x');
    // A stopping server still answers its probes; anything else should go to another instance.
    if (this.#draining && !PROBE_PATHS.has(url.pathname)) {
      const refusal = shuttingDown();
      res.writeHead(503, { 'content-type': 'application/json', 'retry-after': String(refusal.retryAfterSeconds), connection: 'close' }).end(errorBody(refusal));
      return;
    }
    if (url.pathname === '/embed') {
      const agent = this.access.agents.find((a) => a.name === url.searchParams.get('agent'));
      if (!agent) {
        res.writeHead(404, { 'content-type': 'text/plain' }).end(`no agent named '${(url.searchParams.get('agent') ?? '').slice(0, 64)}' on this server (/embed?agent=NAME; agents come from --agents)\n`);
        return;
      }
      const page = embedPage(agent, url.searchParams.has('vision'));
      res.writeHead(200, page.headers).end(page.body);
      return;
    }
    if (ApiRoutes.handles(url.pathname)) {
      void this.#api.handle(req, res, url);
      return;
    }
    if (OpsRoutes.handles(url.pathname)) {
      void this.#ops.handle(req, res, url);
      return;
    }
    if (url.pathname === '/healthz') {
      // Allowlisted sites' pages may read it (the widget tells "refused" from "unreachable" with it).
      res.writeHead(200, { 'content-type': 'application/json', ...this.access.corsHeaders(req) });
      const webrtc = 'media' in this.#webrtc ? this.#webrtc.media.counts() : { unavailable: this.#webrtc.unavailable };
      res.end(JSON.stringify({ status: 'ok', sessions: this.#sessions.size, engines: describeEngines(this.#engines), webrtc }));
      return;
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405).end();
      return;
    }
    let rel: string;
    try {
      rel = url.pathname === '/' ? 'index.html' : decodeURIComponent(url.pathname).replace(/^\/+/, '');
    } catch {
      res.writeHead(400, { 'content-type': 'text/plain' }).end('bad request: malformed percent-encoding in the path\n');
      return;
    }
    let file = path.resolve(WEB_ROOT, rel);
    // Next's static export writes the route /foo as foo.html.
    if (!isFile(file) && isFile(`${file}.html`)) file = `${file}.html`;
    if (!file.startsWith(WEB_ROOT) || !isFile(file)) {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found\n');
      return;
    }
    res.writeHead(200, { 'content-type': CONTENT_TYPES[path.extname(file)] ?? 'application/octet-stream', ...embeddableHeaders(rel) });
    fs.createReadStream(file).pipe(res);
  }

  #onUpgrade(req: http.IncomingMessage, socket: net.Socket, head: Buffer): void {
    const url = new URL(req.url ?? '/', 'http://x');
    if (url.pathname !== '/v1/realtime' || this.#closed) {
      socket.end('HTTP/1.1 404 Not Found\r\nConnection: close\r\n\r\n');
      return;
    }
    if (this.#draining) {
      socket.end(refusalResponse(shuttingDown()));
      return;
    }
    // Refused before any session exists: foreign origins, missing or bad credentials, limits.
    let grant: Grant;
    let release: () => void;
    try {
      grant = this.access.authorizeUpgrade(req);
      release = this.access.admitSession(grant, grant.user);
    } catch (error) {
      if (!(error instanceof AccessDenied)) {
        // e.g. a hand-edited keys.json that no longer parses: refuse (fail closed), keep serving.
        this.#log.error({ err: error }, `could not check a connection's access: ${(error as Error).message}`);
        socket.end(refusalResponse(new HttpError(500, 'server_error', 'the server could not check access; see its log')));
        return;
      }
      serverMetrics.connectionsRefused.inc({ code: error.code });
      this.#log.warn({ remoteAddress: req.socket.remoteAddress, status: error.status, code: error.code }, `refused a connection from ${req.socket.remoteAddress ?? '?'}: ${error.status} ${error.code}`);
      socket.end(refusalResponse(error));
      return;
    }
    this.#wss.handleUpgrade(req, socket, head, (ws) => {
      this.#openSession(ws, grant, release).catch((error) => {
        release();
        ws.send(JSON.stringify({ type: 'error', event_id: 'event_open', error: { type: 'server_error', code: 'session_failed', message: String(error?.message ?? error) } }));
        ws.close(1011, 'session failed');
      });
    });
  }

  async #openSession(ws: WebSocket, grant: Grant, admitted: () => void): Promise<void> {
    let release = admitted;
    const session = new Session({
      engines: this.#engines,
      limits: this.#config.limits,
      memoryId: grant.user,
      logger: this.#logger,
      settings: {
        voice: this.#config.tts.voice,
        filter: { ...defaultInstructionFilterOptions, mode: this.#config.instructionFilter, wakeWord: this.#config.wakeWord },
      },
    });
    // A client secret's config is the session's starting point (applied before anyone listens).
    try {
      const [problem] = grant.pinned ? session.update(grant.pinned) : [];
      if (problem) throw problem;
    } catch (error) {
      session.close();
      throw error;
    }
    this.#sessions.add(session);
    let expiry: NodeJS.Timeout | undefined;
    session.once('close', () => {
      clearTimeout(expiry);
      release();
      this.#sessions.delete(session);
      this.safeEmit('sessionclose', session);
    });
    const connection = new RealtimeConnection(ws, session, {
      logger: this.#log,
      limits: this.#config.limits,
      webrtc: this.#webrtc,
      access: {
        lock: grant.lock,
        assignUser: (user) => {
          if (!grant.userSettable) throw new ClientError('user_locked', 'the user is set by the client secret this session was opened with', 'session.omnilive.user');
          let next: () => void;
          try {
            next = this.access.admitSession(grant, user);
          } catch (error) {
            if (error instanceof AccessDenied) throw new ClientError(error.code, error.message, 'session.omnilive.user');
            throw error;
          }
          try {
            session.assignUser(user);
          } catch (error) {
            next();
            throw error;
          }
          release();
          release = next;
        },
      },
    });
    if (ws.readyState !== ws.OPEN) return session.close();
    this.#connections.add(connection);
    session.once('close', () => this.#connections.delete(connection));
    await session.open();
    // Observers (metrics, engine health) attach before the messages that came early are handled.
    this.safeEmit('sessionopen', session);
    connection.start();
    if (grant.maxSessionMs !== undefined) {
      expiry = setTimeout(() => connection.end('session_expired', `the session reached its length limit of ${Math.round(grant.maxSessionMs! / 1000)} s`), grant.maxSessionMs);
      expiry.unref();
    }
  }

  /**
   * The first half of a graceful stop: from now on new connections and requests get 503 (the
   * probes still answer); every session gets up to `timeoutMs` to transcribe what it heard,
   * finish its answer in flight (else cancel it) and flush its memory, then its client gets a
   * close frame with `closeCode` and the reason. close() does the rest.
   */
  async drain(timeoutMs: number, closeCode = 1001): Promise<{ sessions: number; finished: boolean }> {
    this.#draining = true;
    this.readiness.off('draining');
    this.#http.closeIdleConnections();
    this.#https?.closeIdleConnections();
    const connections = [...this.#connections];
    const finished = await Promise.all(connections.map((c) => c.drain(timeoutMs, closeCode)));
    return { sessions: connections.length, finished: finished.every(Boolean) };
  }

  /** Idempotent: closes every session and stops listening. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    for (const session of this.#sessions) session.close();
    for (const client of this.#wss.clients) client.close(1001, 'server shutting down');
    // Give clients a moment to answer the close frame, then cut whoever did not.
    const deadline = Date.now() + 1000;
    while (this.#wss.clients.size > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    for (const client of this.#wss.clients) client.terminate();
    this.#wss.close();
    // The listener stops at once; its callback waits for every connection, so cut them first.
    const stopped = new Promise<void>((resolve) => this.#tcp.close(() => resolve()));
    this.#http.closeAllConnections();
    this.#https?.closeAllConnections();
    for (const socket of this.#sockets) socket.destroy();
    await stopped;
    this.media?.close();
  }
}

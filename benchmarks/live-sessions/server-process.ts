/**
 * The server under test as a process of its own (`omnilive serve`), so its memory, descriptors,
 * children and CPU are measured alone: the benchmark's clients live in another process. The
 * probe (probe.mjs) is preloaded and reports heap and event-loop delay over an IPC channel;
 * stdout and stderr (the JSON log) go to a file.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import path from 'node:path';
import { pathToFileURL } from 'node:url';

const ROOT = path.resolve(import.meta.dirname, '../..');
const CLI = path.join(ROOT, 'server/bin/omnilive.mjs');
const PROBE = pathToFileURL(path.join(import.meta.dirname, 'probe.mjs')).href;

/** What the probe sends once a second. */
export interface ProbeSample {
  rss: number;
  heapUsed: number;
  heapTotal: number;
  external: number;
  arrayBuffers: number;
  loopP50Ms: number;
  loopP99Ms: number;
  loopMaxMs: number;
  handles: Record<string, number>;
}

export interface ServerProcessOptions {
  /** Data directory (memory, certificate); made fresh by the caller. */
  dataDir: string;
  /** Where the server's stdout and stderr go. */
  logFile: string;
  /** More `serve` flags (e.g. ['--webrtc', 'off']). */
  args?: string[];
  /** How long the engines may take to load. @defaultValue 180000 */
  readyTimeoutMs?: number;
}

/**
 * One GET on a fresh connection that closes after it: a kept-alive socket would show as an
 * extra descriptor in the server some samples and not others.
 */
function get(port: number, pathname: string, timeoutMs: number): Promise<{ status: number; type: string; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.get({ host: '127.0.0.1', port, path: pathname, agent: false, headers: { connection: 'close' }, timeout: timeoutMs }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk) => (body += chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, type: String(res.headers['content-type'] ?? ''), body }));
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error(`GET ${pathname}: no answer within ${timeoutMs} ms`)));
    req.on('error', reject);
  });
}

/** A free loopback port (there is a small race until the server binds it; fine on a test machine). */
async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = net.createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const { port } = probe.address() as net.AddressInfo;
      probe.close(() => resolve(port));
    });
  });
}

export class ServerProcess {
  readonly port: number;
  readonly #child: ChildProcess;
  readonly #exited: Promise<{ code: number | null; signal: string | null }>;
  #probe: ProbeSample | undefined;
  #probeAt = 0;
  #closed = false;
  exitInfo: { code: number | null; signal: string | null } | undefined;

  private constructor(child: ChildProcess, port: number) {
    this.#child = child;
    this.port = port;
    this.#exited = new Promise((resolve) =>
      child.once('exit', (code, signal) => {
        this.exitInfo = { code, signal };
        resolve(this.exitInfo);
      }),
    );
    child.on('message', (m: ProbeSample & { probe?: number }) => {
      if (m?.probe !== 1) return;
      this.#probe = m;
      this.#probeAt = performance.now();
    });
  }

  /** Starts `omnilive serve` on a free port and resolves once /healthz answers. */
  static async start(options: ServerProcessOptions): Promise<ServerProcess> {
    const port = await freePort();
    const log = fs.openSync(options.logFile, 'a');
    const args = ['--import', PROBE, CLI, 'serve', '--host', '127.0.0.1', '--port', String(port), '--data', options.dataDir, '--tls', 'off', ...(options.args ?? [])];
    // A process group of its own: Ctrl-C in the terminal reaches the benchmark, which then
    // reports and closes the server itself (the probe ends the server if the benchmark dies).
    const child = spawn(process.execPath, args, { cwd: ROOT, detached: true, stdio: ['ignore', log, log, 'ipc'], env: { ...process.env, OMNILIVE_BENCH_PROBE: '1' } });
    fs.closeSync(log);
    const server = new ServerProcess(child, port);
    const deadline = performance.now() + (options.readyTimeoutMs ?? 180_000);
    for (;;) {
      if (server.exitInfo) throw new Error(`the server exited while starting (code ${server.exitInfo.code}, signal ${server.exitInfo.signal}); see ${options.logFile}`);
      if (await server.health().catch(() => undefined)) return server;
      if (performance.now() > deadline) {
        await server.close();
        throw new Error(`the server did not answer /healthz within ${(options.readyTimeoutMs ?? 180_000) / 1000} s; see ${options.logFile}`);
      }
      await new Promise((r) => setTimeout(r, 500));
    }
  }

  get pid(): number {
    return this.#child.pid!;
  }

  get url(): string {
    return `ws://127.0.0.1:${this.port}/v1/realtime`;
  }

  get alive(): boolean {
    return !this.exitInfo;
  }

  /** The probe's latest report, if it came in the last 3 s. */
  get probe(): ProbeSample | undefined {
    return performance.now() - this.#probeAt < 3000 ? this.#probe : undefined;
  }

  /** GET /healthz, parsed. */
  async health(timeoutMs = 5000): Promise<Record<string, any>> {
    const res = await get(this.port, '/healthz', timeoutMs);
    if (res.status !== 200) throw new Error(`/healthz: HTTP ${res.status}`);
    return JSON.parse(res.body) as Record<string, any>;
  }

  /** GET /metrics (Prometheus text), or undefined where the server has no such endpoint. */
  async metrics(timeoutMs = 5000): Promise<string | undefined> {
    const res = await get(this.port, '/metrics', timeoutMs).catch(() => undefined);
    // Before /metrics exists the path falls through to the static files: 404.
    if (res?.status !== 200 || !res.type.startsWith('text/plain')) return undefined;
    return res.body;
  }

  /** SIGTERM (the server's own graceful shutdown), SIGKILL after `graceMs`. Idempotent. */
  async close(graceMs = 20_000): Promise<{ code: number | null; signal: string | null }> {
    if (!this.#closed && this.alive) {
      this.#closed = true;
      this.#child.kill('SIGTERM');
      const timer = setTimeout(() => this.#child.kill('SIGKILL'), graceMs);
      await this.#exited;
      clearTimeout(timer);
    }
    return this.#exited;
  }
}

/** Prometheus text → { "name{labels}": value }, for the few series a report quotes. */
export function parsePrometheus(text: string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const line of text.split('\n')) {
    if (!line || line.startsWith('#')) continue;
    const m = /^(\S+?(?:\{.*\})?)\s+(\S+)/.exec(line);
    if (m) out[m[1]!] = Number(m[2]);
  }
  return out;
}

import type http from 'node:http';
import type client from 'prom-client';
import { AccessDenied, type AccessControl } from '../access/index.ts';
import { silentLogger, type Logger } from '../logger.ts';
import type { Readiness } from '../ops/readiness.ts';
import { errorBody } from './api-routes.ts';

export interface OpsRoutesOptions {
  /** @defaultValue silentLogger */
  logger?: Logger;
}

/**
 * The operator's endpoints beside `/healthz`: `GET /metrics` (Prometheus text; an API key
 * unless scraped from this machine) and `GET /readyz` (200 ready, 503 and why not).
 */
export class OpsRoutes {
  readonly #access: AccessControl;
  readonly #registry: client.Registry;
  readonly #readiness: Readiness;
  /** Whether the server is closed (then never ready, whatever the probes say). */
  readonly #closed: () => boolean;
  readonly #log: Logger;

  constructor(access: AccessControl, registry: client.Registry, readiness: Readiness, closed: () => boolean, options: OpsRoutesOptions = {}) {
    this.#access = access;
    this.#registry = registry;
    this.#readiness = readiness;
    this.#closed = closed;
    this.#log = (options.logger ?? silentLogger).child({ component: 'ops' });
  }

  static handles(pathname: string): boolean {
    return pathname === '/metrics' || pathname === '/readyz';
  }

  async handle(req: http.IncomingMessage, res: http.ServerResponse, url: URL): Promise<void> {
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { allow: 'GET, HEAD' }).end();
      return;
    }
    try {
      if (url.pathname === '/metrics') await this.#metrics(req, res);
      else await this.#readyz(res);
    } catch (error) {
      if (error instanceof AccessDenied) {
        const headers: Record<string, string> = { 'content-type': 'application/json', 'cache-control': 'no-store' };
        if (error.status === 401) headers['www-authenticate'] = 'Bearer';
        res.writeHead(error.status, headers).end(errorBody(error));
        return;
      }
      this.#log.error({ err: error, path: url.pathname }, `GET ${url.pathname} failed: ${(error as Error)?.message ?? String(error)}`);
      if (!res.headersSent) res.writeHead(500, { 'content-type': 'text/plain' }).end('the server failed to answer this request; see its log\n');
    }
  }

  async #metrics(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    this.#access.authorizeMetrics(req);
    const text = await this.#registry.metrics();
    res.writeHead(200, { 'content-type': this.#registry.contentType, 'cache-control': 'no-store' }).end(text);
  }

  /** No credential: load balancers ask it, and it says nothing about anyone. */
  async #readyz(res: http.ServerResponse): Promise<void> {
    const report = await this.#readiness.check();
    const closed = this.#closed();
    const ready = report.ready && !closed;
    const reason = closed ? 'shutting down' : report.reason;
    const body = { status: ready ? 'ready' : 'not_ready', ...(reason && !ready ? { reason } : {}), checks: report.checks };
    res.writeHead(ready ? 200 : 503, { 'content-type': 'application/json', 'cache-control': 'no-store' }).end(JSON.stringify(body));
  }
}

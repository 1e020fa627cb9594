import type http from 'node:http';
import { z } from 'zod';
import { AccessDenied, type AccessControl } from '../access/index.ts';
import { describeIssue } from '../protocol/client-events.ts';
import { clipToWire, memoryHitToWire, utteranceToWire } from '../protocol/memory-wire.ts';
import type { MemoryStore } from '../../memory/index.ts';
import { silentLogger, type Logger } from '../logger.ts';

/** JSON bodies of the HTTP API are small: a client secret request, a forget selector. */
const MAX_BODY_BYTES = 64 * 1024;

/** A refused HTTP request; the body is OpenAI's error shape. */
export class HttpError extends Error {
  override name = 'HttpError';
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly retryAfterSeconds?: number,
  ) {
    super(message);
  }
}

const forgetSchema = z
  .object({
    ids: z.array(z.string().min(1).max(200)).min(1).max(1000).optional(),
    from_ms: z.number().int().min(0).optional(),
    to_ms: z.number().int().min(0).optional(),
    all: z.literal(true).optional(),
  })
  .strict()
  .refine((f) => f.ids || f.all || f.from_ms !== undefined || f.to_ms !== undefined, 'say what to forget: ids, from_ms/to_ms, or all: true');

function statusText(status: number): string {
  return (({ 400: 'Bad Request', 401: 'Unauthorized', 403: 'Forbidden', 404: 'Not Found', 405: 'Method Not Allowed', 413: 'Payload Too Large', 415: 'Unsupported Media Type', 429: 'Too Many Requests', 500: 'Internal Server Error', 503: 'Service Unavailable' }) as Record<number, string>)[status] ?? 'Error';
}

/** The body of a refusal, for HTTP responses and refused WebSocket upgrades alike. */
export function errorBody(error: HttpError | AccessDenied): string {
  const type = error.status === 401 ? 'authentication_error' : error.status === 429 ? 'rate_limit_error' : error.status === 403 ? 'permission_error' : error.status >= 500 ? 'server_error' : 'invalid_request_error';
  return JSON.stringify({ error: { type, code: error.code, message: error.message } });
}

/** A raw HTTP refusal on an upgrade socket: nothing of the WebSocket is set up. */
export function refusalResponse(error: HttpError | AccessDenied): string {
  const body = errorBody(error);
  const retry = error.retryAfterSeconds ? `Retry-After: ${error.retryAfterSeconds}\r\n` : '';
  return `HTTP/1.1 ${error.status} ${statusText(error.status)}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n${retry}Connection: close\r\n\r\n${body}`;
}

function readJson(req: http.IncomingMessage): Promise<unknown> {
  if (!/^application\/json\b/i.test(req.headers['content-type'] ?? '')) {
    return Promise.reject(new HttpError(415, 'invalid_content_type', 'send a JSON body with content-type: application/json'));
  }
  const declared = Number(req.headers['content-length'] ?? 0);
  if (declared > MAX_BODY_BYTES) return Promise.reject(new HttpError(413, 'body_too_large', `the body is over ${MAX_BODY_BYTES} bytes`));
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_BODY_BYTES) {
        reject(new HttpError(413, 'body_too_large', `the body is over ${MAX_BODY_BYTES} bytes`));
        req.destroy();
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => {
      const text = Buffer.concat(chunks).toString('utf8');
      try {
        resolve(text ? JSON.parse(text) : {});
      } catch (error) {
        reject(new HttpError(400, 'invalid_json', `the body is not valid JSON: ${(error as Error).message}`));
      }
    });
    req.on('error', reject);
  });
}

function intParam(url: URL, name: string, min: number, max: number): number | undefined {
  const raw = url.searchParams.get(name);
  if (raw === null || raw === '') return undefined;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < min || n > max) throw new HttpError(400, 'invalid_value', `${name} must be an integer from ${min} to ${max}, got '${raw.slice(0, 40)}'`);
  return n;
}

export interface ApiRoutesOptions {
  /** Internal failures go here, never to the caller. @defaultValue silentLogger */
  logger?: Logger;
}

/**
 * The HTTP API beside the Realtime WebSocket: client secrets for site backends, and the memory
 * controls of the web app (timeline, search, forget) — always the caller's own user's memory.
 */
export class ApiRoutes {
  readonly #access: AccessControl;
  readonly #memory: MemoryStore | undefined;
  /** Validates a secret's session config against this server's engines (voices, …). */
  readonly #checkSession: (session: Record<string, unknown>) => void;
  readonly #log: Logger;

  constructor(access: AccessControl, memory: MemoryStore | undefined, checkSession: (session: Record<string, unknown>) => void, options: ApiRoutesOptions = {}) {
    this.#access = access;
    this.#memory = memory;
    this.#checkSession = checkSession;
    this.#log = (options.logger ?? silentLogger).child({ component: 'api' });
  }

  static handles(pathname: string): boolean {
    return pathname === '/v1/realtime/client_secrets' || pathname.startsWith('/v1/agents/') || pathname === '/v1/access' || pathname === '/v1/memory' || pathname.startsWith('/v1/memory/');
  }

  async handle(req: http.IncomingMessage, res: http.ServerResponse, url: URL): Promise<void> {
    let cors: Record<string, string> = {};
    try {
      cors = this.#access.corsHeaders(req);
      if (req.method === 'OPTIONS') {
        if (!Object.keys(cors).length) throw new AccessDenied(403, 'origin_not_allowed', 'this origin may not call this server');
        res.writeHead(204, cors).end();
        return;
      }
      const body = await this.#route(req, url);
      res.writeHead(200, { 'content-type': 'application/json', 'cache-control': 'no-store', ...cors }).end(JSON.stringify(body));
    } catch (error) {
      if (!(error instanceof HttpError || error instanceof AccessDenied)) {
        // What went wrong inside (paths, engine errors) is for the operator's log, not the caller.
        this.#log.error({ err: error, method: req.method, path: url.pathname }, `${req.method} ${url.pathname} failed: ${(error as Error)?.message ?? String(error)}`);
        const internal = new HttpError(500, 'server_error', 'the server failed to answer this request; see its log');
        res.writeHead(500, { 'content-type': 'application/json', ...cors }).end(errorBody(internal));
        return;
      }
      const headers: Record<string, string> = { 'content-type': 'application/json', 'cache-control': 'no-store', ...cors };
      if (error.retryAfterSeconds) headers['retry-after'] = String(error.retryAfterSeconds);
      if (error.status === 401) headers['www-authenticate'] = 'Bearer';
      res.writeHead(error.status, headers).end(errorBody(error));
    }
  }

  async #route(req: http.IncomingMessage, url: URL): Promise<unknown> {
    const method = req.method ?? 'GET';
    const path = url.pathname;
    const expect = (allowed: string) => {
      if (method !== allowed) throw new HttpError(405, 'method_not_allowed', `${path} takes ${allowed}, not ${method}`);
    };
    if (path === '/v1/realtime/client_secrets') {
      expect('POST');
      const body = await readJson(req);
      const minted = this.#access.mint(req, body);
      try {
        this.#checkSession(minted.session);
      } catch (error) {
        throw new HttpError(400, 'invalid_request', `session: ${(error as Error).message}`);
      }
      return minted;
    }
    const agent = /^\/v1\/agents\/([^/]+)\/client_secrets$/.exec(path)?.[1];
    if (agent !== undefined) {
      expect('POST');
      return this.#access.mintForAgent(req, decodeURIComponent(agent), await readJson(req));
    }
    if (path === '/v1/access') {
      expect('GET');
      const keyless = this.#access.keyless;
      const { user, via } = this.#access.authorizeApi(req, url.searchParams.get('user'));
      return { credential: keyless ? 'none' : 'required', user, via, memory: this.#memory !== undefined };
    }
    const { user } = this.#access.authorizeApi(req, url.searchParams.get('user'));
    const memory = this.#memory;
    if (!memory) throw new HttpError(404, 'memory_unavailable', 'long-term memory is off on this server');
    if (path === '/v1/memory') {
      expect('GET');
      const limit = intParam(url, 'limit', 1, 500) ?? 100;
      const range = { memoryId: user, fromWallMs: intParam(url, 'from_ms', 0, Number.MAX_SAFE_INTEGER), toWallMs: intParam(url, 'to_ms', 0, Number.MAX_SAFE_INTEGER), limit };
      await memory.flush();
      const [clips, utterances] = await Promise.all([memory.list(range), memory.listUtterances(range)]);
      const items = [...clips.map(clipToWire), ...utterances.map(utteranceToWire)]
        .sort((a, b) => (b.wall_start_ms as number) - (a.wall_start_ms as number))
        .slice(0, limit);
      return { object: 'list', user, data: items };
    }
    if (path === '/v1/memory/search') {
      expect('GET');
      const q = url.searchParams.get('q')?.trim();
      if (!q) throw new HttpError(400, 'missing_query', "search needs the text to search for: '?q='");
      if (q.length > 2000) throw new HttpError(400, 'invalid_value', 'q is over 2000 characters');
      await memory.flush();
      const hits = await memory.search({ memoryId: user, text: q, nowMs: Number.MAX_SAFE_INTEGER, nowWallMs: Date.now(), limit: intParam(url, 'limit', 1, 50) ?? 8 });
      return { object: 'list', user, query: q, data: hits.map(memoryHitToWire) };
    }
    if (path === '/v1/memory/forget') {
      expect('POST');
      const parsed = forgetSchema.safeParse(await readJson(req));
      if (!parsed.success) throw new HttpError(400, 'invalid_request', describeIssue(parsed.error).message);
      const f = parsed.data;
      await memory.flush();
      const deleted = await memory.forget({ memoryId: user, ids: f.ids, fromWallMs: f.from_ms, toWallMs: f.to_ms });
      return { user, deleted };
    }
    throw new HttpError(404, 'not_found', `no endpoint ${path}`);
  }
}

import { randomUUID } from 'node:crypto';
import type http from 'node:http';
import { describeIssue, type SessionPatch } from '../protocol/client-events.ts';
import { ApiKeyRing, type ApiKeyRecord } from './api-keys.ts';
import { agentKeyId, agentMintSchema, type Agent } from './agents.ts';
import { ClientSecrets, SecretRefused, looksLikeClientSecret, mintRequestSchema } from './client-secrets.ts';
import { MinuteWindow, OpenCounter, defaultAccessLimits, type AccessLimits } from './limits.ts';
import { OriginPolicy, isLoopbackHostname, isLoopbackListen, normalizeOrigin } from './origins.ts';
import { SessionLock } from './session-lock.ts';

export interface AccessOptions {
  dataDir: string;
  /** The listen address: a keyless server must stay on loopback. */
  host: string;
  /** Keys from OMNILIVE_API_KEY. */
  apiKeys?: readonly string[];
  /** Exact origins allowed besides the server's own (--allowed-origins). */
  allowedOrigins?: readonly string[];
  limits?: Partial<AccessLimits>;
  /** Named agents (--agents): their origins count as allowed origins. */
  agents?: readonly Agent[];
}

/** The zero-config local app's user: a reload, or tomorrow, finds the same memory. */
export const LOCAL_USER = 'local';

/** A refused request: the HTTP status, a stable code and a message that names what was wrong. */
export class AccessDenied extends Error {
  override name = 'AccessDenied';
  constructor(
    readonly status: 400 | 401 | 403 | 404 | 413 | 429,
    readonly code: string,
    message: string,
    readonly retryAfterSeconds?: number,
  ) {
    super(message);
  }
}

/** Who is on the other end of a connection, and what they may do. */
export interface Grant {
  via: 'local' | 'api_key' | 'client_secret';
  /** The session's user (its memory id); undefined: the session's own id, nothing shared. */
  user: string | undefined;
  /** Whether `session.update` may name the user (key holders and local programs). */
  userSettable: boolean;
  keyId?: string;
  /** Fields a client secret pinned, and its session config, applied when the session opens. */
  lock: SessionLock;
  pinned?: SessionPatch;
  /** How long the session may last. */
  maxSessionMs?: number;
  ip: string;
  origin?: string;
}

/** A user of one secret's sessions only: nothing it remembers is shared. */
function anonymousUser(): string {
  return `anon_${randomUUID().replaceAll('-', '').slice(0, 16)}`;
}

const BEARER = /^Bearer\s+(\S+)\s*$/i;
const SUBPROTOCOL_KEY = 'openai-insecure-api-key.';

function header(req: http.IncomingMessage, name: string): string | undefined {
  const v = req.headers[name];
  return Array.isArray(v) ? v[0] : v;
}

/** The credential a request carries: a Bearer header, or the browser subprotocol the OpenAI SDKs use. */
function credentialOf(req: http.IncomingMessage): string | undefined {
  const bearer = BEARER.exec(header(req, 'authorization') ?? '')?.[1];
  if (bearer) return bearer;
  for (const p of (header(req, 'sec-websocket-protocol') ?? '').split(',')) {
    const proto = p.trim();
    if (proto.startsWith(SUBPROTOCOL_KEY) && proto.length > SUBPROTOCOL_KEY.length) return proto.slice(SUBPROTOCOL_KEY.length);
  }
  return undefined;
}

/**
 * A request from a program on this machine: a loopback peer that no proxy relayed (a local
 * reverse proxy makes every visitor look local) and no web page sent (an Origin, or a Host that
 * is not a loopback name: a DNS-rebinding page).
 */
export function isLocalRequest(req: http.IncomingMessage): boolean {
  const peer = (req.socket.remoteAddress ?? '').replace(/^::ffff:/i, '');
  if (!isLoopbackHostname(peer)) return false;
  if (header(req, 'forwarded') !== undefined || header(req, 'x-forwarded-for') !== undefined || header(req, 'x-real-ip') !== undefined) return false;
  if (header(req, 'origin') !== undefined) return false;
  const host = header(req, 'host');
  if (host === undefined) return true;
  try {
    return isLoopbackHostname(new URL(`http://${host}`).hostname);
  } catch {
    return false;
  }
}

function isTls(req: http.IncomingMessage): boolean {
  return (req.socket as { encrypted?: boolean }).encrypted === true;
}

/**
 * The access model (DESIGN §4a): API keys, client secrets, origins, users and limits. The HTTP
 * server asks it at every WebSocket upgrade and browser-facing endpoint; nothing here touches
 * a session.
 */
export class AccessControl {
  readonly keys: ApiKeyRing;
  readonly secrets = new ClientSecrets();
  readonly limits: AccessLimits;
  readonly #origins: OriginPolicy;
  readonly #loopback: boolean;
  readonly #connections = new MinuteWindow();
  readonly #mints = new MinuteWindow();
  readonly #sessionsByUser = new OpenCounter();
  readonly #sessionsByKey = new OpenCounter();
  readonly #agents: ReadonlyMap<string, Agent>;
  readonly #agentMints = new MinuteWindow();

  constructor(options: AccessOptions) {
    this.keys = new ApiKeyRing(options.dataDir, options.apiKeys ?? []);
    this.#agents = new Map((options.agents ?? []).map((a) => [a.name, a]));
    this.#origins = new OriginPolicy([...(options.allowedOrigins ?? []), ...(options.agents ?? []).flatMap((a) => a.origins)]);
    this.#loopback = isLoopbackListen(options.host);
    this.limits = { ...defaultAccessLimits, ...options.limits };
  }

  get agents(): readonly Agent[] {
    return [...this.#agents.values()];
  }

  get allowedOrigins(): readonly string[] {
    return this.#origins.allowed;
  }

  /** No key exists: local clients need no credential (only possible on loopback). */
  get keyless(): boolean {
    return !this.keys.configured;
  }

  /**
   * A keyless server never listens beyond loopback: on first start there it makes an admin key
   * (returned once, to print). Returns undefined when nothing was made.
   */
  prepareListen(): string | undefined {
    if (this.#loopback || this.keys.configured) return undefined;
    return this.keys.ensureAdminKey();
  }

  /** Every WebSocket upgrade to /v1/realtime. Throws AccessDenied. */
  authorizeUpgrade(req: http.IncomingMessage): Grant {
    const keyless = this.keyless;
    const { ip, origin, ownPage } = this.#checkOrigin(req, keyless);
    const wait = this.#connections.take(ip, this.limits.connectionsPerIpPerMinute);
    if (wait) throw new AccessDenied(429, 'rate_limited', `more than ${this.limits.connectionsPerIpPerMinute} connections a minute from this address`, wait);
    const token = credentialOf(req);
    if (keyless) {
      // Local programs and this server's own page; whatever they send is not a credential here.
      return { via: 'local', user: ownPage ? LOCAL_USER : undefined, userSettable: true, lock: new SessionLock(), ip, origin };
    }
    if (!token) throw new AccessDenied(401, 'missing_credential', 'this server needs a credential: an API key (Authorization: Bearer) or a client secret (WebSocket subprotocol openai-insecure-api-key.<secret>)');
    if (looksLikeClientSecret(token)) {
      let secret;
      try {
        secret = this.secrets.redeem(token, origin, (id) => this.#issuerIsLive(id));
      } catch (error) {
        if (error instanceof SecretRefused) throw new AccessDenied(error.status, error.code, error.message);
        throw error;
      }
      return { via: 'client_secret', user: secret.user, userSettable: false, keyId: secret.keyId, lock: new SessionLock(secret.session), pinned: secret.session, maxSessionMs: secret.maxSessionMs, ip, origin };
    }
    const key = this.#verifyKey(token);
    return { via: 'api_key', user: this.#keyUser(key), userSettable: true, keyId: key.id, lock: new SessionLock(), ip, origin };
  }

  /**
   * A session of `user` (undefined: its own, unshared) opens under `grant`: counted against
   * the per-user and per-key caps. Returns the release to call when it closes. Throws
   * AccessDenied (429) when over.
   */
  admitSession(grant: Grant, user: string | undefined): () => void {
    const { sessionsPerUser, sessionsPerKey } = this.limits;
    if (user !== undefined && this.#sessionsByUser.count(user) >= sessionsPerUser) {
      throw new AccessDenied(429, 'too_many_sessions', `user '${user}' already has ${sessionsPerUser} live sessions (the limit)`, 5);
    }
    if (grant.keyId && this.#sessionsByKey.count(grant.keyId) >= sessionsPerKey) {
      throw new AccessDenied(429, 'too_many_sessions', `this API key already has ${sessionsPerKey} live sessions (the limit)`, 5);
    }
    if (user !== undefined) this.#sessionsByUser.add(user);
    if (grant.keyId) this.#sessionsByKey.add(grant.keyId);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      if (user !== undefined) this.#sessionsByUser.remove(user);
      if (grant.keyId) this.#sessionsByKey.remove(grant.keyId);
    };
  }

  /** `POST /v1/realtime/client_secrets` with its parsed JSON body. */
  mint(req: http.IncomingMessage, body: unknown) {
    this.#checkOrigin(req);
    const token = credentialOf(req);
    if (!token || looksLikeClientSecret(token)) {
      throw new AccessDenied(401, 'missing_api_key', this.keyless ? 'minting a client secret needs an API key, and this server has none: make one with `omnilive keys create --name NAME`' : 'minting a client secret needs an API key (Authorization: Bearer <key>)');
    }
    const key = this.#verifyKey(token);
    const parsed = mintRequestSchema.safeParse(body);
    if (!parsed.success) throw new AccessDenied(400, 'invalid_request', describeIssue(parsed.error).message);
    const wait = this.#mints.take(key.id, this.limits.mintsPerKeyPerMinute);
    if (wait) throw new AccessDenied(429, 'rate_limited', `more than ${this.limits.mintsPerKeyPerMinute} client secrets a minute for this key`, wait);
    const request = parsed.data;
    const inSession = request.session?.omnilive?.user;
    if (inSession && request.omnilive?.user && inSession !== request.omnilive.user) {
      throw new AccessDenied(400, 'invalid_request', 'session.omnilive.user and omnilive.user name different users');
    }
    // A secret always pins its user: the one named, the key's own, or one of its own.
    const user = request.omnilive?.user ?? inSession ?? key.user ?? anonymousUser();
    const session = request.session ? { ...request.session } : undefined;
    if (session?.omnilive) {
      const { user: _user, ...omnilive } = session.omnilive;
      session.omnilive = omnilive;
    }
    try {
      return this.secrets.mint({ ...request, session }, { keyId: key.id, user, maxSessionSeconds: this.limits.secretSessionSeconds });
    } catch (error) {
      if (error instanceof TypeError) throw new AccessDenied(400, 'invalid_request', error.message);
      throw error;
    }
  }

  /**
   * `POST /v1/agents/NAME/client_secrets`: a page of one of the agent's origins asks for a
   * secret; the server mints it with the agent's pinned config, bound to that origin.
   */
  mintForAgent(req: http.IncomingMessage, name: string, body: unknown) {
    const agent = this.#agents.get(name);
    if (!agent) throw new AccessDenied(404, 'unknown_agent', `no agent named '${name.slice(0, 64)}' on this server`);
    const { ip, origin, ownPage } = this.#checkOrigin(req);
    const own = origin === undefined ? undefined : normalizeOrigin(origin);
    // This server's own pages too: /embed, which only the agent's sites may frame (CSP frame-ancestors).
    if (!own || !(agent.origins.includes(own) || ownPage)) throw new AccessDenied(403, 'origin_not_allowed', `agent '${name}' can only be started from its own sites' pages`);
    const parsed = agentMintSchema.safeParse(body);
    if (!parsed.success) throw new AccessDenied(400, 'invalid_request', describeIssue(parsed.error).message);
    const perIp = this.#agentMints.take(`${name}|${ip}`, agent.mintsPerIpPerMinute);
    if (perIp) throw new AccessDenied(429, 'rate_limited', `more than ${agent.mintsPerIpPerMinute} sessions a minute from this address`, perIp);
    const perAgent = this.#agentMints.take(name, agent.mintsPerMinute);
    if (perAgent) throw new AccessDenied(429, 'rate_limited', `agent '${name}' is at its limit of ${agent.mintsPerMinute} sessions a minute`, perAgent);
    const visitor = parsed.data.visitor;
    const user = agent.persistUsers && visitor ? `${name}.${visitor}` : anonymousUser();
    return this.secrets.mint(
      { session: agent.session, omnilive: { origins: [own], ...(agent.maxSessionSeconds ? { max_session_seconds: agent.maxSessionSeconds } : {}) } },
      { keyId: agentKeyId(name), user, maxSessionSeconds: this.limits.secretSessionSeconds },
    );
  }

  /** A secret works while what issued it does: a live API key, or a configured agent. */
  #issuerIsLive(id: string): boolean {
    const agent = /^agent:(.+)$/.exec(id)?.[1];
    return agent !== undefined ? this.#agents.has(agent) : this.keys.isLive(id);
  }

  /**
   * Browser-facing HTTP endpoints (memory, access info): the origin, then the caller's user.
   * Key holders name the user (`?user=`); the local app is the local user.
   */
  authorizeApi(req: http.IncomingMessage, askedUser: string | null): { user: string; via: Grant['via'] } {
    const keyless = this.keyless;
    const { origin, ownPage } = this.#checkOrigin(req, keyless);
    const token = credentialOf(req);
    if (keyless) {
      // Allowlisted sites may open sessions of their own, but the local person's memory is for this server's page and local programs.
      if (origin !== undefined && !ownPage) throw new AccessDenied(403, 'origin_not_allowed', "this server's memory API is for its own page and local programs");
      return { user: askedUser ?? LOCAL_USER, via: 'local' };
    }
    if (!token) throw new AccessDenied(401, 'missing_credential', 'this server needs an API key (Authorization: Bearer <key>)');
    if (looksLikeClientSecret(token)) throw new AccessDenied(401, 'invalid_api_key', 'client secrets open realtime sessions only; this endpoint takes an API key');
    const key = this.#verifyKey(token);
    const user = askedUser ?? this.#keyUser(key);
    if (!user) throw new AccessDenied(400, 'missing_user', "this key speaks for many users: name one with '?user='");
    return { user, via: 'api_key' };
  }

  /**
   * `GET /metrics`: a scraper on this machine needs nothing; anyone else an API key (any key
   * of this server; client secrets are for sessions). Throws AccessDenied.
   */
  authorizeMetrics(req: http.IncomingMessage): void {
    if (isLocalRequest(req)) return;
    const token = credentialOf(req);
    if (!token) {
      throw new AccessDenied(401, 'missing_api_key', this.keyless ? 'metrics from beyond this machine need an API key, and this server has none: make one with `omnilive keys create --name NAME`' : 'metrics from beyond this machine need an API key (Authorization: Bearer <key>)');
    }
    if (looksLikeClientSecret(token)) throw new AccessDenied(401, 'invalid_api_key', 'client secrets open realtime sessions only; metrics take an API key');
    this.#verifyKey(token);
  }

  /** CORS headers for an allowlisted foreign page (same-origin pages need none). */
  corsHeaders(req: http.IncomingMessage): Record<string, string> {
    const origin = header(req, 'origin');
    if (!origin) return {};
    const verdict = this.#origins.check(origin, header(req, 'host'), isTls(req), this.keyless);
    if (!verdict.allowed || verdict.kind !== 'listed') return {};
    return { 'access-control-allow-origin': origin, vary: 'Origin', 'access-control-allow-headers': 'authorization, content-type', 'access-control-allow-methods': 'GET, POST', 'access-control-max-age': '600' };
  }

  /** Throws 403 for a page of a foreign origin. */
  #checkOrigin(req: http.IncomingMessage, keyless = this.keyless): { ip: string; origin?: string; ownPage: boolean } {
    const ip = req.socket.remoteAddress ?? 'unknown';
    const origin = header(req, 'origin');
    if (origin === undefined && header(req, 'sec-fetch-site') !== 'cross-site') return { ip, ownPage: false };
    const verdict = this.#origins.check(origin, header(req, 'host'), isTls(req), keyless);
    if (!verdict.allowed) throw new AccessDenied(403, 'origin_not_allowed', verdict.reason);
    // Fetch metadata: a cross-site request that is not allowlisted is refused even if Origin was stripped.
    if (header(req, 'sec-fetch-site') === 'cross-site' && verdict.kind !== 'listed') throw new AccessDenied(403, 'origin_not_allowed', 'cross-site requests are not allowed from this page');
    return { ip, origin, ownPage: verdict.kind === 'own' };
  }

  /** Operator keys are the person at this server; a site's key is whoever its record says, or nobody in particular. */
  #keyUser(key: ApiKeyRecord): string | undefined {
    return key.user ?? (key.source === 'file' ? undefined : LOCAL_USER);
  }

  #verifyKey(token: string): ApiKeyRecord {
    const key = this.keys.verify(token);
    if (!key) throw new AccessDenied(401, 'invalid_api_key', 'the API key is not valid (unknown or revoked)');
    return key;
  }
}

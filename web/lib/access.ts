// Credentials of the web app. A keyless server on loopback needs none: its own page is the
// local user. Once the server has API keys, the page holds one (from a `#key=` link the server
// printed, or typed in), mints a short-lived client secret with it for each session, and sends
// that secret as the WebSocket subprotocol the OpenAI SDKs use in browsers.

const KEY_ITEM = 'omnilive.apiKey';
/** The person at this server: the same memory across reloads and sessions. */
export const APP_USER = 'local';

/** The server wants a credential the page does not have, or refused the one it has. */
export class AccessProblem extends Error {
  /**
   * Whether asking again later may succeed (a busy server, a token endpoint that is down), so a
   * page reconnecting by itself keeps trying; a refused key needs the person first.
   */
  readonly retryable: boolean;

  constructor(message: string, options: { retryable?: boolean } = {}) {
    super(message);
    this.name = 'AccessProblem';
    this.retryable = options.retryable ?? false;
  }
}

/** A `#key=…` link (printed by the server on first start) stores the key and leaves the address bar. */
export function takeKeyFromLocation(): void {
  const m = /(?:^#|&)key=([^&]+)/.exec(location.hash);
  if (!m) return;
  saveKey(decodeURIComponent(m[1]!));
  history.replaceState(null, '', location.pathname + location.search);
}

export function storedKey(): string | null {
  try {
    return localStorage.getItem(KEY_ITEM);
  } catch {
    return null;
  }
}

export function saveKey(key: string): void {
  try {
    localStorage.setItem(KEY_ITEM, key.trim());
  } catch {
    // storage blocked: the key lasts as long as the page
  }
  memoryKey = key.trim();
}

export function forgetKey(): void {
  try {
    localStorage.removeItem(KEY_ITEM);
  } catch {
    // nothing stored
  }
  memoryKey = null;
}

let memoryKey: string | null = null;

function currentKey(): string | null {
  return storedKey() ?? memoryKey;
}

/** Headers for the server's HTTP API: the key when there is one. */
export function authHeaders(): Record<string, string> {
  const key = currentKey();
  return key ? { authorization: `Bearer ${key}` } : {};
}

/** Why a request failed: OpenAI's error shape (`{ error: { message } }`), a bare `{ error: "…" }`, or the status. */
export async function errorMessage(res: Response): Promise<string> {
  try {
    const body = (await res.json()) as { error?: { message?: string } | string };
    return typeof body.error === 'string' ? body.error : (body.error?.message ?? `HTTP ${res.status}`);
  } catch {
    return `HTTP ${res.status}`;
  }
}

/**
 * The subprotocols a new session connects with: none on a keyless server; otherwise `realtime`
 * and a freshly minted single-use client secret. Throws AccessProblem when a key is needed.
 */
export async function sessionProtocols(): Promise<string[] | undefined> {
  const info = await fetch('/v1/access', { headers: authHeaders() });
  if (info.status === 401) {
    const had = currentKey() !== null;
    throw new AccessProblem(had ? `The server refused the access key: ${await errorMessage(info)}` : 'This OmniLive server needs an access key.');
  }
  // A server without the access API (older, or a stand-in) takes no credential.
  if (info.status === 404) return undefined;
  if (!info.ok) throw new Error(await errorMessage(info));
  const { credential } = (await info.json()) as { credential: 'none' | 'required' };
  if (credential === 'none') return undefined;
  const res = await fetch('/v1/realtime/client_secrets', {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...authHeaders() },
    body: JSON.stringify({ omnilive: { user: APP_USER } }),
  });
  if (res.status === 401) throw new AccessProblem(`The server refused the access key: ${await errorMessage(res)}`);
  if (!res.ok) throw new Error(`Could not get a session credential: ${await errorMessage(res)}`);
  const { value } = (await res.json()) as { value: string };
  return ['realtime', `openai-insecure-api-key.${value}`];
}

/** The server's HTTP API as the page's user: JSON in and out, errors as messages. */
export async function apiFetch<T>(path: string, init: { method?: 'GET' | 'POST'; body?: unknown } = {}): Promise<T> {
  const res = await fetch(path, {
    method: init.method ?? 'GET',
    headers: { ...(init.body !== undefined ? { 'content-type': 'application/json' } : {}), ...authHeaders() },
    body: init.body !== undefined ? JSON.stringify(init.body) : undefined,
  });
  if (res.status === 401) throw new AccessProblem(`The server refused the access key: ${await errorMessage(res)}`);
  if (!res.ok) throw new Error(await errorMessage(res));
  return (await res.json()) as T;
}

/** The user query every memory call carries when a key speaks for it. */
export function userQuery(): string {
  return currentKey() ? `user=${encodeURIComponent(APP_USER)}` : '';
}

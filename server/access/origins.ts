import net from 'node:net';

/**
 * Origins as browsers send them: `scheme://host[:port]`, lower-case, default ports dropped.
 * Returns undefined for anything that is not such an origin (`null`, paths, credentials, …).
 */
export function normalizeOrigin(value: string): string | undefined {
  if (!/^https?:\/\/[^/?#]+$/i.test(value.trim())) return undefined;
  let url: URL;
  try {
    url = new URL(value.trim());
  } catch {
    return undefined;
  }
  if (url.username || url.password) return undefined;
  return url.origin;
}

/** Names that only ever mean this machine: a page on them cannot be another site's. */
export function isLoopbackHostname(hostname: string): boolean {
  const h = hostname.replace(/^\[|\]$/g, '').toLowerCase();
  if (h === 'localhost' || h.endsWith('.localhost')) return true;
  if (net.isIPv4(h)) return h.startsWith('127.');
  return h === '::1';
}

/** Whether a listen address keeps the server on this machine. */
export function isLoopbackListen(host: string): boolean {
  return isLoopbackHostname(host);
}

export type OriginVerdict =
  | { allowed: true; kind: 'none' | 'own' | 'listed' }
  | { allowed: false; reason: string };

/**
 * Which browser pages may talk to this server: its own pages, and an exact-match allowlist.
 * A request without `Origin` is not from a web page (CLI, SDK scripts, site backends).
 */
export class OriginPolicy {
  readonly #allowed: ReadonlySet<string>;

  /** @param allowed exact origins allowed besides the server's own */
  constructor(allowed: readonly string[]) {
    const normalized = allowed.map((o) => {
      const n = normalizeOrigin(o);
      if (!n) throw new TypeError(`allowed origin '${o}' is not an origin like https://example.com or http://localhost:3000`);
      return n;
    });
    this.#allowed = new Set(normalized);
  }

  get allowed(): readonly string[] {
    return [...this.#allowed];
  }

  /**
   * `origin`: the request's Origin header; `host`: its Host header; `tls`: whether it came over
   * TLS. `keyless`: no credential is needed, so the server's own origin counts only on loopback
   * host names: a DNS-rebound name (evil.example → 127.0.0.1) is not "own".
   */
  check(origin: string | undefined, host: string | undefined, tls: boolean, keyless: boolean): OriginVerdict {
    if (origin === undefined) return { allowed: true, kind: 'none' };
    const normalized = normalizeOrigin(origin);
    if (!normalized) return { allowed: false, reason: `origin '${clip(origin)}' is not allowed` };
    if (this.#allowed.has(normalized)) return { allowed: true, kind: 'listed' };
    if (host && this.#isOwn(normalized, host, tls, keyless)) return { allowed: true, kind: 'own' };
    return { allowed: false, reason: `origin '${clip(normalized)}' is not allowed (add it with --allowed-origins)` };
  }

  #isOwn(origin: string, host: string, tls: boolean, keyless: boolean): boolean {
    const own = normalizeOrigin(`${tls ? 'https' : 'http'}://${host}`);
    if (own !== origin) return false;
    return !keyless || isLoopbackHostname(new URL(own).hostname);
  }
}

/** Header values end up in error messages: keep them short and printable. */
function clip(value: string): string {
  const printable = value.replace(/[^\x20-\x7e]/g, '?');
  return printable.length > 100 ? `${printable.slice(0, 100)}…` : printable;
}

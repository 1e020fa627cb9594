import crypto from 'node:crypto';
import { z } from 'zod';
import { sessionPatchSchema, userId, type SessionPatch } from '../protocol/client-events.ts';
import { newToken } from './api-keys.ts';
import { normalizeOrigin } from './origins.ts';

/**
 * `POST /v1/realtime/client_secrets`: OpenAI's GA request (`expires_after`, `session`) plus
 * our `omnilive` block (user, origins, session length, single use).
 */
export const mintRequestSchema = z
  .object({
    expires_after: z
      .object({ anchor: z.literal('created_at'), seconds: z.number().int().min(10).max(7200) })
      .strict()
      .optional(),
    session: sessionPatchSchema.optional(),
    omnilive: z
      .object({
        user: userId.optional(),
        origins: z.array(z.string().max(300)).max(32).optional(),
        max_session_seconds: z.number().int().min(1).max(86_400).optional(),
        single_use: z.boolean().optional(),
      })
      .strict()
      .optional(),
  })
  .strict();

export type MintRequest = z.infer<typeof mintRequestSchema>;

export const defaultSecretSeconds = 60;

/** What a redeemed secret grants. */
export interface SecretGrant {
  keyId: string;
  user: string;
  origins: readonly string[];
  session: SessionPatch;
  maxSessionMs: number;
}

interface StoredSecret extends SecretGrant {
  expiresAt: number;
  singleUse: boolean;
  used: boolean;
}

/** A refusal to redeem: `status` is the HTTP status of the refused upgrade. */
export class SecretRefused extends Error {
  override name = 'SecretRefused';
  constructor(
    readonly status: 401 | 403,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

const SECRET_PREFIX = 'ek_';

export function looksLikeClientSecret(token: string): boolean {
  return token.startsWith(SECRET_PREFIX);
}

function digest(token: string): string {
  return crypto.createHash('sha256').update(token, 'utf8').digest('hex');
}

/**
 * Short-lived, scoped credentials for browsers. Kept in memory by hash only (a restart ends
 * them, which a 60 s secret barely notices); expired ones are swept as new ones are made.
 */
export class ClientSecrets {
  readonly #secrets = new Map<string, StoredSecret>();
  #sweepAt = 0;

  get size(): number {
    return this.#secrets.size;
  }

  /** Makes a secret for an already validated request. `user` is the secret's user, decided by the caller. */
  mint(request: MintRequest, grant: { keyId: string; user: string; maxSessionSeconds: number }, now = Date.now()) {
    this.#sweep(now);
    const origins = (request.omnilive?.origins ?? []).map((o, i) => {
      const n = normalizeOrigin(o);
      if (!n) throw new TypeError(`omnilive.origins.${i}: '${o.slice(0, 100)}' is not an origin like https://example.com`);
      return n;
    });
    const seconds = request.expires_after?.seconds ?? defaultSecretSeconds;
    const value = newToken(SECRET_PREFIX);
    const session = { ...(request.session ?? {}) } as SessionPatch;
    const maxSessionSeconds = request.omnilive?.max_session_seconds ?? grant.maxSessionSeconds;
    const stored: StoredSecret = {
      keyId: grant.keyId,
      user: grant.user,
      origins,
      session,
      maxSessionMs: maxSessionSeconds * 1000,
      expiresAt: now + seconds * 1000,
      singleUse: request.omnilive?.single_use ?? true,
      used: false,
    };
    this.#secrets.set(digest(value), stored);
    return {
      value,
      expires_at: Math.floor(stored.expiresAt / 1000),
      session: { type: 'realtime', object: 'realtime.session', ...session },
      omnilive: { user: grant.user, origins, max_session_seconds: maxSessionSeconds, single_use: stored.singleUse },
    };
  }

  /**
   * Checks a secret presented at a WebSocket upgrade, from `origin` (undefined: not a browser),
   * and uses it up when it is single-use.
   */
  redeem(token: string, origin: string | undefined, keyIsLive: (keyId: string) => boolean, now = Date.now()): SecretGrant {
    const hash = digest(token);
    const secret = this.#secrets.get(hash);
    if (!secret) throw new SecretRefused(401, 'invalid_client_secret', 'the client secret is not known here (malformed, never minted, or from before a restart)');
    if (now >= secret.expiresAt) {
      this.#secrets.delete(hash);
      throw new SecretRefused(401, 'client_secret_expired', 'the client secret has expired: mint a new one');
    }
    if (secret.used) throw new SecretRefused(401, 'client_secret_used', 'the client secret was already used (secrets are single-use unless minted with omnilive.single_use: false)');
    if (!keyIsLive(secret.keyId)) {
      this.#secrets.delete(hash);
      throw new SecretRefused(401, 'api_key_revoked', 'the API key that minted this client secret was revoked');
    }
    if (secret.origins.length && !(origin && secret.origins.includes(normalizeOrigin(origin) ?? ''))) {
      throw new SecretRefused(403, 'origin_not_allowed', 'this client secret is only valid from the origins it was minted for');
    }
    if (secret.singleUse) secret.used = true;
    const { keyId, user, origins, session, maxSessionMs } = secret;
    return { keyId, user, origins, session, maxSessionMs };
  }

  #sweep(now: number): void {
    if (now < this.#sweepAt) return;
    this.#sweepAt = now + 10_000;
    for (const [hash, secret] of this.#secrets) if (now >= secret.expiresAt) this.#secrets.delete(hash);
  }
}

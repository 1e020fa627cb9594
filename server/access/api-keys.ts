import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';

/** An API key as the server knows it: never the key itself, only its hash. */
export interface ApiKeyRecord {
  id: string;
  name: string;
  /** Where it came from: `OMNILIVE_API_KEY`, `omnilive keys create`, or the first-start admin key. */
  source: 'env' | 'file' | 'admin';
  /**
   * The user a connection with this key is, unless it names one (`omnilive.user`), and of the
   * secrets it mints without one. Unset: operator keys (env, admin) connect as the local user,
   * and their secrets get a user of their own.
   */
  user?: string;
  createdAt: number;
  revokedAt?: number;
}

interface StoredKey extends ApiKeyRecord {
  /** sha256 of the key, hex. */
  hash: string;
}

const KEY_PREFIX = 'olk_';

function sha256(value: string): Buffer {
  return crypto.createHash('sha256').update(value, 'utf8').digest();
}

/** A new random token: `prefix` + 32 random bytes in base64url. */
export function newToken(prefix: string): string {
  return `${prefix}${crypto.randomBytes(32).toString('base64url')}`;
}

/** Files that hold credentials are readable by their owner only. */
function writePrivate(file: string, text: string): void {
  fs.mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
  const tmp = `${file}.${process.pid}.tmp`;
  fs.writeFileSync(tmp, text, { mode: 0o600 });
  fs.renameSync(tmp, file);
}

/**
 * The API keys of a server: from `OMNILIVE_API_KEY` (comma-separated), from `keys.json` in the
 * data dir (made by `omnilive keys create`, stored as sha256 hashes), and the admin key made on
 * a first start beyond loopback. `keys.json` is re-read when it changes, so a key revoked from
 * the CLI stops working on a running server at once.
 */
export class ApiKeyRing {
  readonly #dir: string;
  readonly #envKeys: StoredKey[];
  #fileKeys: StoredKey[] = [];
  #adminKey: StoredKey | undefined;
  #seen = '';

  constructor(dataDir: string, envKeys: readonly string[] = []) {
    this.#dir = path.join(dataDir, 'access');
    this.#envKeys = envKeys.map((key, i) => ({
      id: `env_${i + 1}`,
      name: `OMNILIVE_API_KEY #${i + 1}`,
      source: 'env' as const,
      createdAt: 0,
      hash: sha256(key).toString('hex'),
    }));
    this.#reload();
  }

  get #keysFile(): string {
    return path.join(this.#dir, 'keys.json');
  }

  /** Where the first-start admin key is kept (mode 0600). */
  get adminKeyFile(): string {
    return path.join(this.#dir, 'admin.key');
  }

  /** Whether any key exists: then every connection needs a credential. */
  get configured(): boolean {
    this.#reload();
    return this.#envKeys.length > 0 || this.#adminKey !== undefined || this.#fileKeys.some((k) => !k.revokedAt);
  }

  /** The key's record when `token` is a live key. Every known hash is compared, in constant time. */
  verify(token: string): ApiKeyRecord | undefined {
    this.#reload();
    const presented = sha256(token);
    let match: StoredKey | undefined;
    for (const key of this.#all()) {
      if (crypto.timingSafeEqual(presented, Buffer.from(key.hash, 'hex')) && !key.revokedAt) match = key;
    }
    if (!match) return undefined;
    const { hash: _hash, ...record } = match;
    return record;
  }

  /** Whether the key with this id still works (client secrets die with the key that minted them). */
  isLive(id: string): boolean {
    this.#reload();
    return this.#all().some((k) => k.id === id && !k.revokedAt);
  }

  list(): ApiKeyRecord[] {
    this.#reload();
    return this.#all().map(({ hash: _hash, ...record }) => record);
  }

  /** Makes a key; the key itself is returned once and never stored. */
  create(name: string, user?: string): { key: string; record: ApiKeyRecord } {
    if (!/^[\w.@:-]{1,64}$/.test(name)) throw new TypeError(`key name must be 1–64 letters, digits or ._@:- characters, got '${name}'`);
    if (user !== undefined) assertUserId(user, '--user');
    this.#reload();
    if (this.#fileKeys.some((k) => k.name === name && !k.revokedAt)) throw new TypeError(`a key named '${name}' exists already (revoke it first, or pick another name)`);
    const key = newToken(KEY_PREFIX);
    const stored: StoredKey = { id: `key_${crypto.randomBytes(6).toString('hex')}`, name, source: 'file', ...(user ? { user } : {}), createdAt: Date.now(), hash: sha256(key).toString('hex') };
    this.#fileKeys.push(stored);
    this.#save();
    const { hash: _hash, ...record } = stored;
    return { key, record };
  }

  /** Revokes a stored key by id or name. */
  revoke(idOrName: string): ApiKeyRecord {
    this.#reload();
    const key = this.#fileKeys.find((k) => !k.revokedAt && (k.id === idOrName || k.name === idOrName));
    if (!key) {
      const other = this.#all().find((k) => k.id === idOrName || k.name === idOrName);
      if (other?.source === 'env') throw new TypeError(`${other.name} comes from OMNILIVE_API_KEY: remove it from the environment instead`);
      if (other?.source === 'admin') throw new TypeError(`the admin key is ${this.adminKeyFile}: delete that file instead`);
      throw new TypeError(`no live key with id or name '${idOrName}' (see omnilive keys list)`);
    }
    key.revokedAt = Date.now();
    this.#save();
    const { hash: _hash, ...record } = key;
    return record;
  }

  /** The first-start admin key: made once, kept in the data dir (0600). Returns it when new. */
  ensureAdminKey(): string | undefined {
    this.#reload();
    if (this.#adminKey) return undefined;
    const key = newToken(KEY_PREFIX);
    writePrivate(this.adminKeyFile, `${key}\n`);
    this.#seen = '';
    return key;
  }

  #adminRecord(key: string): StoredKey {
    const createdAt = fs.statSync(this.adminKeyFile, { throwIfNoEntry: false })?.mtimeMs ?? Date.now();
    return { id: 'admin', name: 'admin (first start)', source: 'admin', createdAt: Math.round(createdAt), hash: sha256(key).toString('hex') };
  }

  #readAdmin(): string | undefined {
    try {
      return fs.readFileSync(this.adminKeyFile, 'utf8').trim() || undefined;
    } catch {
      return undefined;
    }
  }

  #all(): StoredKey[] {
    return [...this.#envKeys, ...(this.#adminKey ? [this.#adminKey] : []), ...this.#fileKeys];
  }

  /**
   * Re-reads keys.json and admin.key when either changed or went away. Both are written by
   * rename, so a new inode shows a change even within one tick of the file system's clock.
   */
  #reload(): void {
    const stamp = (file: string) => {
      const stat = fs.statSync(file, { throwIfNoEntry: false });
      return stat ? `${stat.ino}:${stat.mtimeMs}:${stat.size}` : '-';
    };
    const seen = `${stamp(this.#keysFile)}|${stamp(this.adminKeyFile)}`;
    if (seen === this.#seen) return;
    this.#seen = seen;
    const admin = this.#readAdmin();
    this.#adminKey = admin ? this.#adminRecord(admin) : undefined;
    let text: string | undefined;
    try {
      text = fs.readFileSync(this.#keysFile, 'utf8');
    } catch {
      this.#fileKeys = [];
      return;
    }
    let parsed: { keys?: StoredKey[] };
    try {
      parsed = JSON.parse(text) as { keys?: StoredKey[] };
    } catch (error) {
      this.#seen = ''; // read it again next time: it may be fixed by then
      throw new Error(`${this.#keysFile} is not valid JSON (${(error as Error).message}): no key is accepted until it is fixed`);
    }
    this.#fileKeys = (parsed.keys ?? []).map((k) => ({ ...k, source: 'file' as const }));
  }

  #save(): void {
    writePrivate(this.#keysFile, `${JSON.stringify({ keys: this.#fileKeys }, null, 2)}\n`);
    this.#seen = '';
  }
}

/** User ids are memory ids: short, printable, no spaces. */
export function assertUserId(user: unknown, name: string): asserts user is string {
  if (typeof user !== 'string' || !/^[A-Za-z0-9][\w.@:+-]{0,127}$/.test(user)) {
    throw new TypeError(`${name} must be 1–128 characters of letters, digits and _.@:+- (starting with a letter or digit)`);
  }
}

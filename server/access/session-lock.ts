import { withoutPath } from '../protocol/session-patch.ts';

/**
 * What a client secret pins: the session fields its minter set. A browser's `session.update`
 * may change every other field; a change to a pinned one is refused by name while the rest
 * of the update applies. Pinned instructions are not shown back to the browser either.
 */

/** Fields set as a whole: changing any part of them changes the pinned value. */
const WHOLE = new Set([
  'audio.input.format',
  'audio.input.transcription',
  'audio.input.noise_reduction',
  'audio.input.turn_detection',
  'audio.output.format',
  'tools',
  'tool_choice',
  'tracing',
  'include',
  'truncation',
  'omnilive.clipper',
]);

/** Carries no setting (`"type": "realtime"`). */
const IGNORED = new Set(['type']);

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** The dotted paths of the fields an update sets. */
export function fieldPaths(patch: Record<string, unknown>, prefix = ''): string[] {
  const out: string[] = [];
  for (const [key, value] of Object.entries(patch)) {
    const path = prefix ? `${prefix}.${key}` : key;
    if (!prefix && IGNORED.has(key)) continue;
    if (value === undefined) continue;
    if (isPlainObject(value) && !WHOLE.has(path) && Object.keys(value).length > 0) out.push(...fieldPaths(value, path));
    else out.push(path);
  }
  return out;
}

function overlaps(a: string, b: string): boolean {
  return a === b || a.startsWith(`${b}.`) || b.startsWith(`${a}.`);
}

export class SessionLock {
  readonly #locked: readonly string[];

  /** `pinned`: the session config the secret was minted with. */
  constructor(pinned: Record<string, unknown> = {}) {
    this.#locked = fieldPaths(pinned);
  }

  get locked(): readonly string[] {
    return this.#locked;
  }

  /** Splits an update into what may apply and the pinned fields it tried to change. */
  filter<T extends Record<string, unknown>>(patch: T): { allowed: T; refused: string[] } {
    let allowed: Record<string, unknown> = patch;
    const refused: string[] = [];
    for (const path of fieldPaths(patch)) {
      if (!this.#locked.some((l) => overlaps(l, path))) continue;
      refused.push(path);
      allowed = withoutPath(allowed, path.split('.'));
    }
    return { allowed: allowed as T, refused };
  }

  /** A session description as the browser may see it: pinned instructions stay the site's. */
  redact<T extends object>(session: T): T | Omit<T, 'instructions'> {
    if (!this.#locked.includes('instructions') || !('instructions' in session)) return session;
    const { instructions: _hidden, ...rest } = session;
    return rest;
  }
}

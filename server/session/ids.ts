import { randomBytes } from 'node:crypto';

/** OpenAI-style ids: a prefix and 20 random url-safe characters. */
export function newId(prefix: string): string {
  return `${prefix}_${randomBytes(15).toString('base64url')}`;
}

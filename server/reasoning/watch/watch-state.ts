import type { Watch } from './types.ts';

/**
 * Where a watch stands at a wall-clock time: `done` once a `once` watch has fired (whatever its
 * expiry), `expired` past `expiresAt`, `cooling` within `cooldownMs` of its last firing,
 * else `active`. Only `active` watches may fire; checkers keep seeing every observation anyway.
 */
export function watchDue(watch: Watch, nowWall: number): 'active' | 'cooling' | 'expired' | 'done' {
  if (watch.mode === 'once' && watch.firedCount > 0) return 'done';
  if (watch.expiresAt !== undefined && nowWall >= watch.expiresAt) return 'expired';
  if (watch.lastFiredAt !== undefined && nowWall < watch.lastFiredAt + watch.cooldownMs) return 'cooling';
  return 'active';
}

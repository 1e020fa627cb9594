/**
 * A small deterministic PRNG (xorshift32) for benchmarks and generated suites, so timings and
 * orders repeat across runs. A string seed is hashed (FNV-1a) first.
 */
export function seededRandom(seed: number | string): () => number {
  let s = typeof seed === 'number' ? seed >>> 0 : 2166136261;
  if (typeof seed === 'string') for (let i = 0; i < seed.length; i++) s = Math.imul(s ^ seed.charCodeAt(i), 16777619) >>> 0;
  s ||= 1;
  return () => {
    s ^= s << 13;
    s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5;
    s >>>= 0;
    return s / 2 ** 32;
  };
}

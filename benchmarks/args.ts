/** Checks of the benchmarks' command-line values: a wrong one stops the run naming its flag. */

export function positiveInteger(name: string, value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new TypeError(`--${name} must be a positive integer, got '${value}'`);
  return n;
}

export function positiveNumber(name: string, value: string): number {
  const n = Number(value);
  if (!(n > 0)) throw new TypeError(`--${name} must be a positive number, got '${value}'`);
  return n;
}

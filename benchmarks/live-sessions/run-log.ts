/** Where a live-sessions benchmark (soak, load) writes its files, and its progress lines. */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

/** `--out`, or a new directory in the temp dir named after the benchmark and the time; created. */
export function outputDir(benchmark: string, out: string | undefined): string {
  const stamp = new Date().toISOString().replace(/[:.]/g, '-');
  const dir = path.resolve(out ?? path.join(os.tmpdir(), `omnilive-${benchmark}-${stamp}`));
  fs.mkdirSync(dir, { recursive: true });
  return dir;
}

/** Writes `[benchmark mm:ss] line` to stderr, the clock running from this call. */
export function progressLog(benchmark: string): (line: string) => void {
  const t0 = performance.now();
  return (line) => {
    const s = Math.round((performance.now() - t0) / 1000);
    const clock = `${String(Math.floor(s / 60)).padStart(2, '0')}:${String(s % 60).padStart(2, '0')}`;
    process.stderr.write(`[${benchmark} ${clock}] ${line}\n`);
  };
}

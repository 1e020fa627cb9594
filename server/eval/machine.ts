import os from 'node:os';

const round1 = (x: number) => Math.round(x * 10) / 10;

/** The machine a benchmark ran on. Other work skews every number: the load averages say how much. */
export function describeMachine(loadAtStart: number[]): Record<string, unknown> {
  const cpus = os.cpus();
  return {
    cpus: cpus.length,
    model: cpus[0]?.model ?? 'unknown',
    memory_gb: round1(os.totalmem() / 2 ** 30),
    node: process.version,
    platform: `${os.platform()} ${os.release()}`,
    arch: os.arch(),
    loadavg_start: loadAtStart,
    loadavg_end: os.loadavg().map(round1),
  };
}

/** Load averages now, rounded: take this at the start of a run. */
export function loadNow(): number[] {
  return os.loadavg().map(round1);
}

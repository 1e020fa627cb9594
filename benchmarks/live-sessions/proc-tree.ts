/**
 * A process and its descendants as Linux's /proc shows them from outside: resident memory,
 * open file descriptors, threads, CPU time. The server under test is measured this way so the
 * benchmark's own process (its clients, its buffers) never counts.
 */
import fs from 'node:fs';
import { listProcesses, procStat } from '../../test/helpers/proc.ts';

export interface ProcSample {
  pid: number;
  /** The executable's name; for node, the script it runs (engine children are all `node`). */
  name: string;
  /** VmRSS, bytes. */
  rss: number;
  /** Entries in /proc/PID/fd (null when not readable). */
  fds: number | null;
  threads: number;
  /** utime + stime, ms. */
  cpuMs: number;
}

export interface TreeSample {
  /** performance.now() of the sample. */
  at: number;
  root: ProcSample;
  /** Every live descendant (children, grandchildren…), zombies excluded. */
  descendants: (ProcSample & { ppid: number; depth: number })[];
}

function statusFields(pid: number): Record<string, string> | undefined {
  let text: string;
  try {
    text = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
  } catch {
    return undefined;
  }
  const out: Record<string, string> = {};
  for (const line of text.split('\n')) {
    const i = line.indexOf(':');
    if (i > 0) out[line.slice(0, i)] = line.slice(i + 1).trim();
  }
  return out;
}

/** Open descriptors of a process (null: gone or not ours). */
export function fdCount(pid: number): number | null {
  try {
    return fs.readdirSync(`/proc/${pid}/fd`).length;
  } catch {
    return null;
  }
}

function nameOf(pid: number, comm: string): string {
  if (comm !== 'node') return comm;
  try {
    const args = fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter(Boolean);
    // The first argument that is a file: node's own flags and --import values come before it.
    const script = args.slice(1).find((a, i, all) => !a.startsWith('-') && !(all[i - 1] ?? '').startsWith('--import'));
    return script ? `node ${script.split('/').at(-1)}` : 'node';
  } catch {
    return comm;
  }
}

/** One process now; undefined once it is gone. */
export function sampleProcess(pid: number): ProcSample | undefined {
  const stat = procStat(pid);
  const status = statusFields(pid);
  if (!stat || !status || stat.state === 'Z') return undefined;
  return {
    pid,
    name: nameOf(pid, stat.comm),
    rss: Number.parseInt(status.VmRSS ?? '0', 10) * 1024,
    fds: fdCount(pid),
    threads: Number.parseInt(status.Threads ?? '0', 10),
    cpuMs: stat.cpuMs,
  };
}

/** The root and every descendant now; undefined when the root is gone. */
export function sampleTree(rootPid: number): TreeSample | undefined {
  const at = performance.now();
  const root = sampleProcess(rootPid);
  if (!root) return undefined;
  const all = listProcesses().filter((p) => p.state !== 'Z');
  const byParent = new Map<number, number[]>();
  for (const p of all) byParent.set(p.ppid, [...(byParent.get(p.ppid) ?? []), p.pid]);
  const descendants: TreeSample['descendants'] = [];
  const walk = (pid: number, depth: number) => {
    for (const child of byParent.get(pid) ?? []) {
      const s = sampleProcess(child);
      if (s) descendants.push({ ...s, ppid: pid, depth });
      walk(child, depth + 1);
    }
  };
  walk(rootPid, 1);
  return { at, root, descendants };
}

/** CPU used between two samples, % of one core, by process name (the root as "server", processes of one name summed); processes born in between count from 0. */
export function cpuByName(before: TreeSample, after: TreeSample): Record<string, number> {
  const wallMs = after.at - before.at;
  if (wallMs <= 0) return {};
  const earlier = new Map<number, number>([[before.root.pid, before.root.cpuMs], ...before.descendants.map((d) => [d.pid, d.cpuMs] as [number, number])]);
  const out: Record<string, number> = {};
  const add = (name: string, ms: number) => (out[name] = (out[name] ?? 0) + ms);
  add('server', after.root.cpuMs - (earlier.get(after.root.pid) ?? 0));
  for (const d of after.descendants) add(d.name, d.cpuMs - (earlier.get(d.pid) ?? 0));
  return Object.fromEntries(Object.entries(out).map(([k, ms]) => [k, Math.round((1000 * ms) / wallMs) / 10]));
}

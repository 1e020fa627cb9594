import fs from 'node:fs';

/** USER_HZ: /proc/<pid>/stat counts CPU time in these ticks (100 a second on Linux). */
const TICK_MS = 10;

/** One process as /proc/<pid>/stat tells it (Linux). */
export interface ProcStat {
  pid: number;
  /** Executable name, at most 15 characters. */
  comm: string;
  /** R, S, D, Z (zombie: exited, not yet reaped), … */
  state: string;
  ppid: number;
  /** utime + stime of all its threads, ms. */
  cpuMs: number;
}

/** The process's stat line, parsed; undefined once it is gone. */
export function procStat(pid: number): ProcStat | undefined {
  let stat: string;
  try {
    stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return undefined;
  }
  // comm may hold spaces and parentheses: the fields after it start past the last ')'.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return {
    pid,
    comm: stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')')),
    state: fields[0]!,
    ppid: Number(fields[1]),
    cpuMs: (Number(fields[11]) + Number(fields[12])) * TICK_MS,
  };
}

/** Every process on the machine right now. */
export function listProcesses(): ProcStat[] {
  return fs.readdirSync('/proc').flatMap((entry) => {
    const stat = /^\d+$/.test(entry) ? procStat(Number(entry)) : undefined;
    return stat ? [stat] : [];
  });
}

/** Live (not zombie) direct children of this process with this executable name. */
export function childProcesses(comm: string): ProcStat[] {
  return listProcesses().filter((p) => p.ppid === process.pid && p.comm === comm && p.state !== 'Z');
}

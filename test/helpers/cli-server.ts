import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import type { TestServer } from './server.ts';

export const CLI = path.resolve(import.meta.dirname, '../../server/bin/omnilive.mjs');

/** How the process ended, and when (performance.now() of this process). */
export interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
  at: number;
}

/** `omnilive serve` as an operator runs it: a process of its own, stopped by signals. */
export interface ServedCli {
  child: ChildProcess;
  pid: number;
  port: number;
  /** For the helpers that take a TestServer (they only use its port). */
  address: TestServer;
  /** stdout and stderr so far. */
  output(): string;
  /** Resolves once the output matches. */
  waitForOutput(pattern: RegExp, timeoutMs?: number): Promise<void>;
  exited: Promise<Exit>;
}

/** Starts `omnilive serve --port 0 --tls off …args` and resolves once it listens and said its engines. */
export async function serveCli(args: string[], env: Record<string, string> = {}): Promise<ServedCli> {
  const child = spawn(process.execPath, [CLI, 'serve', '--port', '0', '--tls', 'off', '--vision', 'off', ...args], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  const watchers = new Set<() => void>();
  const take = (d: Buffer) => {
    out += d;
    for (const w of [...watchers]) w();
  };
  child.stdout!.on('data', take);
  child.stderr!.on('data', take);
  const exited = new Promise<Exit>((resolve) => child.once('exit', (code, signal) => resolve({ code, signal, at: performance.now() })));
  const waitForOutput = (pattern: RegExp, timeoutMs = 30_000) =>
    new Promise<void>((resolve, reject) => {
      const check = () => {
        if (!pattern.test(out)) return;
        watchers.delete(check);
        clearTimeout(timer);
        resolve();
      };
      const timer = setTimeout(() => {
        watchers.delete(check);
        reject(new Error(`no ${pattern} in the output within ${timeoutMs} ms:\n${out}`));
      }, timeoutMs);
      watchers.add(check);
      check();
    });
  await Promise.race([
    waitForOutput(/omnilive: (WebRTC on|WebRTC off)/, 60_000),
    exited.then((e) => Promise.reject(new Error(`serve exited (${e.code ?? e.signal}) before listening:\n${out}`))),
  ]);
  const port = Number(/listening on http:\/\/[^\s]+?:(\d+)/.exec(out)![1]);
  return { child, pid: child.pid!, port, address: { port } as TestServer, output: () => out, waitForOutput, exited };
}

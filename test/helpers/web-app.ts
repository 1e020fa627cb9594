// Browser tests need the web app's static export (web/out): build it once per test process.
// web/build.mjs skips the build when web/out is newer than every source file.
import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import type { Page } from 'playwright-core';

const root = path.resolve(import.meta.dirname, '../..');
let built: Promise<void> | undefined;

export function buildWebApp(): Promise<void> {
  built ??= promisify(execFile)(process.execPath, [path.join(root, 'web/build.mjs')], { cwd: root, maxBuffer: 16 * 1024 * 1024 }).then(
    () => undefined,
    (error: Error & { stdout?: string; stderr?: string }) => {
      built = undefined; // a later call may try again
      throw new Error(`node web/build.mjs failed:\n${error.stdout ?? ''}\n${error.stderr ?? error.message}`);
    },
  );
  return built;
}

export const byId = (page: Page, id: string) => page.getByTestId(id);

/** Polls `read` until `ok` holds for its value; returns the value. */
export async function until<T>(read: () => Promise<T>, ok: (value: T) => boolean, what: string, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let value = await read();
  while (!ok(value)) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}; last value: ${JSON.stringify(value)}`);
    await new Promise((r) => setTimeout(r, 100));
    value = await read();
  }
  return value;
}

/** Reads one attribute of a test id, for `until`. */
export const attr = (page: Page, id: string, name: string) => () => byId(page, id).getAttribute(name);

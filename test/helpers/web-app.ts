// Browser tests need the web app's static export (web/out): build it once per test process.
// web/build.mjs skips the build when web/out is newer than every source file.
import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';

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

// `npm test`: type-check, then every *.test.ts under test/ with node's own runner (via tsx).
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { ensureDebianPackages } from '../native/debian.mjs';

const root = path.resolve(import.meta.dirname, '..');
const only = process.argv.slice(2);

function find(dir) {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((d) => {
    const p = path.join(dir, d.name);
    if (d.isDirectory()) return d.name === 'node_modules' ? [] : find(p);
    return d.name.endsWith('.test.ts') ? [p] : [];
  });
}

// The browser tests drive Debian's Chromium (installed here when root or passwordless sudo allow).
try {
  ensureDebianPackages(['chromium'], (msg) => console.log(`[omnilive test] ${msg}`));
} catch (error) {
  console.error(`[omnilive test] ${error.message}`);
  process.exit(1);
}

const tsc = spawnSync(process.execPath, [path.join(root, 'node_modules/typescript/bin/tsc'), '--noEmit', '-p', root], { stdio: 'inherit' });
if (tsc.status !== 0) {
  console.error('type check failed');
  process.exit(1);
}

const files = find(path.join(root, 'test'))
  .filter((f) => only.length === 0 || only.some((o) => f.includes(o)))
  .sort();
const run = spawnSync(
  process.execPath,
  ['--import', 'tsx', '--test', '--test-reporter=spec', '--test-concurrency=1', ...files],
  { stdio: 'inherit', cwd: root, env: { ...process.env, NODE_NO_WARNINGS: '1' } },
);
process.exit(run.status ?? 1);

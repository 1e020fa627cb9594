// Builds the web app (Next.js static export) into web/out, which OmniLiveServer serves.
// Skipped when web/out is newer than every source file; `--force` rebuilds anyway.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { buildWidget } from './widget/build.mjs';

const webDir = import.meta.dirname;
const outDir = path.join(webDir, 'out');
// Written after a successful build, with the build's start time: sources saved during a build count as newer.
const stamp = path.join(outDir, '.build-stamp');
const force = process.argv.includes('--force');

function newestMtime(file) {
  let stat;
  try {
    stat = fs.statSync(file);
  } catch {
    return 0;
  }
  if (!stat.isDirectory()) return stat.mtimeMs;
  let newest = stat.mtimeMs; // a deleted file shows only as a newer directory
  for (const name of fs.readdirSync(file)) newest = Math.max(newest, newestMtime(path.join(file, name)));
  return newest;
}

function sourcesMtime() {
  // The server's event types are type-checked with the web app (web/lib imports them).
  const entries = ['app', 'components', 'lib', 'public', 'widget', 'tsconfig.json', '../server/protocol/server-events.ts', ...fs.readdirSync(webDir).filter((f) => f.startsWith('next.config.'))];
  return Math.max(...entries.map((e) => newestMtime(path.join(webDir, e))));
}

const built = fs.existsSync(stamp) && fs.existsSync(path.join(outDir, 'index.html')) ? fs.statSync(stamp).mtimeMs : 0;
if (!force && built > sourcesMtime()) {
  console.log('web: web/out is up to date (node web/build.mjs --force rebuilds)');
  process.exit(0);
}

let nextBin;
try {
  nextBin = createRequire(import.meta.url).resolve('next/dist/bin/next');
} catch {
  console.error('web: Next.js is not installed — run `npm install` first.');
  process.exit(1);
}

console.log(`web: building the web app with Next.js into ${path.relative(process.cwd(), outDir) || outDir} …`);
const started = new Date();
const result = spawnSync(process.execPath, [nextBin, 'build', webDir], {
  cwd: webDir,
  stdio: 'inherit',
  env: { ...process.env, NEXT_TELEMETRY_DISABLED: '1', NODE_ENV: 'production' },
});
if (result.status !== 0) {
  console.error(`web: next build failed (${result.signal ? `signal ${result.signal}` : `exit code ${result.status}`}); the server keeps serving the previous web/out, if any.`);
  process.exit(result.status || 1);
}
if (!fs.existsSync(path.join(outDir, 'index.html'))) {
  console.error('web: next build finished but web/out/index.html is missing: is `output: "export"` still set in web/next.config.mjs?');
  process.exit(1);
}
try {
  const sizes = await buildWidget(outDir);
  console.log(`web: widget built: loader ${(sizes.loader / 1024).toFixed(1)} KB, all ${(sizes.total / 1024).toFixed(1)} KB gzipped (${sizes.files} files)`);
} catch (error) {
  console.error(`web: widget build failed: ${error.message}`);
  process.exit(1);
}
fs.writeFileSync(stamp, `${started.toISOString()}\n`);
fs.utimesSync(stamp, started, started);
console.log(`web: built in ${((Date.now() - started.getTime()) / 1000).toFixed(1)} s`);

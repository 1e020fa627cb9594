#!/usr/bin/env node
// `npm install` hook: makes sure the Debian packages the addon needs are present, then
// builds native/build/Release/omnilive_native.node with node-gyp. Non-interactive.
// OMNILIVE_SKIP_NATIVE=1 skips the build (the package check still runs).
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const DEBIAN_PACKAGES = ['libpocketsphinx-dev', 'libsphinxbase-dev', 'pocketsphinx-en-us', 'pkg-config'];
const NATIVE_DIR = path.dirname(fileURLToPath(import.meta.url));

const log = (msg) => console.log(`[omnilive native] ${msg}`);

function fail(msg) {
  console.error(`[omnilive native] error: ${msg}`);
  process.exit(1);
}

/** Runs without a shell and without stdin (CI, no tty); returns the spawnSync result. */
function run(cmd, args, options = {}) {
  return spawnSync(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'], encoding: 'utf8', ...options });
}

function hasCommand(cmd) {
  return run('sh', ['-c', `command -v "${cmd}"`]).status === 0;
}

function isInstalled(pkg) {
  const r = run('dpkg-query', ['-W', '-f=${Status}', pkg]);
  return r.status === 0 && r.stdout.trim().endsWith(' installed');
}

function ensureDebianPackages() {
  if (!hasCommand('dpkg-query')) {
    log(`not a Debian system: make sure the equivalents of ${DEBIAN_PACKAGES.join(' ')} are installed`);
    return;
  }
  const missing = DEBIAN_PACKAGES.filter((pkg) => !isInstalled(pkg));
  if (missing.length === 0) return log('Debian packages: ok');

  const aptLine = `apt-get install -y --no-install-recommends ${missing.join(' ')}`;
  let sudo = [];
  if (process.getuid?.() !== 0) {
    if (!hasCommand('sudo') || run('sudo', ['-n', 'true']).status !== 0) {
      fail(`missing Debian packages: ${missing.join(' ')}\n  run: sudo apt-get update && sudo ${aptLine}\n  then npm install again`);
    }
    sudo = ['sudo', '-n'];
  }
  log(`installing Debian packages: ${missing.join(' ')}`);
  // sudo resets the environment, so the frontend goes through `env`.
  const apt = (...args) => {
    const argv = [...sudo, 'env', 'DEBIAN_FRONTEND=noninteractive', 'apt-get', ...args];
    const r = run(argv[0], argv.slice(1), { stdio: ['ignore', 'inherit', 'inherit'] });
    if (r.status !== 0) fail(`'${argv.join(' ')}' failed (exit ${r.status ?? r.signal})`);
  };
  apt('update');
  apt('install', '-y', '--no-install-recommends', ...missing);
  const still = missing.filter((pkg) => !isInstalled(pkg));
  if (still.length) fail(`packages still missing after apt-get: ${still.join(' ')}`);
}

function findNodeGyp() {
  const candidates = [
    process.env.npm_config_node_gyp, // set by npm for lifecycle scripts
    path.join(path.dirname(process.execPath), '..', 'lib', 'node_modules', 'npm', 'node_modules', 'node-gyp', 'bin', 'node-gyp.js'),
  ];
  return candidates.find((p) => p && fs.existsSync(p));
}

function buildAddon() {
  const missingTools = ['make', 'python3', process.env.CXX || 'g++'].filter((tool) => !hasCommand(tool));
  if (missingTools.length) {
    fail(`missing build tools: ${missingTools.join(' ')} (on Debian: apt-get install -y g++ make python3)`);
  }
  if (run('pkg-config', ['--exists', 'pocketsphinx']).status !== 0) {
    fail('pkg-config cannot find pocketsphinx (Debian: libpocketsphinx-dev libsphinxbase-dev)');
  }
  const nodeGyp = findNodeGyp();
  if (!nodeGyp) fail('node-gyp not found (it ships with npm; set npm_config_node_gyp to its node-gyp.js)');

  const args = [nodeGyp, 'rebuild', '--jobs=max', '--loglevel=warn'];
  // npm passes its `nodedir` config as npm_config_nodedir. Run standalone, point node-gyp
  // at this node's own headers when present, instead of letting it download them.
  const headers = path.join(path.dirname(process.execPath), '..', 'include', 'node');
  if (!process.env.npm_config_nodedir && fs.existsSync(path.join(headers, 'node_api.h'))) {
    args.push(`--nodedir=${path.resolve(headers, '..', '..')}`);
  }
  log('building omnilive_native (node-gyp rebuild)...');
  const t0 = Date.now();
  const r = run(process.execPath, args, { cwd: NATIVE_DIR, stdio: ['ignore', 'pipe', 'inherit'] });
  if (r.status !== 0) {
    process.stdout.write(r.stdout ?? '');
    fail(`node-gyp rebuild failed (exit ${r.status ?? r.signal}); see the output above`);
  }
  log(`built native/build/Release/omnilive_native.node in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
}

ensureDebianPackages();
if (process.env.OMNILIVE_SKIP_NATIVE === '1') log('OMNILIVE_SKIP_NATIVE=1: skipping the addon build');
else buildAddon();

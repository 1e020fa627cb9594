// Debian packages for the install-time builds (native/install.mjs, native/mediasoup-worker.mjs).
// Installs what is missing when we are root or have passwordless sudo; otherwise throws an
// Error whose message is the exact apt line to run. Non-interactive (no stdin, no prompts).
import { spawnSync } from 'node:child_process';

/** Runs without a shell and without stdin (CI, no tty); returns the spawnSync result. */
export function run(cmd, args, options = {}) {
  return spawnSync(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'], encoding: 'utf8', ...options });
}

export function hasCommand(cmd) {
  return run('sh', ['-c', `command -v "${cmd}"`]).status === 0;
}

function isInstalled(pkg) {
  const r = run('dpkg-query', ['-W', '-f=${Status}', pkg]);
  return r.status === 0 && r.stdout.trim().endsWith(' installed');
}

/** Makes sure `packages` are installed; `log(message)` reports progress. Throws on failure. */
export function ensureDebianPackages(packages, log) {
  if (!hasCommand('dpkg-query')) {
    log(`not a Debian system: make sure the equivalents of ${packages.join(' ')} are installed`);
    return;
  }
  const missing = packages.filter((pkg) => !isInstalled(pkg));
  if (missing.length === 0) return log('Debian packages: ok');

  const aptLine = `apt-get install -y --no-install-recommends ${missing.join(' ')}`;
  let sudo = [];
  if (process.getuid?.() !== 0) {
    if (!hasCommand('sudo') || run('sudo', ['-n', 'true']).status !== 0) {
      throw new Error(`missing Debian packages: ${missing.join(' ')}\n  run: sudo apt-get update && sudo ${aptLine}\n  then run the command again`);
    }
    sudo = ['sudo', '-n'];
  }
  log(`installing Debian packages: ${missing.join(' ')}`);
  // sudo resets the environment, so the frontend goes through `env`.
  const apt = (...args) => {
    const argv = [...sudo, 'env', 'DEBIAN_FRONTEND=noninteractive', 'apt-get', ...args];
    const r = run(argv[0], argv.slice(1), { stdio: ['ignore', 'inherit', 'inherit'] });
    if (r.status !== 0) throw new Error(`'${argv.join(' ')}' failed (exit ${r.status ?? r.signal})`);
  };
  apt('update');
  apt('install', '-y', '--no-install-recommends', ...missing);
  const still = missing.filter((pkg) => !isInstalled(pkg));
  if (still.length) throw new Error(`packages still missing after apt-get: ${still.join(' ')}`);
}

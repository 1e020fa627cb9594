#!/usr/bin/env node
// Puts a working mediasoup worker binary where mediasoup looks for it by default
// (node_modules/mediasoup/worker/out/Release/mediasoup-worker), without GitHub: mediasoup's
// own postinstall is disabled (package.json allowScripts) because it downloads a prebuilt
// worker, or the sources of its dependencies, from the internet.
//
// Order: MEDIASOUP_WORKER_BIN (nothing to do) → our cache → mediasoup's prebuilt download
// (15 s at most) → a build from source against Debian's libraries (3-5 min on 2 cores).
// The cache, ${OMNILIVE_CACHE:-${XDG_CACHE_HOME:-~/.cache}/omnilive}/mediasoup-worker/<version>/,
// keeps `npm ci` from rebuilding. OMNILIVE_SKIP_MEDIASOUP=1 skips all of it (no WebRTC).
//
// Build from source: a copy of mediasoup's worker/ in the cache, where each meson wrap
// (downloads) is replaced by a stand-in from native/mediasoup/subprojects/ that takes the
// Debian library through pkg-config, and one bug fix is patched in (PATCHES). Extra meson
// options can be given in MESON_ARGS.
//
// Run directly: node native/mediasoup-worker.mjs; native/install.mjs calls ensureMediasoupWorker().
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { ensureDebianPackages, run } from './debian.mjs';

const NATIVE_DIR = path.dirname(fileURLToPath(import.meta.url));
const STANDINS_DIR = path.join(NATIVE_DIR, 'mediasoup', 'subprojects');
const MESON_VERSION = '1.12.1';
const NINJA_VERSION = '1.13.2';
// python3-venv: Debian's python3 has no ensurepip (so no venv) without it.
const BUILD_PACKAGES = [
  'build-essential', 'pkg-config', 'python3-venv', 'libssl-dev', 'libuv1-dev', 'libsrtp2-dev',
  'libusrsctp-dev', 'libabsl-dev', 'libflatbuffers-dev', 'flatbuffers-compiler',
];
// Each must match exactly once, so that a mediasoup upgrade that moves the code is noticed.
const PATCHES = [
  {
    // The BIO callback must pass OpenSSL's result through on every BIO_CB_RETURN call (the
    // operation arrives OR-ed with it). As written it answers every BIO_ctrl query "yes",
    // and with an OpenSSL built with kernel TLS (Debian's) the worker segfaults in the
    // first DTLS handshake.
    file: 'src/RTC/DtlsTransport.cpp',
    from: '(operationType == BIO_CB_RETURN)',
    to: '(operationType & BIO_CB_RETURN)',
  },
];

const defaultLog = (msg) => console.log(`[omnilive mediasoup] ${msg}`);
const seconds = (t0) => `${((Date.now() - t0) / 1000).toFixed(1)} s`;

function cacheRoot() {
  if (process.env.OMNILIVE_CACHE) return path.resolve(process.env.OMNILIVE_CACHE);
  return path.join(process.env.XDG_CACHE_HOME || path.join(os.homedir(), '.cache'), 'omnilive');
}

/** mediasoup's package directory, found the way its Worker.js finds itself. */
function mediasoupPackage() {
  const main = createRequire(import.meta.url).resolve('mediasoup'); // <dir>/node/lib/index.js
  const dir = path.resolve(path.dirname(main), '..', '..');
  return { dir, pkg: JSON.parse(fs.readFileSync(path.join(dir, 'package.json'), 'utf8')) };
}

/**
 * The worker's own sanity check (mediasoup's postinstall does the same): started without
 * its environment it exits with 41, which proves it loads (libraries, libc) on this host.
 */
function runsHere(bin) {
  return fs.existsSync(bin) && run(bin, [], { env: {}, timeout: 10_000 }).status === 41;
}

/** Copies (never links: the cache may be wiped) through a temp file, so readers never see half a binary. */
function installBinary(from, to) {
  fs.mkdirSync(path.dirname(to), { recursive: true });
  const tmp = `${to}.${process.pid}.tmp`;
  fs.copyFileSync(from, tmp);
  fs.chmodSync(tmp, 0o755);
  fs.renameSync(tmp, to);
}

const quote = (s) => (/^[\w@%+=:,./-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`);

/**
 * Runs one build command, non-interactively. Its output streams when `stream`; on failure
 * the error carries the exact command (runnable as printed) and the tail of its output.
 */
function exec(cmd, args, { cwd, binDir, stream = false } = {}) {
  const env = binDir ? { ...process.env, PATH: `${binDir}${path.delimiter}${process.env.PATH}` } : process.env;
  const shown = [
    cwd ? `cd ${quote(cwd)} && ` : '',
    binDir ? `PATH=${quote(binDir)}:"$PATH" ` : '',
    [cmd, ...args].map(quote).join(' '),
  ].join('');
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let tail = '';
    const keep = (chunk) => {
      if (stream) process.stdout.write(chunk);
      tail = (tail + chunk).slice(-16_000);
    };
    child.stdout.on('data', keep);
    child.stderr.on('data', keep);
    child.on('error', (error) => reject(new Error(`could not run: ${shown}\n  ${error.message}`)));
    child.on('close', (code, signal) => {
      if (code === 0) return resolve();
      const lines = tail.trimEnd().split('\n').slice(-40).join('\n');
      reject(new Error(`command failed (exit ${code ?? signal}):\n  ${shown}\n--- last lines of its output ---\n${lines}`));
    });
  });
}

/** mediasoup's prebuilt worker for this platform (the URL its npm-scripts.mjs uses), or null. */
async function downloadPrebuilt(pkg, dir, log) {
  const base = process.env.MEDIASOUP_WORKER_PREBUILT_DOWNLOAD_BASE_URL
    || `${pkg.repository.url.replace(/^git\+/, '').replace(/\.git$/, '')}/releases/download`;
  const kernel = os.platform() === 'linux' ? `-kernel${os.release().split('.')[0]}` : '';
  const url = `${base}/${pkg.version}/mediasoup-worker-${pkg.version}-${os.platform()}-${os.arch()}${kernel}.tgz`;
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(15_000) });
    if (!res.ok) throw new Error(`HTTP ${res.status}`);
    const tgz = Buffer.from(await res.arrayBuffer());
    // The tarball holds just the binary.
    fs.rmSync(dir, { recursive: true, force: true });
    fs.mkdirSync(dir, { recursive: true });
    const untar = run('tar', ['-xzf', '-', '-C', dir], { input: tgz, stdio: ['pipe', 'pipe', 'pipe'] });
    const bin = path.join(dir, 'mediasoup-worker');
    if (untar.status !== 0 || !runsHere(bin)) throw new Error('the downloaded worker does not run on this host');
    log(`downloaded mediasoup's prebuilt worker from ${url}`);
    return bin;
  } catch (error) {
    log(`no prebuilt worker (${url}: ${error.cause?.message ?? error.message}); building from source`);
    return null;
  }
}

/** meson and ninja, at the versions we tested, in a venv of their own (reused across versions). */
async function mesonVenv(cacheBase, log) {
  const venv = path.join(cacheBase, `venv-meson-${MESON_VERSION}-ninja-${NINJA_VERSION}`);
  const bin = path.join(venv, 'bin');
  if (fs.existsSync(path.join(bin, 'meson')) && fs.existsSync(path.join(bin, 'ninja'))) return bin;
  log(`installing meson ${MESON_VERSION} and ninja ${NINJA_VERSION} with pip into ${venv}`);
  fs.rmSync(venv, { recursive: true, force: true });
  try {
    await exec(process.env.PYTHON || 'python3', ['-m', 'venv', venv]);
    await exec(path.join(bin, 'python'), ['-m', 'pip', 'install', '--disable-pip-version-check', `meson==${MESON_VERSION}`, `ninja==${NINJA_VERSION}`]);
  } catch (error) {
    fs.rmSync(venv, { recursive: true, force: true }); // no half-made venv for the next run
    throw error;
  }
  return bin;
}

/** mediasoup's worker/ copied to `dir`, with the stand-in subprojects and PATCHES applied. */
function prepareSources(mediasoupDir, dir) {
  fs.rmSync(dir, { recursive: true, force: true });
  const src = path.join(mediasoupDir, 'worker');
  fs.cpSync(src, dir, { recursive: true, filter: (p) => !/^(out|prebuild|pip_invoke)$/.test(path.relative(src, p)) });
  const subprojects = path.join(dir, 'subprojects');
  for (const wrap of fs.readdirSync(subprojects).filter((f) => f.endsWith('.wrap'))) {
    const name = wrap.slice(0, -'.wrap'.length);
    const standin = path.join(STANDINS_DIR, name);
    if (!fs.existsSync(path.join(standin, 'meson.build'))) {
      throw new Error(`mediasoup's worker has a subproject '${name}' with no stand-in in ${STANDINS_DIR}: add one`);
    }
    fs.rmSync(path.join(subprojects, wrap));
    fs.cpSync(standin, path.join(subprojects, name), { recursive: true });
  }
  for (const { file, from, to } of PATCHES) {
    const target = path.join(dir, file);
    const text = fs.readFileSync(target, 'utf8');
    const count = text.split(from).length - 1;
    if (count !== 1) {
      throw new Error(`patch no longer applies: expected '${from}' once in worker/${file}, found it ${count} times (new mediasoup version? check the fix is still needed)`);
    }
    fs.writeFileSync(target, text.replace(from, to));
  }
}

/** Builds the worker from source in `buildRoot`; returns the path of the binary. */
async function buildFromSource(mediasoupDir, cacheBase, buildRoot, log) {
  const t0 = Date.now();
  log('[1/6] Debian packages for the build');
  ensureDebianPackages(BUILD_PACKAGES, log);
  log('[2/6] meson and ninja');
  const binDir = await mesonVenv(cacheBase, log);
  const sources = path.join(buildRoot, 'worker');
  const out = path.join(buildRoot, 'out');
  log(`[3/6] sources: mediasoup's worker/ with Debian stand-ins for its subprojects, in ${sources}`);
  prepareSources(mediasoupDir, sources);
  log('[4/6] meson setup');
  // The options mediasoup's own tasks.py uses for a Release build; nodownload makes any
  // subproject we did not replace fail here instead of reaching for the network.
  const extra = (process.env.MESON_ARGS ?? '').split(/\s+/).filter(Boolean);
  await exec('meson', [
    'setup', '--buildtype', 'release', '-Db_ndebug=true', '--wrap-mode=nodownload',
    '-Dms_disable_liburing=true', ...extra, out,
  ], { cwd: sources, binDir });
  log('[5/6] flatbuffers headers (flatc)');
  // Not a declared dependency of the worker's sources: it has to come first.
  await exec('meson', ['compile', '-C', out, 'flatbuffers-generator'], { binDir });
  log(`[6/6] compiling mediasoup-worker (takes a few minutes; ${os.availableParallelism()} jobs)`);
  await exec('meson', ['compile', '-C', out, '-j', String(os.availableParallelism()), 'mediasoup-worker'], { binDir, stream: true });
  const bin = path.join(out, 'mediasoup-worker');
  if (!runsHere(bin)) throw new Error(`the worker built at ${bin} does not run (expected exit code 41 when started bare)`);
  log(`built mediasoup-worker in ${seconds(t0)}`);
  return bin;
}

/**
 * Makes sure mediasoup has a worker binary that runs here. Returns its path, or null when
 * skipped (OMNILIVE_SKIP_MEDIASOUP=1). Throws with a readable message on failure.
 */
export async function ensureMediasoupWorker(log = defaultLog) {
  if (process.env.OMNILIVE_SKIP_MEDIASOUP === '1') {
    log('OMNILIVE_SKIP_MEDIASOUP=1: no mediasoup worker; WebRTC will be unavailable (the WebSocket path still works)');
    return null;
  }
  const fromEnv = process.env.MEDIASOUP_WORKER_BIN;
  if (fromEnv) {
    try {
      fs.accessSync(fromEnv, fs.constants.X_OK);
      log(`MEDIASOUP_WORKER_BIN=${fromEnv}: using it`);
      return fromEnv;
    } catch {
      log(`MEDIASOUP_WORKER_BIN=${fromEnv} is not an executable file; setting up the default worker`);
    }
  }

  const { dir: mediasoupDir, pkg } = mediasoupPackage();
  const target = path.join(mediasoupDir, 'worker', 'out', 'Release', 'mediasoup-worker');
  const cacheBase = path.join(cacheRoot(), 'mediasoup-worker');
  const cacheDir = path.join(cacheBase, pkg.version);
  const cached = path.join(cacheDir, 'mediasoup-worker');

  if (runsHere(cached)) {
    installBinary(cached, target);
    log(`mediasoup ${pkg.version} worker from the cache (${cached})`);
    return target;
  }
  if (fs.existsSync(cached)) log(`the cached worker ${cached} does not run here (missing libraries?); replacing it`);

  const t0 = Date.now();
  const buildRoot = path.join(cacheDir, 'build');
  let bin = await downloadPrebuilt(pkg, path.join(cacheDir, 'prebuilt'), log);
  bin ??= await buildFromSource(mediasoupDir, cacheBase, buildRoot, log);
  installBinary(bin, cached);
  installBinary(bin, target);
  // The build tree is ~100 MB of objects that no later run needs.
  fs.rmSync(buildRoot, { recursive: true, force: true });
  fs.rmSync(path.join(cacheDir, 'prebuilt'), { recursive: true, force: true });
  log(`mediasoup ${pkg.version} worker in place (${seconds(t0)}): ${target}, cached in ${cached}`);
  return target;
}

if (process.argv[1] && fs.existsSync(process.argv[1]) && fs.realpathSync(process.argv[1]) === fileURLToPath(import.meta.url)) {
  try {
    await ensureMediasoupWorker();
  } catch (error) {
    console.error(`[omnilive mediasoup] error: ${error.message}`);
    process.exit(1);
  }
}

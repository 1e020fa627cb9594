#!/usr/bin/env node
// `npm install` hook: makes sure the Debian packages the addon needs are present, then
// builds native/build/Release/omnilive_native.node with node-gyp. Non-interactive.
// OMNILIVE_SKIP_NATIVE=1 skips the build (the package check still runs). Then it puts the
// mediasoup worker binary in place (native/mediasoup-worker.mjs; OMNILIVE_SKIP_MEDIASOUP=1
// skips that).
//
// CUDA: when nvcc is found (NVCC, PATH, CUDA_HOME/CUDA_PATH or /usr/local/cuda), the
// kernels in src/cuda/*.cu are compiled into build/cuda/libomnilive_cuda.a and linked
// with the static CUDA runtime (-DOMNILIVE_CUDA); no GPU is needed to build. Without nvcc,
// or if nvcc fails, the addon is built CPU-only. OMNILIVE_CUDA=0 forces CPU-only;
// OMNILIVE_CUDA_ARCHS="75 86 ..." overrides the GPU architectures.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { ensureDebianPackages, hasCommand, run } from './debian.mjs';
import { ensureMediasoupWorker } from './mediasoup-worker.mjs';

// fonts-dejavu-core: a font for ffmpeg's drawtext in the generated test videos.
const DEBIAN_PACKAGES = ['libpocketsphinx-dev', 'libsphinxbase-dev', 'pocketsphinx-en-us', 'pkg-config', 'fonts-dejavu-core'];
const NATIVE_DIR = path.dirname(fileURLToPath(import.meta.url));

const log = (msg) => console.log(`[omnilive native] ${msg}`);

function fail(msg) {
  console.error(`[omnilive native] error: ${msg}`);
  process.exit(1);
}

function findNodeGyp() {
  const candidates = [
    process.env.npm_config_node_gyp, // set by npm for lifecycle scripts
    path.join(path.dirname(process.execPath), '..', 'lib', 'node_modules', 'npm', 'node_modules', 'node-gyp', 'bin', 'node-gyp.js'),
  ];
  return candidates.find((p) => p && fs.existsSync(p));
}

function findNvcc() {
  const candidates = [
    process.env.NVCC,
    run('sh', ['-c', 'command -v nvcc']).stdout?.trim(),
    ...[process.env.CUDA_HOME, process.env.CUDA_PATH, '/usr/local/cuda'].filter(Boolean).map((dir) => path.join(dir, 'bin', 'nvcc')),
  ];
  return candidates.find((p) => p && fs.existsSync(p));
}

/** Directory of libcudart_static.a. `nvcc` may be a wrapper script: nvcc --dryrun prints its real TOP. */
function cudartDir(nvcc) {
  const dry = run(nvcc, ['--dryrun', '-c', '-x', 'cu', '/dev/null', '-o', '/dev/null']);
  const top = /^#\$ TOP=(.*)$/m.exec(`${dry.stdout}${dry.stderr}`)?.[1]?.trim();
  const roots = [top, path.dirname(path.dirname(fs.realpathSync(nvcc))), '/usr/local/cuda'].filter(Boolean);
  for (const root of roots) {
    for (const sub of [path.join('targets', `${os.arch() === 'arm64' ? 'sbsa' : 'x86_64'}-linux`, 'lib'), 'lib64', 'lib']) {
      const dir = path.resolve(root, sub);
      if (fs.existsSync(path.join(dir, 'libcudart_static.a'))) return dir;
    }
  }
  return undefined;
}

/**
 * Compiles src/cuda/*.cu into build/cuda/libomnilive_cuda.a. Returns the gyp environment
 * ({OMNILIVE_CUDA_LIB, OMNILIVE_CUDART_DIR}) or {} for a CPU-only build.
 */
function buildCuda() {
  if (process.env.OMNILIVE_CUDA === '0') {
    log('OMNILIVE_CUDA=0: building without CUDA');
    return {};
  }
  const nvcc = findNvcc();
  if (!nvcc) {
    log('nvcc not found: building without CUDA (CPU kernels only)');
    return {};
  }
  const libDir = cudartDir(nvcc);
  if (!libDir) {
    log(`${nvcc} found but not libcudart_static.a next to it: building without CUDA`);
    return {};
  }
  const srcDir = path.join(NATIVE_DIR, 'src', 'cuda');
  const outDir = path.join(NATIVE_DIR, 'build', 'cuda');
  fs.mkdirSync(outDir, { recursive: true });
  // SASS for Turing (the oldest CUDA 13 supports) to Hopper, and PTX for newer GPUs to JIT;
  // older toolkits get the subset they know.
  let archs = (process.env.OMNILIVE_CUDA_ARCHS ?? '75 80 86 89 90').split(/[\s,]+/).filter(Boolean);
  const known = run(nvcc, ['--list-gpu-arch']);
  if (!process.env.OMNILIVE_CUDA_ARCHS && known.status === 0) {
    const supported = new Set(known.stdout.match(/\d+/g) ?? []);
    archs = archs.filter((a) => supported.has(a));
    if (archs.length === 0) {
      log(`${nvcc} supports none of sm_75..sm_90: building without CUDA`);
      return {};
    }
  }
  const gencode = archs.flatMap((a) => ['-gencode', `arch=compute_${a},code=sm_${a}`]);
  const last = archs[archs.length - 1];
  gencode.push('-gencode', `arch=compute_${last},code=compute_${last}`);
  const t0 = Date.now();
  const objects = [];
  for (const file of fs.readdirSync(srcDir).filter((f) => f.endsWith('.cu')).sort()) {
    const obj = path.join(outDir, file.replace(/\.cu$/, '.o'));
    const args = [
      '-c', path.join(srcDir, file), '-o', obj,
      '-std=c++17', '-O3', '-DOMNILIVE_CUDA', '--default-stream', 'per-thread',
      '--fmad=false', // the same float results as the CPU kernels
      '-Xcompiler', '-fPIC,-ffp-contract=off', '--threads', '0', ...gencode,
    ];
    const r = run(nvcc, args);
    if (r.status !== 0) {
      log(`nvcc failed on ${file} (exit ${r.status ?? r.signal}); building without CUDA:\n${r.stderr || r.stdout}`);
      return {};
    }
    objects.push(obj);
  }
  const lib = path.join(outDir, 'libomnilive_cuda.a');
  fs.rmSync(lib, { force: true });
  const ar = run('ar', ['rcs', lib, ...objects]);
  if (ar.status !== 0) {
    log(`ar failed (${ar.stderr.trim()}); building without CUDA`);
    return {};
  }
  log(`CUDA kernels compiled with ${nvcc} for sm_${archs.join(', sm_')} in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  return { OMNILIVE_CUDA_LIB: lib, OMNILIVE_CUDART_DIR: libDir };
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

  const common = ['--loglevel=warn'];
  // npm passes its `nodedir` config as npm_config_nodedir. Run standalone, point node-gyp
  // at this node's own headers when present, instead of letting it download them.
  const headers = path.join(path.dirname(process.execPath), '..', 'include', 'node');
  if (!process.env.npm_config_nodedir && fs.existsSync(path.join(headers, 'node_api.h'))) {
    common.push(`--nodedir=${path.resolve(headers, '..', '..')}`);
  }
  /** Runs one node-gyp command; returns whether it succeeded (output shown on failure). */
  const gyp = (command, extra = [], env = {}) => {
    const r = run(process.execPath, [nodeGyp, command, ...common, ...extra], {
      cwd: NATIVE_DIR,
      stdio: ['ignore', 'pipe', 'inherit'],
      env: { ...process.env, OMNILIVE_CUDA_LIB: '', OMNILIVE_CUDART_DIR: '', ...env },
    });
    if (r.status !== 0) process.stdout.write(r.stdout ?? '');
    return r.status === 0;
  };
  const mustGyp = (command, extra, env) => {
    if (!gyp(command, extra, env)) fail(`node-gyp ${command} failed; see the output above`);
  };
  log('building omnilive_native (node-gyp clean, configure, build)...');
  const t0 = Date.now();
  // Like `node-gyp rebuild`, with the CUDA library compiled between clean and configure.
  mustGyp('clean');
  let cudaEnv = buildCuda();
  mustGyp('configure', [], cudaEnv);
  if (!gyp('build', ['--jobs=max'], cudaEnv)) {
    if (!cudaEnv.OMNILIVE_CUDA_LIB) fail('node-gyp build failed; see the output above');
    // The CUDA part is optional: never let it cost the whole addon.
    log('build with CUDA failed (see above); building without CUDA');
    cudaEnv = {};
    mustGyp('configure', [], cudaEnv);
    mustGyp('build', ['--jobs=max'], cudaEnv);
  }
  const flavour = cudaEnv.OMNILIVE_CUDA_LIB ? 'with CUDA' : 'CPU-only';
  log(`built native/build/Release/omnilive_native.node (${flavour}) in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
}

try {
  ensureDebianPackages(DEBIAN_PACKAGES, log);
} catch (error) {
  fail(error.message);
}
if (process.env.OMNILIVE_SKIP_NATIVE === '1') log('OMNILIVE_SKIP_NATIVE=1: skipping the addon build');
else buildAddon();

// mediasoup's own postinstall is disabled (package.json allowScripts): it downloads from GitHub.
try {
  await ensureMediasoupWorker();
} catch (error) {
  fail(`mediasoup worker: ${error.message}`);
}

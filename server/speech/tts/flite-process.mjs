// Runs the Flite WASI build in a child process: synthesis is synchronous WebAssembly and would
// otherwise stall VAD (and so barge-in) for tens of milliseconds per sentence. A process, not a
// worker thread: Node 20 shares its module-hooks thread (tsx) with workers, and that crashed.
import fs from 'node:fs';
import path from 'node:path';
import v8 from 'node:v8';
import vm from 'node:vm';

// node:wasi warns that it is experimental on first use; that is known and not the user's concern.
const emitWarning = process.emitWarning;
process.emitWarning = (warning, ...rest) => {
  if (!String(warning).includes('WASI')) emitWarning.call(process, warning, ...rest);
};
const { WASI } = await import('node:wasi');

// Node 20 segfaults in this process after some tens of sentences when the collector frees old
// WASI instances on its own schedule (reproduced: a loop of Flite runs crashes within 50; with a
// collection after each run, 600 run clean). So each sentence ends with one, while nothing runs.
v8.setFlagsFromString('--expose-gc');
const collectGarbage = vm.runInNewContext('gc');

const [wasmPath, dir] = process.argv.slice(2);
const module = await WebAssembly.compile(fs.readFileSync(wasmPath));

const reply = (message) => process.connected && process.send(message);

/** WAVs nobody read (their sentence was cancelled while it was made) go after a minute. */
function sweep() {
  const before = Date.now() - 60_000;
  for (const name of fs.readdirSync(dir)) {
    const file = path.join(dir, name);
    try {
      if (name.startsWith('tts-') && fs.statSync(file).mtimeMs < before) fs.rmSync(file, { force: true });
    } catch {}
  }
}

// One sentence at a time, each followed by a collection (above).
let queue = Promise.resolve();
process.on('message', (message) => {
  if (message.close) return process.disconnect();
  queue = queue.then(() => synthesize(message)).finally(() => collectGarbage());
});

async function synthesize({ id, text, voice }) {
  if (id % 50 === 0) sweep();
  const file = `tts-${id}.wav`;
  try {
    const wasi = new WASI({
      version: 'preview1',
      args: ['flite', '-voice', voice, '-t', text, '-o', `/out/${file}`],
      preopens: { '/out': dir },
      returnOnExit: true,
    });
    const instance = await WebAssembly.instantiate(module, { wasi_snapshot_preview1: wasi.wasiImport });
    const rc = wasi.start(instance);
    if (rc !== 0) throw new Error(`flite exited with ${rc}`);
    // The parent reads the file and removes it: a ~100 KB WAV over the IPC channel, with several
    // sessions speaking at once, was seen to close the channel under load.
    reply({ id, file: path.join(dir, file) });
  } catch (error) {
    fs.rmSync(path.join(dir, file), { force: true });
    reply({ id, error: String(error?.message ?? error) });
  }
}
// The parent going away ends this process too.
process.on('disconnect', () => process.exit(0));
reply({ ready: true });

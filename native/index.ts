/**
 * Typed face of the omnilive_native C++ addon (native/src). The addon trusts its
 * arguments; everything is validated here first.
 */
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { types } from 'node:util';

const ADDON_PATH = path.join(path.dirname(fileURLToPath(import.meta.url)), 'build', 'Release', 'omnilive_native.node');

export interface PocketsphinxOptions {
  /** Acoustic model directory (contains mdef, means, ...). */
  hmm: string;
  /** Pronunciation dictionary file. */
  dict: string;
  /** N-gram language model (.lm or .lm.bin). */
  lm: string;
  /** Sample rate of the audio fed to process(); must suit the model. Default 16000. */
  sampleRate?: number;
}

export interface ProcessResult {
  /** Partial hypothesis so far ('' when none). */
  hypothesis: string;
  /** pocketsphinx's own voice activity flag for the audio seen so far. */
  inSpeech: boolean;
}

export interface EndResult {
  hypothesis: string;
}

interface NativeDecoder {
  readonly closed: boolean;
  start(): Promise<void>;
  process(pcm: Int16Array): Promise<ProcessResult>;
  end(): Promise<EndResult>;
  close(): void;
}

interface NativeAddon {
  PocketsphinxDecoder: {
    createDecoder(options: Required<PocketsphinxOptions>): Promise<NativeDecoder>;
  };
}

let addon: NativeAddon | undefined;

/** Loads the addon once; throws a clear error when it was not built. */
export function loadNativeAddon(): NativeAddon {
  if (addon) return addon;
  if (!fs.existsSync(ADDON_PATH)) {
    throw new Error(`native addon not built: run npm install (missing ${ADDON_PATH})`);
  }
  addon = createRequire(import.meta.url)(ADDON_PATH) as NativeAddon;
  return addon;
}

/** Paths of Debian's pocketsphinx-en-us package. */
export function pocketsphinxDefaults(): Required<PocketsphinxOptions> {
  const dir = '/usr/share/pocketsphinx/model/en-us';
  return {
    hmm: path.join(dir, 'en-us'),
    dict: path.join(dir, 'cmudict-en-us.dict'),
    lm: path.join(dir, 'en-us.lm.bin'),
    sampleRate: 16000,
  };
}

function describe(value: unknown): string {
  if (value === null || value === undefined) return String(value);
  if (typeof value === 'string') return `string ${JSON.stringify(value.length > 40 ? value.slice(0, 40) + '…' : value)}`;
  if (typeof value !== 'object' && typeof value !== 'function') return `${typeof value} ${String(value)}`;
  return Array.isArray(value) ? 'array' : (value.constructor?.name ?? 'object');
}

function invalidParameter(name: string, expected: string, actual: unknown): TypeError {
  return new TypeError(`invalid parameter: expected ${expected} for ${name}, got ${describe(actual)}`);
}

function checkPath(name: string, value: unknown, kind: 'file' | 'directory'): string {
  if (typeof value !== 'string' || value === '') throw invalidParameter(name, `${kind} path`, value);
  // Some pocketsphinx load failures end in exit(); never hand it a path that is not there.
  const stat = fs.statSync(value, { throwIfNoEntry: false });
  if (!stat || (kind === 'file' ? !stat.isFile() : !stat.isDirectory())) {
    throw new Error(`pocketsphinx: ${name} ${kind} not found: ${value}`);
  }
  return value;
}

/**
 * One pocketsphinx decoder, decoding one utterance at a time: start() → process()* → end().
 * All work runs off the main thread. Calls must not overlap (await each one); an
 * overlapping call rejects. close() may be called at any time, even during a call.
 */
export class PocketsphinxDecoder {
  static async create(options: PocketsphinxOptions): Promise<PocketsphinxDecoder> {
    if (typeof options !== 'object' || options === null) throw invalidParameter('options', 'object', options);
    const sampleRate = options.sampleRate ?? 16000;
    if (!Number.isInteger(sampleRate) || sampleRate < 8000 || sampleRate > 48000) {
      throw invalidParameter('options.sampleRate', 'integer between 8000 and 48000', sampleRate);
    }
    const hmm = checkPath('options.hmm', options.hmm, 'directory');
    checkPath('options.hmm', path.join(hmm, 'mdef'), 'file');
    const resolved = {
      hmm,
      dict: checkPath('options.dict', options.dict, 'file'),
      lm: checkPath('options.lm', options.lm, 'file'),
      sampleRate,
    };
    const native = await loadNativeAddon().PocketsphinxDecoder.createDecoder(resolved);
    return new PocketsphinxDecoder(native, resolved);
  }

  private constructor(
    readonly native: NativeDecoder,
    readonly options: Required<PocketsphinxOptions>,
  ) {}

  get closed(): boolean {
    return this.native.closed;
  }

  /** Begins an utterance (ps_start_utt). Rejects if one is already running. */
  async start(): Promise<void> {
    return this.native.start();
  }

  /** Feeds audio (mono pcm16 at options.sampleRate); the samples are copied. */
  async process(pcm: Int16Array): Promise<ProcessResult> {
    if (!types.isInt16Array(pcm)) throw invalidParameter('pcm', 'Int16Array', pcm);
    return this.native.process(pcm);
  }

  /** Ends the utterance and returns the final hypothesis. */
  async end(): Promise<EndResult> {
    return this.native.end();
  }

  /** Idempotent. A running call finishes first; the decoder is freed after it. */
  close(): void {
    this.native.close();
  }
}

export function createDecoder(options: PocketsphinxOptions): Promise<PocketsphinxDecoder> {
  return PocketsphinxDecoder.create(options);
}

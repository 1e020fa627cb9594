/**
 * The full-quality sound-event engine: an AudioSet audio-tagging model (YAMNet, PANNs, CED
 * and the like, exported to ONNX) run by onnxruntime on the CPU over windows of the session's
 * audio. Loaded from the models directory.
 *
 * Model contract — `<models>/sound-events/*.onnx` (the first file by name is used):
 *
 * - Exactly one input, a float32 tensor `[1, samples]` or `[samples]` (any name): 16 kHz mono
 *   audio scaled to [-1, 1] (pcm16 / 32768). `samples` is the input's last dimension when the
 *   model fixes it, else `windowMs` × 16 (default 960 ms, YAMNet's patch). Windows start every
 *   `hopMs` (default 480 ms); the last, shorter one at flush is zero-padded at its end.
 * - Log-mel inputs (`[1, frames, mels]`, PANNs' and CED's usual exports take raw audio, some
 *   AST exports do not) are refused: export the feature extraction into the graph.
 * - One output of per-class scores, `[1, C]`, `[C]` or `[frames, C]` (the maximum over frames
 *   is taken). When the model has several outputs (YAMNet's scores, embeddings and spectrogram)
 *   the one whose last dimension is C is used. Scores outside [0, 1] mean logits: the whole
 *   output then goes through a sigmoid.
 * - A labels file beside it: `<name>.labels.txt` for `<name>.onnx`, else `labels.txt`, else
 *   AudioSet's `class_labels_indices.csv` (or YAMNet's `yamnet_class_map.csv`): one display name
 *   per class in class order, or CSV rows `index,mid,display_name`. It must name C classes.
 *
 * AudioSet classes are reported under OmniLive's labels where they belong (audioset-labels.ts:
 * "Smoke detector, smoke alarm", "Beep, bleep", "Buzzer" … → alarm; the sirens → siren; "Knock",
 * "Bang", "Door" → knock; "Music", instruments and genres → music; "Speech" and its kinds →
 * speech), every other class by its display name in lower case, "Silence" never. A label heard
 * in consecutive windows is one event, reported when it stops or in pieces of at most
 * `maxEventMs`; its times are those of the windows, so they are only as sharp as `hopMs`.
 *
 * onnxruntime-node's `run` blocks its thread, so the session lives in a worker thread
 * (../onnx-worker.ts) and push() only copies audio and posts windows. A stream can be told to
 * skip windows when the model falls behind (`maxPendingWindows`); by default it never does.
 */
import fs from 'node:fs';
import path from 'node:path';
import { InvalidStateError, UnsupportedError } from '../../errors.ts';
import { defaultModelsDir, findFirstModel } from '../embedding/index.ts';
import { OnnxWorker, type ValueInfo } from '../onnx-worker.ts';
import { findLabelsFile, readLabels, soundLabelOf } from './audioset-labels.ts';
import { EngineStreams } from './engine-streams.ts';
import { AudioTaggerStream } from './tagger-stream.ts';
import { SOUND_LABELS, type SoundEventEngine, type SoundEventSink } from './types.ts';

/** `<modelsDir>/sound-events/*.onnx` */
export const SOUND_EVENTS_DIR = 'sound-events';

export interface AudioTaggerOptions {
  /** Audio per inference, ms, when the model does not fix its input length. @defaultValue 960 */
  windowMs: number;
  /** Step from one window to the next, ms. @defaultValue 480 */
  hopMs: number;
  /** Class score at or above which its label is heard. @defaultValue 0.3 */
  threshold: number;
  /** Longest event: a sound that lasts is reported in pieces this long. @defaultValue 2000 */
  maxEventMs: number;
  /** onnxruntime threads for one inference. @defaultValue 1: it runs beside live audio work */
  threads: number;
  /**
   * Windows a stream may have waiting for the model; beyond that, windows are skipped. Set it
   * for live sessions on a machine too slow for the model. @defaultValue Infinity: every window
   * is analysed (ingest at full speed must not lose any)
   */
  maxPendingWindows: number;
}

export const defaultAudioTaggerOptions = {
  windowMs: 960,
  hopMs: 480,
  threshold: 0.3,
  maxEventMs: 2000,
  threads: 1,
  maxPendingWindows: Infinity,
} as const satisfies AudioTaggerOptions;

const SAMPLE_RATE = 16000;

/** The first `*.onnx` file in `<modelsDir>/sound-events`, by name; undefined when there is none. */
export function findSoundModel(modelsDir = defaultModelsDir()): string | undefined {
  return findFirstModel(modelsDir, SOUND_EVENTS_DIR);
}

/** Loads an audio tagger (see the contract above); fails early, naming the file, when the model or its labels do not fit it. */
export async function loadAudioTagger(file: string, options: Partial<AudioTaggerOptions> = {}): Promise<AudioTaggerEngine> {
  if (typeof file !== 'string' || file === '') throw new TypeError('file must be a non-empty path to an .onnx model');
  const resolved = { ...defaultAudioTaggerOptions, ...options };
  for (const [name, value] of Object.entries(resolved)) {
    const integer = name === 'threads' || name === 'maxPendingWindows';
    const unbounded = name === 'maxPendingWindows' && value === Infinity;
    const ok = unbounded || (typeof value === 'number' && Number.isFinite(value) && value > 0 && (!integer || Number.isInteger(value)) && (name !== 'threshold' || value <= 1));
    if (!ok) throw new TypeError(`sound model option ${name} must be a ${integer ? 'positive integer' : name === 'threshold' ? 'number in (0, 1]' : 'positive number'}, got ${String(value)}`);
  }
  if (!fs.existsSync(file)) throw new UnsupportedError(`sound model ${file} does not exist`);
  const labelsFile = findLabelsFile(file);
  const classNames = readLabels(labelsFile);

  const host = await OnnxWorker.start(file, resolved.threads, 'sound model');
  try {
    const signature = checkSignature(file, host.inputs, host.outputs, classNames.length, Math.round((resolved.windowMs * SAMPLE_RATE) / 1000));
    const engine = new AudioTaggerEngine(file, host, signature, classNames, labelsFile, resolved);
    await engine.classify(new Float32Array(signature.samples)); // a model whose output does not fit fails here, not mid-session
    return engine;
  } catch (error) {
    await host.close();
    throw error;
  }
}

export interface TaggerSignature {
  input: string;
  /** 1 for `[samples]`, 2 for `[1, samples]`. */
  rank: 1 | 2;
  samples: number;
  output: string;
}

/** The input and output to use and the window length, or an error saying what does not fit. */
function checkSignature(file: string, inputs: ValueInfo[], outputs: ValueInfo[], classes: number, windowSamples: number): TaggerSignature {
  const list = (values: ValueInfo[]) => values.map((v) => v.name).join(', ');
  if (inputs.length !== 1) throw new UnsupportedError(`sound model ${file} has ${inputs.length} inputs (${list(inputs)}); it must take exactly one: float32 audio [1, samples] or [samples]`);
  const [input] = inputs as [ValueInfo];
  if (!input.isTensor || input.type !== 'float32') {
    throw new UnsupportedError(`sound model ${file}: input ${input.name} is ${input.isTensor ? input.type : 'not a tensor'}; it must be float32 audio [1, samples] in [-1, 1]`);
  }
  const shape = input.shape ?? [];
  const fixed = (d: number | string | undefined): d is number => typeof d === 'number' && d > 0;
  if (shape.length > 2 || (shape.length === 2 && fixed(shape[0]) && shape[0] !== 1)) {
    const hint = shape.length === 3 ? ' (log-mel features? export the feature extraction into the graph)' : '';
    throw new UnsupportedError(`sound model ${file}: input ${input.name} has shape ${JSON.stringify(shape)}; it must be raw 16 kHz audio [1, samples] or [samples]${hint}`);
  }
  const last = shape.at(-1);
  const samples = fixed(last) ? last : windowSamples; // the model's own window wins

  const fits = (o: ValueInfo) => o.shape?.at(-1) === classes;
  const candidates = outputs.length === 1 ? outputs : outputs.filter(fits);
  if (candidates.length !== 1) {
    throw new UnsupportedError(`sound model ${file} has ${outputs.length} outputs (${list(outputs)}) and ${candidates.length} of them end in ${classes} classes (its labels); it needs exactly one output of class scores [1, ${classes}] or [frames, ${classes}]`);
  }
  const [output] = candidates as [ValueInfo];
  if (!output.isTensor || output.type !== 'float32') throw new UnsupportedError(`sound model ${file}: output ${output.name} is ${output.isTensor ? output.type : 'not a tensor'}; it must be float32 class scores`);
  const classesOut = output.shape?.at(-1);
  if (fixed(classesOut) && classesOut !== classes) throw new UnsupportedError(`sound model ${file}: output ${output.name} scores ${classesOut} classes but its labels file names ${classes}`);
  return { input: input.name, rank: shape.length === 1 ? 1 : 2, samples, output: output.name };
}

export class AudioTaggerEngine implements SoundEventEngine {
  readonly name: string;
  /** OmniLive's labels, then the model's other classes by display name (lower case). */
  readonly labels: readonly string[];
  readonly labelsFile: string;
  readonly options: Readonly<AudioTaggerOptions>;
  readonly #file: string;
  readonly #host: OnnxWorker;
  readonly #signature: TaggerSignature;
  /** Per class: the label it is reported under (undefined: never). */
  readonly #classLabels: (string | undefined)[];
  readonly #streams = new EngineStreams<AudioTaggerStream>();
  #closed = false;

  constructor(file: string, host: OnnxWorker, signature: TaggerSignature, classNames: string[], labelsFile: string, options: AudioTaggerOptions) {
    this.name = `onnx:${path.basename(file)}`;
    this.#file = file;
    this.#host = host;
    this.#signature = signature;
    this.labelsFile = labelsFile;
    this.options = options;
    this.#classLabels = classNames.map(soundLabelOf);
    const others = this.#classLabels.filter((l): l is string => l !== undefined && !(SOUND_LABELS as readonly string[]).includes(l));
    this.labels = [...SOUND_LABELS, ...new Set(others)];
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** Audio per inference, ms. */
  get windowMs(): number {
    return (this.#signature.samples * 1000) / SAMPLE_RATE;
  }

  open(sink: SoundEventSink): AudioTaggerStream {
    if (this.#closed) throw new InvalidStateError(`sound model ${this.name} is closed`);
    const hopSamples = Math.max(1, Math.min(this.#signature.samples, Math.round((this.options.hopMs * SAMPLE_RATE) / 1000)));
    return this.#streams.open(sink, (onClose) => new AudioTaggerStream(this, sink, { windowSamples: this.#signature.samples, hopSamples, ...this.options }, onClose));
  }

  /**
   * Label scores of one window of `samples` samples: per label the highest of its classes'
   * scores (over the output's frames), sigmoid applied when the output holds logits.
   */
  async classify(window: Float32Array<ArrayBuffer>): Promise<Map<string, number>> {
    if (this.#closed) throw new InvalidStateError(`sound model ${this.name} is closed`);
    const { input, rank, samples, output } = this.#signature;
    const { data, dims } = await this.#host.run(input, window, rank === 1 ? [samples] : [1, samples], output);
    const classes = this.#classLabels.length;
    if (dims.at(-1) !== classes || data.length % classes !== 0) {
      throw new UnsupportedError(`sound model ${this.#file}: output ${output} has shape ${JSON.stringify(dims)}; it must be [1, ${classes}] or [frames, ${classes}], one score per class of its labels`);
    }
    let logits = false;
    for (const v of data) {
      if (Number.isNaN(v)) throw new UnsupportedError(`sound model ${this.#file} returned NaN`);
      if (v < 0 || v > 1) logits = true;
    }
    const scores = new Map<string, number>();
    for (let c = 0; c < classes; c++) {
      const label = this.#classLabels[c];
      if (label === undefined) continue;
      let best = -Infinity;
      for (let at = c; at < data.length; at += classes) best = Math.max(best, data[at]!);
      const score = logits ? 1 / (1 + Math.exp(-best)) : best;
      if (score > (scores.get(label) ?? -1)) scores.set(label, score);
    }
    return scores;
  }

  /** Closes every open stream (without reporting what they had open) and the model. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#streams.engineClosed();
    await this.#host.close();
  }
}

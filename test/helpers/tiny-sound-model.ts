import { asFloat, encodeModel, floats, FLOAT, INT, int64, INTS, valueInfo } from './onnx-graph.ts';

/** A class of the stand-in tagger: logit = bias + weight · mean|audio| over its frame. */
export interface TinyClass {
  name: string;
  weight: number;
  bias: number;
}

/**
 * Loud audio (mean |x| ≥ ~0.03) is a smoke alarm, very loud audio (≥ ~0.15) also a dog,
 * quiet audio is silence, speech never.
 */
export const TINY_CLASSES: TinyClass[] = [
  { name: 'Silence', weight: -200, bias: 4 },
  { name: 'Smoke detector, smoke alarm', weight: 200, bias: -6 },
  { name: 'Dog', weight: 60, bias: -9 },
  { name: 'Speech', weight: 0, bias: -6 },
];

export interface TinySoundModel {
  classes?: TinyClass[];
  /** Input dims. @defaultValue [1, 'samples'] */
  dims?: (number | string)[];
  /** Input element type. @defaultValue FLOAT */
  elemType?: number;
  /** Split the (fixed-length) input into this many frames: output [frames, C]. */
  frames?: number;
  /** Emit logits instead of probabilities. */
  logits?: boolean;
  /** Add a second (unused) input. */
  extraInput?: boolean;
  /** Add a second output, an 8-wide "embedding" per frame, declared before the scores. */
  embedding?: boolean;
}

/**
 * A stand-in audio tagger: audio → Reshape [frames, −1] → Abs → ReduceMean → [frames, 1] ·
 * weights [1, C] + biases → (Sigmoid) → scores [frames, C] (frames = 1 unless asked).
 */
export function tinySoundModel({ classes = TINY_CLASSES, dims = [1, 'samples'], elemType = FLOAT, frames = 1, logits = false, extraInput = false, embedding = false }: TinySoundModel = {}): Uint8Array {
  const c = classes.length;
  const nodes = [
    asFloat('audio', 'audio_f', elemType),
    { opType: 'Reshape', input: ['audio_f', 'frame_shape'], output: ['framed'] },
    { opType: 'Abs', input: ['framed'], output: ['magnitude'] },
    { opType: 'ReduceMean', input: ['magnitude'], output: ['level'], attribute: [{ name: 'axes', type: INTS, ints: [-1] }, { name: 'keepdims', type: INT, i: 1 }] },
    { opType: 'MatMul', input: ['level', 'weights'], output: ['weighted'] },
    { opType: 'Add', input: ['weighted', 'biases'], output: logits ? ['scores'] : ['logit'] },
    ...(logits ? [] : [{ opType: 'Sigmoid', input: ['logit'], output: ['scores'] }]),
    ...(embedding ? [{ opType: 'Expand', input: ['level', 'embedding_shape'], output: ['embedding'] }] : []),
  ];
  const scores = valueInfo('scores', FLOAT, [frames, c]);
  return encodeModel({
    name: 'tiny-sound',
    node: nodes,
    initializer: [
      int64('frame_shape', [frames, -1]),
      floats('weights', [1, c], classes.map((k) => k.weight)),
      floats('biases', [1, c], classes.map((k) => k.bias)),
      ...(embedding ? [int64('embedding_shape', [frames, 8])] : []),
    ],
    input: [valueInfo('audio', elemType, dims), ...(extraInput ? [valueInfo('sample_rate', FLOAT, [1])] : [])],
    output: embedding ? [valueInfo('embedding', FLOAT, [frames, 8]), scores] : [scores],
  });
}

/** The labels file for `classes`: plain names, or AudioSet's CSV with quoted names. */
export function tinyLabels(classes: TinyClass[] = TINY_CLASSES, format: 'txt' | 'csv' = 'txt'): string {
  if (format === 'txt') return classes.map((k) => k.name).join('\n') + '\n';
  return ['index,mid,display_name', ...classes.map((k, i) => `${i},/m/tiny${i},"${k.name}"`)].join('\n') + '\n';
}

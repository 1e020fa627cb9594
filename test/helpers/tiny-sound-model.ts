import onnxProto from 'onnx-proto';

const { onnx } = onnxProto;
const { FLOAT, INT64 } = onnx.TensorProto.DataType;
const { INT, INTS } = onnx.AttributeProto.AttributeType;

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

const valueInfo = (name: string, elemType: number, dims: (number | string)[]) => ({
  name,
  type: { tensorType: { elemType, shape: { dim: dims.map((d) => (typeof d === 'number' ? { dimValue: d } : { dimParam: d })) } } },
});
const int64 = (name: string, values: number[]) => ({ name, dataType: INT64, dims: [values.length], int64Data: values });
const floats = (name: string, dims: number[], values: number[]) => ({ name, dataType: FLOAT, dims, floatData: values });

/**
 * A stand-in audio tagger: audio → Reshape [frames, −1] → Abs → ReduceMean → [frames, 1] ·
 * weights [1, C] + biases → (Sigmoid) → scores [frames, C] (frames = 1 unless asked).
 */
export function tinySoundModel({ classes = TINY_CLASSES, dims = [1, 'samples'], elemType = FLOAT, frames = 1, logits = false, extraInput = false, embedding = false }: TinySoundModel = {}): Uint8Array {
  const c = classes.length;
  const nodes = [
    elemType === FLOAT
      ? { opType: 'Identity', input: ['audio'], output: ['audio_f'] }
      : { opType: 'Cast', input: ['audio'], output: ['audio_f'], attribute: [{ name: 'to', type: INT, i: FLOAT }] },
    { opType: 'Reshape', input: ['audio_f', 'frame_shape'], output: ['framed'] },
    { opType: 'Abs', input: ['framed'], output: ['magnitude'] },
    { opType: 'ReduceMean', input: ['magnitude'], output: ['level'], attribute: [{ name: 'axes', type: INTS, ints: [-1] }, { name: 'keepdims', type: INT, i: 1 }] },
    { opType: 'MatMul', input: ['level', 'weights'], output: ['weighted'] },
    { opType: 'Add', input: ['weighted', 'biases'], output: logits ? ['scores'] : ['logit'] },
    ...(logits ? [] : [{ opType: 'Sigmoid', input: ['logit'], output: ['scores'] }]),
    ...(embedding ? [{ opType: 'Expand', input: ['level', 'embedding_shape'], output: ['embedding'] }] : []),
  ];
  const scores = valueInfo('scores', FLOAT, [frames, c]);
  const model = onnx.ModelProto.create({
    irVersion: 8,
    producerName: 'omnilive-test',
    opsetImport: [{ domain: '', version: 13 }],
    graph: {
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
    },
  });
  return onnx.ModelProto.encode(model).finish();
}

/** The labels file for `classes`: plain names, or AudioSet's CSV with quoted names. */
export function tinyLabels(classes: TinyClass[] = TINY_CLASSES, format: 'txt' | 'csv' = 'txt'): string {
  if (format === 'txt') return classes.map((k) => k.name).join('\n') + '\n';
  return ['index,mid,display_name', ...classes.map((k, i) => `${i},/m/tiny${i},"${k.name}"`)].join('\n') + '\n';
}

import { asFloat, encodeModel, floats, FLOAT, INT, int64, INTS, valueInfo } from './onnx-graph.ts';

/** The stand-in model looks at the last and the first 100 ms of its window. */
export const EDGE = 1600;
/** logit = BIAS + TAIL · mean|last 100 ms| + HEAD · mean|first 100 ms|: trailing sound means "still talking". */
export const BIAS = 2;
export const TAIL = -40;
export const HEAD = 10;

const scalar = (name: string, value: number) => floats(name, [], [value]);

export interface TinyModel {
  /** Input dims. @defaultValue [1, 'samples'] */
  dims?: (number | string)[];
  /** Input element type. @defaultValue FLOAT */
  elemType?: number;
  /** Emit the logit itself instead of its sigmoid. */
  logit?: boolean;
  /** Add a second (unused) input. */
  extraInput?: boolean;
  /** Add a second output. */
  extraOutput?: boolean;
  /** Declared and produced output dims (the probability is repeated to fill them). @defaultValue [1, 1] */
  outputDims?: number[];
}

/**
 * A stand-in turn detector: audio [1, samples] → Slice the last and first 100 ms → Abs →
 * ReduceMean → a weighted sum → Sigmoid → probability [1, 1]. Silence at the end scores high,
 * sound at the end low.
 */
export function tinyTurnModel({ dims = [1, 'samples'], elemType = FLOAT, logit = false, extraInput = false, extraOutput = false, outputDims = [1, 1] }: TinyModel = {}): Uint8Array {
  const mean = (from: string, to: string) => [
    { opType: 'Slice', input: ['audio_f', from, to, 'axis1'], output: [`${from}_slice`] },
    { opType: 'Abs', input: [`${from}_slice`], output: [`${from}_abs`] },
    { opType: 'ReduceMean', input: [`${from}_abs`], output: [`${from}_mean`], attribute: [{ name: 'axes', type: INTS, ints: [-1] }, { name: 'keepdims', type: INT, i: 1 }] },
  ];
  const prob = outputDims.reduce((n, d) => n * d, 1) > 1 ? 'prob11' : 'probability';
  const nodes = [
    asFloat('audio', 'audio_f', elemType),
    ...mean('tail_start', 'tail_end'),
    ...mean('head_start', 'head_end'),
    { opType: 'Mul', input: ['tail_start_mean', 'w_tail'], output: ['tail_term'] },
    { opType: 'Mul', input: ['head_start_mean', 'w_head'], output: ['head_term'] },
    { opType: 'Add', input: ['tail_term', 'head_term'], output: ['sum'] },
    { opType: 'Add', input: ['sum', 'bias'], output: logit ? [prob] : ['logit'] },
    ...(logit ? [] : [{ opType: 'Sigmoid', input: ['logit'], output: [prob] }]),
    ...(prob === 'probability' ? [] : [{ opType: 'Expand', input: [prob, 'out_shape'], output: ['probability'] }]),
    ...(extraOutput ? [{ opType: 'Identity', input: ['tail_start_mean'], output: ['level'] }] : []),
  ];
  return encodeModel({
    name: 'tiny-turn',
    node: nodes,
    initializer: [
      int64('tail_start', [-EDGE]),
      int64('tail_end', [2 ** 31 - 1]),
      int64('head_start', [0]),
      int64('head_end', [EDGE]),
      int64('axis1', [1]),
      ...(prob === 'probability' ? [] : [int64('out_shape', outputDims)]),
      scalar('w_tail', TAIL),
      scalar('w_head', HEAD),
      scalar('bias', BIAS),
    ],
    input: [valueInfo('audio', elemType, dims), ...(extraInput ? [valueInfo('speaker', FLOAT, [1, 4])] : [])],
    output: [valueInfo('probability', FLOAT, outputDims), ...(extraOutput ? [valueInfo('level', FLOAT, [1, 1])] : [])],
  });
}


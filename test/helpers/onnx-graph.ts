/**
 * Building blocks for the stand-in ONNX models the tests generate (onnx-proto, no Python): the
 * enums they use, tensor declarations, initializers, and the model wrapper onnxruntime-node
 * loads.
 */
import onnxProto from 'onnx-proto';

const { onnx } = onnxProto;

export const { FLOAT, INT64 } = onnx.TensorProto.DataType;
export const { INT, INTS } = onnx.AttributeProto.AttributeType;

/** A graph input or output: a tensor of `elemType` with `dims`; a string dim is a named, free one. */
export function valueInfo(name: string, elemType: number, dims: (number | string)[]) {
  return { name, type: { tensorType: { elemType, shape: { dim: dims.map((d) => (typeof d === 'number' ? { dimValue: d } : { dimParam: d })) } } } };
}

/** A node handing `input` on as float `output`: Identity when it is float already, else a Cast (models fed the wrong element type). */
export function asFloat(input: string, output: string, elemType: number) {
  return elemType === FLOAT ? { opType: 'Identity', input: [input], output: [output] } : { opType: 'Cast', input: [input], output: [output], attribute: [{ name: 'to', type: INT, i: FLOAT }] };
}

/** An int64 vector initializer (shapes, axes, slice bounds). */
export function int64(name: string, values: number[]) {
  return { name, dataType: INT64, dims: [values.length], int64Data: values };
}

/** A float initializer shaped `dims` (`[]` for a scalar). */
export function floats(name: string, dims: number[], values: number[]) {
  return { name, dataType: FLOAT, dims, floatData: values };
}

/** The encoded model of `graph`: IR 8, opset 13, which every onnxruntime-node we use loads. */
export function encodeModel(graph: onnxProto.onnx.IGraphProto): Uint8Array {
  const model = onnx.ModelProto.create({ irVersion: 8, producerName: 'omnilive-test', opsetImport: [{ domain: '', version: 13 }], graph });
  return onnx.ModelProto.encode(model).finish();
}

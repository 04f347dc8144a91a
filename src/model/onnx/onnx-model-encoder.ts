// The part of onnx.proto (github.com/onnx/onnx, onnx/onnx.proto) an exported classifier uses, as plain
// objects, and their encoding. Field numbers are the schema's; a message's fields may come in any order.
import { ProtobufWriter } from './protobuf-writer.ts';

/** TensorProto.DataType values. */
export const OnnxDataType = { FLOAT: 1, INT32: 6, INT64: 7 } as const;

/** An INT, a list of INTS or a STRING: the attribute types of the operators we emit. */
export type OnnxAttributes = Readonly<Record<string, number | readonly number[] | string>>;

export interface OnnxNode {
  readonly opType: string;
  readonly inputs: readonly string[];
  readonly outputs: readonly string[];
  readonly name: string;
  readonly attributes?: OnnxAttributes;
}

/** A constant (weights, indices); its values are written as raw little-endian bytes. */
export interface OnnxTensor {
  readonly name: string;
  readonly dims: readonly number[];
  readonly values: Float32Array | BigInt64Array;
}

/** A graph input or output: each dimension a size or a name (a name leaves it free, e.g. the batch). */
export interface OnnxValueInfo {
  readonly name: string;
  readonly shape: readonly (number | string)[];
  /** float32 when absent. */
  readonly elementType?: 'float32' | 'int32';
}

export interface OnnxGraph {
  readonly name: string;
  readonly nodes: readonly OnnxNode[];
  readonly initializers: readonly OnnxTensor[];
  readonly inputs: readonly OnnxValueInfo[];
  readonly outputs: readonly OnnxValueInfo[];
}

export interface OnnxModel {
  readonly irVersion: number;
  /** The version of the default ("ai.onnx") operator set. */
  readonly opsetVersion: number;
  readonly producerName: string;
  readonly producerVersion: string;
  readonly docString: string;
  readonly graph: OnnxGraph;
}

const ATTRIBUTE_INT = 2;
const ATTRIBUTE_INTS = 7;
const ATTRIBUTE_STRING = 3;

export function encodeOnnxModel(model: OnnxModel): Uint8Array {
  return new ProtobufWriter()
    .varint(1, model.irVersion)
    .string(2, model.producerName)
    .string(3, model.producerVersion)
    .string(6, model.docString)
    .message(7, (graph) => writeGraph(graph, model.graph))
    .message(8, (opset) => opset.varint(2, model.opsetVersion))
    .finish();
}

function writeGraph(out: ProtobufWriter, graph: OnnxGraph): void {
  for (const node of graph.nodes) out.message(1, (n) => writeNode(n, node));
  out.string(2, graph.name);
  for (const tensor of graph.initializers) out.message(5, (t) => writeTensor(t, tensor));
  for (const input of graph.inputs) out.message(11, (v) => writeValueInfo(v, input));
  for (const output of graph.outputs) out.message(12, (v) => writeValueInfo(v, output));
}

function writeNode(out: ProtobufWriter, node: OnnxNode): void {
  out.strings(1, node.inputs).strings(2, node.outputs).string(3, node.name).string(4, node.opType);
  for (const [name, value] of Object.entries(node.attributes ?? {})) {
    out.message(5, (attribute) => {
      attribute.string(1, name);
      if (typeof value === 'number') attribute.varint(20, ATTRIBUTE_INT).varint(3, value);
      else if (typeof value === 'string') attribute.varint(20, ATTRIBUTE_STRING).string(4, value);
      else attribute.varint(20, ATTRIBUTE_INTS).varints(8, value);
    });
  }
}

function writeTensor(out: ProtobufWriter, tensor: OnnxTensor): void {
  const dataType = tensor.values instanceof Float32Array ? OnnxDataType.FLOAT : OnnxDataType.INT64;
  const { buffer, byteOffset, byteLength } = tensor.values;
  // raw_data must be little-endian; typed arrays are in the host's order, little-endian on every
  // platform onnxruntime-node ships for (x64, arm64).
  out.varints(1, tensor.dims).varint(2, dataType).string(8, tensor.name).bytes(9, new Uint8Array(buffer, byteOffset, byteLength));
}

function writeValueInfo(out: ProtobufWriter, info: OnnxValueInfo): void {
  out.string(1, info.name).message(2, (type) =>
    // TypeProto.tensor_type → TypeProto.Tensor { elem_type, shape: TensorShapeProto { dim: [Dimension] } }
    type.message(1, (tensorType) =>
      tensorType.varint(1, info.elementType === 'int32' ? OnnxDataType.INT32 : OnnxDataType.FLOAT).message(2, (shape) => {
        for (const dim of info.shape) {
          shape.message(1, (d) => (typeof dim === 'number' ? d.varint(1, dim) : d.string(2, dim)));
        }
      }),
    ),
  );
}
